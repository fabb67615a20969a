"""What a data source (前置库, 接口) may reach, and how long and how much one read of it may take.

One policy decides, when a source is saved (services) and again each time it is opened for a preview or a load
(readers), since a host name may resolve elsewhere by then:

- A network source reaches public addresses only. Loopback, private, shared, link-local, reserved, multicast and
  unspecified addresses are refused unless `GOVSHARE_SOURCE_ALLOWED_HOSTS` lists them: a host name (trusted
  whatever it resolves to; `*.name` for its subdomains), an address or a CIDR range. Every address a name resolves
  to is checked, however it is spelled (octal, hexadecimal or integer IPv4, IPv4-mapped, 6to4, Teredo or NAT64
  IPv6, `localhost`, trailing dots), and the connection goes to an address that was checked (pinned: a second DNS
  answer cannot swap it): `PinnedTransport` for HTTP, `hostaddr`/`host` for the database drivers.
- A SQLite 前置库 file is read only inside `GOVSHARE_SOURCE_SQLITE_DIRS`, judged by its real path (a symbolic link
  out of those directories is refused), opened read-only; never the platform's data directory or its own database
  (nor a hard link to it). The platform's own PostgreSQL database (its port and name) is refused on any host.
- A refused source gets one message whatever the reason, before anything is opened or connected: it tells nothing
  about which files exist or which ports answer.

`ReadLimits` bounds one read: a deadline for the whole preview or load (every connect, read and retry of an API, a
database's statement timeout, SQLite's progress handler), the source's own `timeout` within
`GOVSHARE_SOURCE_TIMEOUT_MAX_SECONDS`, and the bytes of one API response. `run_within` runs a preview in a thread
that the web request waits for only until the deadline.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import socket
import ssl
import threading
import time
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias, TypeVar
from urllib.parse import urlsplit

import httpcore
import httpx
from django.utils.translation import gettext, gettext_noop
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from govshare.core.text import join_names
from govshare.dataplane.raw import SourceInvalid, SourceUnavailable

__all__ = [
    "REFUSED",
    "SQLITE_REFUSED",
    "DatabaseTarget",
    "HostUnresolved",
    "PinnedTransport",
    "ReadLimits",
    "SourcePolicy",
    "run_within",
    "source_timeout",
    "system_resolver",
]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver: TypeAlias = Callable[[str, int], list[IPAddress]]
T = TypeVar("T")

REFUSED = gettext_noop(
    "来源地址不在平台允许访问的范围内（本机、内网、链路本地、保留地址和平台自身的数据库都不允许）；"
    "如确需访问，请平台管理员将其加入允许列表"
)
# Refusals with values, registered with the readers' (govshare.jobs.logs) for a load's stored error.
HOST_UNRESOLVED = gettext_noop("无法解析来源的主机名“%(host)s”：请检查地址，或稍后再试")
UNKNOWN_DRIVER = gettext_noop("不支持的前置库类型“%(driver)s”：支持 sqlite、postgresql、mysql")
TIMED_OUT = gettext_noop("读取来源超过时限（%(seconds)s 秒），已停止")
UNKNOWN_OPTIONS = gettext_noop("前置库连接地址中不支持这些参数：%(names)s")
SENTENCES = (HOST_UNRESOLVED, UNKNOWN_DRIVER, TIMED_OUT, UNKNOWN_OPTIONS)
SQLITE_REFUSED = gettext_noop(
    "SQLite 前置库文件须是平台允许的目录中的文件（不能是平台自身的数据库或数据目录）；"
    "如确需读取，请平台管理员将其目录加入允许列表"
)
DEFAULT_TIMEOUT = 30.0
RESOLVE_SECONDS = 5.0
# A preview thread is waited for this much past its deadline (its own limits end it at the deadline).
GRACE_SECONDS = 1.0
# Host names: letters (any script), digits, "_" and "-", labels joined by dots.
_NAME = re.compile(r"^[\w-]+(\.[\w-]+)*$")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Drivers whose connection can be pinned to the checked address; their default ports; URL query options kept.
_DRIVERS = {"sqlite": "sqlite", "postgresql+psycopg": "postgresql", "mysql+pymysql": "mysql"}
_PORTS = {"postgresql": 5432, "mysql": 3306}
_QUERY_OPTIONS = {"postgresql": frozenset({"sslmode", "application_name"}), "mysql": frozenset({"charset"})}


class HostUnresolved(SourceUnavailable):
    """The source's host name does not resolve (now): decided again when it is next opened."""


