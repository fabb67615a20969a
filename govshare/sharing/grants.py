"""Grants as read scopes (共享授权, domain.md §4 and §7).

A grant lets the consumer department's users with the consumer role (and later its scenario's systems, through the
gateway) read one resource's allowed items, in the rows of its row filter, masked per item, within its validity
period and daily quota, for its scenario only. It is a read scope of datasets (`datasets.scopes`): this module
registers `scope_provider`, which datasets asks at every preview, download and export, so the grant is checked
again at every access with that day's date — a revocation, an expiry or a missed access review takes effect on the
very next read, by any path — and checked once more, with its quota counted, in the transaction that records the
access (`_admit`).

Masking starts from each item's default (its grade and level, `datasets.scopes.default_masking`); a grant may make
an item stricter (the same rule, or withheld; any rule where the default shows the value), never looser. Issuing
is data only (no request object): share-request approval will call `issue_grant` with what was approved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils import timezone

from govshare.accounts.models import Department, User
from govshare.audit.services import record_action
from govshare.catalog import selectors as catalog_selectors
from govshare.catalog.choices import ReviewStatus, ShareType
from govshare.catalog.models import Item, Resource
from govshare.core.authz import require, restrict
from govshare.core.errors import Conflict, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from govshare.core.masking import MaskRule, masking_rule_for
from govshare.core.roles import Role
from govshare.datasets import scopes
from govshare.datasets.scopes import NO_SCOPE, AccessRefused, ReadScope
from govshare.notifications.choices import NotificationKind
from govshare.notifications.services import TITLE_MAX, notify
from govshare.sharing.access import CONFIRM, ISSUERS_ONLY, REVOKE, may_issue
from govshare.sharing.choices import DeliveryMethod, GrantStatus, ScenarioStatus
from govshare.sharing.models import Grant, GrantUsage, Scenario
from govshare.sharing.scenarios import scenario_is_usable

GRANT_NOT_FOUND = "共享授权不存在或无权访问"
DEFAULT_REVIEW_DAYS = 365  # access review: 12 months unless the grant says otherwise
REMIND_WITHIN_DAYS = 30  # a grant due for review or ending within this many days is shown and notified


# ---------------------------------------------------------------------------------------------- the rules


def scenario_usable(scenario: Scenario) -> bool:
    """Whether a scenario may still carry grants: the scenarios' own rule (approved, of an active department)."""
    return scenario_is_usable(scenario)


def review_due_on(grant: Grant) -> dt.date:
    """The last day the grant counts as reviewed: it lapses the day after, unless the provider confirms it again."""
    return grant.last_confirmed_on + dt.timedelta(days=grant.review_interval_days)


class GrantState:
    """Why a grant does or does not work on a given day (shown on its pages)."""

    ACTIVE = "有效"
    REVOKED = "已撤销"
    NOT_YET = "未生效"
    EXPIRED = "已到期"
    LAPSED = "逾期未复核，已失效"
    SCENARIO = "应用场景已停用或未通过审核"


def grant_state(grant: Grant, today: dt.date) -> str:
    if grant.status != GrantStatus.ACTIVE:
        return GrantState.REVOKED
    if today < grant.valid_from:
        return GrantState.NOT_YET
    if today > grant.valid_until:
        return GrantState.EXPIRED
    if today > review_due_on(grant):
        return GrantState.LAPSED
    if not scenario_usable(grant.scenario):
        return GrantState.SCENARIO
    return GrantState.ACTIVE


def grant_is_active(grant: Grant, today: dt.date) -> bool:
    """Active on `today`: not revoked, within valid_from..valid_until, its access review not overdue
    (last_confirmed_on + review_interval_days >= today), and its scenario still approved."""
    return grant_state(grant, today) == GrantState.ACTIVE


def at_least_as_strict(default: str | None, rule: str | None) -> bool:
    """Whether `rule` hides at least what `default` hides: the same rule, withholding, or any rule where the default
    shows the value. Two different rules (keep the surname vs keep first and last) are not comparable: refused."""
    if rule == default or rule == MaskRule.WITHHOLD:
        return True
    return default is None and rule is not None


def effective_rule(default: str | None, rule: str | None) -> str | None:
    """The rule an item is read with: the grant's when at least as strict as the default, the default when the
    grant asks for less (an item's grade raised after the grant), withheld when the two are not comparable."""
    if rule is None or rule == default:
        return default
    if at_least_as_strict(default, rule):
        return rule
    if at_least_as_strict(rule, default):
        return default
    return MaskRule.WITHHOLD


