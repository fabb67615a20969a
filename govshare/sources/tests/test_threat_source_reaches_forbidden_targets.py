"""Attacks on what a 前置库 or API source may reach (connection_policy), run WITHOUT the tests' allowance
(conftest.allow_local_sources): the platform's own SQLite database, its data directory and links into them, its
own API on 127.0.0.1 (a real server), every spelling of loopback and the private ranges, a name resolving to
loopback or rebound to it, a redirect to another host (two real servers); and the limits of a read: an oversized or
compressed answer, a slow server (the preview ends within its bound), PostgreSQL queries with side effects (a
sequence, a write hidden in a function, dblink_exec), the platform's PGPASSWORD. Where a test needs to reach a local
server at all, it builds its own policy allowing exactly 127.0.0.1."""

from __future__ import annotations

import contextlib
import gzip
import ipaddress
import json
import os
import secrets
import shutil
import socket
import sqlite3
import struct
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from govshare import testing
from govshare.catalog.rules import ItemDraft
from govshare.core.errors import ValidationFailed
from govshare.dataplane.raw import SourceError, SourceInvalid, SourceUnavailable
from govshare.datasets import reading
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.sources.connection_policy import (
    REFUSED,
    SQLITE_REFUSED,
    HostUnresolved,
    IPAddress,
    ReadLimits,
    Resolver,
    SourcePolicy,
    source_timeout,
)
from govshare.sources.models import Source
from govshare.sources.readers import preview_source
from govshare.sources.readers.database import DatabaseStream, check_select, source_url
from govshare.sources.readers.http_api import HttpApiStream
from govshare.testing.databases import postgres_database

ITEMS = [ItemDraft(name="姓名", data_type="C", length=50)]
SECRET = "PAGE-CONTENT-nobody-may-see"
PEOPLE = [{"id": 1, "姓名": "张三"}, {"id": 2, "姓名": "李四"}]
LOCAL = SourcePolicy.build(["127.0.0.1"])  # exactly what reaching the tests' own servers needs