@dataclass(frozen=True)
class DatabaseTarget:
    """Where a checked database source may be opened: a SQLite file's real path, or a server's checked addresses."""

    backend: str
    path: Path | None = None
    host: str = ""
    port: int = 0
    addresses: tuple[IPAddress, ...] = ()


# --- addresses ------------------------------------------------------------------------------------------------------


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _canonical_name(host: str) -> str:
    """A host name in lower case, IDNA-encoded, without trailing dots; "" when the text cannot be one."""
    name = host.strip().rstrip(".").lower()
    if not name or not _NAME.match(name):
        return ""
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def _forms(address: IPAddress) -> list[IPAddress]:
    """The address and every IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64)."""
    forms: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            forms.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            forms.append(address.sixtofour)
        if address.teredo is not None:
            forms.extend(address.teredo)
        if address in _NAT64:
            forms.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return forms


def _public(address: IPAddress) -> bool:
    special = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )
    return address.is_global and not special


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The addresses `host` resolves to (getaddrinfo, at most RESOLVE_SECONDS); HostUnresolved if none."""
    answer: list[Any] = []

    def lookup() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError, ValueError) as exc:
            answer.append(exc)

    thread = threading.Thread(target=lookup, name="govshare-resolve", daemon=True)
    thread.start()
    thread.join(RESOLVE_SECONDS)
    addresses: list[IPAddress] = []
    if answer and not isinstance(answer[0], BaseException):
        for family, _, _, _, sockaddr in answer[0]:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = _ip_literal(str(sockaddr[0]))
            if address is not None and address not in addresses:
                addresses.append(address)
    if not addresses:
        raise HostUnresolved(gettext(HOST_UNRESOLVED) % {"host": host})
    return addresses


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


# --- the policy -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourcePolicy:
    """What sources may reach. `from_settings()` is the deployment's; tests build their own."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_names: frozenset[str] = frozenset()
    allowed_suffixes: tuple[str, ...] = ()  # from "*.name": ".name"
    sqlite_dirs: tuple[Path, ...] = ()  # real paths
    forbidden_dirs: tuple[Path, ...] = ()  # real paths: the data directory
    forbidden_files: tuple[Path, ...] = ()  # real paths: the metadata SQLite database and its journals
    metadata_databases: frozenset[tuple[int, str]] = frozenset()  # PostgreSQL (port, database name casefolded)
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def build(
        cls,
        allowed_hosts: Iterable[str] = (),
        sqlite_dirs: Iterable[Path | str] = (),
        *,
        forbidden_dirs: Iterable[Path | str] = (),
        forbidden_files: Iterable[Path | str] = (),
        metadata_databases: Iterable[tuple[int, str]] = (),
        resolver: Resolver = system_resolver,
    ) -> SourcePolicy:
        networks: list[IPNetwork] = []
        names: set[str] = set()
        suffixes: list[str] = []
        for entry in (e.strip() for e in allowed_hosts):
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            wildcard = entry.startswith("*.")
            name = _canonical_name(entry.removeprefix("*."))
            if name and wildcard:
                suffixes.append("." + name)
            elif name:
                names.add(name)
        files: list[Path] = []
        for file in forbidden_files:
            real = _real(Path(file))
            files += [real, *(real.with_name(real.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]
        return cls(
            allowed_networks=tuple(networks),
            allowed_names=frozenset(names),
            allowed_suffixes=tuple(suffixes),
            sqlite_dirs=tuple(_real(Path(d)) for d in sqlite_dirs),
            forbidden_dirs=tuple(_real(Path(d)) for d in forbidden_dirs),
            forbidden_files=tuple(files),
            metadata_databases=frozenset((int(port), name.casefold()) for port, name in metadata_databases),
            resolver=resolver,
        )

    @classmethod
    def from_settings(cls, resolver: Resolver = system_resolver) -> SourcePolicy:
        """The deployment's policy: GOVSHARE_SOURCE_ALLOWED_HOSTS and GOVSHARE_SOURCE_SQLITE_DIRS; the data
        directory and the metadata database (Django's DATABASES and GOVSHARE's own URL) always refused."""
        from django.conf import settings

        govshare = settings.GOVSHARE
        sqlite_files: list[str] = []
        postgres: list[tuple[int, str]] = []
        databases = [dict(d) for d in settings.DATABASES.values()]
        try:
            own = make_url(govshare.effective_database_url)
            databases.append({"ENGINE": own.get_backend_name(), "NAME": own.database, "PORT": own.port})
        except (ArgumentError, ValueError):
            pass
        for database in databases:
            engine, name = str(database.get("ENGINE") or ""), str(database.get("NAME") or "")
            if engine.endswith("sqlite3") or engine == "sqlite":
                if name and name != ":memory:" and not name.startswith("file:"):
                    sqlite_files.append(name)
            elif "postgres" in engine:
                postgres.append((int(str(database.get("PORT") or _PORTS["postgresql"])), name))
        return cls.build(
            govshare.source_allowed_hosts,
            govshare.source_sqlite_dirs,
            forbidden_dirs=[govshare.data_dir],
            forbidden_files=sqlite_files,
            metadata_databases=postgres,
            resolver=resolver,
        )

    # --- hosts ----------------------------------------------------------------------------------------------------

    def address_allowed(self, address: IPAddress) -> bool:
        """A public address, or one in an allowed range (an IPv6 address is judged with the IPv4 it carries)."""
        forms = _forms(address)
        if any(form in network for form in forms for network in self.allowed_networks):
            return True
        return all(_public(form) for form in forms)

    def _name_allowed(self, name: str) -> bool:
        return name in self.allowed_names or any(name.endswith(suffix) for suffix in self.allowed_suffixes)

    def check_host(self, host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to for `host` (every one checked). SourceInvalid(REFUSED) when any is not
        allowed; HostUnresolved when the name does not resolve."""
        text = host.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        literal = _ip_literal(text)
        if literal is not None:
            addresses = [literal]
        else:
            name = _canonical_name(text)
            if not name:
                raise SourceInvalid(REFUSED)
            if self._name_allowed(name):
                return self.resolver(name, port)
            if name == "localhost" or name.endswith(".localhost"):
                raise SourceInvalid(REFUSED)
            addresses = self.resolver(name, port)
        if not addresses or not all(self.address_allowed(address) for address in addresses):
            raise SourceInvalid(REFUSED)
        return addresses

    def check_http_url(self, url: str) -> httpx.URL:
        """An API address: http(s), a host the policy allows (resolved now), in a form httpx can request."""
        if not url.startswith(("http://", "https://")):
            raise SourceInvalid(gettext("接口地址须以 http:// 或 https:// 开头"))
        try:
            parts = urlsplit(url)
            host, port = parts.hostname or "", parts.port
        except ValueError:
            host, port = "", None
        try:
            parsed: httpx.URL | None = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, UnicodeError, TypeError):
            parsed = None
        if parsed is not None:
            host, port = parsed.host, parsed.port
        if not host:
            raise SourceInvalid(gettext("接口地址格式不正确：缺少主机名"))
        # The host is judged before the form: "http://0177.0.0.1/" (which httpx cannot request) is refused as
        # the loopback address it spells, the same as any other refused address.
        self.check_host(host, port or (443 if url.startswith("https://") else 80))
        if parsed is None:
            raise SourceInvalid(gettext("接口地址格式不正确"))
        return parsed

    # --- databases ------------------------------------------------------------------------------------------------

    def check_sqlite(self, database: str | None) -> Path:
        """The real path of a SQLite 前置库 file the policy allows (SourceInvalid(SQLITE_REFUSED) otherwise)."""
        text = database or ""
        if not text or text == ":memory:" or text.startswith("file:") or "\x00" in text:
            raise SourceInvalid(SQLITE_REFUSED)
        path = Path(text)
        if not path.is_absolute():
            raise SourceInvalid(SQLITE_REFUSED)
        try:
            real = _real(path)
        except (OSError, ValueError):
            raise SourceInvalid(SQLITE_REFUSED) from None
        inside = any(real.is_relative_to(directory) for directory in self.sqlite_dirs)
        forbidden = real in self.forbidden_files or any(real.is_relative_to(d) for d in self.forbidden_dirs)
        if not inside or forbidden or self._same_file_as_forbidden(real):
            raise SourceInvalid(SQLITE_REFUSED)
        return real

    def _same_file_as_forbidden(self, real: Path) -> bool:
        """A hard link to the metadata database (same device and inode)."""
        try:
            mine = real.stat()
        except OSError:
            return False
        for file in self.forbidden_files:
            try:
                other = file.stat()
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == (mine.st_dev, mine.st_ino):
                return True
        return False

    def check_database(self, url: URL) -> DatabaseTarget:
        """Where a 前置库 URL (driver already defaulted, see readers.database.source_url) may be opened."""
        backend = _DRIVERS.get(url.drivername)
        if backend is None:
            raise SourceInvalid(gettext(UNKNOWN_DRIVER) % {"driver": url.drivername})
        if backend == "sqlite":
            if url.query:
                raise SourceInvalid(gettext("SQLite 前置库的连接地址不能带参数"))
            return DatabaseTarget(backend, path=self.check_sqlite(url.database))
        unknown = sorted(set(url.query) - _QUERY_OPTIONS[backend])
        if unknown:
            raise SourceInvalid(gettext(UNKNOWN_OPTIONS) % {"names": join_names(unknown)})
        host = url.host or ""
        if not host:
            raise SourceInvalid(gettext("前置库连接地址须写明主机，如 postgresql://用户@主机:5432/库名"))
        port = url.port or _PORTS[backend]
        database = str(url.database or url.username or "").casefold()  # PostgreSQL's default database: the user's
        if backend == "postgresql" and (port, database) in self.metadata_databases:
            raise SourceInvalid(REFUSED)
        addresses = self.check_host(host, port)
        return DatabaseTarget(backend, host=host, port=port, addresses=tuple(addresses))


# --- limits ---------------------------------------------------------------------------------------------------------


def source_timeout(value: Any) -> float:
    """A source's own `timeout` (seconds; 30 when not given). SourceInvalid when it is not a positive number."""
    if value is None or value == "":
        return DEFAULT_TIMEOUT
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SourceInvalid(gettext("超时（timeout）应为秒数，如 30"))
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise SourceInvalid(gettext("超时（timeout）应为秒数，如 30")) from None
    if not math.isfinite(number) or number <= 0:
        raise SourceInvalid(gettext("超时（timeout）应为正的秒数，如 30"))
    return number


@dataclass(frozen=True)
class ReadLimits:
    """How long one read of a source may take in all (`deadline`, time.monotonic()), how long one connect or
    read may wait, and how large one API response may be."""

    seconds: float
    deadline: float
    timeout_max: float = 120.0
    http_max_bytes: int = 64 * 1024**2

    @classmethod
    def starting_now(
        cls, seconds: float, *, timeout_max: float = 120.0, http_max_bytes: int = 64 * 1024**2
    ) -> ReadLimits:
        return cls(seconds, time.monotonic() + seconds, timeout_max, http_max_bytes)

    @classmethod
    def for_preview(cls) -> ReadLimits:
        """A preview in a web request: GOVSHARE_SOURCE_PREVIEW_SECONDS in all."""
        from django.conf import settings

        govshare = settings.GOVSHARE
        return cls.starting_now(
            govshare.source_preview_seconds,
            timeout_max=govshare.source_timeout_max_seconds,
            http_max_bytes=govshare.source_http_max_bytes,
        )

    @classmethod
    def for_load(cls) -> ReadLimits:
        """A load in a worker: as long as the worker's job may run (GOVSHARE_JOB_TIMEOUT_SECONDS)."""
        from django.conf import settings

        govshare = settings.GOVSHARE
        return cls.starting_now(
            float(govshare.job_timeout_seconds),
            timeout_max=govshare.source_timeout_max_seconds,
            http_max_bytes=govshare.source_http_max_bytes,
        )

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def expired(self) -> SourceUnavailable:
        return SourceUnavailable(gettext(TIMED_OUT) % {"seconds": f"{self.seconds:g}"})

    def check(self) -> None:
        if self.remaining() <= 0:
            raise self.expired()

    def timeout(self, requested: Any = None) -> float:
        """The source's own timeout, at most GOVSHARE_SOURCE_TIMEOUT_MAX_SECONDS and the time left."""
        wanted = source_timeout(requested)
        left = self.remaining()
        if left <= 0:
            raise self.expired()
        return min(wanted, self.timeout_max, left)

    def within(self, timeout: float | None) -> float:
        """`timeout` (None: none) cut to the time left; 0 or less once the deadline has passed."""
        left = self.remaining()
        return left if timeout is None else min(timeout, left)


def run_within(limits: ReadLimits, work: Callable[[], T]) -> T:
    """`work()` in its own thread, waited for until the deadline (and a grace second): the calling web thread is
    free by then whatever the source does. The work's own limits end it at the deadline too."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # handed to the caller as it is
            outcome.append((False, exc))

    thread = threading.Thread(target=target, name="govshare-source-read", daemon=True)
    thread.start()
    thread.join(max(limits.remaining(), 0) + GRACE_SECONDS)
    if not outcome:
        raise limits.expired()
    done, value = outcome[0]
    if not done:
        raise value
    return typing.cast(T, value)


# --- HTTP: connect only to checked addresses --------------------------------------------------------------------------


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits at most until the read's deadline."""

    def __init__(self, stream: httpcore.NetworkStream, limits: ReadLimits) -> None:
        self._stream = stream
        self._limits = limits

    def _bound(self, timeout: float | None, error: type[Exception]) -> float:
        left = self._limits.within(timeout)
        if left <= 0:
            raise error("读取来源超过时限")
        return left

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, self._bound(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls, self._limits)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Resolves and checks the host of every new connection, then connects to a checked address."""

    def __init__(self, policy: SourcePolicy, limits: ReadLimits) -> None:
        self._policy = policy
        self._limits = limits
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._policy.check_host(host, port)
        failure: Exception | None = None
        for address in addresses:
            left = self._limits.within(timeout)
            if left <= 0:
                raise httpcore.ConnectTimeout("读取来源超过时限")
            try:
                stream = self._backend.connect_tcp(str(address), port, left, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _DeadlineStream(stream, self._limits)
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise SourceInvalid(REFUSED)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport connecting through the policy: never through proxies from the environment, never to a
    host the policy refuses, always to the address it checked (TLS still verifies the host name)."""

    def __init__(self, policy: SourcePolicy, limits: ReadLimits, ssl_context: ssl.SSLContext | None = None) -> None:
        # Building a context loads the CA bundle (milliseconds of CPU): a caller making many requests passes one.
        ssl_context = ssl_context or httpx.create_ssl_context()
        super().__init__(verify=ssl_context)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, network_backend=_PinnedBackend(policy, limits), max_connections=4
        )