class _GradedItem:
    """What masking needs of an item."""

    def __init__(self, name: str, data_type: str, grade: str, data_level: str) -> None:
        self.name, self.data_type, self.grade, self.data_level = name, data_type, grade, data_level


# The two reads of a data access's grant check are plain SQL: compiling the ORM's queries cost several times their
# execution (benchmarks/bench_grant_check.py), and they run at every preview, download and export.
_ITEMS_SQL = "SELECT name, data_type, grade, data_level FROM {item} WHERE resource_id = %s AND share_type <> %s"
_GRANTS_SQL = (
    "SELECT g.*, s.name AS scenario_name, s.status AS scenario_status FROM {grant} g"
    " JOIN {scenario} s ON s.id = g.scenario_id"
    " WHERE g.department_id = %s AND g.resource_id = %s AND g.status = %s ORDER BY g.created_at, g.id"
)


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _shareable_items(resource: Resource) -> dict[str, _GradedItem]:
    with connection.cursor() as cursor:
        cursor.execute(_ITEMS_SQL.format(item=_table(Item)), [resource.pk, ShareType.NOT_SHARED])
        return {row[0]: _GradedItem(*row) for row in cursor.fetchall()}


def resource_shareable(resource: Resource) -> bool:
    return resource.status == ReviewStatus.PUBLISHED and resource.share_type != ShareType.NOT_SHARED


def scope_terms(grant: Grant) -> tuple[frozenset[str], dict[str, str]]:
    """The items a grant gives today (those granted and still shareable) and the rule each is read with."""
    items = _shareable_items(grant.resource)
    granted = frozenset(name for name in grant.items if name in items)
    masking: dict[str, str] = {}
    for name in granted:
        rule = effective_rule(masking_rule_for(items[name]), grant.masking.get(name))
        if rule is not None:
            masking[name] = rule
    return granted, masking


def grant_scope(grant: Grant, user: User, *, today: dt.date | None = None) -> ReadScope:
    """The grant as the read scope of one of its users: its items (those still shareable), its row filter, each
    item's default masking made stricter by the grant's, and its scenario and id as the purpose and basis of the
    audit row. `admit` checks the grant again and counts the daily quota when the access is recorded."""
    granted, masking = scope_terms(grant)
    rows_where = {name: frozenset(str(value) for value in values) for name, values in grant.row_filter.items()}
    day = today if today is not None else scopes.clock()
    return ReadScope(
        reader=user,
        masking=masking,
        items=granted,
        rows_where=rows_where,
        purpose=f"共享授权 {grant.pk}：{grant.scenario.name}",
        basis={"grant": grant.pk, "scenario": grant.scenario_id},
        admit=lambda: _admit(grant.pk, day),
    )


def usable_grants(user: User, resource: Resource, today: dt.date) -> list[Grant]:
    """The grants through which this user may read the resource today, oldest first: those of the user's
    department, for a user with the consumer role, that are active on `today`."""
    if not (user.is_active and user.department_id is not None and user.has_role(Role.CONSUMER)):
        return []
    if not resource_shareable(resource):
        return []
    sql = _GRANTS_SQL.format(grant=_table(Grant), scenario=_table(Scenario))
    usable = []
    for grant in Grant.objects.raw(sql, [user.department_id, resource.pk, GrantStatus.ACTIVE]):
        # The scenario's name and state came with the grant; the resource is the caller's.
        grant.scenario = Scenario(
            pk=grant.scenario_id,
            department_id=grant.department_id,
            name=grant.scenario_name,  # type: ignore[attr-defined]
            status=grant.scenario_status,  # type: ignore[attr-defined]
        )
        grant.resource = resource
        if grant_is_active(grant, today):
            usable.append(grant)
    return usable


def scope_provider(user: User, resource: Resource, today: dt.date, choice: str) -> ReadScope | None:
    """datasets' scope provider: the scope of the grant the user chose (`choice`, a grant id, among those usable
    today), else of the oldest usable grant (deterministic: the same grant every time until it ends); None when
    the user reads through no grant."""
    grants = usable_grants(user, resource, today)
    if choice:
        grants = [grant for grant in grants if str(grant.pk) == choice]
    if not grants:
        return None
    return grant_scope(grants[0], user, today=today)