# --- real HTTP servers on 127.0.0.1 -------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    server: Site

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append((self.path, dict(self.headers)))
        route = self.server.routes.get(urlsplit(self.path).path)
        if route is None:
            self.answer(404, json.dumps({"detail": SECRET}).encode())
        else:
            route(self)

    def answer(self, status: int, body: bytes, **given: str) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(body))}
        headers.update({name.replace("_", "-"): value for name, value in given.items()})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, routes: dict[str, Callable[[Handler], None]]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes = routes
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stopping = threading.Event()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, Callable[[Handler], None]]], Site]]:
    sites: list[Site] = []

    def start(routes: dict[str, Callable[[Handler], None]]) -> Site:
        site = Site(routes)
        threading.Thread(target=site.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        sites.append(site)
        return site

    yield start
    for site in sites:
        site.stopping.set()
        site.shutdown()
        site.server_close()


def json_body(value: Any) -> Callable[[Handler], None]:
    return lambda handler: handler.answer(200, json.dumps(value, ensure_ascii=False).encode())


def redirect(location: str, status: int = 302) -> Callable[[Handler], None]:
    return lambda handler: handler.answer(status, SECRET.encode(), Location=location)


def platform_site(serve: Callable[..., Site]) -> Site:
    """A stand-in for the platform on 127.0.0.1: who is signed in, and the admin's login page."""
    return serve(
        {
            "/api/accounts/me": json_body([{"username": "bigdata_admin", "session": SECRET}]),
            "/admin/login/": lambda h: h.answer(200, f"<title>登录</title>{SECRET}".encode(), Content_Type="text/html"),
        }
    )


def read_api(config: dict[str, Any], policy: SourcePolicy, limits: ReadLimits | None = None) -> list[dict[str, Any]]:
    stream = HttpApiStream(config, "", on_reject=print, policy=policy, limits=limits, retry_delays=(0, 0, 0))
    try:
        return [row for batch in stream.batches() for row in batch.to_pylist()]
    finally:
        stream.close()


def refusal(call: Callable[..., object], *args: Any, **kwargs: Any) -> str:
    """The message of the SourceError that `call(*args, **kwargs)` raises."""
    with pytest.raises(SourceError) as caught:
        call(*args, **kwargs)
    return caught.value.message


def resolving(answers: dict[str, list[str]]) -> Resolver:
    """A resolver answering from `answers` (a DNS the test controls)."""

    def resolve(host: str, port: int) -> list[IPAddress]:
        if host not in answers:
            raise HostUnresolved(f"无法解析“{host}”")
        return [ipaddress.ip_address(address) for address in answers[host]]

    return resolve


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the platform's own database and data directory ---------------------------------------------------------------


def sessions_db(path: Path) -> Path:
    """A SQLite file holding what the platform's own database holds: live session keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS django_session (session_key TEXT, session_data TEXT)")
        db.execute("INSERT INTO django_session VALUES ('k3y-of-the-platform-admin', 'data')")
    return path


def preview_sessions(url: str) -> Any:
    config = {"url": url, "query": "SELECT session_key, session_data FROM django_session"}
    return preview_source(SourceKind.DATABASE, config, "", path=None)


def allow_sqlite_dirs(settings: Any, *directories: Path) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"source_sqlite_dirs": list(directories)})


def test_the_platforms_own_sqlite_database_is_refused_even_inside_an_allowed_directory(settings) -> None:
    own = sessions_db(Path(settings.GOVSHARE.data_dir) / "govshare.sqlite3")
    assert refusal(lambda: preview_sessions(f"sqlite:///{own}")) == SQLITE_REFUSED
    # A deployment that allows the directory holding the data directory still never reaches into it.
    allow_sqlite_dirs(settings, own.parent.parent)
    for url in (
        f"sqlite:///{own}",
        f"sqlite:///{own.parent}/./govshare.sqlite3",
        f"sqlite:///{own.parent}/../{own.parent.name}/govshare.sqlite3",
        f"sqlite:///{own}-wal",
    ):
        assert refusal(preview_sessions, url) == SQLITE_REFUSED, url


def test_the_metadata_database_outside_the_data_directory_and_links_to_it_are_refused(settings, tmp_path) -> None:
    meta = sessions_db(tmp_path / "meta" / "govshare.sqlite3")
    front = tmp_path / "front"
    front.mkdir()
    (front / "symlink.sqlite3").symlink_to(meta)
    os.link(meta, front / "hardlink.sqlite3")
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"database_url": f"sqlite:///{meta}"})
    allow_sqlite_dirs(settings, tmp_path)
    for target in (meta, front / "symlink.sqlite3", front / "hardlink.sqlite3"):
        assert refusal(preview_sessions, f"sqlite:///{target}") == SQLITE_REFUSED, target
    # A copy is an ordinary file: the policy refuses the platform's database, not SQLite.
    shutil.copy(meta, front / "copy.sqlite3")
    assert preview_sessions(f"sqlite:///{front / 'copy.sqlite3'}").rows == [["k3y-of-the-platform-admin", "data"]]


def test_a_symbolic_link_out_of_the_allowed_directory_is_refused(settings, tmp_path) -> None:
    data_dir = Path(settings.GOVSHARE.data_dir)
    upload = sessions_db(data_dir / "uploads" / "x.sqlite3")
    outside = sessions_db(tmp_path / "elsewhere" / "other.sqlite3")
    front = tmp_path / "front"
    front.mkdir()
    (front / "into-data.sqlite3").symlink_to(upload)
    (front / "data").symlink_to(data_dir)
    (front / "out.sqlite3").symlink_to(outside)
    allow_sqlite_dirs(settings, front)
    for url in (
        f"sqlite:///{front}/into-data.sqlite3",
        f"sqlite:///{front}/data/uploads/x.sqlite3",
        f"sqlite:///{front}/out.sqlite3",
        f"sqlite:///{front}/../elsewhere/other.sqlite3",
    ):
        assert refusal(preview_sessions, url) == SQLITE_REFUSED, url


def test_a_refused_path_says_nothing_of_what_is_there(tmp_path) -> None:
    sessions_db(tmp_path / "real.sqlite3")
    (tmp_path / "a-directory").mkdir()
    urls = [
        f"sqlite:///{tmp_path / 'real.sqlite3'}",
        f"sqlite:///{tmp_path / 'missing.sqlite3'}",
        f"sqlite:///{tmp_path / 'a-directory'}",
        "sqlite:////etc/passwd",
        "sqlite:///relative.sqlite3",
        "sqlite:///:memory:",
        "sqlite://",
        f"sqlite:///{tmp_path / 'real.sqlite3'}?mode=rw",
    ]
    messages = {refusal(preview_sessions, url) for url in urls}
    assert len(messages) <= 2 and SQLITE_REFUSED in messages  # the other: "no parameters", for the last one
    assert not any("real.sqlite3" in message or "不存在" in message or "database" in message for message in messages)


def test_an_allowed_sqlite_file_is_read_only_and_attaches_nothing(settings, tmp_path) -> None:
    front = sessions_db(tmp_path / "front.sqlite3")
    with sqlite3.connect(front) as db:
        db.execute("CREATE VIEW extended AS SELECT load_extension('/tmp/evil') AS x")
    allow_sqlite_dirs(settings, tmp_path)
    stream = DatabaseStream({"url": f"sqlite:///{front}", "table": "django_session"}, "")
    try:
        for statement in (
            "INSERT INTO django_session VALUES ('x', 'y')",
            f"ATTACH DATABASE '{tmp_path / 'other.sqlite3'}' AS other",
        ):
            with pytest.raises(DBAPIError):
                stream._conn.exec_driver_sql(statement)  # type: ignore[union-attr]
    finally:
        stream.close()
    assert not (tmp_path / "other.sqlite3").exists()
    with sqlite3.connect(front) as db:
        assert db.execute("SELECT count(*) FROM django_session").fetchone() == (1,)
    # A view cannot call what a query may not (the authorizer, not only the query check).
    message = refusal(
        lambda: preview_source(SourceKind.DATABASE, {"url": f"sqlite:///{front}", "table": "extended"}, "", path=None)
    )
    assert "不允许" in message


# --- the platform's own API and every spelling of an internal address ---------------------------------------------

LOOPBACK = [
    "127.0.0.1", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "2130706433", "127.1", "017700000001", "127.0.0.1.",
    "127.255.255.254", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[2002:7f00:1::]",
    "[64:ff9b::7f00:1]", "localhost", "localhost.", "LOCALHOST", "api.localhost", "0.0.0.0", "0", "[::]",  # noqa: S104
]  # fmt: skip
INTERNAL = [
    "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "198.18.0.1", "192.0.0.1",
    "224.0.0.1", "255.255.255.255", "[fe80::1]", "[fc00::1]", "[fd12:3456::1]", "[ff02::1]", "[::ffff:10.0.0.1]",
    "[::ffff:169.254.169.254]",
]  # fmt: skip


@pytest.mark.parametrize("host", LOOPBACK + INTERNAL)
def test_an_internal_address_is_refused_however_it_is_spelled(serve, host) -> None:
    platform = platform_site(serve)
    api = {"url": f"http://{host}:{platform.port}/api/accounts/me", "records_path": "$[*]", "timeout": 2}
    database = {"url": f"postgresql://postgres@{host}:{platform.port}/govshare", "table": "django_session"}
    assert refusal(lambda: preview_source(SourceKind.HTTP_API, api, "", path=None)) == REFUSED
    assert refusal(lambda: preview_source(SourceKind.DATABASE, database, "", path=None)) == REFUSED
    assert platform.requests == []


def test_a_refused_address_answers_the_same_whether_its_port_is_open_or_not(serve) -> None:
    platform = platform_site(serve)
    messages = set()
    for port in (platform.port, closed_port()):
        for kind, config in (
            (SourceKind.HTTP_API, {"url": f"http://127.0.0.1:{port}/api/accounts/me", "records_path": "$[*]"}),
            (SourceKind.DATABASE, {"url": f"mysql://root@127.0.0.1:{port}/mysql", "table": "user"}),
        ):
            messages.add(refusal(preview_source, kind, config, "", path=None))
    assert messages == {REFUSED}
    assert platform.requests == []


@pytest.fixture
def publisher(department, catalog_admin):  # type: ignore[no-untyped-def]
    resource = testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")
    return resource, catalog_admin


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # live_server; the seeded categories kept
def test_the_platforms_own_api_is_refused_when_saved_and_when_read(live_server, publisher) -> None:
    resource, admin = publisher
    url = f"{live_server.url}/api/accounts/me"
    data = source_services.SourceInput(
        name="平台自身", kind=SourceKind.HTTP_API, config={"url": url, "records_path": "$"}
    )
    with pytest.raises(ValidationFailed) as caught:
        source_services.register_source(resource, data, actor=admin)
    assert [(p.field, p.message) for p in caught.value.problems] == [("config.url", REFUSED)]
    # A source that is in the database already (written before the policy, or by hand) is refused when read.
    source = Source.objects.create(
        resource=resource, name="平台自身", kind=SourceKind.HTTP_API, config=data.config, created_by=admin
    )
    with pytest.raises(ValidationFailed) as caught:
        reading.preview_source_for(admin, source)
    assert [p.message for p in caught.value.problems] == [REFUSED]


@pytest.mark.django_db
def test_an_octal_loopback_url_answers_422_not_500(publisher, serve) -> None:
    resource, admin = publisher
    platform = platform_site(serve)
    client = Client()
    client.force_login(admin)
    url = f"http://0177.0.0.1:{platform.port}/api/accounts/me"
    answer = client.post(
        f"/api/datasets/resources/{resource.pk}/sources",
        json.dumps({"name": "八进制", "kind": "http_api", "config": {"url": url, "records_path": "$"}}),
        content_type="application/json",
    )
    assert answer.status_code == 422, answer.content
    assert answer.json()["errors"] == [{"field": "config.url", "message": REFUSED}]
    source = Source.objects.create(
        resource=resource, name="八进制", kind=SourceKind.HTTP_API, config={"url": url}, created_by=admin
    )
    answer = client.post(f"/api/datasets/sources/{source.pk}/preview")
    assert answer.status_code == 422, answer.content
    assert [error["message"] for error in answer.json()["errors"]] == [REFUSED]
    assert platform.requests == []


@pytest.mark.django_db
def test_saving_checks_the_policy_and_leaves_an_unresolved_name_to_the_reading(publisher, settings) -> None:
    resource, admin = publisher

    def problems(kind: str, config: dict[str, Any]) -> list[tuple[str, str]]:
        try:
            source_services.register_source(
                resource, source_services.SourceInput(name="来源", kind=kind, config=config), actor=admin
            )
        except ValidationFailed as exc:
            return [(p.field, p.message) for p in exc.problems]
        return []

    own = Path(settings.GOVSHARE.data_dir) / "govshare.sqlite3"
    assert problems(SourceKind.DATABASE, {"url": f"sqlite:///{own}", "table": "django_session"}) == [
        ("config.url", SQLITE_REFUSED)
    ]
    assert problems(SourceKind.DATABASE, {"url": "postgresql://u@[::1]/front", "table": "t"}) == [
        ("config.url", REFUSED)
    ]
    assert problems(SourceKind.DATABASE, {"url": "postgresql://u@front.example.invalid/f?host=/tmp", "table": "t"})
    query = "SELECT * FROM dblink_exec('dbname=govshare', 'DROP TABLE django_session')"
    assert problems(SourceKind.DATABASE, {"url": "postgresql://u@front.example.invalid/f", "query": query})
    for timeout in ("abc", -1, 10**9, True):
        config = {"url": "https://api.example.invalid/x", "records_path": "$", "timeout": timeout}
        assert [field for field, _ in problems(SourceKind.HTTP_API, config)] == ["config.timeout"], timeout
    # A name that does not resolve now is kept; it is resolved and checked each time the source is read.
    assert problems(SourceKind.HTTP_API, {"url": "https://api.example.invalid/x", "records_path": "$"}) == []
    source = Source.objects.filter(resource=resource).get()
    with pytest.raises(reading.SourceUnreachable, match="无法解析"):
        reading.preview_source_for(admin, source)


# --- names: every address checked, the connection pinned to it ------------------------------------------------------


def test_a_name_resolving_to_loopback_or_partly_to_it_is_refused(serve) -> None:
    platform = platform_site(serve)
    policy = SourcePolicy.build(
        resolver=resolving({"api.example.gov.cn": ["127.0.0.1"], "mixed.example.gov.cn": ["93.184.216.34", "::1"]})
    )
    for host in ("api.example.gov.cn", "API.Example.Gov.CN.", "mixed.example.gov.cn"):
        config = {"url": f"http://{host}:{platform.port}/api/accounts/me", "records_path": "$[*]"}
        assert refusal(read_api, config, policy) == REFUSED
    assert platform.requests == []


def loopback_names() -> list[str]:
    """Names /etc/hosts gives a loopback address (other than localhost, which is refused by name)."""
    names = []
    for line in Path("/etc/hosts").read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split("#")[0].split()
        with contextlib.suppress(ValueError, IndexError):
            if ipaddress.ip_address(fields[0].split("%")[0]).is_loopback:
                names += [name for name in fields[1:] if name.lower() != "localhost" and "." not in name]
    return names


def test_a_name_the_system_resolves_to_loopback_is_refused(serve) -> None:
    names = loopback_names()
    if not names:
        pytest.skip("/etc/hosts names no loopback host besides localhost")
    platform = platform_site(serve)
    for name in names:
        config = {"url": f"http://{name}:{platform.port}/api/accounts/me", "records_path": "$[*]"}
        assert refusal(preview_source, SourceKind.HTTP_API, config, "", path=None) == REFUSED, name
    assert platform.requests == []


def test_a_name_rebound_to_loopback_after_it_was_checked_is_refused_at_connect(serve) -> None:
    platform = platform_site(serve)
    answers = iter([["93.184.216.34"], ["93.184.216.34"], ["127.0.0.1"]])
    policy = SourcePolicy.build(resolver=lambda host, port: [ipaddress.ip_address(a) for a in next(answers)])
    url = f"http://rebind.example.gov.cn:{platform.port}/api/accounts/me"
    policy.check_http_url(url)  # when saved: a public address
    # Opened: public again; then the connection's own lookup answers loopback, and nothing is sent.
    assert refusal(lambda: read_api({"url": url, "records_path": "$[*]"}, policy)) == REFUSED
    assert platform.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(serve) -> None:
    api = serve({"/people": json_body(PEOPLE)})
    # "api.example.invalid" resolves nowhere but in this policy's resolver: reading it proves the connection
    # went to the checked address, not to a second lookup.
    policy = SourcePolicy.build(["127.0.0.1"], resolver=resolving({"api.example.invalid": ["127.0.0.1"]}))
    rows = read_api({"url": f"http://api.example.invalid:{api.port}/people"}, policy)
    assert [row["姓名"] for row in rows] == ["张三", "李四"]
    assert api.requests[0][1]["Host"] == f"api.example.invalid:{api.port}"


def test_allowed_hosts_names_and_ranges() -> None:
    policy = SourcePolicy.build(
        ["front.internal", "*.qzk.gov.cn", "10.8.0.0/16", "[fd00::/8]", "192.168.3.4"],
        resolver=resolving(
            {"front.internal": ["10.9.9.9"], "a.qzk.gov.cn": ["172.16.0.1"], "qzk.gov.cn": ["10.1.1.1"]}
        ),
    )
    assert policy.check_host("front.internal", 5432) == [ipaddress.ip_address("10.9.9.9")]  # trusted by name
    assert policy.check_host("a.qzk.gov.cn", 5432) == [ipaddress.ip_address("172.16.0.1")]
    assert (
        policy.check_host("10.8.1.2", 5432)
        and policy.check_host("[fd00::5]", 80)
        and policy.check_host("192.168.3.4", 1)
    )
    assert policy.check_host("[::ffff:10.8.0.1]", 80)  # the IPv4 an IPv6 address carries is what is judged
    for refused in ("qzk.gov.cn", "10.9.0.1", "192.168.3.5", "127.0.0.1", "[::1]"):
        assert refusal(policy.check_host, refused, 80) == REFUSED
    with pytest.raises(HostUnresolved):
        policy.check_host("unknown.example.gov.cn", 80)


def test_an_allowed_range_in_the_settings_is_the_deployments_policy(settings) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"source_allowed_hosts": ["10.0.0.0/8"]})
    policy = SourcePolicy.from_settings()
    assert policy.check_host("10.20.30.40", 5432)
    assert refusal(lambda: policy.check_host("127.0.0.1", 5432)) == REFUSED


# --- redirects and answers: followed only within the origin, never quoted, bounded --------------------------------


def test_a_redirect_to_another_host_is_not_followed(serve) -> None:
    platform = platform_site(serve)
    api = serve(
        {
            "/people": redirect(f"{platform.origin}/admin/login/"),
            "/renamed": redirect(f"http://localhost:{platform.port}/api/accounts/me", 301),
            "/moved": redirect("/data", 307),
            "/data": json_body(PEOPLE),
            "/loop": redirect("/loop"),
        }
    )
    for path in ("/people", "/renamed"):
        message = refusal(read_api, {"url": api.origin + path}, LOCAL)
        assert "重定向" in message and SECRET not in message and "login" not in message
    assert platform.requests == []
    # Within the same scheme, host and port a redirect is followed (and checked again).
    assert len(read_api({"url": api.origin + "/moved"}, LOCAL)) == 2
    assert "重定向超过" in refusal(lambda: read_api({"url": api.origin + "/loop"}, LOCAL))


@pytest.mark.parametrize(
    "route",
    [
        lambda h: h.answer(401, SECRET.encode()),
        lambda h: h.answer(403, SECRET.encode()),
        lambda h: h.answer(404, SECRET.encode()),
        lambda h: h.answer(500, SECRET.encode()),
        lambda h: h.answer(302, SECRET.encode()),
        lambda h: h.answer(200, f'{{"data": ["{SECRET}"'.encode()),
        lambda h: h.answer(200, SECRET.encode("gbk"), Content_Type="application/json; charset=gbk"),
        lambda h: h.answer(200, b"\x1f\x8b" + SECRET.encode(), Content_Encoding="gzip"),
    ],
)
def test_an_error_never_quotes_what_the_server_answered(serve, route) -> None:
    api = serve({"/people": route})
    message = refusal(lambda: read_api({"url": api.origin + "/people", "records_path": "$.data[*]"}, LOCAL))
    assert SECRET not in message and "PAGE" not in message


def test_a_service_that_is_not_http_is_not_quoted() -> None:
    """An allowed host's other service (here an SSH banner) answers in its own protocol: the error says so,
    without quoting it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer() -> None:
        with contextlib.suppress(OSError):
            for _ in range(4):  # the first attempt and three retries
                connection, _ = server.accept()
                with connection:
                    connection.recv(1000)
                    connection.sendall(f"SSH-2.0-OpenSSH_9.6 {SECRET}\r\n".encode())

    threading.Thread(target=answer, daemon=True).start()
    try:
        message = refusal(read_api, {"url": f"http://127.0.0.1:{server.getsockname()[1]}/people"}, LOCAL)
    finally:
        server.close()
    assert "不是有效的 HTTP 响应" in message
    assert SECRET not in message and "SSH" not in message


def test_an_answer_larger_than_the_limit_is_refused(serve) -> None:
    big = json.dumps([{"x": "y" * 100}] * 2000).encode()  # about 220 KB

    def unsized(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        handler.wfile.write(big)

    bomb = gzip.compress(b"[" + b"0," * 5_000_000 + b"0]")  # 10 MB of JSON in about 10 KB
    api = serve(
        {
            "/sized": lambda h: h.answer(200, big),
            "/unsized": unsized,
            "/bomb": lambda h: h.answer(200, bomb, Content_Encoding="gzip"),
            "/small": json_body(PEOPLE),
        }
    )
    limits = ReadLimits.starting_now(30, http_max_bytes=64 * 1024)
    for path in ("/sized", "/unsized", "/bomb"):
        message = refusal(read_api, {"url": api.origin + path}, LOCAL, limits)
        assert "65,536 字节上限" in message, path
    assert len(read_api({"url": api.origin + "/small"}, LOCAL, limits)) == 2


def test_the_response_size_limit_is_a_setting(settings) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"source_http_max_bytes": 4096})
    assert ReadLimits.for_preview().http_max_bytes == ReadLimits.for_load().http_max_bytes == 4096


