"""Demo data for the data plane: a few published resources of 市公安局 and 市民政局 get a reported file (GBK CSV, as
departments really send them, with a few bad rows) loaded into their datasets, twice, so that versions, previews,
downloads, rejects files and load histories have something to show."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

from govshare.accounts.models import User
from govshare.catalog.choices import ItemDataType, ReviewStatus
from govshare.catalog.models import Item, Resource
from govshare.core.identifiers import resident_id_check_char
from govshare.core.regions import RegionLevel, registry
from govshare.datasets import services, serving
from govshare.datasets.loading import run_load
from govshare.demo import vocabulary as v
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind

DEMO_ACCOUNTS = ("gaj_admin", "mzj_admin")
RESOURCES_PER_ACCOUNT = 2
ROWS = 800
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉春梅"
STREETS = ("长江西路", "泰山南路", "岷江西路", "珠江东路", "庐山北路", "黄河路", "天山路")
# The city's county codes of every revision: people registered before a county was renamed or merged keep its
# retired code in their number (德阳市市中区 510602, 绵竹县 510622 …).
ID_REGIONS = tuple(
    sorted(
        r.code
        for r in registry()
        if r.code[:4] == v.CITY_REGION[:4] and r.level == RegionLevel.COUNTY and not r.is_placeholder
    )
)


def _resident_id(rng: random.Random, birth: dt.date) -> str:
    first17 = f"{rng.choice(ID_REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + resident_id_check_char(first17)


def _value(item: Item, rng: random.Random, n: int) -> str:
    name, kind = item.name, item.data_type
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60))
    if kind == ItemDataType.DATE:
        return (dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3650))).isoformat()
    if kind == ItemDataType.DATETIME:
        return f"2026-{rng.randrange(1, 11):02d}-{rng.randrange(1, 28):02d} {rng.randrange(24):02d}:{n % 60:02d}:00"
    if kind in (ItemDataType.NUMBER, ItemDataType.CURRENCY):
        return f"{rng.randrange(1, 100_000) / 100:.2f}" if kind == ItemDataType.CURRENCY else str(rng.randrange(1, 999))
    if kind == ItemDataType.LOGICAL:
        return rng.choice(["是", "否"])
    if "身份" in name or "证件号" in name:
        return _resident_id(rng, birth)
    if "姓名" in name or name.endswith("人"):
        return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
    if "电话" in name or "手机" in name:
        return f"13{rng.randrange(10**9):09d}"
    if "地址" in name or "住址" in name:
        return f"{v.CITY_ADDRESS}{rng.choice(STREETS)}{rng.randrange(1, 500)}号"
    if "性别" in name:
        return rng.choice(["男", "女"])
    text = f"{name}{n:05d}"
    return text[: item.length] if item.length else text


def _csv_field(value: str) -> str:
    return f'"{value}"' if any(c in value for c in ',"\n') else value


def _write_report(path: Path, items: list[Item], rng: random.Random, rows: int) -> None:
    lines = [",".join(item.name for item in items)]
    for n in range(rows):
        values = [_value(item, rng, n) for item in items]
        if n % 97 == 13:  # a few rows as departments really send them: a wrong date, a value too long
            broken = next((i for i, item in enumerate(items) if item.data_type == ItemDataType.DATE), 0)
            values[broken] = "2023-02-30" if items[broken].data_type == ItemDataType.DATE else "超长" * 200
        lines.append(",".join(_csv_field(v) for v in values))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))


def load_demo_datasets(say: Callable[[str], None]) -> int:
    """Register a file source for a few published resources and load two reports into each; returns loads run."""
    rng = random.Random(20261126)
    loads = 0
    with tempfile.TemporaryDirectory(prefix="govshare-demo-") as tmp:
        for username in DEMO_ACCOUNTS:
            user = User.objects.filter(username=username).first()
            if user is None or user.department_id is None:
                continue
            resources = Resource.objects.filter(department_id=user.department_id, status=ReviewStatus.PUBLISHED)
            for resource in resources.order_by("code")[:RESOURCES_PER_ACCOUNT]:
                items = list(resource.items.order_by("position"))
                source = source_services.register_source(
                    resource,
                    source_services.SourceInput(name="部门线下报送", kind=SourceKind.FILE, config={"format": "csv"}),
                    actor=user,
                )
                mapping = [source_services.MappingEntry(item.name, item.name) for item in items]
                source_services.set_mapping(source, mapping, actor=user)
                for month, rows in (("10", ROWS), ("11", ROWS + 120)):
                    report = Path(tmp) / f"{resource.code.replace('/', '-')}-2026{month}.csv"
                    _write_report(report, items, rng, rows)
                    load = services.request_load(source, actor=user, file_path=report, enqueue=False)
                    run_load(load.pk)
                    # No job worker runs while the demo loads: the key index of each version is built here.
                    serving.build_serving_index(load.dataset)
                    loads += 1
                say(f"  {resource.name}：已归集 2 个版本")
    return loads
