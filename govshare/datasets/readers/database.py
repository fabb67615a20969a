"""A front-end database (前置库) as a raw stream: a table or one SELECT, read through a server-side cursor.

Any SQLAlchemy URL works (sqlite, postgresql+psycopg, mysql+pymysql); the password may be kept apart, as the
source's secret. An incremental load reads `WHERE <watermark column> > :after` (a bound parameter) and records the
largest watermark value read. The checksum is a SHA-256 over the rows' canonical text in the order read (an unchanged
table read again gives the same checksum).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
import sqlglot
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

from govshare.datasets.raw import BATCH_ROWS, ReadStats, SourceInvalid, SourceUnavailable, raw_schema
from govshare.datasets.readers.rows import BatchChecksum, check_header, column_text, counting, larger, text_value

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


def source_url(raw_url: str, secret: str) -> URL:
    """The SQLAlchemy URL of a front database, with the secret as its password and a default driver."""
    try:
        url = make_url(raw_url)
    except ArgumentError as exc:
        raise SourceInvalid(
            "前置库连接地址格式不正确：应为 SQLAlchemy URL，如 postgresql://用户@主机:端口/库名"
        ) from exc
    if url.drivername in _DRIVERS:
        url = url.set(drivername=_DRIVERS[url.drivername])
    if secret:
        url = url.set(password=secret)
    return url


def check_select(query: str, backend: str) -> None:
    """Only one SELECT (or UNION of SELECTs) is accepted as a source query; anything that writes is refused."""
    try:
        statements = [s for s in sqlglot.parse(query, read=_SQLGLOT_DIALECTS.get(backend)) if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise SourceInvalid(f"查询语句无法解析：{str(exc).splitlines()[0]}") from exc
    if len(statements) != 1:
        raise SourceInvalid(f"查询语句只能是一条 SELECT 语句，实际有 {len(statements)} 条")
    statement = statements[0]
    if not isinstance(statement, exp.Query) or statement.find(*_WRITES) is not None:
        raise SourceInvalid("查询语句只能是 SELECT（只读查询），不能修改数据或表结构")


def _connect_args(backend: str, timeout: int) -> dict[str, Any]:
    if backend == "postgresql":
        return {"connect_timeout": timeout}
    if backend == "mysql":
        return {"connect_timeout": timeout, "read_timeout": max(timeout, 300)}
    if backend == "sqlite":
        return {"timeout": timeout}
    return {}


def _error_text(exc: BaseException, secret: str) -> str:
    original = getattr(exc, "orig", None) or exc
    text = (str(original).strip().splitlines() or [type(original).__name__])[0]
    return text.replace(secret, "***") if secret else text


def _read_error(exc: DBAPIError, secret: str, backend: str) -> Exception:
    """Whether a failed query needs a retry (the database is down) or a fix (unknown table or column, bad SQL,
    wrong password or database name)."""
    text = _error_text(exc, secret)
    if _refused_login(exc, text):
        return SourceInvalid(f"前置库拒绝登录（请检查用户名、密码和库名）：{text}")
    if _bad_query(exc, backend, text):
        return SourceInvalid(f"前置库查询失败（请检查表名、字段名或查询语句）：{text}")
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return SourceUnavailable(f"前置库连接失败：{text}")
    return SourceInvalid(f"前置库查询失败：{text}")


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
    ) -> None:
        self.stats = ReadStats(encoding="database")
        self._batch_rows = batch_rows
        self._secret = secret
        self._progress = progress
        self._watermark = watermark_column
        url = source_url(str(config.get("url") or ""), secret)
        self._backend = url.get_backend_name()
        statement = self._statement(config, watermark_column, watermark_after)
        self._engine = self._create_engine(url, int(config.get("timeout") or 30))
        self._conn: Connection | None = None
        try:
            self._conn = self._engine.connect()
            options = self._conn.execution_options(stream_results=True, yield_per=batch_rows)
            self._result: CursorResult[Any] = options.execute(statement)
        except DBAPIError as exc:
            self.close()
            raise _read_error(exc, secret, self._backend) from exc
        except StatementError as exc:
            self.close()
            raise SourceInvalid(f"前置库查询无法执行：{_error_text(exc, secret)}") from exc
        except BaseException:
            self.close()
            raise
        self.columns = check_header(list(self._result.keys()), what="查询结果的")
        if watermark_column and watermark_column not in self.columns:
            self.close()
            raise SourceInvalid(f"水位字段“{watermark_column}”不在前置库查询结果中")

    def _create_engine(self, url: URL, timeout: int) -> Engine:
        local = self._backend == "sqlite" and url.database not in (None, "", ":memory:")
        if local and not Path(str(url.database)).is_file():
            raise SourceUnavailable(f"前置库连接失败：SQLite 数据库文件“{url.database}”不存在")
        try:
            return sa.create_engine(url, poolclass=NullPool, connect_args=_connect_args(self._backend, timeout))
        except (NoSuchModuleError, ArgumentError) as exc:
            raise SourceInvalid(f"不支持的前置库类型“{url.drivername}”：支持 sqlite、postgresql、mysql") from exc

    def _statement(self, config: dict[str, Any], watermark_column: str, watermark_after: str) -> sa.Executable:
        table, query = str(config.get("table") or "").strip(), str(config.get("query") or "").strip()
        if bool(table) == bool(query):
            raise SourceInvalid("前置库来源须填写表名（table）或查询语句（query），且只填其一")
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
