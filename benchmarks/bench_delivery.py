"""Benchmark: 库表对接 (a grant's extract delivered into the consumer's PostgreSQL) of N rows, then of a 1% change,
against a bare `COPY` of the same rows into an empty table of the same server.

    .venv/bin/python benchmarks/bench_delivery.py [--rows 1000000] [--change 0.01] [--data-dir /work/bench/delivery]
        [--target postgresql://postgres@127.0.0.1:54399]

Set-up (each run afresh): a metadata database (SQLite) and data directory under --data-dir, a provider's resource
常住人口 (人员编号 as the source's key, ID number, name, sex, birth date, district, address, phone) loaded with N
generated rows through the real load path (a Delta table), a consumer's grant (库表对接) of six items masked by grade
(姓名 and 住址 masked; 公民身份号码 and 手机号码 not granted), a database `delivery_bench` on the target server and
a delivery registered into it.

Timed: the bare COPY (the first extract as CSV through psycopg's COPY into an empty table: the floor of any load),
the first run (full: extract, COPY into a staging table, INSERT ... ON CONFLICT, commit), then, after a new
version where `--change` of the rows changed (half updated, half deleted, as many new), the incremental run (both
versions' extracts diffed by key in DuckDB, only the changes written). Bar: incremental ≤ 10% of the first run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ITEMS = ["人员编号", "公民身份号码", "姓名", "性别", "出生日期", "区县", "住址", "手机号码"]
GRANTED = ["人员编号", "姓名", "性别", "出生日期", "区县", "住址"]


def _setup_django(data_dir: Path) -> None:
    os.environ["GOVSHARE_DATA_DIR"] = str(data_dir)
    os.environ["GOVSHARE_SOURCE_ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "govshare.settings"
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _write_csv(path: Path, rows: int, *, change: float, version: int) -> None:
    """N rows; in version 1, `change` of them differ from version 0: half updated (区县), half deleted, and as many
    new rows as were deleted (the table keeps its size)."""
    import duckdb

    step = max(2, round(2 / change))  # of every `step` rows, one is updated and one deleted
    if version == 0:
        where, district = "true", "CASE WHEN i % 3 = 0 THEN '旌阳区' WHEN i % 3 = 1 THEN '罗江区' ELSE '中江县' END"
        extra = ""
    else:
        where = f"NOT (i % {step} = 1)"  # deleted
        district = (
            f"CASE WHEN i % {step} = 0 THEN '什邡市' WHEN i % 3 = 0 THEN '旌阳区' "
            "WHEN i % 3 = 1 THEN '罗江区' ELSE '中江县' END"
        )
        extra = f" UNION ALL SELECT i + {rows} FROM range({rows}) t(i) WHERE i % {step} = 1"
    sql = f"""
    COPY (
      WITH base AS (SELECT i FROM range({rows}) t(i) WHERE {where}{extra})
      SELECT 'P' || lpad(CAST(i AS VARCHAR), 9, '0') AS "人员编号",
             '510603' || strftime(DATE '1950-01-01' + CAST(i % 20000 AS INTEGER), '%Y%m%d')
                      || lpad(CAST(i % 10000 AS VARCHAR), 4, '0') AS "公民身份号码",
             (['王','李','张','刘','陈','杨','赵','黄','周','吴'])[i % 10 + 1]
               || (['伟','芳','娜','秀英','敏'])[i % 5 + 1] AS "姓名",
             CASE WHEN i % 2 = 0 THEN '男' ELSE '女' END AS "性别",
             strftime(DATE '1950-01-01' + CAST(i % 20000 AS INTEGER), '%Y-%m-%d') AS "出生日期",
             {district.replace("i %", "(i % 1000000000) %")} AS "区县",
             '四川省德阳市旌阳区长江西路' || CAST(i % 500 AS VARCHAR) || '号' AS "住址",
             '138' || lpad(CAST(i % 100000000 AS VARCHAR), 8, '0') AS "手机号码"
      FROM base
    ) TO '{path}' (HEADER, DELIMITER ',')
    """
    con = duckdb.connect()
    con.execute(sql)
    con.close()


def _load(source: object, owner: object, path: Path) -> float:
    from govshare.datasets import services as dataset_services
    from govshare.datasets.loading import run_load

    started = time.perf_counter()
    run_load(dataset_services.request_load(source, actor=owner, file_path=path).pk)  # type: ignore[arg-type]
    path.unlink()
    return time.perf_counter() - started


def _bare_copy(server: str, dataset: object, terms: object, reader: object) -> tuple[float, int]:
    """The first extract written as CSV through COPY into an empty table (no staging, no merge): the floor."""
    import psycopg
    import pyarrow as pa

    from govshare.gateway import delivery, delivery_targets

    found = delivery.extract(dataset, terms, dataset.current_version, reader, holder="bench")  # type: ignore[arg-type,attr-defined]
    table = found.batches.read_all()
    delivery._release(found)
    names = ", ".join(f'"{n}"' for n in table.schema.names)
    columns = ", ".join(f'"{n}" TEXT' for n in table.schema.names)
    with psycopg.connect(f"{server}/delivery_bench", autocommit=False) as conn:
        conn.execute(f"CREATE TABLE bare_copy ({columns})")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY bare_copy ({names}) FROM STDIN (FORMAT csv)") as copy:
            for batch in table.to_batches(65_536):
                copy.write(delivery_targets._csv(pa.RecordBatch.from_arrays(batch.columns, names=batch.schema.names)))
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bare_copy")
        conn.commit()
    return seconds, table.num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--change", type=float, default=0.01)
    parser.add_argument("--data-dir", type=Path, default=Path("/work/bench/delivery"))
    parser.add_argument("--target", default="postgresql://postgres@127.0.0.1:54399")
    args = parser.parse_args()
    if args.data_dir.exists():
        shutil.rmtree(args.data_dir)
    args.data_dir.mkdir(parents=True)
    _setup_django(args.data_dir)

    import psycopg

    from govshare import testing
    from govshare.accounts.choices import Role
    from govshare.catalog.rules import ItemDraft
    from govshare.datasets.models import Dataset
    from govshare.gateway import delivery
    from govshare.sharing import grants
    from govshare.sources import services as source_services
    from govshare.sources.choices import SourceKind
    from govshare.testing.sharing import make_scenario

    with psycopg.connect(f"{args.target}/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS delivery_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE delivery_bench")

    today = dt.date.today()
    provider = testing.make_department("市公安局")
    consumer = testing.make_department("市医保局")
    owner = testing.make_user(Role.CATALOG_ADMIN, department=provider)
    drafts = [
        ItemDraft(name="人员编号", data_type="C", length=10, data_level="L1"),
        ItemDraft(name="公民身份号码", data_type="C", length=18, data_level="L3"),
        ItemDraft(name="姓名", data_type="C", length=50, data_level="L3"),
        ItemDraft(name="性别", data_type="C", length=2, data_level="L2"),
        ItemDraft(name="出生日期", data_type="C", length=10, data_level="L2"),
        ItemDraft(name="区县", data_type="C", length=20, data_level="L2"),
        ItemDraft(name="住址", data_type="C", length=200, data_level="L3"),
        ItemDraft(name="手机号码", data_type="C", length=11, data_level="L3"),
    ]
    resource = testing.make_published_resource(provider, items=drafts, data_level="L1", name="常住人口")
    source = source_services.register_source(
        resource,
        source_services.SourceInput(
            name="报送", kind=SourceKind.FILE, config={"format": "csv"}, key_items=["人员编号"]
        ),
        actor=owner,
    )
    source_services.set_mapping(source, [source_services.MappingEntry(n, n) for n in ITEMS], actor=owner)
    path = args.data_dir / "people.csv"
    _write_csv(path, args.rows, change=args.change, version=0)
    print(f"version 0 loaded in {_load(source, owner, path):.1f} s", flush=True)

    scenario = make_scenario(consumer)
    grant = grants.issue_grant(
        grants.GrantInput(
            department_id=consumer.pk,
            scenario_id=scenario.pk,
            resource_id=resource.pk,
            items=GRANTED,
            delivery_method="table",
            valid_from=today,
            valid_until=today + dt.timedelta(days=365),
        ),
        actor=testing.make_user(Role.DEPT_REVIEWER, department=provider),
        today=today,
    )
    admin = testing.make_user(Role.CATALOG_ADMIN, department=consumer)
    subscription = delivery.register_delivery(
        delivery.DeliveryInput(grant_id=grant.pk, target_url=f"{args.target}/delivery_bench", table_name="people"),
        actor=admin,
    )
    dataset = Dataset.objects.get(resource=resource)
    terms = delivery.terms_of(grant, dataset)
    print(f"key: {terms.primary_key}, masked: {sorted(terms.masking)}", flush=True)

    bare_seconds, bare_rows = _bare_copy(args.target, dataset, terms, admin)
    started = time.perf_counter()
    first = delivery.run_delivery(subscription, today=today)
    first_seconds = time.perf_counter() - started
    assert first is not None and first.status == "succeeded", first and first.error

    _write_csv(path, args.rows, change=args.change, version=1)
    print(f"version 1 loaded in {_load(source, owner, path):.1f} s", flush=True)
    started = time.perf_counter()
    second = delivery.run_delivery(subscription, today=today)
    second_seconds = time.perf_counter() - started
    assert second is not None and second.status == "succeeded", second and second.error
    with psycopg.connect(f"{args.target}/delivery_bench") as conn:
        (count,) = conn.execute("SELECT count(*) FROM people").fetchone() or (0,)

    print()
    print(f"{'step':<36} {'rows':>10} {'seconds':>9} {'× bare COPY':>12}")
    print(f"{'bare COPY (empty table, no merge)':<36} {bare_rows:>10,} {bare_seconds:>9.2f} {1:>12.2f}")
    print(
        f"{'first run (full upsert)':<36} {first.rows_upserted:>10,} {first_seconds:>9.2f} "
        f"{first_seconds / bare_seconds:>12.2f}"
    )
    label = f"incremental run (+{second.rows_upserted:,} −{second.rows_deleted:,})"
    print(f"{label:<36} {second.rows_upserted + second.rows_deleted:>10,} {second_seconds:>9.2f} "
          f"{second_seconds / bare_seconds:>12.2f}")  # fmt: skip
    ratio = second_seconds / first_seconds
    print(f"\nincremental / first = {ratio:.1%} (bar: ≤ 10%); target rows after: {count:,}")


if __name__ == "__main__":
    main()
