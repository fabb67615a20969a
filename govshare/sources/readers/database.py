"""A front-end database (前置库) as a raw stream: a table or one SELECT, read through a server-side cursor.

SQLAlchemy URLs of sqlite, postgresql(+psycopg) and mysql(+pymysql); the password may be kept apart, as the
source's secret. Where the URL may lead is the connection policy's decision (connection_policy.SourcePolicy),
checked again here before connecting: the connection goes to the address it checked, a SQLite file is opened
read-only by its checked real path. Every read runs in a read-only transaction with a statement timeout (the read's
deadline); the query is one SELECT without functions that act outside the query (`check_select`).

An incremental load reads `WHERE <watermark column> > :after` (a bound parameter) and records the largest watermark
value read. The checksum is a SHA-256 over the rows' canonical text in the order read (an unchanged table read again
gives the same checksum).
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import sqlalchemy as sa
import sqlglot
from django.utils.translation import gettext, gettext_noop
from sqlalchemy.engine import URL, Connection, CursorResult, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    ProgrammingError,
    StatementError,
)
from sqlalchemy.pool import NullPool
from sqlalchemy.types import NullType
from sqlglot import exp

from govshare.dataplane.raw import BATCH_ROWS, ReadStats, SourceInvalid, SourceUnavailable, raw_schema
from govshare.sources.connection_policy import DatabaseTarget, ReadLimits, SourcePolicy
from govshare.sources.readers.rows import BatchChecksum, check_header, column_text, counting, larger, text_value

# Why a front database cannot be read: said in the reader's language when raised, and recognised again in a stored
# load log or error (`govshare.jobs.logs.sentence`, registered by the sources app).
QUERY_UNPARSABLE = gettext_noop("查询语句无法解析：%(reason)s")
STATEMENTS = gettext_noop("查询语句只能是一条 SELECT 语句，实际有 %(n)s 条")
DENIED_FUNCTION = gettext_noop("查询语句不能调用函数 %(name)s：来源查询只能读取数据")
TIMED_OUT = gettext_noop("前置库查询超时，已停止：%(reason)s")
WRITE_ATTEMPT = gettext_noop("前置库查询试图修改数据（来源只以只读事务读取）：%(reason)s")
LOGIN_REFUSED = gettext_noop("前置库拒绝登录（请检查用户名、密码和库名）：%(reason)s")
BAD_QUERY = gettext_noop("前置库查询失败（请检查表名、字段名或查询语句）：%(reason)s")
CONNECTION_FAILED = gettext_noop("前置库连接失败：%(reason)s")
QUERY_FAILED = gettext_noop("前置库查询失败：%(reason)s")
NOT_EXECUTABLE = gettext_noop("前置库查询无法执行：%(reason)s")
QUERY_RESULT = gettext_noop("查询结果")
NO_WATERMARK = gettext_noop("水位字段“%(column)s”不在前置库查询结果中")
NO_SQLITE_FILE = gettext_noop("前置库连接失败：SQLite 数据库文件“%(file)s”不存在")
UNKNOWN_DRIVER = gettext_noop("不支持的前置库类型“%(driver)s”：支持 sqlite、postgresql、mysql")
SENTENCES = (
    QUERY_UNPARSABLE,
    STATEMENTS,
    DENIED_FUNCTION,
    TIMED_OUT,
    WRITE_ATTEMPT,
    LOGIN_REFUSED,
    BAD_QUERY,
    NO_SQLITE_FILE,
    CONNECTION_FAILED,
    QUERY_FAILED,
    NOT_EXECUTABLE,
    NO_WATERMARK,
    UNKNOWN_DRIVER,
)

_DRIVERS = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}
_SQLGLOT_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql"}
# Statements (or parts of one) that write: refused even inside a SELECT (WITH … DELETE, SELECT … INTO).
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Into, exp.Command)
# SQLite reports a missing table or a syntax error as an OperationalError: the source needs fixing, not a retry.
_SQLITE_INVALID = ("no such table", "no such column", "syntax error", "ambiguous column")
# Errors that a retry will not mend: PostgreSQL's wrong password / no such database, MySQL's access denied /
# unknown database; MySQL's unknown table or column and syntax errors (raised as OperationalError by PyMySQL).
_LOGIN_REFUSED = frozenset({"28P01", "28000", "3D000", "1044", "1045", "1049"})
_PG_LOGIN_REFUSED = re.compile(
    r'password authentication failed|no password supplied|(database|role) ".*" does not exist'
)
_MYSQL_BAD_QUERY = frozenset({"1054", "1064", "1146", "1142", "1143", "1052"})
# A statement stopped by its timeout: PostgreSQL's query_canceled, MySQL's and MariaDB's statement timeouts.
_TIMED_OUT = frozenset({"57014", "3024", "1969"})
# A write refused by the read-only transaction (PostgreSQL, MySQL).
_READ_ONLY = frozenset({"25006", "1792"})
# Functions a source query may not call, although a read-only transaction lets them run: they reach other
# databases or files, wait, lock, signal other sessions or change settings (PostgreSQL, MySQL, SQLite).
_DENIED_FUNCTIONS = frozenset(
    {
        "nextval", "setval", "set_config", "pg_notify", "txid_current", "pg_current_xact_id", "pg_export_snapshot",
        "pg_stat_file", "ts_stat", "ts_rewrite", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf",
        "pg_rotate_logfile", "pg_promote", "pg_switch_wal", "pg_log_backend_memory_contexts",
        "sleep", "benchmark", "load_file", "sys_exec", "sys_eval", "get_lock", "release_lock", "release_all_locks",
        "master_pos_wait", "source_pos_wait", "wait_for_executed_gtid_set", "wait_until_sql_thread_after_gtids",
        "load_extension", "readfile", "writefile", "fts3_tokenizer", "edit",
    }
)  # fmt: skip
_DENIED_PREFIXES = (
    "dblink", "lo_", "pg_read_", "pg_ls_", "pg_file_", "pg_sleep", "pg_advisory", "pg_try_advisory",
    "pg_stat_reset", "pg_create_", "pg_drop_", "pg_replication_", "pg_logical_", "pg_wal_replay", "pg_backup_",
    "pg_start_backup", "pg_stop_backup", "pg_import_", "query_to_xml", "table_to_xml", "cursor_to_xml",
    "schema_to_xml", "database_to_xml",
)  # fmt: skip


def source_url(raw_url: str, secret: str) -> URL:
    """The SQLAlchemy URL of a front database, with the secret as its password and a default driver."""
    try:
        url = make_url(raw_url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise SourceInvalid(
            gettext("前置库连接地址格式不正确：应为 SQLAlchemy URL，如 postgresql://用户@主机:端口/库名")
        ) from exc
    if url.drivername in _DRIVERS:
        url = url.set(drivername=_DRIVERS[url.drivername])
    if secret:
        url = url.set(password=secret)
    return url


def check_select(query: str, backend: str) -> None:
    """Only one SELECT (or UNION of SELECTs) is accepted as a source query: nothing that writes or locks, no
    function of the deny-list, no comments (MySQL runs `/*! … */`; what the server reads must be what was
    checked). The read-only transaction is the server's own guard; this is the first one, at saving too."""
    dialect = _SQLGLOT_DIALECTS.get(backend)
    try:
        tokens = sqlglot.tokenize(query, read=dialect)
        statements = [s for s in sqlglot.parse(query, read=dialect) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceInvalid(gettext(QUERY_UNPARSABLE) % {"reason": reason}) from exc
    if len(statements) != 1:
        raise SourceInvalid(gettext(STATEMENTS) % {"n": len(statements)})
    statement = tree = statements[0]
    if not isinstance(statement, exp.Query) or statement.find(*_WRITES) is not None:
        raise SourceInvalid(gettext("查询语句只能是 SELECT（只读查询），不能修改数据或表结构"))
    if statement.find(exp.Lock) is not None:
        raise SourceInvalid(gettext("查询语句不能加锁（FOR UPDATE、LOCK IN SHARE MODE 等）"))
    if any(token.comments for token in tokens):
        raise SourceInvalid(gettext("查询语句不能含注释（-- 或 /* */），请删去后再保存"))
    for name in sorted(_function_names(tree)):
        if name in _DENIED_FUNCTIONS or name.startswith(_DENIED_PREFIXES):
            raise SourceInvalid(gettext(DENIED_FUNCTION) % {"name": name})


def _function_names(statement: exp.Expr) -> set[str]:
    names: set[str] = set()
    for function in statement.find_all(exp.Func):
        if isinstance(function, exp.Anonymous):
            names.add(str(function.name).lower())
        else:
            names.update(name.lower() for name in type(function).sql_names())
    return names


# A password file that cannot exist ("/dev/null" is no directory): libpq then reads none, silently.
_NO_PASSWORD_FILE = os.path.join(os.devnull, "pgpass")


def _connect_args(target: DatabaseTarget, timeout: float, limits: ReadLimits, password: bool) -> dict[str, Any]:
    """The driver's connection arguments: to the address the policy checked, within the read's limits."""
    address = str(target.addresses[0])
    if target.backend == "postgresql":
        # libpq connects to hostaddr (the host name stays for TLS); it never falls back on the platform's own
        # PGPASSWORD or ~/.pgpass, which a source server must not receive.
        args: dict[str, Any] = {
            "hostaddr": address,
            "connect_timeout": max(2, math.ceil(timeout)),
            "passfile": _NO_PASSWORD_FILE,
        }
        if not password:
            args["password"] = ""
        return args
    read = max(0.001, min(max(timeout, 300), limits.remaining()))
    return {
        "host": address,
        "connect_timeout": timeout,
        "read_timeout": read,
        "write_timeout": read,
        "local_infile": False,
    }


# SQLite actions a source query may not take: attaching other files; functions of the deny-list.
def _sqlite_authorizer(
    action: int, arg1: str | None, arg2: str | None, database: str | None, source: str | None
) -> int:
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION:
        name = (arg2 or "").lower()
        if name in _DENIED_FUNCTIONS or name.startswith(_DENIED_PREFIXES):
            return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _open_sqlite(path: Path, timeout: float, limits: ReadLimits) -> sqlite3.Connection:
    """The checked file, read-only (`mode=ro`), refusing writes and ATTACH, interrupted at the read's deadline."""
    connection = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=timeout, check_same_thread=False)
    connection.execute("PRAGMA query_only = ON")
    connection.execute("PRAGMA trusted_schema = OFF")
    connection.set_authorizer(_sqlite_authorizer)
    deadline = limits.deadline
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    return connection


