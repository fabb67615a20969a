"""The consumer's own database as a delivery target (库表对接): a SQLAlchemy URL checked by the sources' connection
policy (allowed drivers, no file outside the allowed directories, no local or private address unless allowed, never
the platform's own database), then one transaction per run on the target:

- the table is created when missing (columns = the delivered columns, text unless the type is known, primary key =
  the key columns), or checked to have every delivered column;
- the upserts are staged in a temporary table (PostgreSQL: `COPY ... FROM STDIN` of CSV made by Arrow; SQLite:
  batched inserts) and merged by key (`INSERT ... ON CONFLICT DO UPDATE`);
- the keys that left are staged and deleted (a full run deletes every row whose key it did not deliver);
- COMMIT. Anything failing before the commit rolls the whole run back: the target keeps its previous state.

No value ever reaches an error text: a driver's message is cut to its first line (PostgreSQL's DETAIL, which quotes
the failing row, is dropped) and the password is replaced.
"""

from __future__ import annotations

import io
import math
import os
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
from django.utils.translation import gettext, gettext_noop
from sqlalchemy.engine import URL

from govshare.dataplane.raw import SourceInvalid
from govshare.sources.connection_policy import DatabaseTarget, SourcePolicy
from govshare.sources.readers.database import source_url

__all__ = [
    "TARGET_BACKENDS",
    "Applied",
    "TargetError",
    "TargetSpec",
    "apply_changes",
    "check_table_name",
    "check_target",
    "split_password",
]

TARGET_BACKENDS = ("postgresql", "sqlite")
SQLITE_BATCH_ROWS = 5_000
CONNECT_SECONDS = 10
_NO_PASSWORD_FILE = os.path.join(os.devnull, "pgpass")
_TABLE_NAME = re.compile(r"^[^\W\d]\w{0,62}$")

UNSUPPORTED_BACKEND = gettext_noop("库表对接的目标库目前支持 PostgreSQL 和 SQLite，不支持“%(driver)s”")
BAD_TABLE_NAME = gettext_noop("目标表名须以字母或汉字开头，只含字母、汉字、数字和下划线，最长 63 个字符")
MISSING_COLUMNS = gettext_noop("目标表“%(table)s”缺少交付的列：%(names)s（请删除该表由平台重建，或手工补齐这些列）")
TARGET_FAILED = gettext_noop("写入目标库失败，目标表保持本次执行前的数据：%(reason)s")
SENTENCES = (UNSUPPORTED_BACKEND, BAD_TABLE_NAME, MISSING_COLUMNS, TARGET_FAILED)


class TargetError(Exception):
    """A run's failure on the target, in Chinese, without any value."""


@dataclass(frozen=True)
class TargetSpec:
    url: URL  # with the password
    target: DatabaseTarget
    table: str


@dataclass(frozen=True)
class Applied:
    upserted: int
    deleted: int


def split_password(raw_url: str) -> tuple[str, str]:
    """(the URL without its password, the password) of a target URL as the consumer typed it."""
    url = source_url(raw_url, "")
    password = url.password or ""
    without = URL.create(url.drivername, url.username, None, url.host, url.port, url.database, url.query)
    return without.render_as_string(hide_password=False), str(password)


def check_target(raw_url: str, password: str, *, policy: SourcePolicy | None = None) -> tuple[URL, DatabaseTarget]:
    """The target's URL (with the password) and where it may be reached, by the sources' connection policy.
    SourceInvalid (a Chinese message) when refused."""
    url = source_url(raw_url, password)
    target = (policy or SourcePolicy.from_settings()).check_database(url)
    if target.backend not in TARGET_BACKENDS:
        raise SourceInvalid(gettext(UNSUPPORTED_BACKEND) % {"driver": url.drivername})
    return url, target


def check_table_name(name: str) -> str:
    if not _TABLE_NAME.fullmatch(name or ""):
        raise SourceInvalid(gettext(BAD_TABLE_NAME))
    return name


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_type(field: pa.Field, backend: str) -> str:
    kind = field.type
    if pa.types.is_integer(kind):
        return "BIGINT" if backend == "postgresql" else "INTEGER"
    if pa.types.is_floating(kind):
        return "DOUBLE PRECISION" if backend == "postgresql" else "REAL"
    if pa.types.is_decimal(kind):
        return "NUMERIC"
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    if pa.types.is_date(kind):
        return "DATE"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP"
    return "TEXT"


_QUOTED_VALUE = re.compile(r':\s*".*$')


def _error_text(exc: BaseException, password: str) -> str:
    """A driver's message without any value: its first line (PostgreSQL's DETAIL quotes the failing row), a quoted
    value after a colon cut off (`invalid input syntax for type integer: "…"`), the password replaced."""
    original = getattr(exc, "orig", None) or exc
    text = (str(original).strip().splitlines() or [type(original).__name__])[0]
    text = _QUOTED_VALUE.sub("", text)
    return text.replace(password, "***") if password else text