_COUNT_ACCESS = """
INSERT INTO {usage} (grant_id, day, accesses)
SELECT g.id, %s, 1 FROM {grant} g
  JOIN {scenario} s ON s.id = g.scenario_id
  JOIN {department} d ON d.id = s.department_id
  JOIN {resource} r ON r.id = g.resource_id
 WHERE g.id = %s AND g.status = %s AND s.status = %s AND d.is_active = %s AND r.status = %s AND r.share_type <> %s
   AND (g.daily_quota IS NULL OR g.daily_quota > 0)
ON CONFLICT (grant_id, day) DO UPDATE SET accesses = {usage}.accesses + 1
 WHERE {usage}.accesses < COALESCE((SELECT daily_quota FROM {grant} WHERE id = excluded.grant_id), 2147483647)
"""


def _admit(grant_id: int, today: dt.date) -> None:
    """In the transaction recording the access: the grant is checked again and the day's access counted, refused
    past the daily quota. One statement does both (an upsert of the day's counter that selects nothing unless the
    grant is still active, its scenario approved and of an active department, and its resource published and
    shareable; whose update does nothing at the quota), so a revocation committed since the scope was decided
    refuses this access, and the database serialises two accesses at once: they never both take the last unit. The
    dates were judged on the same day when the scope was decided (only a confirmation changes them, and it only
    extends)."""
    names = {
        name: _table(model)
        for name, model in (
            ("usage", GrantUsage),
            ("grant", Grant),
            ("scenario", Scenario),
            ("department", Department),
            ("resource", Resource),
        )
    }
    params: list[str | int | dt.date] = [
        today,
        grant_id,
        GrantStatus.ACTIVE,
        ScenarioStatus.APPROVED,  # what scenario_usable checks: approved, of an active department
        True,
        ReviewStatus.PUBLISHED,
        ShareType.NOT_SHARED,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_ACCESS.format(**names), params)
        counted = cursor.rowcount
    if counted:
        return
    # Refused: say why (the rare path may read again).
    grant = Grant.objects.select_related("scenario__department", "resource").filter(pk=grant_id).first()
    if grant is None or not grant_is_active(grant, today) or not resource_shareable(grant.resource):
        raise NotFound(NO_SCOPE)
    raise AccessRefused(
        f"共享授权 {grant.pk}（{grant.scenario.name}）今日的调用次数已达上限 {grant.daily_quota} 次，请明日再试；"
        "如确需提高上限，请联系数据提供部门调整授权"
    )


def used_today(grant: Grant, today: dt.date) -> int:
    usage = GrantUsage.objects.filter(grant=grant, day=today).values_list("accesses", flat=True).first()
    return int(usage or 0)


# ---------------------------------------------------------------------------------------------- reads


def grants_for(user: User, *, side: str = "") -> QuerySet[Grant]:
    """The grants the user may see; `side`: "consumer" those its department holds, "provider" those on its
    department's resources, "" all it may see."""
    grants = restrict(Grant.objects.all(), user).select_related(
        "department", "scenario", "resource", "resource__department", "granted_by", "revoked_by"
    )
    department = user.department_id or 0  # no department: no grant on either side
    if side == "consumer":
        grants = grants.filter(department_id=department)
    elif side == "provider":
        grants = grants.filter(resource__department_id=department)
    return grants.order_by("-created_at", "-pk")


def get_grant(user: User, pk: int) -> Grant:
    grant = grants_for(user).filter(pk=pk).first()
    if grant is None:
        raise NotFound(GRANT_NOT_FOUND)
    return grant


def due_for_review(user: User, today: dt.date, *, within: int = REMIND_WITHIN_DAYS) -> list[Grant]:
    """Active grants the user may confirm whose access review falls due within `within` days (or is overdue but not
    yet past its validity), soonest first: the provider reviewer's reminder panel."""
    candidates = restrict(Grant.objects.all(), user, CONFIRM).filter(status=GrantStatus.ACTIVE, valid_until__gte=today)
    found = [
        grant
        for grant in candidates.select_related("department", "scenario__department", "resource")
        if review_due_on(grant) <= today + dt.timedelta(days=within)
    ]
    return sorted(found, key=lambda grant: (review_due_on(grant), grant.pk))


# ---------------------------------------------------------------------------------------------- services