# --- time: a preview ends within its bound whatever the source does ----------------------------------------------


def hang(handler: Handler) -> None:
    handler.server.stopping.wait(60)  # reads the request, never answers


def drip_headers(handler: Handler) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"x" * 10_000:
        if handler.server.stopping.wait(0.2):
            return
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()


def drip_body(handler: Handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    handler.wfile.write(b"[")
    while not handler.server.stopping.wait(0.2):
        handler.wfile.write(b" ")
        handler.wfile.flush()


@pytest.mark.parametrize("route", [hang, drip_headers, drip_body], ids=["hang", "drip-headers", "drip-body"])
def test_a_slow_api_preview_ends_within_its_bound(serve, route) -> None:
    api = serve({"/people": route})
    started = time.monotonic()
    # The source asks for 1 second per read and the reader retries with pauses of 1, 3 and 10 seconds: the
    # preview's deadline (2 s here) ends it all the same.
    config = {"url": api.origin + "/people", "timeout": 1}
    limits = ReadLimits.starting_now(2)
    with pytest.raises(SourceUnavailable):
        preview_source(SourceKind.HTTP_API, config, "", path=None, policy=LOCAL, limits=limits)
    assert time.monotonic() - started < 3.5


def test_a_slow_sqlite_query_is_interrupted_at_the_deadline(settings, tmp_path) -> None:
    front = sessions_db(tmp_path / "front.sqlite3")
    allow_sqlite_dirs(settings, tmp_path)
    endless = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) AS c FROM n"
    started = time.monotonic()
    config = {"url": f"sqlite:///{front}", "query": endless}
    message = refusal(
        lambda: preview_source(SourceKind.DATABASE, config, "", path=None, limits=ReadLimits.starting_now(1.5))
    )
    assert "超时" in message
    assert time.monotonic() - started < 3


