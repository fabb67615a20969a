"""Benchmark: the grant check's share of one preview's time (issue 13: target under 5 %).

    .venv/bin/python benchmarks/bench_grant_check.py [--rows 100000] [--repeat 300]

Runs in a temporary directory and SQLite database (migrated first). It loads N population records (six items, two
districts) into a provider's resource through the real load path (a Delta table), grants a consumer department
its id number, name and district, masked by grade, with a row filter on the district, then times in one run,
interleaved, each `--repeat` times after a warm-up:

- **preview through the grant**: `reading.preview_version(consumer, resource)`, the whole call the page and the
  API make (scope decision, read of the first 20 rows of the version, filter, masking, audit row, quota count);
- **grant check**: what the grant adds to that call: `scopes.reader_scope` (the consumer's grant looked up and
  judged on the day, its items and masking computed) plus the scope's `admit` (the grant read again and the day's
  counter incremented, in a transaction);
- **bare open_version**: the same scope's read of the same 20 rows with `reading.open_version`, no grant lookup
  and no audit row;
- **owner preview**: the owning department's preview (staff scope) for comparison.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _setup_django(data_dir: str) -> None:
    os.environ["GOVSHARE_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "govshare.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _write_csv(path: Path, rows: int) -> None:
    surnames, given = "王李张刘陈杨赵黄周吴", ["伟", "芳", "娜", "秀英", "敏"]
    with path.open("w", encoding="utf-8") as out:
        out.write("公民身份号码,姓名,手机号码,区县,户籍地址,宗教信仰\n")
        for i in range(rows):
            district = "旌阳区" if i % 2 == 0 else "罗江区"
            out.write(
                f"510603{19500101 + i % 500000:08d}{i % 1000:03d}{i % 10},{surnames[i % 10]}{given[i % 5]},"
                f"138{i % 100000000:08d},{district},四川省德阳市{district}长江西路{i % 500}号,无\n"
            )


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grant-") as data_dir:
        _setup_django(data_dir)
        from django.db import connection, transaction

        from govshare import testing
        from govshare.accounts.choices import Role
        from govshare.datasets import reading, scopes
        from govshare.datasets import services as dataset_services
        from govshare.datasets.loading import run_load
        from govshare.datasets.models import Dataset
        from govshare.sharing import grants
        from govshare.sources import services as source_services
        from govshare.sources.choices import SourceKind
        from govshare.testing.sharing import PEOPLE_ITEMS, make_scenario

        today = dt.date(2026, 3, 2)
        scopes.clock = lambda: today
        provider = testing.make_department("市公安局")
        holder = testing.make_department("市医保局")
        owner = testing.make_user(Role.CATALOG_ADMIN, department=provider)
        consumer = testing.make_user(Role.CONSUMER, department=holder)
        resource = testing.make_published_resource(provider, items=PEOPLE_ITEMS, data_level="L2", name="常住人口")
        source = source_services.register_source(
            resource,
            source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"}),
            actor=owner,
        )
        entries = [source_services.MappingEntry(item.name, item.name) for item in PEOPLE_ITEMS]
        source_services.set_mapping(source, entries, actor=owner)
        path = Path(data_dir) / "people.csv"
        _write_csv(path, args.rows)
        start = time.perf_counter()
        run_load(dataset_services.request_load(source, actor=owner, file_path=path).pk)
        print(f"loaded {args.rows:,} rows in {time.perf_counter() - start:.1f} s; database {connection.vendor}")
        grants.issue_grant(
            grants.GrantInput(
                department_id=holder.pk,
                scenario_id=make_scenario(holder).pk,
                resource_id=resource.pk,
                items=["公民身份号码", "姓名", "区县"],
                row_filter={"区县": ["旌阳区"]},
                valid_from=today,
                valid_until=today + dt.timedelta(days=365),
            ),
            actor=testing.make_user(Role.DEPT_REVIEWER, department=provider),
            today=today,
        )
        dataset = Dataset.objects.get(resource=resource)
        scope = scopes.reader_scope(consumer, resource)

        def scope_decision() -> None:
            scopes.reader_scope(consumer, resource)

        def grant_check() -> None:
            # In a preview the admit runs inside the audit row's transaction, whose commit the preview pays
            # anyway: here the transaction is rolled back, so that its commit (an fsync) is not counted twice.
            decided = scopes.reader_scope(consumer, resource)
            with transaction.atomic():
                assert decided.admit is not None
                decided.admit()
                transaction.set_rollback(True)

        def bare_read() -> None:
            opened = reading.open_version(dataset, scope)
            rows = 0
            with opened.batches as batches:
                for batch in batches:
                    rows += min(batch.num_rows, reading.PREVIEW_ROWS - rows)
                    if rows >= reading.PREVIEW_ROWS:
                        break

        cases: dict[str, Callable[[], object]] = {
            "preview through the grant": lambda: reading.preview_version(consumer, resource),
            "scope decision alone": scope_decision,
            "grant check (scope decision + admit)": grant_check,
            "bare open_version, first 20 rows": bare_read,
            "owner preview (staff scope)": lambda: reading.preview_version(owner, resource),
        }
        assert len(reading.preview_version(consumer, resource).rows) == reading.PREVIEW_ROWS
        for action in cases.values():  # warm-up
            for _ in range(5):
                action()
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, action in cases.items():
                times[name].append(_timed(action))
        print(f"\n{args.repeat} repetitions each, interleaved; times in ms\n")
        print("| measured | mean | p50 | p95 |")
        print("|---|---:|---:|---:|")
        for name, values in times.items():
            values.sort()
            p95 = values[int(len(values) * 0.95) - 1]
            print(f"| {name} | {statistics.fmean(values):.2f} | {statistics.median(values):.2f} | {p95:.2f} |")
        check = statistics.median(times["grant check (scope decision + admit)"])
        preview = statistics.median(times["preview through the grant"])
        print(f"\ngrant check / preview through the grant (p50): {100 * check / preview:.1f} %")
        load = os.getloadavg()[0]
        print(f"load average (1 min) at the end: {load:.1f}")


if __name__ == "__main__":
    main()