def apply_changes(
    spec: TargetSpec,
    schema: pa.Schema,
    keys: Sequence[str],
    upserts: Iterable[pa.RecordBatch],
    deletes: pa.Table | None,
    *,
    full: bool,
) -> Applied:
    """Apply one run to the target in one transaction. `deletes`: the key columns of the rows that left (None on
    a full run: every row whose key was not upserted goes). TargetError when anything fails (rolled back)."""
    password = spec.url.password or ""
    try:
        if spec.target.backend == "postgresql":
            return _apply_postgres(spec, schema, keys, upserts, deletes, full=full)
        return _apply_sqlite(spec, schema, keys, upserts, deletes, full=full)
    except TargetError:
        raise
    except Exception as exc:
        raise TargetError(gettext(TARGET_FAILED) % {"reason": _error_text(exc, str(password))}) from None


def _create_table(schema: pa.Schema, keys: Sequence[str], table: str, backend: str) -> str:
    columns = ", ".join(
        f"{_quote(f.name)} {_sql_type(f, backend)}{' NOT NULL' if f.name in keys else ''}" for f in schema
    )
    primary = ", ".join(_quote(k) for k in keys)
    return f"CREATE TABLE IF NOT EXISTS {_quote(table)} ({columns}, PRIMARY KEY ({primary}))"


def _merge_sql(schema: pa.Schema, keys: Sequence[str], table: str, stage: str, *, where_true: bool) -> str:
    """Insert the staged rows, updating those whose key is there already and whose values differ (an unchanged
    row is not written: its row version stays, and the statement's count is the rows really written)."""
    names = ", ".join(_quote(f.name) for f in schema)
    others = [f.name for f in schema if f.name not in keys]
    conflict = ", ".join(_quote(k) for k in keys)
    distinct = "IS DISTINCT FROM" if not where_true else "IS NOT"
    if others:
        sets = ", ".join(f"{_quote(n)} = excluded.{_quote(n)}" for n in others)
        differ = " OR ".join(f"{_quote(table)}.{_quote(n)} {distinct} excluded.{_quote(n)}" for n in others)
        action = f"DO UPDATE SET {sets} WHERE {differ}"
    else:
        action = "DO NOTHING"
    where = " WHERE true" if where_true else ""
    return (
        f"INSERT INTO {_quote(table)} ({names}) SELECT {names} FROM {stage}{where} "  # noqa: S608 (quoted names)
        f"ON CONFLICT ({conflict}) {action}"
    )