@pytest.mark.django_db
def test_a_preview_in_a_web_request_is_bounded_by_the_setting(publisher, serve, settings) -> None:
    resource, admin = publisher
    api = serve({"/people": hang})
    settings.GOVSHARE = settings.GOVSHARE.model_copy(
        update={"source_allowed_hosts": ["127.0.0.1"], "source_preview_seconds": 2.0}
    )
    config = {"url": api.origin + "/people", "records_path": "$", "timeout": 1}
    data = source_services.SourceInput(name="慢接口", kind=SourceKind.HTTP_API, config=config)
    source = source_services.register_source(resource, data, actor=admin)
    client = Client()
    client.force_login(admin)
    started = time.monotonic()
    answer = client.post(f"/api/datasets/sources/{source.pk}/preview")
    assert answer.status_code == 502
    assert time.monotonic() - started < 3.5


def test_a_sources_own_timeout_is_checked_and_bounded() -> None:
    assert source_timeout(None) == source_timeout("") == 30
    assert source_timeout("2.5") == 2.5
    bad_values: list[object] = ["abc", 0, -1, float("nan"), float("inf"), True, [], "1e999"]
    for bad in bad_values:
        with pytest.raises(SourceInvalid):
            source_timeout(bad)
    limits = ReadLimits.starting_now(10, timeout_max=120)
    assert limits.timeout(10**6) <= 10 and limits.timeout(1) == 1
    assert ReadLimits.starting_now(600, timeout_max=120).timeout(10**6) == 120
    with pytest.raises(SourceUnavailable, match="超过时限"):
        ReadLimits.starting_now(0).timeout(1)


