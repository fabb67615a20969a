"""Every write of grading: propose a change, approve it (it applies to the resource in the same transaction, with
a catalogue version and an audit row) or reject it with a reason. Each function is one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog import access as catalog_access
from govshare.catalog import history
from govshare.catalog import selectors as catalog_selectors
from govshare.catalog import services as catalog_services
from govshare.catalog.choices import DataGrade, DataLevel, OpenType
from govshare.catalog.models import Item, Resource
from govshare.catalog.rules import is_looser_grade, is_looser_level, tightened_open_type
from govshare.core import authz
from govshare.core.errors import Conflict, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from govshare.grading import access, notices
from govshare.grading.choices import ChangeStatus
from govshare.grading.models import GradingChange

# Written into an entry's 开放条件 when a stricter level turns its 无条件开放 into 有条件开放.
AUTOMATIC_OPEN_CONDITION = "依申请开放，经脱敏后提供（因数据分级调整自动设置）"


def _label(choices: type[DataGrade] | type[DataLevel], value: str) -> str:
    return gettext(str(choices(value).label))


def _check_target(
    resource: Resource, item: Item | None, to_grade: str, to_level: str, reason: str
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if to_grade not in DataGrade.values:
        allowed = gettext("、").join(gettext(str(label)) for label in DataGrade.labels)
        problems.append(
            FieldProblem(
                "to_grade",
                gettext("新数据级别“%(to_grade)s”无效，可选值：%(allowed)s")
                % {"to_grade": to_grade, "allowed": allowed},
            )
        )
    if to_level not in DataLevel.values:
        allowed = gettext("、").join(gettext(str(label)) for label in DataLevel.labels)
        problems.append(
            FieldProblem(
                "to_level",
                gettext("新敏感级别“%(to_level)s”无效，可选值：%(allowed)s")
                % {"to_level": to_level, "allowed": allowed},
            )
        )
    if not reason.strip():
        problems.append(FieldProblem("reason", gettext("必须填写调整理由")))
    if problems:
        return problems
    current = (item or resource).grade, (item or resource).data_level
    if (to_grade, to_level) == current:
        label = f"{_label(DataGrade, current[0])} / {_label(DataLevel, current[1])}"
        return [
            FieldProblem(
                "to_grade", gettext("新的数据级别和敏感级别与现有的相同（%(label)s），无需调整") % {"label": label}
            )
        ]
    if item is not None:
        where = gettext("信息项“%(item_name)s”") % {"item_name": item.name}
        if is_looser_grade(to_grade, resource.grade):
            problems.append(
                FieldProblem(
                    "to_grade",
                    gettext("%(where)s的数据级别不能比资源的数据级别“%(get_grade_display)s”更宽松（申请为“%(value)s”）")
                    % {
                        "where": where,
                        "get_grade_display": gettext(resource.get_grade_display()),
                        "value": _label(DataGrade, to_grade),
                    },
                )
            )
        if is_looser_level(to_level, resource.data_level):
            problems.append(
                FieldProblem(
                    "to_level",
                    gettext(
                        "%(where)s的敏感级别不能比资源的敏感级别“%(get_data_level_display)s”更宽松（申请为“%(value)s”）"
                    )
                    % {
                        "where": where,
                        "get_data_level_display": gettext(resource.get_data_level_display()),
                        "value": _label(DataLevel, to_level),
                    },
                )
            )
    return problems


@transaction.atomic
def propose_grading_change(
    resource: Resource, *, item_name: str = "", to_grade: str, to_level: str, reason: str, actor: User
) -> GradingChange:
    """A department's catalogue administrator proposes a new grade and level for a published resource or item."""
    resource = catalog_selectors.resource_for_update(resource.pk)
    if not access.can_propose(actor, resource):
        if not catalog_access.can_view(actor, resource):
            raise NotFound("信息资源不存在或无权访问")
        raise PermissionDenied("只有资源所属部门的目录管理员可以申请调整分级")
    if resource.published_on is None:
        raise Conflict("该资源从未发布：草稿的数据级别和敏感级别直接在草稿中修改，随目录一并审核，无需申请")
    item_name = item_name.strip()
    item = None
    if item_name:
        item = resource.items.filter(name=item_name).first()
        if item is None:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "item_name",
                        gettext("资源“%(code)s”没有名为“%(item_name)s”的信息项")
                        % {"code": resource.code, "item_name": item_name},
                    )
                ]
            )
    if problems := _check_target(resource, item, to_grade, to_level, reason):
        raise ValidationFailed(problems)
    target = item or resource
    pending = GradingChange.objects.filter(resource=resource, item_name=item_name, status=ChangeStatus.PENDING).first()
    if pending is not None:
        when = timezone.localtime(pending.proposed_at).strftime("%Y-%m-%d %H:%M")
        what = gettext("信息项“%(name)s”") % {"name": item_name} if item_name else gettext("该资源")
        raise Conflict(
            gettext("%(what)s已有一份待审核的分级调整申请（%(when)s 由 %(proposer_name)s 提交），请等待安全管理员审核")
            % {"what": what, "when": when, "proposer_name": pending.proposer_name}
        )
    change = GradingChange.objects.create(
        resource=resource,
        item_name=item_name,
        from_grade=target.grade,
        from_level=target.data_level,
        to_grade=to_grade,
        to_level=to_level,
        reason=reason.strip(),
        proposer=actor,
        proposer_name=actor.get_username(),
    )
    record_action(
        actor,
        "grading.change.propose",
        change,
        resource=resource.code,
        item=item_name,
        before=change.from_label,
        after=change.to_label,
        reason=change.reason,
    )
    return change


