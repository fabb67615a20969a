"""A load's rejects file (行号, 列, 原因, 原始值) is downloaded and opened in a spreadsheet: a refused row's raw text
never runs there as a formula (the one CSV rule of `govshare.core.tabular.csv`)."""

from __future__ import annotations

import csv
from pathlib import Path

from govshare.dataplane.raw import Reject
from govshare.datasets.loading import REJECTS_HEADER, RejectsFile


def test_a_raw_value_that_would_run_as_a_formula_gets_an_apostrophe(tmp_path: Path) -> None:
    rejects = RejectsFile(tmp_path / "rejects.csv")
    rejects.add(Reject(2, "姓名", "列数不符：应为 2 列，实际 3 列", "=cmd|' /C calc'!A0,张三,1"))
    rejects.add(Reject(3, "电话", "不是整数", "-5"))
    rejects.close()
    with (tmp_path / "rejects.csv").open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows == [
        REJECTS_HEADER,
        ["2", "姓名", "列数不符：应为 2 列，实际 3 列", "'=cmd|' /C calc'!A0,张三,1"],
        ["3", "电话", "不是整数", "-5"],
    ]