# --- the query and the database server: read only --------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT nextval('counter')",
        "SELECT (SELECT setval('counter', 99))",
        "SELECT * FROM dblink_exec('dbname=govshare', 'DROP TABLE django_session') AS t(x text)",
        "SELECT * FROM dblink('dbname=govshare', 'SELECT session_key FROM django_session') AS t(k text)",
        "SELECT pg_terminate_backend(42)",
        "SELECT pg_cancel_backend(42)",
        "SELECT pg_catalog.pg_sleep(30)",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT set_config('transaction_read_only', 'off', true)",
        "SELECT query_to_xml('SELECT nextval(''counter'')', true, true, '')",
        "SELECT pg_advisory_lock(1)",
        "SELECT * FROM people FOR UPDATE",
        "SELECT 1 /* a comment */",
        "SELECT 1 -- a comment",
        "SELECT '\\', pg_sleep(30) -- '",
    ],
)
def test_a_query_that_acts_outside_the_read_is_refused(query) -> None:
    with pytest.raises(SourceInvalid):
        check_select(query, "postgresql")


@pytest.mark.parametrize(
    ("query", "backend"),
    [
        ("SELECT sleep(30)", "mysql"),
        ("SELECT load_file('/etc/passwd')", "mysql"),
        ("SELECT get_lock('x', 10)", "mysql"),
        ("SELECT 1 /*!50000 , sleep(30) */", "mysql"),
        ("SELECT 1 # comment", "mysql"),
        ("SELECT load_extension('/tmp/evil')", "sqlite"),
    ],
)
def test_mysql_and_sqlite_side_effects_are_refused(query, backend) -> None:
    with pytest.raises(SourceInvalid):
        check_select(query, backend)


