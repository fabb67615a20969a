"""Sharing in tests: an approved scenario, a provider's resource loaded with real (Delta) data, and grants issued
through the service, all dated from the fixed clock (govshare.testing.clock), never today."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.http import StreamingHttpResponse

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.datasets import services as dataset_services
from govshare.datasets.loading import run_load
from govshare.sharing import grants
from govshare.sharing.choices import ScenarioStatus
from govshare.sharing.models import Grant, Scenario
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.testing.clock import T0

TODAY: dt.date = T0.date()  # 2026-03-02: the day every sharing test reads on

# 常住人口: a provider's resource with items of every masking kind, one 不予共享 item, and a district to filter rows.
PEOPLE_ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18, data_level="L3"),
    ItemDraft(name="姓名", data_type="C", length=50, data_level="L3"),
    ItemDraft(name="手机号码", data_type="C", length=11, data_level="L3"),
    ItemDraft(name="区县", data_type="C", length=20, data_level="L2"),
    ItemDraft(name="户籍地址", data_type="C", length=200, data_level="L3"),
    ItemDraft(name="宗教信仰", data_type="C", length=20, data_level="L3", share_type="not_shared"),
]
PEOPLE_ROWS = [
    ["510603199001010011", "张三丰", "13812345678", "旌阳区", "四川省德阳市旌阳区长江西路1号", "无"],
    ["510603199202020022", "欧阳娜娜", "13987654321", "罗江区", "四川省德阳市罗江区万安镇2号", "佛教"],
    ["510603199303030033", "李四", "13700001111", "旌阳区", "四川省德阳市旌阳区泰山南路3号", "无"],
]
# Every value a grant with no access to the rows of 罗江区 or to 宗教信仰 must never show, in any format.
SECRET_VALUES = ("510603199001010011", "张三丰", "13812345678", "长江西路1号", "佛教", "欧阳娜娜")


def make_scenario(department: Department, name: str = "医保参保资格核验", **fields: Any) -> Scenario:
    values: dict[str, Any] = {
        "description": "参保登记时核验参保人身份",
        "legal_basis": "《社会保险法》第五十八条",
        "status": ScenarioStatus.APPROVED,
        "needed_items": ["公民身份号码", "姓名"],
        **fields,
    }
    return Scenario.objects.create(department=department, name=name, **values)


def loaded_resource(department: Department, tmp_path: Path, *, name: str = "常住人口基本信息") -> Resource:
    """A published resource of the department with PEOPLE_ROWS loaded into its dataset (a real Delta table)."""
    resource = testing.make_published_resource(department, items=PEOPLE_ITEMS, data_level="L2", name=name)
    owner = testing.make_user(Role.CATALOG_ADMIN, department=department)
    data = source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"})
    source = source_services.register_source(resource, data, actor=owner)
    entries = [source_services.MappingEntry(item.name, item.name) for item in PEOPLE_ITEMS]
    source_services.set_mapping(source, entries, actor=owner)
    path = tmp_path / f"people-{resource.pk}.csv"
    lines = [",".join(item.name for item in PEOPLE_ITEMS)] + [",".join(row) for row in PEOPLE_ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_load(dataset_services.request_load(source, actor=owner, file_path=path).pk)
    return resource


def issue(
    resource: Resource,
    consumer: Department,
    *,
    scenario: Scenario | None = None,
    actor: User | None = None,
    today: dt.date = TODAY,
    **fields: Any,
) -> Grant:
    """A grant issued by the provider's 部门审核员 through the service (valid a year from `today` by default)."""
    values: dict[str, Any] = {
        "items": ["公民身份号码", "姓名", "区县"],
        "valid_from": today,
        "valid_until": today + dt.timedelta(days=365),
        **fields,
    }
    data = grants.GrantInput(
        department_id=consumer.pk,
        scenario_id=(scenario or make_scenario(consumer, name=f"场景{Scenario.objects.count() + 1}")).pk,
        resource_id=resource.pk,
        **values,
    )
    reviewer = actor or testing.make_user(Role.DEPT_REVIEWER, department=resource.department)
    return grants.issue_grant(data, actor=reviewer, today=today)


def body(response: StreamingHttpResponse) -> bytes:
    chunks: Iterator[bytes] = response.streaming_content  # type: ignore[assignment]
    return b"".join(chunks)