def _error_text(exc: BaseException, secret: str) -> str:
    original = getattr(exc, "orig", None) or exc
    text = (str(original).strip().splitlines() or [type(original).__name__])[0]
    return text.replace(secret, "***") if secret else text


def _read_error(exc: DBAPIError, secret: str, backend: str) -> Exception:
    """Whether a failed query needs a retry (the database is down) or a fix (unknown table or column, bad SQL,
    wrong password or database name)."""
    text = _error_text(exc, secret)
    code = _error_code(exc)
    if code in _TIMED_OUT or (backend == "sqlite" and text == "interrupted"):
        return SourceUnavailable(gettext(TIMED_OUT) % {"reason": text})
    if code in _READ_ONLY or (backend == "sqlite" and "readonly" in text):
        return SourceInvalid(gettext(WRITE_ATTEMPT) % {"reason": text})
    if backend == "sqlite" and text.startswith(("not authorized", "unsafe use of")):
        return SourceInvalid(gettext("前置库查询使用了不允许的语句或函数（来源查询只能读取数据）"))
    if _refused_login(exc, text):
        return SourceInvalid(gettext(LOGIN_REFUSED) % {"reason": text})
    if _bad_query(exc, backend, text):
        return SourceInvalid(gettext(BAD_QUERY) % {"reason": text})
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return SourceUnavailable(gettext(CONNECTION_FAILED) % {"reason": text})
    return SourceInvalid(gettext(QUERY_FAILED) % {"reason": text})


