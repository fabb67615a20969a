"""The columns of each list's file, the rows an export writes, and how an imported file is applied.

Rows are matched by a natural key, so that a file exported, edited and imported again updates what it lists:
- demands: the importer's department and 需求名称 (a department imports its own demands only);
- duties: 责任部门代码 and 资源名称 (the coordinator and the platform administrator import them);
- the negative list: 信息资源代码 (see `govshare.sharing.negative`).
A row that matches nothing creates a demand or a duty; an unchanged row changes nothing. Nothing is deleted by an
import: a demand is closed and a duty deleted on its page."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO

from django.db.models import QuerySet
from django.utils.translation import gettext

from govshare.accounts.models import User
from govshare.catalog.choices import ShareType
from govshare.catalog.models import Resource
from govshare.core.authz import can, permits
from govshare.core.errors import DomainError
from govshare.sharing import demands, duties, negative
from govshare.sharing.access_lists import CREATE_DEMAND, EDIT, MANAGE_DUTIES
from govshare.sharing.choices import EDITABLE_DEMAND_STATES, DemandStatus
from govshare.sharing.list_files import ListColumn, ListImportResult, ListLayout, ListRow, Outcome, Report, run_import
from govshare.sharing.models import Demand, Duty

CHUNK = 1000
ITEM_SEPARATORS = ("、", "，", ",", ";", "；", "\n")

DEMAND_LAYOUT = ListLayout(
    key="demand",
    name="需求清单",
    columns=(
        ListColumn("title", "需求名称", 30, required=True),
        ListColumn("department", "需求部门", 24, imported=False, note="导入时为导入人所在部门"),
        ListColumn("description", "需求描述", 50, required=True),
        ListColumn("needed_items", "所需信息项", 40, note="多个信息项以“、”分隔"),
        ListColumn("provider", "提供部门", 24, note="部门代码或全称；不清楚可不填"),
        ListColumn("scenario", "应用场景", 24, note="本部门应用场景的名称；可不填"),
        ListColumn("status", "状态", 12, imported=False),
        ListColumn("resource", "对接资源代码", 22, imported=False),
        ListColumn("answer_note", "答复说明", 30, imported=False),
    ),
    guide=(("匹配", "按“需求名称”匹配本部门已有的需求：匹配到的修改，没有的新建；文件中没有的需求不会被删除。"),),
)

DUTY_LAYOUT = ListLayout(
    key="duty",
    name="责任清单",
    columns=(
        ListColumn("department_code", "责任部门代码", 22, required=True),
        ListColumn("department", "责任部门", 24, imported=False),
        ListColumn("name", "资源名称", 30, required=True),
        ListColumn("description", "说明", 40),
        ListColumn("legal_basis", "依据", 40, required=True),
        ListColumn("resource_code", "对应资源代码", 22, note="履行该责任的本部门目录资源；空白表示尚无"),
        ListColumn("met", "是否满足", 10, imported=False),
    ),
    guide=(("匹配", "按“责任部门代码”和“资源名称”匹配已有的责任：匹配到的修改，没有的新建；文件中没有的不会被删除。"),),
)

NEGATIVE_LAYOUT = ListLayout(
    key="negative",
    name="负面清单",
    columns=(
        ListColumn("code", "信息资源代码", 22, required=True),
        ListColumn("name", "信息资源名称", 30, imported=False),
        ListColumn("department", "提供方", 24, imported=False),
        ListColumn("share_type", "共享属性", 12, required=True, note="只能为“不予共享”"),
        ListColumn("share_basis", "不予共享依据", 50, required=True),
        ListColumn("revision", "变更申请", 12, imported=False),
    ),
    guide=(
        (
            "导入规则",
            "导入不直接修改已发布的资源：与目录一致的行不做改动；会改变共享属性或依据的行写入该资源的变更申请（草稿），"
            "由资源所属部门提交、平台管理员审核通过后才生效。文件中没有的资源不受影响。",
        ),
    ),
)

LAYOUTS = {"demands": DEMAND_LAYOUT, "duties": DUTY_LAYOUT, "negative": NEGATIVE_LAYOUT}


def split_items(text: str) -> list[str]:
    for separator in ITEM_SEPARATORS[1:]:
        text = text.replace(separator, ITEM_SEPARATORS[0])
    return [part.strip() for part in text.split(ITEM_SEPARATORS[0]) if part.strip()]


# ---------------------------------------------------------------------------------------------- export rows


def demand_rows(queryset: QuerySet[Demand]) -> Iterator[Sequence[object]]:
    for demand in queryset.iterator(chunk_size=CHUNK):
        yield (
            demand.title,
            demand.department.name,
            demand.description,
            "、".join(demand.needed_items),
            demand.provider.code if demand.provider else "",
            demand.scenario.name if demand.scenario else "",
            gettext(DemandStatus(demand.status).label),
            demand.resource.code if demand.resource else "",
            demand.answer_note,
        )


def duty_rows(queryset: QuerySet[Duty]) -> Iterator[Sequence[object]]:
    for duty in queryset.iterator(chunk_size=CHUNK):
        yield (
            duty.department.code,
            duty.department.name,
            duty.name,
            duty.description,
            duty.legal_basis,
            duty.resource.code if duty.resource else "",
            gettext("是") if duties.is_met(duty) else gettext("否"),
        )


def negative_rows(queryset: QuerySet[Resource]) -> Iterator[Sequence[object]]:
    revision_labels = {"draft": gettext("草稿"), "submitted": gettext("待审核"), "rejected": gettext("已驳回")}
    for chunk_start in range(0, queryset.count(), CHUNK):
        chunk = list(queryset[chunk_start : chunk_start + CHUNK])
        states = negative.open_revision_states([r.pk for r in chunk])
        for resource in chunk:
            yield (
                resource.code,
                resource.name,
                resource.department.name,
                gettext(ShareType(resource.share_type).label),
                resource.share_basis,
                revision_labels.get(states.get(resource.pk, ""), ""),
            )


# ---------------------------------------------------------------------------------------------- import: demands


def _problems_of(report: Report, row: ListRow, error: DomainError, fields: dict[str, str]) -> None:
    """A service's refusal placed at the row's columns (its field names mapped to the list's)."""
    if error.problems:
        for problem in error.problems:
            report.at(row.number, fields.get(problem.field, ""), problem.message)
    else:
        report.at(row.number, "", error.text)


_DEMAND_FIELDS = {"title": "title", "description": "description", "needed_items": "needed_items"}
_DEMAND_FIELDS |= {"provider_code": "provider", "scenario_id": "scenario"}


def _may_import_demands(actor: User) -> str:
    return "" if can(actor, CREATE_DEMAND) else gettext("只有部门的使用方或目录管理员可以导入本部门的需求清单")


def _apply_demands(rows: list[ListRow], report: Report, actor: User) -> Outcome:
    department_id = actor.department_id
    assert department_id is not None
    existing = {d.title: d for d in Demand.objects.filter(department_id=department_id)}
    scenarios = {s.name: s.pk for s in demands.scenarios_for_demands(department_id)}
    plans: list[tuple[ListRow, Demand | None, demands.DemandInput]] = []
    seen: dict[str, int] = {}
    unchanged = 0
    for row in rows:
        values = row.values
        title = values["title"]
        if title in seen:
            report.at(row.number, "title", gettext("与第 %(row)s 行的需求名称重复") % {"row": seen[title]})
            continue
        seen[title] = row.number
        scenario_id = None
        if values.get("scenario"):
            scenario_id = scenarios.get(values["scenario"])
            if scenario_id is None:
                report.at(
                    row.number,
                    "scenario",
                    gettext("应用场景“%(name)s”不存在或不属于本部门") % {"name": values["scenario"]},
                )
                continue
        data = demands.DemandInput(
            title=title,
            description=values.get("description", ""),
            needed_items=split_items(values.get("needed_items", "")),
            provider_code=values.get("provider", ""),
            scenario_id=scenario_id,
        )
        demand = existing.get(title)
        try:
            checked = demands.check_demand(data, department_id=department_id, pk=demand.pk if demand else None)
        except DomainError as error:
            _problems_of(report, row, error, _DEMAND_FIELDS)
            continue
        if demand is not None:
            if not demands.changed_fields(demand, checked):
                unchanged += 1  # an answered or closed demand exported and imported again is no edit
                continue
            if not permits(actor, EDIT, demand) or demand.status not in EDITABLE_DEMAND_STATES:
                label = gettext(DemandStatus(demand.status).label)
                report.at(
                    row.number,
                    "title",
                    gettext("需求“%(title)s”当前状态为“%(status)s”，不能修改") % {"title": title, "status": label},
                )
                continue
        plans.append((row, demand, data))
    outcome = Outcome(unchanged=unchanged)
    if report.refused:
        return Outcome()
    for row, demand, data in plans:
        try:
            if demand is None:
                demands.create_demand(data, actor=actor)
                outcome.created += 1
            else:
                before = demand.updated_at
                updated = demands.update_demand(demand, data, actor=actor)
                if updated.updated_at == before:
                    outcome.unchanged += 1
                else:
                    outcome.updated += 1
        except DomainError as error:
            _problems_of(report, row, error, _DEMAND_FIELDS)
    return outcome


def import_demands(upload: IO[bytes], *, file_name: str, actor: User) -> ListImportResult:
    return run_import(
        DEMAND_LAYOUT, upload, file_name=file_name, actor=actor, apply=_apply_demands, may_import=_may_import_demands
    )


# ---------------------------------------------------------------------------------------------- import: duties

_DUTY_FIELDS = {"department_code": "department_code", "name": "name", "legal_basis": "legal_basis"}
_DUTY_FIELDS |= {"description": "description", "resource_code": "resource_code"}


def _may_import_duties(actor: User) -> str:
    return "" if can(actor, MANAGE_DUTIES) else gettext("只有共享协调员或平台管理员可以导入责任清单")


def _apply_duties(rows: list[ListRow], report: Report, actor: User) -> Outcome:
    plans: list[tuple[ListRow, Duty | None, duties.DutyInput]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        values = row.values
        key = (values["department_code"], values["name"])
        if key in seen:
            report.at(row.number, "name", gettext("与第 %(row)s 行重复（同一部门的同名责任）") % {"row": seen[key]})
            continue
        seen[key] = row.number
        data = duties.DutyInput(
            department_code=values["department_code"],
            name=values["name"],
            legal_basis=values.get("legal_basis", ""),
            description=values.get("description", ""),
            resource_code=values.get("resource_code", ""),
        )
        duty = Duty.objects.filter(department__code=data.department_code, name=data.name).first()
        try:
            checked = duties.check_duty(data, actor=actor, pk=duty.pk if duty else None)
        except DomainError as error:
            _problems_of(report, row, error, _DUTY_FIELDS)
            continue
        if duty is not None and duties.changed_fields(duty, checked) and not can(actor, MANAGE_DUTIES):
            report.at(row.number, "name", gettext("只有共享协调员或平台管理员可以修改责任清单"))
            continue
        plans.append((row, duty, data))
    outcome = Outcome()
    if report.refused:
        return outcome
    for row, duty, data in plans:
        try:
            if duty is None:
                duties.create_duty(data, actor=actor)
                outcome.created += 1
            else:
                before = duty.updated_at
                updated = duties.update_duty(duty, data, actor=actor)
                if updated.updated_at == before:
                    outcome.unchanged += 1
                else:
                    outcome.updated += 1
        except DomainError as error:
            _problems_of(report, row, error, _DUTY_FIELDS)
    return outcome


def import_duties(upload: IO[bytes], *, file_name: str, actor: User) -> ListImportResult:
    return run_import(
        DUTY_LAYOUT, upload, file_name=file_name, actor=actor, apply=_apply_duties, may_import=_may_import_duties
    )


# ---------------------------------------------------------------------------------------------- import: negative


def _may_import_negative(actor: User) -> str:
    return ""  # every row is checked against the actor's rights on its entry (negative.plan_row)


def _apply_negative(rows: list[ListRow], report: Report, actor: User) -> Outcome:
    plans: list[tuple[ListRow, negative.RowPlan]] = []
    seen: dict[str, int] = {}
    for row in rows:
        code = row.values["code"]
        if code in seen:
            report.at(row.number, "code", gettext("与第 %(row)s 行的信息资源代码重复") % {"row": seen[code]})
            continue
        seen[code] = row.number
        plan, problems = negative.plan_row(actor, code, row.values.get("share_type", ""), row.values["share_basis"])
        for field_name, message in problems:
            report.at(row.number, field_name, message)
        if plan is not None:
            plans.append((row, plan))
    outcome = Outcome()
    if report.refused:
        return outcome
    for row, plan in plans:
        if plan.unchanged:
            outcome.unchanged += 1
            continue
        try:
            _, created = negative.apply_row(plan, actor)
        except DomainError as error:
            reasons = "；".join(p.message for p in error.problems) or error.text
            report.at(
                row.number,
                "code",
                gettext("资源“%(code)s”的变更申请未能保存：%(reasons)s")
                % {"code": plan.resource.code, "reasons": reasons},
            )
            continue
        if created:
            outcome.created += 1
        else:
            outcome.updated += 1
        outcome.follow_up.append(
            (
                gettext("%(code)s %(name)s：变更申请（草稿）待提交审核")
                % {"code": plan.resource.code, "name": plan.resource.name},
                negative.revision_link(plan.resource),
            )
        )
    return outcome


def import_negative(upload: IO[bytes], *, file_name: str, actor: User) -> ListImportResult:
    return run_import(
        NEGATIVE_LAYOUT,
        upload,
        file_name=file_name,
        actor=actor,
        apply=_apply_negative,
        may_import=_may_import_negative,
    )


IMPORTERS = {"demands": import_demands, "duties": import_duties, "negative": import_negative}