def _match(keys: Sequence[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{_quote(k)} = {right}.{_quote(k)}" for k in keys)


# ---------------------------------------------------------------------------------------------------- PostgreSQL


def _pg_connect(spec: TargetSpec) -> Any:
    import psycopg

    url, target = spec.url, spec.target
    params: dict[str, Any] = {
        "host": target.host,
        "hostaddr": str(target.addresses[0]),
        "port": target.port,
        "dbname": url.database or url.username or "",
        "user": url.username or "",
        "password": url.password or "",
        "passfile": _NO_PASSWORD_FILE,
        "connect_timeout": CONNECT_SECONDS,
        "application_name": "govshare-delivery",
    }
    for name in ("sslmode", "application_name"):
        value = url.query.get(name)
        if value:
            params[name] = value if isinstance(value, str) else value[0]
    return psycopg.connect(**params)


def _pg_columns(cur: Any, table: str) -> set[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = %s",
        (table,),
    )
    return {str(row[0]) for row in cur.fetchall()}


def _csv(batch: pa.RecordBatch) -> bytes:
    sink = io.BytesIO()
    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
    pa_csv.write_csv(pa.Table.from_batches([batch]), sink, options)
    return sink.getvalue()


def _check_columns(existing: set[str], schema: pa.Schema, table: str) -> None:
    missing = [name for name in schema.names if name not in existing]
    if missing:
        raise TargetError(gettext(MISSING_COLUMNS) % {"table": table, "names": "、".join(missing)})


def _apply_postgres(
    spec: TargetSpec,
    schema: pa.Schema,
    keys: Sequence[str],
    upserts: Iterable[pa.RecordBatch],
    deletes: pa.Table | None,
    *,
    full: bool,
) -> Applied:
    table = _quote(spec.table)
    names = ", ".join(_quote(f.name) for f in schema)
    key_names = ", ".join(_quote(k) for k in keys)
    # One transaction: committed when the block ends without an error, rolled back otherwise.
    with _pg_connect(spec) as conn, conn.cursor() as cur:
        cur.execute(_create_table(schema, keys, spec.table, "postgresql"))
        _check_columns(_pg_columns(cur, spec.table), schema, spec.table)
        cur.execute(f"CREATE TEMP TABLE delivery_stage ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA")  # noqa: S608
        with cur.copy(f"COPY delivery_stage ({names}) FROM STDIN (FORMAT csv)") as copy:
            for batch in upserts:
                if batch.num_rows:
                    copy.write(_csv(batch))
        cur.execute(_merge_sql(schema, keys, spec.table, "delivery_stage", where_true=False))
        written = max(cur.rowcount, 0)
        deleted = 0
        if full:
            cur.execute(
                f"DELETE FROM {table} AS t WHERE NOT EXISTS "  # noqa: S608
                f"(SELECT 1 FROM delivery_stage AS s WHERE {_match(keys, 's', 't')})"
            )
            deleted = max(cur.rowcount, 0)
        elif deletes is not None and deletes.num_rows:
            cur.execute(
                f"CREATE TEMP TABLE delivery_gone ON COMMIT DROP AS SELECT {key_names} FROM {table} WITH NO DATA"  # noqa: S608
            )
            with cur.copy(f"COPY delivery_gone ({key_names}) FROM STDIN (FORMAT csv)") as copy:
                for batch in deletes.select(list(keys)).to_batches(65_536):
                    copy.write(_csv(batch))
            cur.execute("ANALYZE delivery_gone")
            # A few keys against a large table: one index probe per key (the planner, without statistics of a
            # table loaded in bulk moments ago, would hash the whole table).
            cur.execute("SET LOCAL enable_hashjoin = off")
            cur.execute("SET LOCAL enable_mergejoin = off")
            cur.execute(f"DELETE FROM {table} AS t USING delivery_gone AS g WHERE {_match(keys, 't', 'g')}")  # noqa: S608
            deleted = max(cur.rowcount, 0)
            cur.execute("SET LOCAL enable_hashjoin = on")
            cur.execute("SET LOCAL enable_mergejoin = on")
    return Applied(written, deleted)


# ---------------------------------------------------------------------------------------------------- SQLite


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, str | int | float | bytes):
        return value
    return str(value)


def _rows(batch: pa.RecordBatch) -> list[tuple[Any, ...]]:
    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
    return [tuple(_sqlite_value(v) for v in row) for row in zip(*columns, strict=True)]


def _apply_sqlite(
    spec: TargetSpec,
    schema: pa.Schema,
    keys: Sequence[str],
    upserts: Iterable[pa.RecordBatch],
    deletes: pa.Table | None,
    *,
    full: bool,
) -> Applied:
    path = spec.target.path
    assert path is not None
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, timeout=CONNECT_SECONDS)
    table = _quote(spec.table)
    names = ", ".join(_quote(f.name) for f in schema)
    marks = ", ".join("?" * len(schema))
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(_create_table(schema, keys, spec.table, "sqlite"))
        existing = {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}
        _check_columns(existing, schema, spec.table)
        conn.execute(f"CREATE TEMP TABLE delivery_stage AS SELECT {names} FROM {table} WHERE 0")  # noqa: S608
        for batch in upserts:
            for start in range(0, batch.num_rows, SQLITE_BATCH_ROWS):
                piece = batch.slice(start, SQLITE_BATCH_ROWS)
                conn.executemany(f"INSERT INTO temp.delivery_stage ({names}) VALUES ({marks})", _rows(piece))  # noqa: S608
        written = max(
            conn.execute(_merge_sql(schema, keys, spec.table, "temp.delivery_stage", where_true=True)).rowcount, 0
        )
        deleted = 0
        if full:
            cursor = conn.execute(
                f"DELETE FROM {table} WHERE NOT EXISTS "  # noqa: S608
                f"(SELECT 1 FROM temp.delivery_stage AS s WHERE {_match(keys, 's', table)})"
            )
            deleted = max(cursor.rowcount, 0)
        elif deletes is not None and deletes.num_rows:
            key_names = ", ".join(_quote(k) for k in keys)
            conn.execute(f"CREATE TEMP TABLE delivery_gone AS SELECT {key_names} FROM {table} WHERE 0")  # noqa: S608
            key_marks = ", ".join("?" * len(keys))
            for batch in deletes.select(list(keys)).to_batches(SQLITE_BATCH_ROWS):
                conn.executemany(f"INSERT INTO temp.delivery_gone VALUES ({key_marks})", _rows(batch))  # noqa: S608
            cursor = conn.execute(
                f"DELETE FROM {table} WHERE EXISTS "  # noqa: S608
                f"(SELECT 1 FROM temp.delivery_gone AS g WHERE {_match(keys, 'g', table)})"
            )
            deleted = max(cursor.rowcount, 0)
        conn.execute("DROP TABLE temp.delivery_stage")
        conn.execute("DROP TABLE IF EXISTS temp.delivery_gone")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    return Applied(written, deleted)
