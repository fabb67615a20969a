"""Benchmark: reading a data file (.xlsx) for a load, and what refusing a zip bomb costs.

    .venv/bin/python benchmarks/bench_xlsx.py [--rows 200000]

1. A 200,000-row, 6-column workbook written by openpyxl's write-only mode (text, a date, numbers: about 87 MB of sheet
   XML in 4.7 MB) is read the way a load reads it (govshare.sources.readers.files.XlsxStream: the archive checks,
   the merged-range scan, the streamed rows), then, for comparison, by openpyxl's read-only mode (values only).
2. The bombs of the attack tests (govshare/testing/bombs.py) go through the same reader: CPU seconds of this
   process and the highest resident memory seen above the start (sampled every 2 ms) until the refusal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path


def _setup_django(data_dir: str) -> None:
    os.environ["GOVSHARE_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "govshare.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()


def _workbook(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["公民身份号码", "姓名", "性别", "出生日期", "住址", "金额"])
    for n in range(rows):
        sheet.append([f"1101051949{n:08d}", "张三", "男", dt.date(1990, 1, 1), "北京市海淀区中关村大街1号", n * 1.5])
    book.save(path)


def _read(path: Path) -> tuple[int, int]:
    from govshare.sources.readers.files import XlsxStream

    rejects: list[object] = []
    stream = XlsxStream(path, {}, rejects.append, None)
    rows = 0
    try:
        for batch in stream.batches():
            rows += batch.num_rows
    finally:
        stream.close()
    return rows, len(rejects)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="govshare-bench-xlsx-") as data_dir:
        _setup_django(data_dir)
        import openpyxl

        from govshare.testing import bombs

        path = Path(data_dir) / "data.xlsx"
        _workbook(path, args.rows)
        print(f"{args.rows:,} rows × 6 columns, {path.stat().st_size / 1e6:.1f} MB\n")
        print("| read | CPU s | wall s | rows/s |\n|---|---:|---:|---:|")
        cpu, wall = time.process_time(), time.perf_counter()
        rows, rejected = _read(path)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert (rows, rejected) == (args.rows, 0)
        print(f"| XlsxStream (govshare.core.tabular.xlsx) | {cpu:.1f} | {wall:.1f} | {rows / wall:,.0f} |")
        cpu, wall = time.process_time(), time.perf_counter()
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        count = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
        book.close()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"| openpyxl read-only, values only (comparison) | {cpu:.1f} | {wall:.1f} | {count / wall:,.0f} |")

        header_only = bombs.Member(
            "xl/worksheets/sheet1.xml", head=bombs.SHEET_HEAD + bombs.header_row("姓名") + bombs.SHEET_TAIL
        )
        cases = {
            "5 million shared strings": bombs.one_sheet_workbook(header_only, strings=bombs.strings_table()),
            "1 GiB of spaces in one cell": bombs.one_sheet_workbook(bombs.spaces_sheet()),
            "a member declaring 1 KB, inflating to 20 MB": bombs.one_sheet_workbook(
                bombs.lying(bombs.spaces_sheet(20 * bombs.MIB), 1000)
            ),
            "a row of 2 million cells (10× compressed)": bombs.one_sheet_workbook(bombs.wide_row_sheet(2_000_000)),
        }
        print("\n| bomb | file | CPU s | memory + | refused |\n|---|---:|---:|---:|---|")
        for name, data in cases.items():
            bomb = bombs.write(Path(data_dir) / "bomb.xlsx", data)
            cost = bombs.cost_of(lambda bomb=bomb: _read(bomb))  # type: ignore[misc]
            message = str(cost.error or "NOT REFUSED")[:40]
            print(
                f"| {name} | {len(data) / 1e6:.2f} MB | {cost.seconds:.2f} | {cost.rss_growth / 2**20:.0f} MB"
                f" | {message}… |"
            )


if __name__ == "__main__":
    main()
