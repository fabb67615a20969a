"""Threat: a source's stored credential stolen by pointing the source elsewhere, or kept in clear in its settings.

The attacks run for real: an HTTP API and a PostgreSQL server of the attacker's on 127.0.0.1 record every request
and every password sent to them. A source whose destination changes (an API's origin; a front database's driver,
host, port, database or options) without a new credential loses the stored one, with a notice; a credential
written into the settings (header, query string, body, a database URL's `?password=`) moves into the encrypted
credential or is refused. Source changes are audited old → new, without credentials.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import socket
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.dataplane.raw import SourceInvalid
from govshare.sources import credentials
from govshare.sources.models import Source
from govshare.sources.readers.http_api import HttpApiStream
from govshare.testing.datasets import Api
from govshare.testing.http_api import ApiServer, base, serve

pytestmark = pytest.mark.django_db

ITEMS = [ItemDraft(name="姓名", data_type="C", length=50), ItemDraft(name="更新时间", data_type="T")]
TOKEN = "tok-department-7f3a"
PASSWORD = "pg-department-9c1e"


@pytest.fixture(autouse=True)
def _sources_allowed(settings) -> None:  # type: ignore[no-untyped-def]
    """The attacker's servers listen on 127.0.0.1 and the departments' 前置库 are on the intranet (10.x): allowed
    here, so that the credential rules are what is tested (the connection policy, which refuses loopback, private
    and reserved addresses by default, is tested on its own)."""
    allowed = ["127.0.0.1", "localhost", "10.0.0.0/8"]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"source_allowed_hosts": allowed})


@pytest.fixture
def department_api() -> Iterator[ApiServer]:
    """The department's real API."""
    yield from serve(ApiServer())


@pytest.fixture
def attacker_api() -> Iterator[ApiServer]:
    """The attacker's API on another port: another origin."""
    yield from serve(ApiServer())


