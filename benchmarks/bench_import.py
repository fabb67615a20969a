"""Benchmark: import of a 20,000-row catalogue template (about 5 items per resource), end to end.

    .venv/bin/python benchmarks/bench_import.py [--rows 20000] [--items 5] [--profile [--sort tottime]]

Runs in a temporary SQLite database (GOVSHARE_DATA_DIR is set to a temporary directory before Django starts).
It writes a template-shaped .xlsx with realistic Chinese names, then times, in the same run:
  1. the bare openpyxl read-only read of both sheets (values only), for comparison;
  2. reading + checking the file without writing (parse_workbook + validate);
  3. the real import (importing.import_catalog): size/type checks, reading, every rule, one transaction that
     creates the resources, items, versions, search tokens, duplicate candidates, audit rows and the batch.
The write phase is split by timers around the real functions (they still do their work): search tokens
(services.documents_tokens), near-duplicates (duplicates.record_duplicates), the INSERTs (govshare.core.bulk), the
rest, and the audit sealing that govshare.audit runs after the commit. Only the outermost timed call counts.
The bar: ≥ 2,000 resource rows/s including validation.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BAR_ROWS_PER_SECOND = 2000


def _setup_django(data_dir: str) -> None:
    os.environ["GOVSHARE_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "govshare.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


DEPARTMENTS = [
    (
        "市公安局",
        ["常住人口户籍登记", "流动人口居住登记", "机动车登记", "驾驶人信息", "居民身份证办理", "出入境证件签发"],
    ),
    (
        "市市场监督管理局",
        ["企业登记基本", "个体工商户登记", "食品经营许可", "特种设备使用登记", "行政处罚决定", "企业年报"],
    ),
    ("市人力资源和社会保障局", ["城镇职工养老保险参保", "失业保险金领取", "工伤认定", "职业技能等级证书", "就业登记"]),
    ("市住房公积金管理中心", ["住房公积金缴存", "住房公积金提取", "住房公积金贷款", "缴存单位登记"]),
    ("市不动产登记中心", ["不动产权属登记", "不动产抵押登记", "预告登记", "查封登记"]),
    ("市民政局", ["婚姻登记", "最低生活保障对象", "特困人员供养", "社会组织登记", "殡葬服务"]),
    ("市卫生健康委员会", ["出生医学证明", "医疗机构执业许可", "医师执业注册", "预防接种"]),
    ("市医疗保障局", ["基本医疗保险参保", "医疗费用结算", "定点医药机构"]),
    ("市税务局", ["纳税人登记", "欠税公告", "纳税信用等级"]),
    ("市交通运输局", ["道路运输经营许可", "出租汽车驾驶员从业资格", "公路养护"]),
    ("市教育局", ["中小学学籍", "学校办学许可", "教师资格认定"]),
    ("市自然资源和规划局", ["建设用地规划许可", "国土空间规划", "测绘成果"]),
]
QUALIFIERS = ["信息", "基本信息", "登记信息", "明细", "台账", "统计数据", "变更信息", "注销信息"]
AREAS = ["", "旌阳区", "广汉市", "中江县", "罗江区", "什邡市", "绵竹市"]
ITEMS = [
    ("公民身份号码", "字符型", 18),
    ("姓名", "字符型", 50),
    ("性别", "字符型", 2),
    ("出生日期", "日期型", None),
    ("户籍地址", "字符型", 200),
    ("统一社会信用代码", "字符型", 18),
    ("企业名称", "字符型", 200),
    ("法定代表人", "字符型", 50),
    ("注册资本", "货币型", 18),
    ("成立日期", "日期型", None),
    ("登记机关", "字符型", 100),
    ("联系电话", "字符型", 20),
    ("缴存金额", "货币型", 18),
    ("办理时间", "日期时间型", None),
    ("证照编号", "字符型", 64),
    ("备注", "备注型", None),
    ("是否有效", "逻辑型", None),
    ("经营范围", "备注型", None),
]
SHARES = [
    ("无条件共享", "", "", "共享平台方式", "库表", "无条件开放", ""),
    ("有条件共享", "用于政务服务办理，须经提供部门审核", "", "共享平台方式", "接口", "不予开放", ""),
    ("有条件共享", "仅限本市政务部门依职责使用", "", "共享平台方式", "库表", "有条件开放", "去除个人身份信息后开放"),
    ("不予共享", "", "《中华人民共和国个人信息保护法》第二十八条", "", "", "不予开放", ""),
]
CYCLES = ["实时", "每日", "每周", "每月", "每季度", "每年", "不定期"]
CATEGORIES = ["101", "102", "103", "104", "105", "201", "202", "203", "301", "302", "303"]


def build_file(path: Path, rows: int, items_per_row: int, department_codes: dict[str, str]) -> int:
    from openpyxl import Workbook

    from govshare.catalog.importing import ITEM_COLUMNS, ITEM_SHEET, RESOURCE_COLUMNS, RESOURCE_SHEET

    rng = random.Random(20261126)
    book = Workbook(write_only=True)
    resources = book.create_sheet(RESOURCE_SHEET)
    items = book.create_sheet(ITEM_SHEET)
    resources.append([c.header for c in RESOURCE_COLUMNS])
    items.append([c.header for c in ITEM_COLUMNS])
    item_count = 0
    for seq in range(1, rows + 1):
        department, subjects = rng.choice(DEPARTMENTS)
        subject = rng.choice(subjects)
        area = rng.choice(AREAS)
        name = f"{area}{subject}{rng.choice(QUALIFIERS)}"
        share, condition, basis, method, kind, open_type, open_condition = rng.choice(SHARES)
        fmt = "数据库" if kind in ("库表", "接口") else rng.choice(["数据库", "电子表格"])
        if fmt == "电子表格" or not kind:
            kind = "文件" if method else ""
        summary = (
            f"{department}负责的{area or '全市'}{subject}数据，记录办理对象、办理事项、办理结果和办理时间，"
            f"自{rng.randint(2001, 2025)}年起共约{rng.randint(1, 9000) / 10:g}万条，按{rng.choice(CYCLES)}更新。"
        )
        values = {
            "seq": seq,
            "name": name,
            "category_code": rng.choice(CATEGORIES),
            "department_code": department_codes[department],
            "summary": summary,
            "format": fmt,
            "sub_format": "xlsx" if fmt == "电子表格" else "PostgreSQL",
            "share_type": share,
            "share_condition": condition or None,
            "share_basis": basis or None,
            "share_method": method or None,
            "platform_share_type": kind or None,
            "open_type": open_type,
            "open_condition": open_condition or None,
            "update_cycle": rng.choice(CYCLES),
        }
        # By header, not by position: the template gains optional columns (数据级别, 敏感级别 …) in the middle.
        resources.append([values.get(c.field) for c in RESOURCE_COLUMNS])
        for item_name, data_type, length in rng.sample(ITEMS, items_per_row):
            items.append([seq, item_name, data_type, length, None, None, None])
            item_count += 1
    book.save(path)
    return item_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the end-to-end import")
    parser.add_argument("--sort", default="cumulative", help="profile order (cumulative, tottime, …)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="govshare-bench-import-") as data_dir:
        _setup_django(data_dir)
        from openpyxl import load_workbook

        from govshare import testing
        from govshare.accounts.choices import Role
        from govshare.audit import services as audit_services
        from govshare.catalog import duplicates, importing, search_text, services
        from govshare.catalog.models import Item, Resource
        from govshare.core import bulk

        codes = {
            name: testing.make_department(name, code=testing.department_code(n)).code
            for n, (name, _) in enumerate(DEPARTMENTS, 1)
        }
        admin = testing.make_user(Role.PLATFORM_ADMIN, username="bench_admin")
        path = Path(data_dir) / "catalogue-import.xlsx"
        started = time.perf_counter()
        item_count = build_file(path, args.rows, args.items, codes)
        print(
            f"generated {path.name}: {args.rows:,} resources, {item_count:,} items, "
            f"{path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
        )

        started = time.perf_counter()
        book = load_workbook(path, read_only=True)
        cells = 0
        for sheet in (importing.RESOURCE_SHEET, importing.ITEM_SHEET):
            for row in book[sheet].iter_rows(values_only=True):
                cells += len(row)
        book.close()
        bare = time.perf_counter() - started

        # Time two parts of the write phase by wrapping the real functions (they still do their work).
        spent = {"tokens": 0.0, "duplicates": 0.0, "rows": 0.0, "seal": 0.0}

        # Only the outermost timed call counts (the duplicate detection's own INSERTs count as detection).
        running: list[str] = []

        def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                began = time.perf_counter()
                running.append(name)
                try:
                    return function(*args, **kwargs)
                finally:
                    running.pop()
                    if not running:
                        spent[name] += time.perf_counter() - began

            return wrapper

        services.documents_tokens = timed("tokens", services.documents_tokens)  # type: ignore[attr-defined]
        duplicates.record_duplicates = timed("duplicates", duplicates.record_duplicates)
        bulk.insert_rows = timed("rows", bulk.insert_rows)
        bulk.insert_tuples = timed("rows", bulk.insert_tuples)
        audit_services.seal_audit_log = timed("seal", audit_services.seal_audit_log)

        # A server loads the dictionary when it starts (govshare/wsgi.py), so the import is measured in such a
        # process; the load itself takes about 0.6 s once.
        search_text.load_dictionary()
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        with path.open("rb") as handle:
            if profiler:
                profiler.enable()
            result = importing.import_catalog(handle, file_name=path.name, actor=admin)
            if profiler:
                profiler.disable()
        total = time.perf_counter() - started
        if profiler:
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(60)
        assert result.imported, result.problems[:5]
        assert Resource.objects.count() == args.rows and Item.objects.count() == item_count

    timings = result.timings
    other_write = timings["write"] - spent["tokens"] - spent["duplicates"] - spent["rows"] - spent["seal"]

    def line(step: str, seconds: float) -> str:
        rate = f"{args.rows / seconds:,.0f}" if seconds else "—"
        return f"| {step} | {seconds:.2f} | {rate} |"

    print()
    print(f"{args.rows:,} resource rows, {item_count:,} items")
    print()
    print("| step | seconds | resource rows/s |")
    print("|---|---:|---:|")
    print(line("bare openpyxl read-only read of both sheets, values only (comparison)", bare))
    print(line("import · read (type and size checks, streamed sheet read, cells → drafts)", timings["read"]))
    print(line("import · validate (catalogue rules via resolve_drafts, permissions, codes)", timings["validate"]))
    print(line("import · write: search tokens (jieba, in services.create_resources)", spent["tokens"]))
    print(line("import · write: near-duplicate detection (duplicates.record_duplicates)", spent["duplicates"]))
    print(
        line(
            "import · write: INSERTs of resources, index, items, versions, audit rows (govshare.core.bulk)",
            spent["rows"],
        )
    )
    print(line("import · write: the rest (row values, snapshots, codes, batch, commit)", other_write))
    print(
        line("after commit: audit log sealing of the new rows (govshare.audit, not the import's code)", spent["seal"])
    )
    print(line("**import end to end**", total))
    verdict = "PASS" if args.rows / total >= BAR_ROWS_PER_SECOND else "FAIL"
    print(f"\nbar: ≥ {BAR_ROWS_PER_SECOND:,} rows/s end to end → {args.rows / total:,.0f} rows/s: {verdict}")
    print(f"read + validate only: {args.rows / (timings['read'] + timings['validate']):,.0f} rows/s")


if __name__ == "__main__":
    main()