@dataclass(frozen=True)
class GrantInput:
    """What a grant binds, as share-request approval (or the provider directly) decides it."""

    department_id: int  # the consumer department
    scenario_id: int
    resource_id: int
    items: list[str]
    valid_from: dt.date
    valid_until: dt.date
    row_filter: Mapping[str, list[str]] = field(default_factory=dict)
    masking: Mapping[str, str] = field(default_factory=dict)
    delivery_method: str = DeliveryMethod.API
    daily_quota: int | None = None
    review_interval_days: int = DEFAULT_REVIEW_DAYS
    conditions: str = ""


def _problems(data: GrantInput, resource: Resource, scenario: Scenario, today: dt.date) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not resource_shareable(resource):
        if resource.share_type == ShareType.NOT_SHARED:
            problems.append(FieldProblem("resource_id", f"“{resource.name}”为不予共享资源，不能授权"))
        else:
            problems.append(FieldProblem("resource_id", f"“{resource.name}”尚未发布，不能授权"))
    if data.department_id == resource.department_id:
        problems.append(FieldProblem("department_id", "本部门的资源无需授权"))
    if scenario.department_id != data.department_id:
        problems.append(FieldProblem("scenario_id", "应用场景不属于使用部门"))
    elif not scenario_usable(scenario):
        problems.append(FieldProblem("scenario_id", f"应用场景“{scenario.name}”未通过审核或已停用"))
    items = {item.name: item for item in Item.objects.filter(resource=resource)}
    if not data.items:
        problems.append(FieldProblem("items", "请至少选择一个信息项"))
    if len(set(data.items)) != len(data.items):
        problems.append(FieldProblem("items", "信息项有重复"))
    for name in data.items:
        if name not in items:
            problems.append(FieldProblem("items", f"信息项“{name}”不在该资源中"))
        elif items[name].share_type == ShareType.NOT_SHARED:
            problems.append(FieldProblem("items", f"信息项“{name}”不予共享，不能授权"))
    for name, values in data.row_filter.items():
        if name not in items:
            problems.append(FieldProblem("row_filter", f"行过滤所依据的信息项“{name}”不在该资源中"))
        elif not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
            problems.append(FieldProblem("row_filter", f"行过滤“{name}”应为非空的取值列表"))
    for name, rule in data.masking.items():
        if name not in data.items:
            problems.append(FieldProblem("masking", f"脱敏规则所指的信息项“{name}”不在授权范围内"))
        elif rule not in MaskRule.__members__.values():
            problems.append(FieldProblem("masking", f"信息项“{name}”的脱敏规则“{rule}”无效"))
        elif name in items and not at_least_as_strict(masking_rule_for(items[name]), rule):
            default = masking_rule_for(items[name]) or "不脱敏"
            problems.append(
                FieldProblem("masking", f"信息项“{name}”的脱敏规则“{rule}”比其分级默认规则“{default}”宽松，不允许")
            )
    if data.valid_until < data.valid_from:
        problems.append(FieldProblem("valid_until", "截止日期不能早于生效日期"))
    elif data.valid_until < today:
        problems.append(FieldProblem("valid_until", "截止日期已过"))
    if data.daily_quota is not None and data.daily_quota < 1:
        problems.append(FieldProblem("daily_quota", "每日调用上限应为正整数，或留空表示不限"))
    if not 1 <= data.review_interval_days <= 3 * 366:
        problems.append(FieldProblem("review_interval_days", "复核周期应在 1 到 1098 天之间"))
    if data.delivery_method not in DeliveryMethod.values:
        problems.append(FieldProblem("delivery_method", "交付方式无效"))
    return problems


def issue_grant(data: GrantInput, *, actor: User, today: dt.date | None = None, source_note: str = "") -> Grant:
    """Grant a consumer department a resource's data for one scenario (validated: see `_problems`). The provider
    department's 部门审核员 or the coordinator; the grant counts as reviewed on the day it is issued."""
    today = today if today is not None else scopes.clock()
    # A resource the actor cannot see (another department's draft) answers as a missing one.
    resource = catalog_selectors.get_resource(actor, data.resource_id)
    if not may_issue(actor, resource):
        raise PermissionDenied(ISSUERS_ONLY)
    scenario = Scenario.objects.filter(pk=data.scenario_id).first()
    if scenario is None:
        raise ValidationFailed([FieldProblem("scenario_id", "应用场景不存在")])
    return _issue(data, resource, scenario, granted_by=actor, actor=actor, today=today, source_note=source_note)