def test_ordinary_queries_still_pass() -> None:
    for query in (
        "SELECT id, upper(姓名) AS n, '10:30' AS t, x::date FROM 人口 WHERE 姓名 LIKE '--%' ORDER BY id",
        "WITH a AS (SELECT 1 AS x) SELECT count(*), max(x), coalesce(NULL, 1) FROM a",
        "SELECT '/* not a comment */' AS s, now() AS t, generate_series(1, 3) AS g",
    ):
        check_select(query, "postgresql")


def test_a_metadata_postgresql_database_is_refused_on_any_host(settings) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(
        update={"database_url": "postgres://govshare@db.internal:5432/govshare", "source_allowed_hosts": ["10.0.0.0/8"]}
    )
    policy = SourcePolicy.from_settings()
    for url in (
        "postgresql://govshare@10.1.1.1:5432/govshare",
        "postgresql://reader@10.2.2.2/GOVSHARE",
        "postgresql://govshare@10.1.1.1:5432",  # no database: PostgreSQL's default is the user's name
    ):
        assert refusal(policy.check_database, source_url(url, "")) == REFUSED, url
    assert policy.check_database(source_url("postgresql://govshare@10.1.1.1:5432/front", "")).addresses
    assert policy.check_database(source_url("postgresql://govshare@10.1.1.1:5433/govshare", "")).addresses


