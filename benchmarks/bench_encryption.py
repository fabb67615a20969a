"""Benchmark: the cost of encryption at rest in a load, a download, a lookup and a rotation.

    .venv/bin/python benchmarks/bench_encryption.py [--rows 1000000]

Runs in a temporary directory (GOVSHARE_DATA_DIR set before Django starts; metadata in SQLite there). One UTF-8 CSV
of N records (公民身份号码, 姓名, 手机号码, 住址) is loaded twice, into two resources that differ only in their
items' designation: all plain, and 手机号码 加密可检索 + 住址 加密 (2 × N values encrypted, N hashed).
Then, on the encrypted dataset: a full CSV download by the owner (2 × N values decrypted), a preview with an
equality lookup on 手机号码 (through the HMAC column), the key-usage scan of `keys status` / `keys retire`, and
`rotate_dataset` after `keys add` (a new version).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ["公民身份号码", "姓名", "手机号码", "住址"]


def generate(path: Path, rows: int) -> None:
    import duckdb

    duckdb.sql(
        f"""
        COPY (
          SELECT '510603' || lpad(CAST(i AS VARCHAR), 12, '0') AS "公民身份号码",
                 '张' || CAST(i % 1000 AS VARCHAR) AS "姓名",
                 '1' || CAST(38000000000 + i AS VARCHAR) AS "手机号码",
                 '四川省德阳市长江西路' || CAST(i % 500 AS VARCHAR) || '号' || CAST(i % 30 AS VARCHAR) || '栋' AS "住址"
          FROM range({rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
        """
    )


def setup_django(data_dir: Path) -> None:
    os.environ["GOVSHARE_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("GOVSHARE_ENCRYPTION_KEYS", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "govshare.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def loaded(department: Any, admin: Any, path: Path, name: str, at_rest: dict[str, str]) -> tuple[Any, float]:
    from bench_load import timed_load  # this directory: the same timed run_load as the load benchmark

    from govshare import testing
    from govshare.catalog.rules import ItemDraft
    from govshare.sources import services
    from govshare.sources.choices import SourceKind

    items = [ItemDraft(name=c, data_type="C", length=100, at_rest=at_rest.get(c, "")) for c in COLUMNS]
    resource = testing.make_published_resource(department, items=items, name=name)
    source = services.register_source(
        resource, services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"}), actor=admin
    )
    services.set_mapping(source, [services.MappingEntry(c, c) for c in COLUMNS], actor=admin)
    seconds, _ = timed_load(source, admin, path=path)
    return resource, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    with tempfile.TemporaryDirectory(prefix="govshare-bench-enc-") as scratch:
        setup_django(Path(scratch) / "data")
        from govshare import testing
        from govshare.accounts.choices import Role
        from govshare.core import crypto
        from govshare.datasets import encryption, reading
        from govshare.datasets.models import Dataset

        path = Path(scratch) / "people.csv"
        generate(path, rows)
        department = testing.make_department("市公安局")
        admin = testing.make_user(Role.CATALOG_ADMIN, department=department)

        _, plain_seconds = loaded(department, admin, path, "明文", {})
        resource, encrypted_seconds = loaded(
            department, admin, path, "加密", {"手机号码": "searchable", "住址": "encrypted"}
        )
        print(f"rows {rows:,}; values encrypted per load {2 * rows:,}, hashed {rows:,}")
        print(f"full load, all plain                {plain_seconds:7.2f} s")
        print(
            f"full load, 2 columns encrypted      {encrypted_seconds:7.2f} s  "
            f"(+{encrypted_seconds - plain_seconds:.2f} s, {encrypted_seconds / plain_seconds:.2f}x)"
        )

        start = time.perf_counter()
        response = reading.download_response(admin, resource, file_format="csv")
        size = sum(len(chunk) for chunk in response.streaming_content)  # type: ignore[union-attr]
        print(f"CSV download, decrypted             {time.perf_counter() - start:7.2f} s  ({size / 2**20:.0f} MiB)")

        phone = f"1{38000000000 + rows // 2}"
        start = time.perf_counter()
        found = reading.preview_version(admin, resource, where={"手机号码": phone}).rows
        print(f"equality lookup through HMAC        {time.perf_counter() - start:7.2f} s  ({len(found)} row)")

        start = time.perf_counter()
        usage = encryption.dataset_key_usage()
        print(f"key usage of kept versions (keys status/retire) {time.perf_counter() - start:7.2f} s  ({usage})")

        crypto.add_key(Path(scratch) / "data")
        start = time.perf_counter()
        result = encryption.rotate_dataset(Dataset.objects.get(resource=resource))
        print(f"rotate_dataset (new version v{result.version})   {time.perf_counter() - start:7.2f} s")


if __name__ == "__main__":
    main()