def shared_by_rule(resource: Resource, items: Iterable[str]) -> bool:
    """Whether the catalogue itself grants these items of the resource: the resource and every one of them are
    无条件共享 (no reviewer decides)."""
    if resource.share_type != ShareType.UNCONDITIONAL:
        return False
    shares = Item.objects.filter(resource=resource, name__in=list(items)).values_list("share_type", flat=True)
    return all(share == ShareType.UNCONDITIONAL for share in shares)


def grant_by_rule(data: GrantInput, *, applicant: User, today: dt.date, source_note: str = "") -> Grant:
    """Grant what the catalogue shares unconditionally (无条件共享): no reviewer decides, the resource's share
    attribute does. Refused unless the resource and every item asked for are 无条件共享; otherwise as `issue_grant`
    (the applicant's department, an approved scenario of it). The audit row names the applicant and the rule."""
    resource = Resource.objects.select_related("department").get(pk=data.resource_id)
    if not shared_by_rule(resource, data.items):
        raise PermissionDenied(f"“{resource.name}”或其信息项并非无条件共享，须经提供部门审核")
    if data.department_id != applicant.department_id:
        raise PermissionDenied(ISSUERS_ONLY)
    scenario = Scenario.objects.filter(pk=data.scenario_id).first()
    if scenario is None:
        raise ValidationFailed([FieldProblem("scenario_id", "应用场景不存在")])
    return _issue(data, resource, scenario, granted_by=None, actor=applicant, today=today, source_note=source_note)


def _issue(
    data: GrantInput,
    resource: Resource,
    scenario: Scenario,
    *,
    granted_by: User | None,
    actor: User,
    today: dt.date,
    source_note: str,
) -> Grant:
    problems = _problems(data, resource, scenario, today)
    if problems:
        raise ValidationFailed(problems, "授权内容有误")
    with transaction.atomic():
        grant = Grant.objects.create(
            department_id=data.department_id,
            scenario=scenario,
            resource=resource,
            items=list(data.items),
            row_filter={name: list(values) for name, values in data.row_filter.items()},
            masking=dict(data.masking),
            delivery_method=data.delivery_method,
            daily_quota=data.daily_quota,
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            review_interval_days=data.review_interval_days,
            last_confirmed_on=today,
            conditions=data.conditions,
            granted_by=granted_by,
            source_note=source_note[:200],
        )
        record_action(
            actor,
            "sharing.grant.issue",
            grant,
            resource=resource.code,
            department=grant.department.name,
            scenario=scenario.name,
            items=len(grant.items),
            valid_until=data.valid_until.isoformat(),
            basis="无条件共享" if granted_by is None else "审核同意",
        )
        _tell(
            _consumers(grant),
            grant,
            f"获得共享授权：{resource.name}",
            f"{resource.department.name}已授权本部门在应用场景“{scenario.name}”中使用“{resource.name}”的 "
            f"{len(grant.items)} 个信息项，有效期至 {data.valid_until:%Y-%m-%d}。",
        )
    return grant


def revoke_grant(grant: Grant, *, actor: User, reason: str, now: dt.datetime | None = None) -> Grant:
    """End a grant at once (the next access is refused, by any path). The provider's 部门审核员 or the coordinator;
    a reason is required."""
    require(actor, REVOKE, grant, not_found=GRANT_NOT_FOUND)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed([FieldProblem("reason", "请填写撤销理由")])
    with transaction.atomic():
        locked = Grant.objects.select_for_update().select_related("resource", "scenario__department").get(pk=grant.pk)
        if locked.status == GrantStatus.REVOKED:
            raise Conflict("该授权已撤销")
        locked.status = GrantStatus.REVOKED
        locked.revoked_by = actor
        locked.revoked_at = now or timezone.now()
        locked.revoke_reason = reason[:500]
        locked.save(update_fields=["status", "revoked_by", "revoked_at", "revoke_reason"])
        record_action(actor, "sharing.grant.revoke", locked, resource=locked.resource.code, reason=reason[:200])
        _tell(
            _consumers(locked),
            locked,
            f"共享授权已撤销：{locked.resource.name}",
            f"本部门在应用场景“{locked.scenario.name}”中使用“{locked.resource.name}”的授权已被撤销。理由：{reason}",
        )
    return locked


