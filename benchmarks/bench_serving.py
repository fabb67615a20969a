"""Benchmark: the key index that serves lookups by key (govshare.datasets.serving) on a population dataset.

    .venv/bin/python benchmarks/bench_serving.py [--rows 10000000] [--lookups 100000] [--encrypted]

Runs in a temporary directory (GOVSHARE_DATA_DIR is set before Django starts; metadata in SQLite there).
1. Generates N population records (身份证号 unique, 18 characters; 姓名, 性别, 出生日期, 住址 of about 30 characters,
   行政区划, 联系电话) with DuckDB and commits them as a version of the dataset's Delta table (DatasetTable). With
   --encrypted, 身份证号 is stored 加密可检索 and 住址 加密 (SM4-GCM, as a load stores them).
2. `build_serving_index`: time, rows per second, file size, peak RSS of the build.
3. Lookups by 身份证号 of random existing records, single-threaded: `served(id).rows_for(...)` (all columns, plain
   values) against the bare sqlite3 SELECT of the same rows on the same file; µs per lookup, p50 and p99.
4. The process's RSS at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

COLUMNS = ["身份证号", "姓名", "性别", "出生日期", "住址", "行政区划", "联系电话"]
TYPES = {"出生日期": "D"}
LENGTHS = {"身份证号": 18, "姓名": 50, "性别": 4, "住址": 200, "行政区划": 6, "联系电话": 20}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉春梅海波宇鹏飞"
STREETS = ["长江西路", "泰山南路", "岷江西路", "珠江东路", "庐山北路", "黄河路", "天山路", "华山南路"]


def resident_id(i: int) -> str:
    """The 身份证号 of record i (the same expression as the generator's SQL)."""
    import datetime as dt

    birth = dt.date(1950, 1, 1) + dt.timedelta(days=i // 1000)
    return f"510603{birth:%Y%m%d}{i % 1000:03d}X"


def population_sql(rows: int) -> str:
    return f"""
      SELECT
        '510603' || strftime(DATE '1950-01-01' + CAST(i // 1000 AS INTEGER), '%Y%m%d')
          || lpad(CAST(i % 1000 AS VARCHAR), 3, '0') || 'X' AS "身份证号",
        substr('{SURNAMES}', 1 + CAST(hash(i) % {len(SURNAMES)} AS INTEGER), 1)
          || substr('{GIVEN}', 1 + CAST(hash(i * 7) % {len(GIVEN)} AS INTEGER), 1)
          || substr('{GIVEN}', 1 + CAST(hash(i * 13) % {len(GIVEN)} AS INTEGER), 1) AS "姓名",
        CASE WHEN i % 2 = 0 THEN '男' ELSE '女' END AS "性别",
        DATE '1950-01-01' + CAST(i // 1000 AS INTEGER) AS "出生日期",
        '四川省德阳市旌阳区' || {STREETS!r}[1 + CAST(hash(i) % {len(STREETS)} AS INTEGER)]
          || CAST(i % 500 AS VARCHAR) || '号' || CAST(i % 30 AS VARCHAR) || '栋'
          || CAST(i % 6 + 1 AS VARCHAR) || '单元' || CAST(i % 20 + 1 AS VARCHAR) || '0' || CAST(i % 4 + 1 AS VARCHAR)
          || '室' AS "住址",
        '510603' AS "行政区划",
        '1' || CAST(38000000000 + i AS VARCHAR) AS "联系电话"
      FROM range({rows}) t(i)
    """


def setup_django(data_dir: Path) -> None:
    os.environ["GOVSHARE_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "govshare.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_dataset(rows: int, *, encrypted: bool) -> tuple[Any, float]:
    """The population resource's dataset with one version of `rows` records; the seconds the commit took."""
    import duckdb

    from govshare import testing
    from govshare.catalog.rules import ItemDraft
    from govshare.dataplane.tables import DatasetTable
    from govshare.datasets import encryption, services
    from govshare.datasets.models import Dataset

    at_rest = {"身份证号": "searchable", "住址": "encrypted"} if encrypted else {}
    department = testing.make_department("市公安局")
    items = [
        ItemDraft(name=c, data_type=TYPES.get(c, "C"), length=LENGTHS.get(c), at_rest=at_rest.get(c, "plain"))
        for c in COLUMNS
    ]
    resource = testing.make_published_resource(department, items=items, name="常住人口基本信息")
    dataset = services.ensure_dataset(resource)
    reader = duckdb.connect().sql(population_sql(rows)).to_arrow_reader(100_000)
    if encrypted:
        reader = encryption.for_load(resource.pk, reader, keys=[])
    start = time.perf_counter()
    version = DatasetTable(dataset.table_uri).write(reader, mode="overwrite", load_id=1)
    elapsed = time.perf_counter() - start
    Dataset.objects.filter(pk=dataset.pk).update(current_version=version, row_count=rows)
    return Dataset.objects.get(pk=dataset.pk), elapsed


def memory(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def percentiles(samples: list[int]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2] / 1000, ordered[int(len(ordered) * 0.99)] / 1000


def row(name: str, value: str, note: str = "") -> None:
    print(f"| {name:<44} | {value:>14} | {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--encrypted", action="store_true", help="身份证号 加密可检索, 住址 加密")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="govshare-bench-serving-"))
    setup_django(work / "data")
    from govshare.datasets import serving

    print(f"{args.rows:,} records{' (encrypted columns)' if args.encrypted else ''}; work directory {work}")
    dataset, commit_seconds = make_dataset(args.rows, encrypted=args.encrypted)
    Path("/proc/self/clear_refs").write_text("5")  # the build's own peak RSS, not the generator's
    start = time.perf_counter()
    index = serving.build_serving_index(dataset)
    build_seconds = time.perf_counter() - start
    build_peak = memory("VmHWM")
    assert index is not None
    size = Path(index.path).stat().st_size

    served = serving.served(dataset.pk)
    assert served is not None
    rng = random.Random(20261208)
    keys = [resident_id(rng.randrange(args.rows)) for _ in range(args.lookups)]
    key = ("身份证号",)

    timed: list[int] = []
    for value in keys:
        begin = time.perf_counter_ns()
        found = serving.served(dataset.pk).rows_for(key, (value,))  # type: ignore[union-attr]
        timed.append(time.perf_counter_ns() - begin)
        assert len(found) == 1 and found[0]["身份证号"] == value
    p50, p99 = percentiles(timed)

    con = sqlite3.connect(f"file:{index.path}?mode=ro&immutable=1", uri=True)
    query = (
        "SELECT r.data FROM key_0 AS k JOIN rows AS r ON r.id = k.row_id WHERE k.key = ? ORDER BY k.row_id LIMIT 100"
    )
    bare_keys = keys
    if args.encrypted:
        from govshare.core import crypto
        from govshare.dataplane.encryption import purpose

        ring = crypto.current_key_ring()
        bare_keys = [crypto.equality_hash(v, purpose(dataset.resource_id, "身份证号"), ring) for v in keys]
    bare: list[int] = []
    for value in bare_keys:
        begin = time.perf_counter_ns()
        fetched = con.execute(query, (value,)).fetchall()
        bare.append(time.perf_counter_ns() - begin)
        assert len(fetched) == 1
    b50, b99 = percentiles(bare)

    print()
    print("| step | figure | note")
    print("|---|---:|---")
    row("commit the version (Delta, DatasetTable.write)", f"{commit_seconds:.1f} s", "the data, for reference")
    row("build_serving_index", f"{build_seconds:.1f} s", f"{args.rows / build_seconds:,.0f} rows/s")
    row("index file", f"{size / 1e6:,.0f} MB", f"{size / args.rows:.0f} bytes per row, keys: {index.key_items}")
    row("peak RSS during the build", f"{build_peak / 1e6:,.0f} MB", "VmHWM, reset before the build")
    row(f"lookup served().rows_for, p50 ({args.lookups:,})", f"{p50:.1f} µs", "1 row, all columns, plain values")
    row("lookup served().rows_for, p99", f"{p99:.1f} µs", "")
    row("bare sqlite3 SELECT on the same file, p50", f"{b50:.1f} µs", "same keys (hashes with --encrypted)")
    row("bare sqlite3 SELECT, p99", f"{b99:.1f} µs", "")
    row("RSS at the end", f"{memory('VmRSS') / 1e6:,.0f} MB", "")


if __name__ == "__main__":
    main()