def test_connection_options_that_lead_elsewhere_are_refused() -> None:
    policy = SourcePolicy.build(["127.0.0.1"])
    for url in (
        "postgresql://u@127.0.0.1/db?host=/var/run/postgresql",
        "postgresql://u@127.0.0.1/db?hostaddr=10.0.0.1",
        "postgresql://u@127.0.0.1/db?service=platform",
        "postgresql://u@127.0.0.1/db?options=-c%20default_transaction_read_only%3Doff",
        "postgresql://u@/db",  # the platform host's own socket
        "postgresql://u@127.0.0.1,10.0.0.1/db",
        "mysql://u@127.0.0.1/db?unix_socket=/run/mysqld/mysqld.sock",
        "mysql://u@127.0.0.1/db?local_infile=1",
        "mysql://u@127.0.0.1/db?read_default_file=/etc/mysql/debian.cnf",
        "postgresql+pg8000://u@127.0.0.1/db",
    ):
        with pytest.raises(SourceInvalid):
            try:
                policy.check_database(source_url(url, ""))
            except ArgumentError as exc:  # not even a URL
                raise SourceInvalid(str(exc)) from exc
    assert policy.check_database(source_url("postgresql://u@127.0.0.1/db?sslmode=require", "")).port == 5432


def test_the_platforms_pgpassword_is_never_sent_to_a_source(monkeypatch) -> None:
    """A source server asking for a clear-text password gets none: libpq does not fall back on the platform's
    PGPASSWORD (or ~/.pgpass) for a source without a password."""
    received: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer() -> None:
        connection, _ = server.accept()
        with connection:
            (length,) = struct.unpack("!I", connection.recv(4))
            body = connection.recv(length - 4)
            if struct.unpack("!I", body[:4])[0] == 80877103:  # SSLRequest: no TLS here
                connection.sendall(b"N")
                (length,) = struct.unpack("!I", connection.recv(4))
                connection.recv(length - 4)
            connection.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
            received.append(connection.recv(1000))

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    monkeypatch.setenv("PGPASSWORD", "the-platforms-own-password")
    config = {"url": f"postgresql://postgres@127.0.0.1:{server.getsockname()[1]}/front", "table": "t"}
    with pytest.raises(SourceError):
        DatabaseStream(config, "", policy=LOCAL, limits=ReadLimits.starting_now(10))
    thread.join(5)
    server.close()
    assert not any(b"the-platforms-own-password" in message for message in received)


@pytest.fixture
def pg_front() -> Iterator[str]:
    statements = (
        "CREATE SEQUENCE counter",
        "CREATE TABLE people (id int)",
        "INSERT INTO people VALUES (1), (2)",
        "CREATE FUNCTION bump() RETURNS bigint LANGUAGE sql AS $$ SELECT nextval('counter') $$",
        "CREATE FUNCTION grow() RETURNS int LANGUAGE sql AS $$ INSERT INTO people VALUES (9) RETURNING id $$",
    )
    with postgres_database("govshare_policy", statements) as url:
        yield url


def db_read(url: str, query: str, seconds: float = 30) -> list[dict[str, Any]]:
    policy = SourcePolicy.build([str(make_url(url).host)])  # the test's server, and nothing else
    stream = DatabaseStream({"url": url, "query": query}, "", policy=policy, limits=ReadLimits.starting_now(seconds))
    try:
        return [row for batch in stream.batches() for row in batch.to_pylist()]
    finally:
        stream.close()


def pg_state(url: str) -> tuple[Any, ...]:
    import psycopg

    with psycopg.connect(url) as conn:
        sequence = conn.execute("SELECT last_value, is_called FROM counter").fetchone()
        people = conn.execute("SELECT count(*) FROM people").fetchone()
        return sequence, people