def _error_code(exc: DBAPIError) -> str:
    """MySQL's error number or PostgreSQL's SQLSTATE of a driver error, as text ("" when it has none)."""
    original = exc.orig
    args = getattr(original, "args", ())
    if args and isinstance(args[0], int):
        return str(args[0])
    return str(getattr(original, "sqlstate", None) or "")


def _refused_login(exc: DBAPIError, text: str) -> bool:
    # psycopg reports a refused connection without a SQLSTATE: its message says why.
    return _error_code(exc) in _LOGIN_REFUSED or _PG_LOGIN_REFUSED.search(text) is not None


def _bad_query(exc: DBAPIError, backend: str, text: str) -> bool:
    if isinstance(exc, ProgrammingError) or _error_code(exc) in _MYSQL_BAD_QUERY:
        return True
    return backend == "sqlite" and isinstance(exc, OperationalError) and text.startswith(_SQLITE_INVALID)


class DatabaseStream:
    """Rows of a front database table or query, numbered from 1 in the order the database returns them."""

    def __init__(
        self,
        config: dict[str, Any],
        secret: str,
        *,
        watermark_column: str = "",
        watermark_after: str = "",
        progress: Callable[[int], None] | None = None,
        batch_rows: int = BATCH_ROWS,
        policy: SourcePolicy | None = None,
        limits: ReadLimits | None = None,
    ) -> None:
        self.stats = ReadStats(encoding="database")
        self._batch_rows = batch_rows
        self._secret = secret
        self._progress = progress
        self._watermark = watermark_column
        self._limits = limits or ReadLimits.for_load()
        url = source_url(str(config.get("url") or ""), secret)
        self._backend = url.get_backend_name()
        statement = self._statement(config, watermark_column, watermark_after)
        target = (policy or SourcePolicy.from_settings()).check_database(url)
        timeout = self._limits.timeout(config.get("timeout"))
        self._engine = self._create_engine(url, target, timeout, password=bool(url.password))
        self._conn: Connection | None = None
        try:
            self._conn = self._engine.connect()
            self._begin_read_only(self._conn)
            options = self._conn.execution_options(stream_results=True, yield_per=batch_rows)
            self._result: CursorResult[Any] = options.execute(statement)
        except DBAPIError as exc:
            self.close()
            raise _read_error(exc, secret, self._backend) from exc
        except StatementError as exc:
            self.close()
            raise SourceInvalid(gettext(NOT_EXECUTABLE) % {"reason": _error_text(exc, secret)}) from exc
        except BaseException:
            self.close()
            raise
        self.columns = check_header(list(self._result.keys()), what=QUERY_RESULT)
        if watermark_column and watermark_column not in self.columns:
            self.close()
            raise SourceInvalid(gettext(NO_WATERMARK) % {"column": watermark_column})

    def _create_engine(self, url: URL, target: DatabaseTarget, timeout: float, *, password: bool) -> Engine:
        if target.path is not None:
            path, limits = target.path, self._limits
            # Only inside an allowed directory does the answer say whether the file is there.
            if not path.is_file():
                raise SourceUnavailable(gettext(NO_SQLITE_FILE) % {"file": url.database})
            return sa.create_engine(
                "sqlite://", poolclass=NullPool, creator=lambda: _open_sqlite(path, timeout, limits)
            )
        try:
            connect_args = _connect_args(target, timeout, self._limits, password)
            return sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
        except (NoSuchModuleError, ArgumentError) as exc:
            raise SourceInvalid(gettext(UNKNOWN_DRIVER) % {"driver": url.drivername}) from exc

    def _begin_read_only(self, conn: Connection) -> None:
        """The read's transaction: read-only, and stopped by the server at the read's deadline. (SQLite: opened
        read-only, see _open_sqlite.) String literals are read as check_select read them."""
        milliseconds = max(1, int(self._limits.remaining() * 1000))
        if self._backend == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")
            conn.exec_driver_sql("SET LOCAL standard_conforming_strings = on")
        elif self._backend == "mysql":
            conn.exec_driver_sql("SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '')")
            try:
                conn.exec_driver_sql(f"SET SESSION max_execution_time = {milliseconds}")
            except DBAPIError:  # MariaDB: its own variable, in seconds
                conn.exec_driver_sql(f"SET SESSION max_statement_time = {milliseconds / 1000:.3f}")
            conn.exec_driver_sql("START TRANSACTION READ ONLY")

    def _statement(self, config: dict[str, Any], watermark_column: str, watermark_after: str) -> sa.Executable:
        table, query = str(config.get("table") or "").strip(), str(config.get("query") or "").strip()
        if bool(table) == bool(query):
            raise SourceInvalid(gettext("前置库来源须填写表名（table）或查询语句（query），且只填其一"))
        if query:
            check_select(query.rstrip(";"), self._backend)
            # Colons escaped: the query's own text ("10:30", "x::date") must not read as bind parameters.
            literal = query.rstrip(";").replace(":", "\\:")
            source: Any = sa.text(literal).columns().subquery("govshare_source")
        else:
            schema, _, name = table.rpartition(".")
            source = sa.table(name, schema=schema or None)
        select = sa.select(sa.text("*")).select_from(source)
        if watermark_column and watermark_after:
            column: sa.ColumnElement[Any] = sa.literal_column(_quote_identifier(watermark_column, self._backend))
            # Untyped, so that the database compares it as the column's type (no ::VARCHAR cast).
            select = select.where(column > sa.bindparam("after", watermark_after, type_=NullType()))
        return select

    def batches(self) -> Iterator[pa.RecordBatch]:
        schema = raw_schema(self.columns)
        checksum = BatchChecksum()
        at = self.columns.index(self._watermark) if self._watermark else -1
        highest: Any = None
        try:
            for partition in self._result.partitions():
                self._limits.check()
                columns = list(zip(*partition, strict=True))
                if at >= 0:
                    highest = _highest(highest, columns[at])
                numbers = counting(self.stats.rows_read + 1, len(partition))
                batch = pa.RecordBatch.from_arrays([numbers, *map(column_text, columns)], schema=schema)
                checksum.add(batch)
                self.stats.rows_read += batch.num_rows
                self.stats.bytes_read = checksum.bytes
                yield batch
                if self._progress is not None:
                    self._progress(self.stats.rows_read)
        except DBAPIError as exc:
            raise _read_error(exc, self._secret, self._backend) from exc
        self.stats.sha256 = checksum.hexdigest()
        self.stats.watermark_max = text_value(highest) or ""

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()


def _highest(current: Any, values: Sequence[Any]) -> Any:
    """The largest non-null value of a column (and of `current`); mixed types compare as text."""
    present = [v for v in values if v is not None]
    if not present:
        return current
    try:
        return larger(current, max(present))
    except TypeError:
        for value in present:
            current = larger(current, value)
        return current


def _quote_identifier(name: str, backend: str) -> str:
    quote = "`" if backend == "mysql" else '"'
    return quote + name.replace(quote, quote * 2) + quote