@dataclass
class Effects:
    """What approving a change does to the entry: its own values and the items that must follow."""

    resource: dict[str, str] = field(default_factory=dict)
    items: dict[str, dict[str, str]] = field(default_factory=dict)

    def describe(self) -> list[str]:
        """Readable lines for the reviewer: the consequences beyond the proposed values themselves."""
        lines: list[str] = []
        if "open_type" in self.resource:
            lines.append(
                gettext("资源的开放属性将改为“%(label)s”")
                % {"label": gettext(OpenType(self.resource["open_type"]).label)}
            )
        for name, values in self.items.items():
            parts = []
            if "grade" in values:
                parts.append(gettext("数据级别改为“%(value)s”") % {"value": _label(DataGrade, values["grade"])})
            if "data_level" in values:
                parts.append(gettext("敏感级别改为“%(value)s”") % {"value": _label(DataLevel, values["data_level"])})
            if "open_type" in values:
                parts.append(
                    gettext("开放属性改为“%(label)s”") % {"label": gettext(OpenType(values["open_type"]).label)}
                )
            lines.append(gettext("信息项“%(name)s”：%(value)s") % {"name": name, "value": gettext("，").join(parts)})
        return lines


def _stricter_open(first: str, second: str) -> str:
    order = [OpenType.UNCONDITIONAL, OpenType.CONDITIONAL, OpenType.NOT_OPEN]
    return first if order.index(OpenType(first)) >= order.index(OpenType(second)) else second


def effects_of(change: GradingChange, resource: Resource, items: list[Item]) -> Effects:
    """The values approving `change` writes. A stricter grade or level closes what it may not open (核心/L4 →
    不予开放, L3/L2 → at most 有条件开放); a resource's items are never left looser than it: items that followed
    the resource follow it, stricter ones keep their values."""
    effects = Effects()
    if change.item_name:
        for item in items:
            if item.name != change.item_name:
                continue
            values: dict[str, str] = {}
            if item.grade != change.to_grade:
                values["grade"] = change.to_grade
            if item.data_level != change.to_level:
                values["data_level"] = change.to_level
            open_type = tightened_open_type(item.open_type, change.to_grade, change.to_level)
            if open_type != item.open_type:
                values["open_type"] = open_type
            effects.items[item.name] = values
        return effects
    if resource.grade != change.to_grade:
        effects.resource["grade"] = change.to_grade
    if resource.data_level != change.to_level:
        effects.resource["data_level"] = change.to_level
    open_type = tightened_open_type(resource.open_type, change.to_grade, change.to_level)
    if open_type != resource.open_type:
        effects.resource["open_type"] = open_type
    for item in items:
        values = {}
        grade = item.grade
        if item.grade == resource.grade or is_looser_grade(item.grade, change.to_grade):
            grade = change.to_grade
        level = item.data_level
        if item.data_level == resource.data_level or is_looser_level(item.data_level, change.to_level):
            level = change.to_level
        item_open = _stricter_open(tightened_open_type(item.open_type, grade, level), open_type)
        for name, before, after in (
            ("grade", item.grade, grade),
            ("data_level", item.data_level, level),
            ("open_type", item.open_type, item_open),
        ):
            if before != after:
                values[name] = after
        if values:
            effects.items[item.name] = values
    return effects