@pytest.mark.postgresql
def test_postgresql_reads_are_read_only_transactions_of_the_server(pg_front) -> None:
    before = pg_state(pg_front)
    assert db_read(pg_front, "SELECT current_setting('transaction_read_only') AS ro")[0]["ro"] == "on"
    # Refused before the query is sent: nextval named in the query.
    assert "nextval" in refusal(lambda: db_read(pg_front, "SELECT nextval('counter') AS n"))
    # Hidden in a function, the check cannot see it: the server's read-only transaction refuses it.
    for query in ("SELECT bump() AS n", "SELECT grow() AS n"):
        assert "只读" in refusal(db_read, pg_front, query)
    assert pg_state(pg_front) == before  # the sequence did not advance, no row was written


@pytest.mark.postgresql
def test_postgresql_dblink_exec_is_refused(pg_front) -> None:
    import psycopg

    with psycopg.connect(pg_front, autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS dblink")
        except psycopg.Error:
            pytest.skip("the dblink extension is not installed on this server")
    target = make_url(pg_front)
    connection = f"host={target.host} port={target.port} user={target.username} dbname={target.database}"
    query = f"SELECT * FROM dblink_exec('{connection}', 'CREATE TABLE pwned (x int)') AS t(result text)"  # noqa: S608
    assert "dblink_exec" in refusal(lambda: db_read(pg_front, query))
    with psycopg.connect(pg_front) as conn:
        assert conn.execute("SELECT to_regclass('pwned')").fetchone() == (None,)


@pytest.mark.postgresql
def test_postgresql_statement_timeout_is_the_reads_deadline(pg_front) -> None:
    started = time.monotonic()
    query = "SELECT count(*) AS c FROM generate_series(1, 100000000000) AS g"
    assert "超时" in refusal(lambda: db_read(pg_front, query, seconds=2))
    assert time.monotonic() - started < 4


@pytest.fixture
def mysql_front() -> Iterator[str]:
    """A MySQL / MariaDB 前置库, when a server is given (GOVSHARE_TEST_MYSQL_URL, as in test_readers_database)."""
    import pymysql

    server = os.environ.get("GOVSHARE_TEST_MYSQL_URL", "")
    if not server:
        pytest.skip("GOVSHARE_TEST_MYSQL_URL is not set: no MySQL server to read from")
    url = make_url(server)
    name = f"govshare_policy_{secrets.token_hex(4)}"
    conn = pymysql.connect(
        host=url.host, port=url.port or 3306, user=url.username, password=url.password or "", autocommit=True
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
            conn.select_db(name)
            cursor.execute("CREATE TABLE people (id INT)")
            cursor.executemany("INSERT INTO people VALUES (%s)", [(n,) for n in range(2000)])
            try:
                cursor.execute(
                    "CREATE FUNCTION grow() RETURNS INT MODIFIES SQL DATA"
                    " BEGIN INSERT INTO people VALUES (-1); RETURN 1; END"
                )
            except pymysql.MySQLError:
                pytest.skip("this server does not let the test create a function (binary logging)")
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.close()


def test_mysql_reads_are_read_only_transactions_with_a_time_limit(mysql_front) -> None:
    assert "只读" in refusal(db_read, mysql_front, "SELECT grow() AS g")
    assert db_read(mysql_front, "SELECT count(*) AS c FROM people") == [{"_row": 1, "c": "2000"}]
    started = time.monotonic()
    endless = "SELECT count(*) AS c FROM people a, people b, people c"
    assert "超时" in refusal(db_read, mysql_front, endless, seconds=2)
    assert time.monotonic() - started < 4


# --- no text crashes the policy -------------------------------------------------------------------------------------


def numeric_resolver(host: str, port: int) -> list[IPAddress]:
    """The system's own parsing of addresses (getaddrinfo), without asking any DNS server."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError, ValueError) as exc:
        raise HostUnresolved(str(exc)) from exc
    return [ipaddress.ip_address(str(info[4][0])) for info in found]


NUMERIC = SourcePolicy.build(["10.0.0.0/8", "example.gov.cn"], resolver=numeric_resolver)
HOSTISH = st.text(alphabet=st.sampled_from("0123456789abcdefx.:[]%@/\\ -_例ÿ\x00"), max_size=40)


@given(st.text(max_size=80) | HOSTISH)
def test_any_text_as_a_host_is_allowed_or_refused(text) -> None:
    try:
        addresses = NUMERIC.check_host(text, 80)
    except SourceError:
        return
    assert addresses and all(NUMERIC.address_allowed(address) for address in addresses)


@given(st.text(max_size=80) | HOSTISH)
def test_any_text_in_a_url_is_allowed_or_refused(text) -> None:
    for url in (text, f"http://{text}", f"https://{text}:8443/x?y=1", f"http://[{text}]/", f"http://u:p@{text}/"):
        with contextlib.suppress(SourceError):
            NUMERIC.check_http_url(url)
    for url in (f"postgresql://u@{text}/db", f"mysql://u@{text}:3306/db", f"sqlite:///{text}"):
        with contextlib.suppress(SourceError):
            NUMERIC.check_database(source_url(url, ""))
