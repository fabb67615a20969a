"""Benchmark: fingerprinting, sealing and verifying the audit chain (HMAC-SM3 under the audit key).

    .venv/bin/python benchmarks/bench_audit.py [--rows 100000] [--database-url postgres://…]

Without --database-url it runs in a temporary SQLite database. It times, in the same run: bulk-inserting unsealed
audit rows as the catalogue import does (each row's content MAC computed on insert), sealing them all (one batch),
verifying the whole chain, and 2,000 single record_action transactions with the after-commit batched sealing at the
default policy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def _setup_django(data_dir: str, database_url: str) -> None:
    os.environ["GOVSHARE_DATA_DIR"] = data_dir
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "govshare.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--actions", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        _setup_django(data_dir, args.database_url)
        from django.db import connection, transaction

        from govshare.audit.chain import seal_audit_log, verify_audit_chain
        from govshare.audit.models import AuditLog
        from govshare.audit.services import record_action
        from govshare.core.bulk import insert_rows

        print(f"database: {connection.vendor}, rows: {args.rows:,}")
        rows = [
            AuditLog(
                actor_name="gaj_admin",
                action="resource.create",
                object_type="catalog.resource",
                object_id=str(i),
                object_repr=f"常住人口户籍登记信息{i}",
                extra={"code": f"101001/0001-{i:05d}", "batch": 7},
            )
            for i in range(args.rows)
        ]
        start = time.perf_counter()
        with transaction.atomic():
            insert_rows(rows)
        insert = time.perf_counter() - start
        print(f"insert {args.rows:,} rows with their content MACs: {insert:.2f} s ({args.rows / insert:,.0f} rows/s)")
        start = time.perf_counter()
        result = seal_audit_log()
        seal = time.perf_counter() - start
        print(f"seal {result.sealed:,} rows: {seal:.2f} s ({result.sealed / seal:,.0f} rows/s)")
        start = time.perf_counter()
        report = verify_audit_chain()
        verify = time.perf_counter() - start
        print(f"verify {report.checked:,} rows: {verify:.2f} s ({report.checked / verify:,.0f} rows/s), ok={report.ok}")
        start = time.perf_counter()
        for i in range(args.actions):
            with transaction.atomic():
                record_action(None, "bench.action", object_id=str(i))
        actions = time.perf_counter() - start
        pending = AuditLog.objects.filter(seq__isnull=True).count()
        print(
            f"{args.actions:,} record_action transactions with batched sealing: {actions:.2f} s "
            f"({actions / args.actions * 1000:.2f} ms each), {pending} rows left for the next seal"
        )
        if args.database_url:
            connection.close()


if __name__ == "__main__":
    main()