def _locked_change(change: GradingChange, actor: User) -> GradingChange:
    """The change re-read under a row lock; outside the actor's view 404, visible but not theirs to decide 403."""
    locked = GradingChange.objects.select_for_update().select_related("resource").get(pk=change.pk)
    authz.require(actor, access.DECIDE, locked, not_found="分级调整申请不存在或无权访问")
    if locked.status != ChangeStatus.PENDING:
        raise Conflict(
            gettext("该申请已审核（%(get_status_display)s），不能再次审核")
            % {"get_status_display": gettext(locked.get_status_display())}
        )
    return locked


@transaction.atomic
def approve_grading_change(change: GradingChange, *, note: str = "", actor: User) -> GradingChange:
    """The security officer approves: the new grade and level apply at once, with what they imply."""
    change = _locked_change(change, actor)
    note = note.strip()

    def decide(resource: Resource, items: list[Item]) -> Effects:
        target: Resource | Item = resource
        if change.item_name:
            found = next((item for item in items if item.name == change.item_name), None)
            if found is None:
                raise Conflict(
                    gettext("信息项“%(item_name)s”已不存在，此申请已过时，请驳回") % {"item_name": change.item_name}
                )
            target = found
        if (target.grade, target.data_level) != (change.from_grade, change.from_level):
            now = f"{gettext(target.get_grade_display())} / {gettext(target.get_data_level_display())}"
            raise Conflict(
                gettext("%(target_label)s的分级已变为“%(now)s”，与申请时的“%(from_label)s”不同：此申请已过时，请驳回")
                % {"target_label": change.target_label, "now": now, "from_label": change.from_label}
            )
        effects = effects_of(change, resource, items)
        if effects.resource.get("open_type") == OpenType.CONDITIONAL and not resource.open_condition:
            effects.resource["open_condition"] = AUTOMATIC_OPEN_CONDITION
        return effects

    resource, effects = catalog_services.apply_grading(
        change.resource_id,
        decide,
        note=(history.GRADING_NOTE_REVIEWED if note else history.GRADING_NOTE)
        % {"change": change.pk, "proposer": change.proposer_name, "reason": change.reason, "note": note},
        actor=actor,
    )
    change.status = ChangeStatus.APPROVED
    change.reviewer, change.reviewer_name = actor, actor.get_username()
    change.decided_at = timezone.now()
    change.review_note = note
    change.save(update_fields=["status", "reviewer", "reviewer_name", "decided_at", "review_note"])
    record_action(
        actor,
        "grading.change.approve",
        change,
        resource=resource.code,
        item=change.item_name,
        before=change.from_label,
        after=change.to_label,
        consequences=effects.describe(),
        note=note,
    )
    notices.grading_decided(change, actor=actor)
    return change


@transaction.atomic
def reject_grading_change(change: GradingChange, *, reason: str, actor: User) -> GradingChange:
    """The security officer rejects with a reason; nothing changes on the resource."""
    change = _locked_change(change, actor)
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", gettext("驳回必须填写理由"))])
    change.status = ChangeStatus.REJECTED
    change.reviewer, change.reviewer_name = actor, actor.get_username()
    change.decided_at = timezone.now()
    change.review_note = reason.strip()
    change.save(update_fields=["status", "reviewer", "reviewer_name", "decided_at", "review_note"])
    record_action(
        actor,
        "grading.change.reject",
        change,
        resource=change.resource.code,
        item=change.item_name,
        reason=change.review_note,
    )
    notices.grading_decided(change, actor=actor)
    return change