def confirm_grant(grant: Grant, *, actor: User, today: dt.date | None = None, note: str = "") -> Grant:
    """The provider's access review (复核确认): the grant is still needed as it is; it counts as reviewed today.
    A grant that already lapsed, expired or was revoked is not brought back (issue a new one)."""
    require(actor, CONFIRM, grant, not_found=GRANT_NOT_FOUND)
    today = today if today is not None else scopes.clock()
    with transaction.atomic():
        locked = Grant.objects.select_for_update().select_related("resource", "scenario__department").get(pk=grant.pk)
        state = grant_state(locked, today)
        if state not in (GrantState.ACTIVE, GrantState.NOT_YET):
            raise Conflict(f"该授权{state}，不能复核确认；如仍需共享，请重新授权")
        locked.last_confirmed_on = today
        locked.save(update_fields=["last_confirmed_on"])
        record_action(
            actor,
            "sharing.grant.confirm",
            locked,
            resource=locked.resource.code,
            due_on=review_due_on(locked).isoformat(),
            note=note.strip()[:200],
        )
    return locked


def remind_lapsing(today: dt.date | None = None, *, within: int = REMIND_WITHIN_DAYS) -> int:
    """Notify the parties of each active grant whose access review falls due or whose validity ends within
    `within` days (the provider's reviewers, to confirm it; the consumer department's users, to know), once per
    review cycle. Run daily; answers the number of grants notified."""
    today = today if today is not None else scopes.clock()
    horizon = today + dt.timedelta(days=within)
    sent = 0
    candidates = Grant.objects.filter(status=GrantStatus.ACTIVE, valid_until__gte=today).select_related(
        "resource", "scenario__department", "department"
    )
    for grant in candidates:
        due = review_due_on(grant)
        ends_on = min(due, grant.valid_until)
        if ends_on > horizon or today > due:
            continue
        # Once per window: a reminder sent since this end came within `within` days counts (a confirmation moves the
        # review's end, and so the window, forward).
        if grant.lapse_notified_on is not None and grant.lapse_notified_on >= ends_on - dt.timedelta(days=within):
            continue
        ends = "到期" if grant.valid_until <= due else "复核期限"
        with transaction.atomic():
            reviewers = provider_reviewers(grant.resource.department_id)
            _tell(
                list(reviewers) + list(_consumers(grant)),
                grant,
                f"共享授权即将失效：{grant.resource.name}"[:TITLE_MAX],
                f"{grant.department.name}在应用场景“{grant.scenario.name}”中使用“{grant.resource.name}”的授权"
                f"{ends}为 {min(due, grant.valid_until):%Y-%m-%d}。复核期限 {due:%Y-%m-%d} 前未经提供部门复核确认的，"
                "授权自动失效。",
            )
            Grant.objects.filter(pk=grant.pk).update(lapse_notified_on=today)
            record_action(None, "sharing.grant.remind", grant, resource=grant.resource.code, due_on=due.isoformat())
        sent += 1
    return sent


def provider_reviewers(department_id: int) -> QuerySet[User]:
    """The department's active 部门审核员: who decides what is shared of its data."""
    return User.objects.filter(department_id=department_id, is_active=True, roles__role=Role.DEPT_REVIEWER).distinct()


def _consumers(grant: Grant) -> QuerySet[User]:
    return User.objects.filter(department_id=grant.department_id, is_active=True, roles__role=Role.CONSUMER).distinct()


def _tell(recipients: Iterable[User], grant: Grant, title: str, body: str) -> None:
    people = list(recipients)
    if people:
        link = reverse("sharing:grant_detail", args=[grant.pk])
        notify(people, kind=NotificationKind.SHARE_GRANT, title=title[:TITLE_MAX], body=body, link=link, target=grant)


def as_row(grant: Grant, today: dt.date) -> dict[str, Any]:
    """A grant's figures for pages and the API."""
    return {
        "state": grant_state(grant, today),
        "active": grant_is_active(grant, today),
        "review_due_on": review_due_on(grant),
        "used_today": used_today(grant, today),
    }


__all__ = [
    "GRANT_NOT_FOUND",
    "GrantInput",
    "GrantState",
    "as_row",
    "at_least_as_strict",
    "confirm_grant",
    "due_for_review",
    "effective_rule",
    "get_grant",
    "grant_by_rule",
    "grant_is_active",
    "grant_scope",
    "grant_state",
    "grants_for",
    "issue_grant",
    "provider_reviewers",
    "remind_lapsing",
    "review_due_on",
    "revoke_grant",
    "scenario_usable",
    "scope_provider",
    "scope_terms",
    "shared_by_rule",
    "usable_grants",
]
