"""Front databases (前置库) read as raw streams: a real SQLite file always, a real PostgreSQL server when
DATABASE_URL points at one (CI), and a database that is down."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from govshare.dataplane.raw import BATCH_ROWS, ROW_COLUMN, SourceInvalid, SourceUnavailable
from govshare.sources.choices import SourceKind
from govshare.sources.readers import open_source_stream, preview_source
from govshare.sources.readers.database import check_select
from govshare.sources.readers.rows import column_text, text_value
from govshare.testing.databases import postgres_database, postgres_server

# Front databases in pytest's temporary directory and on 127.0.0.1: the tests' allowance (conftest.py).
pytestmark = pytest.mark.usefixtures("allow_local_sources")


def read(
    config: dict[str, Any], secret: str = "", watermark_column: str = "", watermark_after: str = ""
) -> tuple[list[dict[str, Any]], Any]:
    stream = open_source_stream(
        SourceKind.DATABASE,
        config,
        secret,
        path=None,
        on_reject=print,
        watermark_column=watermark_column,
        watermark_after=watermark_after,
    )
    try:
        rows = [row for batch in stream.batches() for row in batch.to_pylist()]
    finally:
        stream.close()
    return rows, stream


@pytest.fixture
def front_db(tmp_path) -> str:
    path = tmp_path / "front.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL, updated TEXT, photo BLOB)")
        conn.executemany(
            "INSERT INTO people VALUES (?, ?, ?, ?, ?)",
            [
                (1, "张三", 90.0, "2024-05-01 08:00:00", b"\x01\xff"),
                (2, "李四", 87.5, "2024-05-02 09:30:00", None),
                (3, "", None, "2024-05-03 10:00:00", None),
            ],
        )
    return f"sqlite:///{path}"


def test_a_table_is_read_as_text(front_db):
    rows, stream = read({"url": front_db, "table": "people"})
    assert stream.columns == ["id", "name", "score", "updated", "photo"]
    assert rows[0] == {
        ROW_COLUMN: 1,
        "id": "1",
        "name": "张三",
        "score": "90",
        "updated": "2024-05-01 08:00:00",
        "photo": "01ff",
    }
    assert rows[1]["score"] == "87.5" and rows[1]["photo"] is None
    assert rows[2]["name"] is None  # empty text is null, as in files
    assert stream.stats.rows_read == 3


def test_a_select_query_is_read(front_db):
    rows, stream = read({"url": front_db, "query": "SELECT id, upper(name) AS n FROM people WHERE id < 3;"})
    assert stream.columns == ["id", "n"]
    assert [r["id"] for r in rows] == ["1", "2"]


def test_colons_in_a_query_are_sql_not_parameters(front_db):
    rows, _ = read({"url": front_db, "query": "SELECT id, '10:30' AS t FROM people WHERE id = 1"})
    assert rows == [{ROW_COLUMN: 1, "id": "1", "t": "10:30"}]
    with pytest.raises(SourceInvalid, match="前置库查询失败"):
        read({"url": front_db, "query": "SELECT * FROM people WHERE id = :id"})


def test_incremental_reads_only_rows_after_the_watermark(front_db):
    rows, stream = read(
        {"url": front_db, "table": "people"}, watermark_column="updated", watermark_after="2024-05-01 08:00:00"
    )
    assert [r["id"] for r in rows] == ["2", "3"]
    assert stream.stats.watermark_max == "2024-05-03 10:00:00"


def test_the_watermark_is_a_bound_parameter_never_sql(front_db):
    rows, _ = read({"url": front_db, "table": "people"}, watermark_column="id", watermark_after="0 OR 1=1")
    assert rows == []


def test_the_checksum_is_the_same_for_unchanged_rows(front_db):
    _, first = read({"url": front_db, "table": "people"})
    _, again = read({"url": front_db, "table": "people"})
    assert first.stats.sha256 == again.stats.sha256 and len(first.stats.sha256) == 64
    path = make_url(front_db).database
    with sqlite3.connect(str(path)) as conn:
        conn.execute("UPDATE people SET score = 88 WHERE id = 2")
    _, changed = read({"url": front_db, "table": "people"})
    assert changed.stats.sha256 != first.stats.sha256


def test_large_tables_come_in_bounded_batches(tmp_path):
    path = tmp_path / "big.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?)", ((i,) for i in range(BATCH_ROWS + 10)))
    stream = open_source_stream(
        SourceKind.DATABASE, {"url": f"sqlite:///{path}", "table": "t"}, "", path=None, on_reject=print
    )
    sizes = [batch.num_rows for batch in stream.batches()]
    stream.close()
    assert sizes == [BATCH_ROWS, 10]


def test_an_unknown_table_needs_a_fix(front_db):
    with pytest.raises(SourceInvalid, match=r"前置库查询失败.*no such table: persons"):
        read({"url": front_db, "table": "persons"})


def test_an_unknown_watermark_column_needs_a_fix(front_db):
    with pytest.raises(SourceInvalid, match="modified"):
        read({"url": front_db, "table": "people"}, watermark_column="modified", watermark_after="1")
    with pytest.raises(SourceInvalid, match="水位字段“modified”不在前置库查询结果中"):
        read({"url": front_db, "table": "people"}, watermark_column="modified")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("DELETE FROM people", "只能是 SELECT"),
        ("SELECT 1; DROP TABLE people", "实际有 2 条"),
        ("WITH gone AS (DELETE FROM people RETURNING *) SELECT * FROM gone", "只能是 SELECT"),
        ("SELECT * INTO copy FROM people", "只能是 SELECT"),
        ("SELEC * FROM people", "只能是 SELECT|无法解析"),
    ],
)
def test_only_one_select_is_accepted(query, message):
    with pytest.raises(SourceInvalid, match=message):
        check_select(query, "postgresql")


def test_table_or_query_is_required(front_db):
    with pytest.raises(SourceInvalid, match="表名（table）或查询语句（query）"):
        read({"url": front_db})


def test_a_missing_sqlite_file_is_unavailable(tmp_path):
    with pytest.raises(SourceUnavailable, match="不存在"):
        read({"url": f"sqlite:///{tmp_path / 'gone.sqlite3'}", "table": "people"})


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_database_that_is_down_is_unavailable_and_the_secret_stays_secret():
    url = f"postgresql://reader@127.0.0.1:{_closed_port()}/front"
    with pytest.raises(SourceUnavailable, match="前置库连接失败") as caught:
        read({"url": url, "table": "people", "timeout": 3}, secret="s3cr3t-口令")
    assert "s3cr3t" not in caught.value.message


def test_preview_reads_the_first_rows(front_db):
    preview = preview_source(SourceKind.DATABASE, {"url": front_db, "table": "people"}, "", path=None, rows=2)
    assert preview.columns[:2] == ["id", "name"]
    assert [row[:2] for row in preview.rows] == [["1", "张三"], ["2", "李四"]]


# --- a real PostgreSQL front database (CI sets DATABASE_URL to a PostgreSQL server) --------------------------------


START = dt.datetime(2024, 5, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def postgres_front() -> Iterator[str]:
    population = (
        "CREATE TABLE 人口 (id bigint PRIMARY KEY, 姓名 text, 收入 numeric(14, 2), 出生日期 date,"
        " 更新时间 timestamptz, 在职 boolean, 照片 bytea)",
        "INSERT INTO 人口 SELECT i, '居民' || i, i * 1000.10, DATE '1990-01-01' + i,"
        " TIMESTAMPTZ '2024-05-01 00:00:00+08' + i * INTERVAL '1 hour', i % 2 = 0, NULL"
        " FROM generate_series(1, 70000) AS i",
    )
    with postgres_database("govshare_front", population) as url:
        yield url


@pytest.mark.postgresql
def test_postgresql_front_database(postgres_front):
    rows, stream = read({"url": postgres_front, "query": "SELECT * FROM 人口 ORDER BY id"})
    assert len(rows) == 70000 and rows[-1][ROW_COLUMN] == 70000
    first = rows[0]
    assert {k: first[k] for k in ("id", "姓名", "收入", "出生日期", "在职", "照片")} == {
        "id": "1", "姓名": "居民1", "收入": "1000.10", "出生日期": "1990-01-02", "在职": "false", "照片": None,
    }  # fmt: skip
    assert dt.datetime.fromisoformat(first["更新时间"]) == START + dt.timedelta(hours=1)
    assert Decimal(rows[-1]["收入"]) == Decimal("70007000.00")
    assert len(stream.stats.sha256) == 64


@pytest.mark.postgresql
def test_postgresql_incremental_load(postgres_front):
    after = (START + dt.timedelta(hours=69_990)).isoformat()
    rows, stream = read({"url": postgres_front, "table": "人口"}, watermark_column="更新时间", watermark_after=after)
    assert sorted(int(r["id"]) for r in rows) == list(range(69_991, 70_001))
    assert dt.datetime.fromisoformat(stream.stats.watermark_max) == START + dt.timedelta(hours=70_000)
    # The next load starts from the watermark reached and finds nothing new.
    again, _ = read(
        {"url": postgres_front, "table": "人口"},
        watermark_column="更新时间",
        watermark_after=stream.stats.watermark_max,
    )
    assert again == []


@pytest.mark.postgresql
def test_postgresql_unknown_table_needs_a_fix(postgres_front):
    with pytest.raises(SourceInvalid, match="前置库查询失败"):
        read({"url": postgres_front, "table": "不存在的表"})


@pytest.mark.postgresql
def test_postgresql_password_as_secret(postgres_front):
    # trust authentication accepts any password: the point is that the secret reaches the URL and not the message.
    rows, _ = read({"url": postgres_front, "query": "SELECT 1 AS one"}, secret="口令")
    assert rows == [{ROW_COLUMN: 1, "one": "1"}]


@pytest.mark.postgresql
def test_postgresql_query_text_with_percent_signs_and_casts(postgres_front):
    query = "SELECT '50%' AS p, '10:30' AS t, DATE '2024-01-02'::text AS d FROM 人口 WHERE 姓名 LIKE '居民1%' LIMIT 1"
    rows, _ = read({"url": postgres_front, "query": query})
    assert rows == [{ROW_COLUMN: 1, "p": "50%", "t": "10:30", "d": "2024-01-02"}]


@pytest.mark.postgresql
def test_postgresql_unknown_database_needs_a_fix():
    server = make_url(postgres_server()).set(drivername="postgresql", database=f"nowhere_{secrets.token_hex(4)}")
    with pytest.raises(SourceInvalid, match="前置库拒绝登录"):
        read({"url": server.render_as_string(hide_password=False), "table": "人口"})


# --- MySQL / MariaDB, when a server is given (not in CI: GOVSHARE_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306) ----


@pytest.fixture
def mysql_front() -> Iterator[str]:
    import pymysql

    server = os.environ.get("GOVSHARE_TEST_MYSQL_URL", "")
    if not server:
        pytest.skip("GOVSHARE_TEST_MYSQL_URL is not set: no MySQL server to read from")
    url = make_url(server)
    name = f"govshare_front_{secrets.token_hex(4)}"
    conn = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username, password=url.password or "")
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
            conn.select_db(name)
            cursor.execute("CREATE TABLE 人口 (id BIGINT PRIMARY KEY, 姓名 VARCHAR(50), 收入 DECIMAL(14,2))")
            cursor.execute("INSERT INTO 人口 VALUES (1, '张三', 1000.10), (2, '李四', NULL)")
        conn.commit()
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.close()


def test_mysql_front_database(mysql_front):
    rows, stream = read({"url": mysql_front, "table": "人口"}, watermark_column="id", watermark_after="0")
    assert [(r["姓名"], r["收入"]) for r in rows] == [("张三", "1000.10"), ("李四", None)]
    assert stream.stats.watermark_max == "2"
    with pytest.raises(SourceInvalid, match="Unknown column"):
        read({"url": mysql_front, "query": "SELECT nope FROM 人口"})


@given(
    st.lists(st.none() | st.text(), max_size=30)
    | st.lists(st.none() | st.integers(), max_size=30)
    | st.lists(st.none() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.text(), max_size=30)
)
def test_columns_convert_as_values_do(values):
    assert column_text(values).to_pylist() == [text_value(v) for v in values]
