"""Catalogue search at 200,000 resources: full-text search (with facets and the first page) against a naive LIKE scan.

    .venv/bin/python benchmarks/bench_search.py [--resources 200000] [--queries 200] [--keep DIR]

A temporary SQLite database (GOVSHARE_DATA_DIR points to a temporary directory before django.setup()) is migrated
and filled with generated resources that read like a city's catalogue: ~300 departments (30 bureau types in 10
districts), names, summaries and information items drawn from the usual government domains, most entries
published and the rest in the other review states. Generation is not measured. Then 200 Chinese queries run
(1) through govshare.catalog.search.search_resources as a signed-in consumer of one department: the full call
with the total, all facets and the first page; (2) as a naive LIKE scan over the same scope: name, summary or an
item name contains each term (icontains), count + first page. Each search runs once untimed (warm-up: jieba's
dictionary, SQLite's page cache) and then timed; the LIKE scan is warmed up once. The bar: search >= 20x
faster than LIKE at p50 and p95, and search p95 <= 100 ms.

--keep DIR keeps (or reuses) the generated database in DIR so that a second run skips the generation.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DISTRICTS = ["市", "东城区", "西城区", "南湖区", "北山区", "高新区", "经开区", "临江县", "青山县", "云溪县"]
# Bureau, its class (项 of the standard classification), its subjects and their items.
BUREAUS: list[tuple[str, str, list[str], list[str]]] = [
    (
        "民政局",
        "309",
        [
            "婚姻登记",
            "低保救助",
            "特困人员供养",
            "临时救助",
            "殡葬服务",
            "社会组织登记",
            "养老机构备案",
            "残疾人两项补贴",
            "地名管理",
            "慈善组织认定",
        ],
        ["男方公民身份号码", "女方公民身份号码", "登记日期", "登记机关", "救助金额", "家庭人口数", "保障类别"],
    ),
    (
        "人力资源和社会保障局",
        "203",
        [
            "社保参保",
            "养老保险缴费",
            "失业保险金发放",
            "工伤认定",
            "就业登记",
            "职业资格证书",
            "劳动合同备案",
            "技能培训补贴",
        ],
        ["社会保障号码", "参保单位", "缴费基数", "参保状态", "参保日期", "险种类型", "缴费月份"],
    ),
    (
        "住房公积金管理中心",
        "203",
        ["公积金缴存", "公积金提取", "公积金贷款", "缴存单位登记", "贷款逾期"],
        ["个人账号", "缴存基数", "月缴存额", "缴存比例", "账户余额", "贷款金额", "还款方式"],
    ),
    (
        "自然资源和规划局",
        "103",
        ["不动产登记", "不动产抵押", "国有土地使用权出让", "建设用地规划许可", "测绘成果", "地质灾害隐患点"],
        ["不动产单元号", "不动产权证号", "权利人", "抵押金额", "宗地面积", "土地用途", "坐落"],
    ),
    (
        "市场监督管理局",
        "102",
        [
            "企业登记",
            "企业年报",
            "个体工商户登记",
            "行政处罚",
            "食品经营许可",
            "特种设备检验",
            "商标质押",
            "产品质量抽检",
        ],
        ["统一社会信用代码", "企业名称", "法定代表人", "注册资本", "成立日期", "经营范围", "登记状态"],
    ),
    (
        "公安局",
        "101",
        ["户籍人口", "居住证办理", "机动车登记", "驾驶证", "出入境证件", "暂住人口登记", "身份证办理"],
        ["公民身份号码", "姓名", "性别", "出生日期", "户籍地址", "民族", "号牌号码"],
    ),
    (
        "税务局",
        "302",
        ["纳税人登记", "增值税发票", "欠税公告", "纳税信用评价", "个人所得税汇算"],
        ["纳税人识别号", "纳税人名称", "税种", "应纳税额", "入库日期", "信用等级"],
    ),
    (
        "卫生健康委员会",
        "306",
        ["出生医学证明", "疫苗接种", "医疗机构执业许可", "医师执业注册", "传染病报告", "死亡医学证明"],
        ["新生儿姓名", "出生时间", "接种日期", "疫苗名称", "医疗机构名称", "执业类别"],
    ),
    (
        "教育局",
        "305",
        ["学籍管理", "中考招生", "义务教育入学", "学校基本情况", "教师资格认定", "学生资助"],
        ["学籍号", "学校名称", "年级", "班级", "入学日期", "资助金额"],
    ),
    (
        "交通运输局",
        "307",
        ["道路运输许可", "出租汽车营运", "公交线路", "客运站班次", "公路养护"],
        ["道路运输证号", "车辆类型", "线路名称", "站点名称", "营运状态"],
    ),
    (
        "生态环境局",
        "211",
        ["排污许可", "环境影响评价", "空气质量监测", "水质监测", "危险废物转移"],
        ["排污许可证编号", "监测点位", "监测时间", "污染物名称", "排放浓度"],
    ),
    (
        "农业农村局",
        "308",
        ["农村土地承包经营权", "农药经营许可", "动物防疫", "农业补贴发放", "家庭农场名录"],
        ["承包方代表", "地块编码", "承包面积", "补贴金额", "养殖规模"],
    ),
    (
        "水务局",
        "308",
        ["取水许可", "河道管理", "供水水质", "防汛物资", "水利工程"],
        ["取水许可证号", "取水量", "河道名称", "水质类别", "工程名称"],
    ),
    (
        "城市管理局",
        "307",
        ["数字城管案件", "户外广告设置许可", "渣土运输", "占道经营", "环卫作业"],
        ["案件编号", "案件类型", "发生地点", "处置状态", "结案日期"],
    ),
    (
        "住房和城乡建设局",
        "209",
        ["商品房预售许可", "房屋交易备案", "建筑施工许可", "物业服务企业", "保障性住房"],
        ["项目名称", "预售许可证号", "合同备案号", "建筑面积", "开发企业"],
    ),
    (
        "应急管理局",
        "205",
        ["安全生产许可", "危险化学品经营", "应急预案备案", "事故调查", "救灾物资"],
        ["许可证编号", "企业名称", "危险化学品名称", "事故等级", "物资数量"],
    ),
    (
        "医疗保障局",
        "202",
        ["医保参保", "医保结算", "定点医药机构", "医疗救助", "异地就医备案"],
        ["医保编号", "结算金额", "就诊日期", "医药机构名称", "报销比例"],
    ),
    (
        "退役军人事务局",
        "309",
        ["退役军人信息采集", "优抚对象", "抚恤金发放", "退役安置"],
        ["退役证号", "入伍时间", "退役时间", "优抚类别", "发放金额"],
    ),
    (
        "文化广电旅游局",
        "305",
        ["旅行社许可", "A级景区", "文物保护单位", "网吧许可", "演出备案"],
        ["景区名称", "等级", "许可证号", "场所地址", "演出名称"],
    ),
    (
        "司法局",
        "304",
        ["律师执业", "公证业务", "法律援助", "人民调解", "社区矫正"],
        ["执业证号", "律师事务所", "公证书编号", "援助类型", "调解结果"],
    ),
    (
        "统计局",
        "302",
        ["经济普查", "人口抽样调查", "规上工业统计", "固定资产投资统计"],
        ["调查对象编码", "统计期别", "指标名称", "指标值", "计量单位"],
    ),
    (
        "发展和改革委员会",
        "104",
        ["政府投资项目", "价格监测", "公共信用信息", "粮食储备"],
        ["项目代码", "项目名称", "总投资", "监测品种", "价格"],
    ),
    (
        "财政局",
        "301",
        ["非税收入", "政府采购", "国有资产", "财政票据"],
        ["缴款码", "收入项目", "采购项目编号", "资产编号", "票据号码"],
    ),
    ("审计局", "301", ["审计项目", "审计整改"], ["项目名称", "被审计单位", "审计发现问题", "整改状态"]),
    (
        "林业局",
        "308",
        ["林木采伐许可", "古树名木", "森林防火", "野生动物保护"],
        ["采伐许可证号", "树种", "蓄积量", "林地面积", "物种名称"],
    ),
    (
        "商务局",
        "302",
        ["对外贸易经营者备案", "成品油零售", "单用途预付卡", "外商投资企业"],
        ["备案登记表编号", "经营者名称", "发卡企业", "投资总额"],
    ),
    ("信访局", "212", ["信访事项", "领导接访"], ["信访件编号", "反映问题", "办理单位", "办结日期"]),
    ("档案馆", "301", ["档案目录", "婚姻档案查询", "开放档案"], ["档号", "题名", "责任者", "保管期限"]),
    ("气象局", "308", ["气象观测", "灾害性天气预警"], ["站点编号", "观测时间", "气温", "降水量", "预警等级"]),
    ("烟草专卖局", "303", ["烟草专卖零售许可"], ["许可证号", "经营者", "经营地址", "有效期限"]),
]
COMMON_ITEMS = ["数据更新时间", "备注", "办理状态", "经办人", "联系电话", "所属区划代码", "审批部门", "有效期"]
SUFFIXES = ["信息", "数据", "明细", "台账", "统计", "名册", "记录", "目录", "清单"]
QUALIFIERS = ["", "", "", "全市", "年度", "月度", "历史", "实时", "汇总", "电子证照", "办件"]
SUMMARIES = [
    "{district}{bureau}{subject}业务产生的{subject}{suffix}，包括{items}等，用于政务服务和部门间共享核验。",
    "记录{subject}办理过程及结果，含{items}。数据由{district}{bureau}业务系统{cycle}同步。",
    "{district}范围内{subject}相关{suffix}，主要字段有{items}，支撑{use}。",
]
USES = ["一网通办", "联合监管", "信用评价", "社会救助核对", "城市运行监测", "跨部门数据比对", "统计分析"]
CYCLES = [
    ("realtime", "实时"),
    ("daily", "每日"),
    ("weekly", "每周"),
    ("monthly", "每月"),
    ("quarterly", "每季度"),
    ("yearly", "每年"),
    ("irregular", "不定期"),
]


def build_queries(count: int, rng: random.Random) -> list[str]:
    subjects = [s for _, _, subjects, _ in BUREAUS for s in subjects]
    queries = ["婚姻登记", "不动产抵押", "公积金缴存", "企业年报", "社保参保", "低保救助", "公积金", "统一社会信用代码"]
    queries += rng.sample(subjects, k=min(len(subjects), count // 2))
    while len(queries) < count:
        bureau = rng.choice(BUREAUS)
        kind = rng.random()
        if kind < 0.4:
            queries.append(rng.choice(bureau[2]) + rng.choice(["信息", "数据", ""]))
        elif kind < 0.7:
            queries.append(f"{rng.choice(bureau[2])} {rng.choice(bureau[3])}")
        elif kind < 0.85:
            queries.append(rng.choice(bureau[3]))
        else:
            queries.append(f"{rng.choice(DISTRICTS[1:])} {rng.choice(bureau[2])}")
    return queries[:count]


def setup_django(data_dir: Path) -> None:
    os.environ["GOVSHARE_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govshare.settings")
    import django

    django.setup()


def generate(total: int, rng: random.Random) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from govshare.accounts import services as account_services
    from govshare.accounts.models import Department
    from govshare.catalog.models import Category, CodeSequence, Item, Resource
    from govshare.catalog.search_text import document_tokens
    from govshare.core.regions import RegionLevel, registry
    from govshare.testing import department_code

    call_command("migrate", verbosity=0)
    # The districts are made up; their departments' credit codes carry real county codes of 德阳市 (any revision).
    county_codes = sorted(r.code for r in registry() if r.code[:4] == "5106" and r.level == RegionLevel.COUNTY)
    with transaction.atomic():
        departments: list[tuple[Department, int, str]] = []
        n = 0
        for d_index, district in enumerate(DISTRICTS):
            for b_index, _ in enumerate(BUREAUS):
                n += 1
                name = district + BUREAUS[b_index][0] if d_index else "市" + BUREAUS[b_index][0]
                department = account_services.create_department(
                    account_services.DepartmentInput(
                        code=department_code(n, "510600" if d_index == 0 else county_codes[d_index - 1]),
                        name=name,
                        level="city" if d_index == 0 else "county",
                    ),
                    actor=None,
                )
                departments.append((department, b_index, district))
        categories = {c.code: c for c in Category.objects.all()}
    print(f"  {len(departments)} departments", flush=True)

    sequences: dict[str, int] = {}
    statuses = ["published"] * 85 + ["draft"] * 7 + ["submitted"] * 5 + ["withdrawn"] * 3
    started = time.perf_counter()
    batch = 2000
    for start in range(0, total, batch):
        resources: list[Resource] = []
        item_lists: list[list[str]] = []
        for _ in range(min(batch, total - start)):
            department, b_index, district = rng.choice(departments)
            bureau, class_code, subjects, items = BUREAUS[b_index]
            category = categories[class_code]
            subject = rng.choice(subjects)
            suffix = rng.choice(SUFFIXES)
            name = f"{rng.choice(QUALIFIERS)}{subject}{suffix}"
            chosen_items = rng.sample(items, k=rng.randint(3, len(items))) + rng.sample(
                COMMON_ITEMS, k=rng.randint(1, 4)
            )
            cycle, cycle_label = rng.choice(CYCLES)
            summary = rng.choice(SUMMARIES).format(
                district=district,
                bureau=bureau,
                subject=subject,
                suffix=suffix,
                items="、".join(chosen_items[:4]),
                cycle=cycle_label,
                use=rng.choice(USES),
            )
            prefix = category.code_prefix
            sequences[prefix] = sequences.get(prefix, 0) + 1
            share = rng.choice(["unconditional", "unconditional", "conditional", "not_shared"])
            resources.append(
                Resource(
                    code=f"{prefix}/{sequences[prefix]:06d}",
                    category=category,
                    name=name,
                    department=department,
                    summary=summary,
                    format=rng.choice(["database", "database", "spreadsheet", "file", "self_describing"]),
                    share_type=share,
                    share_condition="经提供部门审核后共享" if share == "conditional" else "",
                    share_basis="涉及个人隐私，依法不予共享" if share == "not_shared" else "",
                    share_method="platform",
                    open_type="not_open"
                    if share == "not_shared"
                    else rng.choice(["unconditional", "conditional", "not_open"]),
                    update_cycle=cycle,
                    status=rng.choice(statuses),
                    search_tokens=document_tokens(name, summary, chosen_items),
                )
            )
            item_lists.append(chosen_items)
        with transaction.atomic():
            Resource.objects.bulk_create(resources)
            Item.objects.bulk_create(
                [
                    Item(
                        resource=resource,
                        position=position,
                        name=item,
                        data_type="C",
                        length=50,
                        share_type=resource.share_type,
                        open_type=resource.open_type,
                    )
                    for resource, names in zip(resources, item_lists, strict=True)
                    for position, item in enumerate(names, start=1)
                ]
            )
        done = start + len(resources)
        if done % 20000 == 0 or done == total:
            print(f"  {done:,} resources ({time.perf_counter() - started:.0f} s)", flush=True)
    CodeSequence.objects.bulk_create([CodeSequence(prefix=p, last_value=v) for p, v in sequences.items()])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def like_scan(user, query: str, page_size: int):  # type: ignore[no-untyped-def]
    """The naive way: every term must occur in the name, the summary or an item name (LIKE '%term%')."""
    from django.db.models import Q

    from govshare.catalog import selectors
    from govshare.catalog.models import Item

    queryset = selectors.visible_resources(user)
    for term in query.split():
        in_items = Item.objects.filter(name__icontains=term).values("resource_id")
        queryset = queryset.filter(Q(name__icontains=term) | Q(summary__icontains=term) | Q(pk__in=in_items))
    total = queryset.count()
    page = list(queryset.select_related("department", "category").order_by("code")[:page_size])
    return total, page


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="keep (or reuse) the generated database in this directory")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="govshare-bench-search-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    setup_django(data_dir)

    from django.db import connection

    from govshare import testing
    from govshare.accounts.choices import Role
    from govshare.accounts.models import Department, User
    from govshare.catalog import search
    from govshare.catalog.models import Item, Resource, SynonymGroup

    print(f"database: {connection.settings_dict['NAME']}")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    existing = Resource.objects.count()
    if existing != args.resources:
        if existing:
            sys.exit(f"{data_dir} holds {existing:,} resources, not {args.resources:,}: use another --keep directory")
        print(f"generating {args.resources:,} resources (not timed) …", flush=True)
        generate(args.resources, rng)
    print(
        f"{Resource.objects.count():,} resources, {Item.objects.count():,} items, "
        f"{Department.objects.count()} departments",
        flush=True,
    )

    user = User.objects.filter(username="bench_consumer").first()
    if user is None:
        department = Department.objects.order_by("pk")[5]
        user = testing.make_user(Role.CONSUMER, department=department, username="bench_consumer")
    queries = build_queries(args.queries, random.Random(args.seed + 1))
    page_size = 20

    search_ms: list[float] = []
    like_ms: list[float] = []
    mismatches = 0
    for query in queries:
        search.search_resources(user, q=query, page_size=page_size)  # warm-up
        began = time.perf_counter()
        search.search_resources(user, q=query, page_size=page_size)
        search_ms.append((time.perf_counter() - began) * 1000)
    like_scan(user, queries[0], page_size)  # warm-up (a full scan each time: the OS cache holds the file)
    for query in queries:
        began = time.perf_counter()
        like_total, _ = like_scan(user, query, page_size)
        like_ms.append((time.perf_counter() - began) * 1000)
        if like_total == 0 and search.search_resources(user, q=query, page_size=1).total:
            mismatches += 1

    totals = [search.search_resources(user, q=q, page_size=1).total for q in queries]
    s50, s95 = percentile(search_ms, 0.50), percentile(search_ms, 0.95)
    l50, l95 = percentile(like_ms, 0.50), percentile(like_ms, 0.95)
    print()
    print(f"{len(queries)} queries over {Resource.objects.count():,} resources as a consumer of one department;")
    print(f"matches per query: median {statistics.median(totals):,.0f}, max {max(totals):,}")
    print()
    print("| method | p50 (ms) | p95 (ms) | max (ms) |")
    print("|---|---:|---:|---:|")
    print(f"| full-text search + facets + first page | {s50:.1f} | {s95:.1f} | {max(search_ms):.1f} |")
    print(f"| naive LIKE scan, count + first page | {l50:.1f} | {l95:.1f} | {max(like_ms):.1f} |")
    print(f"| ratio (LIKE / search) | {l50 / s50:.0f}× | {l95 / s95:.0f}× | |")
    print()
    verdict = "PASS" if l50 / s50 >= 20 and l95 / s95 >= 20 and s95 <= 100 else "FAIL"
    print(f"bar: >= 20x faster than LIKE and p95 <= 100 ms: {verdict}")
    print(f"queries the LIKE scan missed but the search found: {mismatches}")
    expanded = sum(1 for q in queries if any(len(clause) > 1 for clause in search.plan(q).clauses))
    synonym_groups = SynonymGroup.objects.filter(is_active=True).count()
    print(f"queries a synonym group expanded: {expanded} of {len(queries)} ({synonym_groups} active groups)")
    print(f"load average during the run (other work on the machine): {os.getloadavg()[0]:.1f}")
    print(f"SQLite {connection.Database.sqlite_version}, Python {sys.version.split()[0]}, {os.cpu_count()} cores")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