class FakePostgres:
    """A "PostgreSQL server" of the attacker's on 127.0.0.1: it speaks just enough of the protocol to ask the client
    for a cleartext password (AuthenticationCleartextPassword), records what it is sent and refuses the login."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self.passwords: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.socket.accept()
            except TimeoutError:
                continue
            # A client that gives up mid-handshake (no password to send) just closes the connection.
            with conn, contextlib.suppress(OSError, struct.error):
                conn.settimeout(5)
                self._talk(conn)

    @staticmethod
    def _read(conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _talk(self, conn: socket.socket) -> None:
        self.connections += 1
        while True:  # SSLRequest / GSSENCRequest answered "N", until the startup message
            (length,) = struct.unpack("!i", self._read(conn, 4))
            body = self._read(conn, length - 4)
            if struct.unpack("!i", body[:4])[0] in (80877103, 80877104):
                conn.sendall(b"N")
                continue
            break
        conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # send me your password, in clear
        tag = conn.recv(1)
        if tag == b"p":
            (length,) = struct.unpack("!i", self._read(conn, 4))
            self.passwords.append(self._read(conn, length - 4).rstrip(b"\0").decode())
        fields = b'SFATAL\0C28P01\0Mpassword authentication failed for user "reader"\0\0'
        conn.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def attacker_postgres() -> Iterator[FakePostgres]:
    server = FakePostgres()
    yield server
    server.close()


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="居民信息接口")


@pytest.fixture
def owner(catalog_admin) -> Api:  # type: ignore[no-untyped-def]
    return Api(catalog_admin)


@pytest.fixture
def colleague(department) -> Api:  # type: ignore[no-untyped-def]
    """Another catalogue administrator of the same department: may change the source, never saw its token."""
    return Api(testing.make_user(Role.CATALOG_ADMIN, department=department))


def _http_source(
    api: Api, resource: Resource, url: str, config: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    config = config or {"url": url, "records_path": "$.data.list[*]"}
    body = {"name": "居民接口", "kind": "http_api", "config": config, **extra}
    response = api.post(f"/resources/{resource.pk}/sources", body)
    assert response.status_code == 201, response.content
    return dict(response.json())


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.content
    return dict(response.json())


def _put(api: Api, source: dict[str, Any], config: dict[str, Any], **extra: Any) -> Any:
    body = {"name": source["name"], "kind": source["kind"], "config": config, **extra}
    return api.put(f"/sources/{source['id']}", body)


def _sent(server: ApiServer) -> str:
    """Everything the server received (paths, query strings, bodies, headers), as one text."""
    return json.dumps(server.requests, ensure_ascii=False)


# --- the attack: point the source elsewhere and keep the stored credential -------------------------------------------


def test_an_api_moved_to_another_origin_sends_no_token_there(
    resource: Resource, owner: Api, colleague: Api, department_api: ApiServer, attacker_api: ApiServer
) -> None:
    source = _http_source(owner, resource, base(department_api) + "/people", secret=TOKEN)
    config = {"url": base(attacker_api) + "/people", "records_path": "$.data.list[*]"}

    response = _put(colleague, source, config)

    assert response.status_code == 200, response.content
    assert response.json()["has_secret"] is False
    [notice] = response.json()["notices"]
    assert "原令牌已清除，不会发往新地址" in notice and f"127.0.0.1:{attacker_api.server_address[1]}" in notice
    assert Source.objects.get(pk=source["id"]).secret == ""
    assert colleague.post(f"/sources/{source['id']}/preview").status_code == 200
    assert attacker_api.requests, "the preview reached the new address"
    assert TOKEN not in _sent(attacker_api)
    assert all("Authorization" not in headers for _, _, headers in attacker_api.requests)


def test_resending_the_token_with_the_new_address_keeps_working(
    resource: Resource, owner: Api, department_api: ApiServer, attacker_api: ApiServer
) -> None:
    source = _http_source(owner, resource, base(department_api) + "/people", secret=TOKEN)
    config = {"url": base(attacker_api) + "/people", "records_path": "$.data.list[*]"}

    response = _put(owner, source, config, secret="tok-new-origin")

    assert response.status_code == 200 and response.json()["has_secret"] is True
    assert response.json()["notices"] == []
    assert owner.post(f"/sources/{source['id']}/preview").status_code == 200
    assert attacker_api.requests[0][2]["Authorization"] == "Bearer tok-new-origin"
    assert TOKEN not in _sent(attacker_api)


def test_another_path_on_the_same_origin_keeps_the_token(
    resource: Resource, owner: Api, department_api: ApiServer
) -> None:
    source = _http_source(owner, resource, base(department_api) + "/people", secret=TOKEN)
    config = {"url": base(department_api) + "/v2/people?region=510600", "records_path": "$.data.list[*]"}

    response = _put(owner, source, config)

    assert response.status_code == 200 and response.json()["has_secret"] is True
    assert response.json()["notices"] == []
    assert owner.post(f"/sources/{source['id']}/preview").status_code == 200
    assert department_api.requests[-1][2]["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "new_url",
    [
        "https://127.0.0.1:{port}/people",  # another scheme
        "http://localhost:{port}/people",  # another host name (even for the same machine)
        "http://127.0.0.1:{other}/people",  # another port
    ],
)
def test_any_change_of_origin_drops_the_token(resource: Resource, owner: Api, new_url: str) -> None:
    source = _http_source(owner, resource, "http://127.0.0.1:8001/people", secret=TOKEN)
    config = {"url": new_url.format(port=8001, other=8002), "records_path": "$.data.list[*]"}
    response = _put(owner, source, config)
    assert response.status_code == 200 and response.json()["has_secret"] is False
    assert Source.objects.get(pk=source["id"]).secret == ""


def test_a_front_database_moved_to_another_host_sends_no_password_there(
    resource: Resource, owner: Api, colleague: Api, attacker_postgres: FakePostgres
) -> None:
    body = {
        "name": "人口前置库",
        "kind": "database",
        "config": {"url": "postgresql+psycopg://reader@10.20.0.5:5432/front", "table": "population"},
        "secret": PASSWORD,
    }
    source = _created(owner.post(f"/resources/{resource.pk}/sources", body))
    config = {"url": f"postgresql+psycopg://reader@127.0.0.1:{attacker_postgres.port}/front", "table": "population"}

    response = _put(colleague, source, config)

    assert response.status_code == 200, response.content
    assert response.json()["has_secret"] is False
    [notice] = response.json()["notices"]
    assert "原口令已清除，不会发往新地址" in notice
    preview = colleague.post(f"/sources/{source['id']}/preview")
    assert preview.status_code == 422  # the login fails: no password was supplied
    assert attacker_postgres.connections >= 1, "the preview reached the new host"
    assert attacker_postgres.passwords == []
    assert PASSWORD not in preview.content.decode()


def test_resending_the_password_with_the_new_host_sends_that_one(
    resource: Resource, owner: Api, attacker_postgres: FakePostgres
) -> None:
    body = {
        "name": "人口前置库",
        "kind": "database",
        "config": {"url": "postgresql+psycopg://reader@10.20.0.5:5432/front", "table": "population"},
        "secret": PASSWORD,
    }
    source = _created(owner.post(f"/resources/{resource.pk}/sources", body))
    config = {"url": f"postgresql+psycopg://reader@127.0.0.1:{attacker_postgres.port}/front", "table": "population"}

    assert _put(owner, source, config, secret="pg-new-host").json()["has_secret"] is True
    owner.post(f"/sources/{source['id']}/preview")

    assert attacker_postgres.passwords and set(attacker_postgres.passwords) == {"pg-new-host"}


@pytest.mark.parametrize(
    ("new_url", "dropped"),
    [
        ("postgresql+psycopg://reader@10.20.0.5:5432/front", False),  # the same destination
        ("postgresql://reader@10.20.0.5/front", False),  # the same, with the default driver and port
        ("postgresql+psycopg://other_user@10.20.0.5:5432/front", False),  # another login on the same server
        ("postgresql+psycopg://reader@10.20.0.6:5432/front", True),  # another host
        ("postgresql+psycopg://reader@10.20.0.5:6432/front", True),  # another port
        ("postgresql+psycopg://reader@10.20.0.5:5432/other", True),  # another database
        ("mysql+pymysql://reader@10.20.0.5:5432/front", True),  # another driver
        ("postgresql+psycopg://reader@10.20.0.5:5432/front?sslmode=disable", True),  # other connection options
    ],
)
def test_which_database_changes_drop_the_password(resource: Resource, owner: Api, new_url: str, dropped: bool) -> None:
    body = {
        "name": "人口前置库",
        "kind": "database",
        "config": {"url": "postgresql+psycopg://reader@10.20.0.5:5432/front", "table": "population"},
        "secret": PASSWORD,
    }
    source = _created(owner.post(f"/resources/{resource.pk}/sources", body))
    response = _put(owner, source, {"url": new_url, "query": "SELECT * FROM population WHERE alive"})
    assert response.status_code == 200, response.content
    assert Source.objects.get(pk=source["id"]).secret == ("" if dropped else PASSWORD)
    assert bool(response.json()["notices"]) is dropped


def test_the_platform_administrator_cannot_redirect_another_departments_source(
    resource: Resource, owner: Api, platform_admin: User, department_api: ApiServer, attacker_api: ApiServer
) -> None:
    source = _http_source(owner, resource, base(department_api) + "/people", secret=TOKEN)
    config = {"url": base(attacker_api) + "/people", "records_path": "$.data.list[*]"}

    assert _put(Api(platform_admin), source, config).status_code == 404

    stored = Source.objects.get(pk=source["id"])
    assert (stored.config["url"], stored.secret) == (base(department_api) + "/people", TOKEN)
    assert attacker_api.requests == []


# --- credentials written into the settings ------------------------------------------------------------------------


def test_an_api_key_header_moves_into_the_credential_and_is_still_sent(
    resource: Resource, owner: Api, department_api: ApiServer
) -> None:
    headers = {"X-Api-Key": "key-in-header-42", "Accept": "application/json"}
    config = {"url": base(department_api) + "/people", "records_path": "$.data.list[*]", "headers": headers}

    source = _http_source(owner, resource, "", config)

    assert "key-in-header-42" not in json.dumps(source)
    assert source["has_secret"] is True and source["config"]["headers"] == {"Accept": "application/json"}
    assert source["notices"] == ["请求头“X-Api-Key”的值已移入加密保存的凭据，不再显示；归集时仍照原样发送"]
    stored = Source.objects.get(pk=source["id"])
    assert stored.secret == "key-in-header-42" and "key-in-header-42" not in json.dumps(stored.config)
    assert owner.post(f"/sources/{source['id']}/preview").status_code == 200
    headers = department_api.requests[-1][2]
    assert headers["X-Api-Key"] == "key-in-header-42" and "Authorization" not in headers


def test_a_bearer_authorization_header_moves_with_its_prefix(
    resource: Resource, owner: Api, department_api: ApiServer
) -> None:
    config = {"url": base(department_api) + "/people", "records_path": "$.data.list[*]"}
    source = _http_source(owner, resource, "", {**config, "headers": {"Authorization": f"Bearer {TOKEN}"}})
    assert Source.objects.get(pk=source["id"]).secret == TOKEN
    owner.post(f"/sources/{source['id']}/preview")
    assert department_api.requests[-1][2]["Authorization"] == f"Bearer {TOKEN}"


def test_an_access_token_in_the_query_string_moves_and_is_still_sent_as_a_parameter(
    resource: Resource, owner: Api, department_api: ApiServer
) -> None:
    url = base(department_api) + f"/people?region=510600&access_token={TOKEN}"

    source = _http_source(owner, resource, url)

    assert TOKEN not in json.dumps(source)
    assert source["config"]["url"] == base(department_api) + "/people?region=510600"
    assert source["config"]["token_param"] == "access_token"
    assert Source.objects.get(pk=source["id"]).secret == TOKEN
    assert owner.post(f"/sources/{source['id']}/preview").status_code == 200
    _, query, headers = department_api.requests[-1]
    assert query["access_token"] == TOKEN and query["region"] == "510600" and "Authorization" not in headers


def test_a_database_url_password_parameter_moves_into_the_credential(resource: Resource, owner: Api) -> None:
    body = {
        "name": "人口前置库",
        "kind": "database",
        "config": {"url": f"postgresql+psycopg://reader@10.20.0.5:5432/front?password={PASSWORD}", "table": "rk"},
    }
    response = owner.post(f"/resources/{resource.pk}/sources", body)
    assert response.status_code == 201, response.content
    assert PASSWORD not in response.content.decode()
    stored = Source.objects.get(pk=response.json()["id"])
    assert stored.config["url"] == "postgresql+psycopg://reader@10.20.0.5:5432/front"
    assert stored.secret == PASSWORD
    assert response.json()["notices"] == ["连接地址中的口令已移入加密保存的凭据，不再显示"]


def test_a_second_credential_is_refused_naming_where_it_was(resource: Resource, owner: Api) -> None:
    config = {
        "url": f"https://api.example.gov.cn/people?appKey=k-1&sign={TOKEN}",
        "records_path": "$.data.list[*]",
        "headers": {"Cookie": "SESSION=abc"},
    }
    response = owner.post(f"/resources/{resource.pk}/sources", {"name": "x", "kind": "http_api", "config": config})
    assert response.status_code == 422
    problems = {(e["field"], e["message"]) for e in response.json()["errors"]}
    assert {field for field, _ in problems} == {"config.url", "config.headers"}
    assert any("请求头“Cookie”像是凭据" in message and "这里有 3 个" in message for _, message in problems)
    assert TOKEN not in response.content.decode()
    assert not Source.objects.exists()


def test_a_header_credential_beside_a_different_token_is_refused(resource: Resource, owner: Api) -> None:
    config = {"url": "https://api.example.gov.cn/people", "records_path": "$.x[*]", "headers": {"X-Api-Key": "k-1"}}
    body = {"name": "x", "kind": "http_api", "config": config, "secret": TOKEN}
    response = owner.post(f"/resources/{resource.pk}/sources", body)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "config.headers" and "请求头“X-Api-Key”像是凭据" in error["message"]


def test_the_source_form_moves_a_header_credential_and_says_so(resource: Resource, catalog_admin: User) -> None:
    client = Client()
    client.force_login(catalog_admin)
    form = {
        "name": "居民接口",
        "url": "https://api.example.gov.cn/people",
        "method": "GET",
        "headers": "X-Auth-Token: form-token-77\nAccept: application/json",
        "records_path": "$.data[*]",
        "paging_mode": "none",
        "load_mode": "full",
    }
    response = client.post(f"/datasets/resources/{resource.pk}/sources/new/http_api/", form)
    source = Source.objects.get(resource=resource)
    assert response.status_code == 302 and response["Location"] == f"/datasets/sources/{source.pk}/mapping/"
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert "请求头“X-Auth-Token”的值已移入加密保存的凭据，不再显示；归集时仍照原样发送" in shown
    assert source.secret == "form-token-77" and source.config["headers"] == {"Accept": "application/json"}
    assert source.config["token_header"] == "X-Auth-Token" and source.config["token_prefix"] == ""


def test_settings_sent_back_as_shown_keep_the_credential(
    resource: Resource, owner: Api, department_api: ApiServer
) -> None:
    """A client that GETs a source and PUTs its settings back (as shown, without the credential) changes nothing."""
    url = base(department_api) + "/people"
    config = {"url": url, "records_path": "$.data.list[*]", "headers": {"X-Api-Key": "round-trip-key"}}
    source = _http_source(owner, resource, url, config)
    shown = owner.get(f"/sources/{source['id']}").json()

    response = _put(owner, source, shown["config"])

    assert response.status_code == 200 and response.json()["notices"] == []
    assert Source.objects.get(pk=source["id"]).secret == "round-trip-key"


def test_a_stored_secret_in_old_settings_is_never_shown(resource: Resource, owner: Api) -> None:
    """Settings stored before the credentials were moved out (see migration 0004) are shown censored."""
    source = _http_source(owner, resource, "https://api.example.gov.cn/people")
    legacy = {
        "url": "https://user:url-pass@api.example.gov.cn/people?access_token=legacy-token&region=1",
        "records_path": "$.data[*]",
        "headers": {"Authorization": "Bearer legacy-bearer", "Accept": "application/json"},
    }
    Source.objects.filter(pk=source["id"]).update(config=legacy)
    shown = owner.get(f"/sources/{source['id']}").json()
    text = json.dumps(shown, ensure_ascii=False)
    assert [secret for secret in ("url-pass", "legacy-token", "legacy-bearer") if secret in text] == []
    assert shown["config"]["url"] == "https://user@api.example.gov.cn/people?access_token=********&region=1"
    assert shown["config"]["headers"] == {"Authorization": "********", "Accept": "application/json"}


# --- the data migration of the sources stored before ---------------------------------------------------------------


def test_the_migration_moves_a_legacy_credential_and_drops_a_second_one(
    resource: Resource, owner: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    one = _http_source(owner, resource, "https://api.example.gov.cn/a")
    two = _http_source(owner, resource, "https://api.example.gov.cn/b", secret=TOKEN)
    database = _created(
        owner.post(
            f"/resources/{resource.pk}/sources",
            {"name": "库", "kind": "database", "config": {"url": "postgresql://reader@10.0.0.5/front", "table": "rk"}},
        )
    )
    Source.objects.filter(pk=one["id"]).update(
        config={"url": "https://api.example.gov.cn/a?access_token=legacy-1", "records_path": "$.d[*]"}
    )
    Source.objects.filter(pk=two["id"]).update(
        config={"url": "https://api.example.gov.cn/b", "records_path": "$.d[*]", "headers": {"X-Api-Key": "legacy-2"}}
    )
    Source.objects.filter(pk=database["id"]).update(
        config={"url": "postgresql://reader@10.0.0.5/front?password=legacy-3", "table": "rk"}
    )
    migration = importlib.import_module("govshare.datasets.migrations.0004_move_credentials_out_of_config")

    # The models as that migration saw them (sources were the datasets app's then; the table is the same).
    state = MigrationLoader(connection).project_state(("datasets", "0004_move_credentials_out_of_config"))
    migration.move_credentials_out_of_config(state.apps, None)

    first, second, third = (Source.objects.get(pk=s["id"]) for s in (one, two, database))
    assert (first.config["url"], first.config["token_param"], first.secret) == (
        "https://api.example.gov.cn/a",
        "access_token",
        "legacy-1",
    )
    assert (second.config["headers"], second.secret) == ({}, TOKEN)  # a second credential: dropped, named
    assert f"数据来源 #{two['id']}：请求头“X-Api-Key”像是凭据，已从连接配置中删除" in capsys.readouterr().out
    assert (third.config["url"], third.secret) == ("postgresql://reader@10.0.0.5/front", "legacy-3")


# --- the audit row of a change ---------------------------------------------------------------------------------------


def _last_update(source_id: int) -> dict[str, Any]:
    row = AuditLog.objects.filter(action="sources.source.update", object_id=str(source_id)).latest("pk")
    return dict(row.extra)


def test_the_audit_row_of_a_sql_change_has_the_old_and_new_sql_and_no_secret(resource: Resource, owner: Api) -> None:
    url = "postgresql+psycopg://reader@10.20.0.5:5432/front"
    body = {
        "name": "人口前置库",
        "kind": "database",
        "config": {"url": url, "query": "SELECT id, name FROM population"},
        "secret": PASSWORD,
    }
    source = _created(owner.post(f"/resources/{resource.pk}/sources", body))

    _put(owner, source, {"url": url, "query": "SELECT id, name, id_number FROM population"})

    extra = _last_update(source["id"])
    assert extra["changes"] == {
        "config.query": {"from": "SELECT id, name FROM population", "to": "SELECT id, name, id_number FROM population"}
    }
    assert extra["fields"] == ["config"] and extra["credential"] == "未变"
    assert PASSWORD not in json.dumps(extra, ensure_ascii=False)


def test_the_audit_row_of_a_host_change_has_both_urls_without_password(resource: Resource, owner: Api) -> None:
    body = {
        "name": "人口前置库",
        "kind": "database",
        "config": {"url": f"postgresql+psycopg://reader:{PASSWORD}@10.20.0.5:5432/front", "table": "population"},
    }
    source = _created(owner.post(f"/resources/{resource.pk}/sources", body))

    new_url = "postgresql+psycopg://reader:pg-second-0042@10.20.0.9:5432/front"
    _put(owner, source, {"url": new_url, "table": "population"}, schedule_enabled=True)

    extra = _last_update(source["id"])
    assert extra["changes"]["config.url"] == {
        "from": "postgresql+psycopg://reader@10.20.0.5:5432/front",
        "to": "postgresql+psycopg://reader@10.20.0.9:5432/front",
    }
    assert extra["changes"]["schedule_enabled"] == {"from": False, "to": True}
    assert extra["credential"] == "已更换"
    text = json.dumps(extra, ensure_ascii=False)
    assert PASSWORD not in text and "pg-second-0042" not in text
    registered = AuditLog.objects.get(action="sources.source.register", object_id=str(source["id"]))
    assert PASSWORD not in json.dumps(registered.extra, ensure_ascii=False)
    assert registered.extra["settings"]["config"]["url"] == "postgresql+psycopg://reader@10.20.0.5:5432/front"


def test_the_audit_row_censors_secret_looking_headers_of_old_settings(resource: Resource, owner: Api) -> None:
    source = _http_source(owner, resource, "https://api.example.gov.cn/people")
    old = {"url": "https://api.example.gov.cn/people", "records_path": "$.data[*]", "headers": {"X-Api-Key": "old-k"}}
    Source.objects.filter(pk=source["id"]).update(config=old)

    _put(owner, source, {"url": "https://api.example.gov.cn/people", "records_path": "$.data.list[*]"})

    extra = _last_update(source["id"])
    assert extra["changes"]["config.headers"] == {"from": {"X-Api-Key": credentials.CENSORED}, "to": None}
    assert extra["changes"]["config.records_path"] == {"from": "$.data[*]", "to": "$.data.list[*]"}
    assert "old-k" not in json.dumps(extra, ensure_ascii=False)


def test_a_dropped_credential_is_in_the_audit_row_without_its_value(resource: Resource, owner: Api) -> None:
    source = _http_source(owner, resource, "https://api.example.gov.cn/people", secret=TOKEN)
    _put(owner, source, {"url": "https://collector.example.com/people", "records_path": "$.data.list[*]"})
    extra = _last_update(source["id"])
    assert extra["credential"].startswith("已清除") and "secret" in extra["fields"]
    assert extra["changes"]["config.url"] == {
        "from": "https://api.example.gov.cn/people",
        "to": "https://collector.example.com/people",
    }
    assert TOKEN not in json.dumps(extra, ensure_ascii=False)


# --- a redirect elsewhere does not take the credential along ----------------------------------------------------------


class _Redirect(BaseHTTPRequestHandler):
    """Answers every request with a redirect to `server.target` (the department's API, or one it redirects to)."""

    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _redirect(self) -> None:
        self.send_response(self.server.status)
        self.send_header("Location", self.server.target + self.path.split("?")[0])
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _redirect


def _redirecting(target: str, status: int = 302) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    server.target, server.status = target, status  # type: ignore[attr-defined]
    return server


@pytest.mark.parametrize(
    ("placement", "status"),
    [
        ({"token_header": "X-Api-Key", "token_prefix": ""}, 302),
        ({"token_header": "Authorization", "token_prefix": "Bearer "}, 302),
        ({"token_param": "access_token"}, 302),
        ({"method": "POST", "token_field": "appSecret"}, 307),
    ],
)
def test_a_redirect_to_another_origin_never_carries_the_credential(
    attacker_api: ApiServer, placement: dict[str, str], status: int
) -> None:
    """httpx itself drops only an Authorization header on such a redirect; the reader follows none (connection
    policy), so no header, parameter or body field of the credential reaches the other origin."""
    for redirect in serve(_redirecting(base(attacker_api), status)):
        config = {"url": base(redirect) + "/people", "records_path": "$.data.list[*]", **placement}
        with pytest.raises(SourceInvalid, match="重定向"):
            HttpApiStream(config, TOKEN, on_reject=lambda _: None, retry_delays=(0, 0, 0), max_pages=1)
    assert TOKEN not in _sent(attacker_api)
