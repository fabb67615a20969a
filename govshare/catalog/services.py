"""Every write to the catalogue. Each function is one transaction that records an audit row and, for
resources, a version with its field-by-field difference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from govshare.accounts.models import Department, User
from govshare.audit.services import AuditTarget, record_action, record_actions
from govshare.catalog import access, duplicates, history, notices
from govshare.catalog.choices import LEVEL_WIDTH, SEQUENCE_WIDTH, AtRest, CategoryLevel, ReviewStatus, VersionAction
from govshare.catalog.models import Category, CodeSequence, Item, Resource, ResourceVersion, RetiredResourceCode
from govshare.catalog.rules import (
    ResourceDraft,
    check_resource_draft,
    codes_to_look_up,
    effective_grade,
    effective_level,
    grading_edit_problems,
)
from govshare.catalog.search import FTS_TABLE
from govshare.catalog.search_text import document_tokens, documents_tokens
from govshare.catalog.workflow import TRANSITIONS, Transition, Who
from govshare.core import bulk
from govshare.core.errors import Conflict, DomainError, FieldProblem, NotFound, PermissionDenied, ValidationFailed

# ---------------------------------------------------------------------------------------------- classification


@transaction.atomic
def create_category(
    *, parent: Category | None, segment: str, name: str, description: str = "", actor: User | None
) -> Category:
    if actor is not None and not actor.is_platform_admin:
        raise PermissionDenied("只有平台管理员可以维护资源分类")
    level = CategoryLevel.CLASS if parent is None else parent.level + 1
    problems: list[FieldProblem] = []
    if level > CategoryLevel.DETAIL:
        problems.append(FieldProblem("parent", gettext("细目之下不能再分类")))
    else:
        width = LEVEL_WIDTH[level]
        exact = level != CategoryLevel.DETAIL
        if not segment.isdigit() or len(segment) > width or (exact and len(segment) != width):
            rule = (gettext("%(n)s位数字") if exact else gettext("1至%(n)s位数字")) % {"n": width}
            problems.append(
                FieldProblem(
                    "segment",
                    gettext("%(label)s的段码应为%(rule)s")
                    % {"label": gettext(CategoryLevel(level).label), "rule": rule},
                )
            )
    if not name.strip():
        problems.append(FieldProblem("name", gettext("分类名称不能为空")))
    if problems:
        raise ValidationFailed(problems)
    code = Category.compose_code(parent.code if parent else "", level, segment)
    if Category.objects.filter(code=code).exists():
        raise Conflict(gettext("分类码“%(code)s”已存在") % {"code": code})
    category = Category.objects.create(
        parent=parent,
        level=level,
        segment=segment.zfill(LEVEL_WIDTH[level]),
        code=code,
        name=name.strip(),
        description=description,
    )
    record_action(actor, "catalog.category.create", category, code=code)
    return category


@transaction.atomic
def update_category(category: Category, *, name: str, description: str, is_active: bool, actor: User) -> Category:
    if not actor.is_platform_admin:
        raise PermissionDenied("只有平台管理员可以维护资源分类")
    if not name.strip():
        raise ValidationFailed([FieldProblem("name", gettext("分类名称不能为空"))])
    before = {"name": category.name, "description": category.description, "is_active": category.is_active}
    category.name, category.description, category.is_active = name.strip(), description, is_active
    category.save(update_fields=["name", "description", "is_active"])
    record_action(actor, "catalog.category.update", category, before=before)
    return category


# ---------------------------------------------------------------------------------------------- codes


_LAST_NUMBER = 10**SEQUENCE_WIDTH - 1


def _code(prefix: str, number: int) -> str:
    return f"{prefix}/{number:0{SEQUENCE_WIDTH}d}"


def _taken_numbers(prefix: str, low: int, high: int) -> set[int]:
    """顺序码 from `low` to `high` under `prefix` that a resource holds or a retired code held (codes are fixed
    width, so the range is a range of strings too)."""
    bounds = {"code__gte": _code(prefix, low), "code__lte": _code(prefix, high)}
    codes = [
        *Resource.objects.filter(**bounds).values_list("code", flat=True),
        *RetiredResourceCode.objects.filter(**bounds).values_list("code", flat=True),
    ]
    return {int(code.rsplit("/", 1)[1]) for code in codes}


def _free_numbers(prefix: str, low: int, high: int, count: int, reserved: set[int]) -> list[int]:
    """The first `count` numbers from `low` to `high` never given nor `reserved` (fewer when there are not as many)."""
    found: list[int] = []
    while low <= high and len(found) < count:
        window = min(high, low + 2 * (count - len(found)) + 63)
        taken = _taken_numbers(prefix, low, window) | reserved
        found.extend(n for n in range(low, window + 1) if n not in taken)
        low = window + 1
    return found[:count]


def allocate_codes(prefix: str, count: int, *, reserved: Iterable[str] = ()) -> list[str]:
    """Hand out `count` codes under `prefix`: the smallest numbers above the last one the sequence gave that no
    resource holds or held (explicit codes are skipped when the sequence reaches them; they never move it). When the
    numbers above are used up (a sequence that an explicit …/999999 pushed to the end before this rule), the
    smallest numbers never given are taken: a code is still never reused. The row lock serialises concurrent
    creations and explicit claims. `reserved`: explicit codes being created in the same transaction."""
    sequence, _ = CodeSequence.objects.select_for_update().get_or_create(prefix=prefix)
    held = {int(code.rsplit("/", 1)[1]) for code in reserved if code.startswith(prefix + "/")}
    numbers = _free_numbers(prefix, sequence.last_value + 1, _LAST_NUMBER, count, held)
    if len(numbers) < count:
        numbers += _free_numbers(prefix, 1, sequence.last_value, count - len(numbers), held)
    if len(numbers) < count:
        raise Conflict(
            gettext("分类“%(prefix)s”下的顺序码已用尽（%(last_number)s 个都已使用过）")
            % {"prefix": prefix, "last_number": f"{_LAST_NUMBER:,}"}
        )
    if max(numbers) > sequence.last_value:
        sequence.last_value = max(numbers)
        sequence.save(update_fields=["last_value"])
    return [_code(prefix, n) for n in numbers]


def _next_code(prefix: str) -> str:
    return allocate_codes(prefix, 1)[0]


def _claim_codes(codes: Iterable[str]) -> None:
    """Reserve explicitly given codes: unused and never retired. The sequences of their classes are locked (so that
    no allocation hands out the same number meanwhile) but not moved: the sequence skips them when it gets there, so
    that an explicit code, however high, takes only itself."""
    codes = list(codes)
    taken = set(Resource.objects.filter(code__in=codes).values_list("code", flat=True))
    taken |= set(RetiredResourceCode.objects.filter(code__in=codes).values_list("code", flat=True))
    if taken:
        raise Conflict(
            gettext("信息资源代码已被使用（代码不可重复使用）：%(value)s")
            % {"value": gettext("、").join(sorted(taken)[:10])}
        )
    for prefix in sorted({code.split("/")[0] for code in codes}):
        CodeSequence.objects.select_for_update().get_or_create(prefix=prefix)


# ---------------------------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class ResolvedDraft:
    draft: ResourceDraft
    department: Department
    category: Category


def resolve_drafts(drafts: Sequence[ResourceDraft]) -> tuple[list[ResolvedDraft], list[list[FieldProblem]]]:
    """Check drafts against the rules with the departments and classes they name (two queries in all)."""
    codes = codes_to_look_up(draft.department_code for draft in drafts)
    departments = {d.code: d for d in Department.objects.filter(code__in=codes)}
    categories = {c.code: c for c in Category.objects.filter(code__in={draft.category_code for draft in drafts})}
    resolved: list[ResolvedDraft] = []
    problems: list[list[FieldProblem]] = []
    for draft in drafts:
        found = check_resource_draft(draft, departments=departments, categories=categories)
        problems.append(found)
        if not found:
            resolved.append(ResolvedDraft(draft, departments[draft.department_code], categories[draft.category_code]))
    return resolved, problems


def _resolve_one(draft: ResourceDraft) -> ResolvedDraft:
    resolved, problems = resolve_drafts([draft])
    if problems[0]:
        raise ValidationFailed(problems[0])
    return resolved[0]


def _fill_resource(resource: Resource, resolved: ResolvedDraft) -> None:
    """Copy a checked draft's own fields (not its items nor the search tokens) onto `resource`."""
    draft = resolved.draft
    resource.name = draft.name.strip()
    resource.category = resolved.category
    resource.department = resolved.department
    resource.summary = draft.summary.strip()
    resource.format = draft.format
    resource.sub_format = draft.sub_format.strip()
    resource.share_type = draft.share_type
    resource.share_condition = draft.share_condition.strip()
    resource.share_basis = draft.share_basis.strip()
    resource.share_method = draft.share_method
    resource.platform_share_type = draft.platform_share_type
    resource.open_type = draft.open_type
    resource.open_condition = draft.open_condition.strip()
    resource.grade = effective_grade(draft.grade)
    resource.data_level = effective_level(draft.data_level, draft.open_type)
    resource.update_cycle = draft.update_cycle
    resource.related_codes = list(draft.related_codes)
    resource.extension = dict(draft.extension)


# An item as the bulk path writes it: the Item fields after `resource`, in this order.
_ITEM_FIELDS = (
    "position",
    "name",
    "data_type",
    "length",
    "share_type",
    "open_type",
    "description",
    "grade",
    "data_level",
    "at_rest",
)
ItemValues = tuple[int, str, str, int | None, str, str, str, str, str, str]


def _item_values(draft: ResourceDraft) -> list[ItemValues]:
    grade = effective_grade(draft.grade)
    level = effective_level(draft.data_level, draft.open_type)
    return [
        (
            position,
            item.name.strip(),
            item.data_type,
            item.length,
            item.share_type or draft.share_type,
            item.open_type or draft.open_type,
            item.description.strip(),
            effective_grade(item.grade, grade),
            effective_level(item.data_level, item.open_type or draft.open_type, level),
            item.at_rest or AtRest.PLAIN,
        )
        for position, item in enumerate(draft.items, start=1)
    ]


def _apply_draft(resource: Resource, resolved: ResolvedDraft) -> list[Item]:
    _fill_resource(resource, resolved)
    items = [
        Item(resource=resource, **dict(zip(_ITEM_FIELDS, values, strict=True)))
        for values in _item_values(resolved.draft)
    ]
    resource.search_tokens = document_tokens(resource.name, resource.summary, (i.name for i in items))
    return items


def _write_version(
    resource: Resource, items: list[Item], action: str, actor: User | None, note: str = ""
) -> ResourceVersion:
    previous = resource.versions.order_by("-number").first() if resource.pk else None
    after = history.snapshot(resource, items)
    return ResourceVersion.objects.create(
        resource=resource,
        number=resource.version,
        action=action,
        snapshot=after,
        changes=history.diff(previous.snapshot if previous else None, after),
        note=note,
        actor=actor,
        actor_name=actor.get_username() if actor else "system",
    )


@transaction.atomic
def create_resource(draft: ResourceDraft, *, actor: User) -> Resource:
    resolved = _resolve_one(draft)
    if not access.can_catalog_for(actor, resolved.department.pk):
        raise PermissionDenied("只能为本部门编目")
    resource = Resource(created_by=actor, status=ReviewStatus.DRAFT, version=1)
    items = _apply_draft(resource, resolved)
    if draft.code:
        _claim_codes([draft.code])
        resource.code = draft.code
    else:
        resource.code = _next_code(resolved.category.code_prefix)
    resource.save()
    Item.objects.bulk_create(items)
    _write_version(resource, items, VersionAction.CREATE, actor)
    record_action(actor, "catalog.resource.create", resource, code=resource.code)
    duplicates.record_duplicates([resource.pk])
    return resource


@transaction.atomic
def create_resources(resolved: Sequence[ResolvedDraft], *, actor: User, batch_note: str = "") -> list[Resource]:
    """Create many drafts in bulk (Excel import); the caller has checked the rules and holds the transaction."""
    for department_id in {r.department.pk for r in resolved}:
        if not access.can_catalog_for(actor, department_id):
            raise PermissionDenied("只能为本部门编目")
    explicit = [r.draft.code for r in resolved if r.draft.code]
    _claim_codes(explicit)
    needing: dict[str, list[int]] = {}
    for index, r in enumerate(resolved):
        if not r.draft.code:
            needing.setdefault(r.category.code_prefix, []).append(index)
    codes: dict[int, str] = {}
    for prefix, indexes in needing.items():
        codes.update(zip(indexes, allocate_codes(prefix, len(indexes), reserved=explicit), strict=True))

    # Plain INSERTs of tuples (govshare.core.bulk): an import of 20,000 entries with 100,000 items would spend
    # most of its time building model instances and in bulk_create. Only the resources are model instances.
    resources: list[Resource] = []
    all_items: list[list[ItemValues]] = []
    for index, r in enumerate(resolved):
        resource = Resource(created_by=actor, status=ReviewStatus.DRAFT, version=1)
        _fill_resource(resource, r)
        resource.code = r.draft.code or codes[index]
        resources.append(resource)
        all_items.append(_item_values(r.draft))
    # The version snapshots and audit labels need no primary key: they are built while the tokens are segmented.
    snapshots: list[dict[str, object]] = []
    labels: list[str] = []

    def snapshots_and_labels() -> None:
        for resource, items in zip(resources, all_items, strict=True):
            snapshot = history.snapshot(resource, [])
            snapshot["items"] = [
                {
                    "name": name,
                    "data_type": data_type,
                    "length": length,
                    "share_type": share_type,
                    "open_type": open_type,
                    "description": description,
                    "grade": grade,
                    "data_level": data_level,
                    "at_rest": at_rest,
                }
                for _, name, data_type, length, share_type, open_type, description, grade, data_level, at_rest in items
            ]
            snapshots.append(snapshot)
            labels.append(str(resource)[:255])

    tokens = documents_tokens(
        [
            (resource.name, resource.summary, [item[1] for item in items])
            for resource, items in zip(resources, all_items, strict=True)
        ],
        meanwhile=snapshots_and_labels,
    )
    for resource, resource_tokens in zip(resources, tokens, strict=True):
        resource.search_tokens = resource_tokens
    # On SQLite the full-text index's insert trigger costs 75 µs a row; the import indexes its rows in one
    # statement instead, in the same transaction (searchable as soon as it commits).
    with bulk.sqlite_trigger_suspended(f"{FTS_TABLE}_insert") as index_here:
        bulk.insert_rows(resources)
        ids = bulk.pk_by(Resource, "code", [resource.code for resource in resources])
        for resource in resources:
            resource.pk = ids[resource.code]
        if index_here:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {FTS_TABLE}(rowid, search_tokens) VALUES (%s, %s)",  # noqa: S608 (a constant)
                    [(resource.pk, resource.search_tokens) for resource in resources],
                )
    bulk.insert_tuples(
        Item,
        ("resource_id", *_ITEM_FIELDS),
        [(resource.pk, *item) for resource, items in zip(resources, all_items, strict=True) for item in items],
    )
    name = actor.get_username()
    action = VersionAction.IMPORT.value
    bulk.insert_tuples(
        ResourceVersion,
        ("resource_id", "snapshot"),
        [(resource.pk, snapshot) for resource, snapshot in zip(resources, snapshots, strict=True)],
        same={
            "number": 1,
            "action": action,
            "changes": [],
            "note": batch_note,
            "actor_id": actor.pk,
            "actor_name": name,
        },
    )
    record_actions(
        actor,
        "catalog.resource.import",
        [
            AuditTarget("catalog.resource", str(resource.pk), label)
            for resource, label in zip(resources, labels, strict=True)
        ],
        note=batch_note,
    )
    duplicates.record_duplicates(
        [resource.pk for resource in resources],
        item_names={
            resource.pk: [item[1] for item in items] for resource, items in zip(resources, all_items, strict=True)
        },
    )
    return resources


def _refusal(actor: User, resource: Resource, message: str) -> DomainError:
    """An entry outside the user's scope answers 404; one in scope that the user may not change, 403."""
    return NotFound() if not access.can_view(actor, resource) else PermissionDenied(message)


def _locked(resource: Resource) -> Resource:
    """Re-read the resource under a row lock so that concurrent transitions cannot interleave."""
    return Resource.objects.select_for_update().select_related("category", "department").get(pk=resource.pk)


@transaction.atomic
def update_resource(resource: Resource, draft: ResourceDraft, *, actor: User) -> Resource:
    resource = _locked(resource)
    if not access.can_edit(actor, resource):
        raise _refusal(actor, resource, gettext("只能修改本部门的资源"))
    if resource.status != ReviewStatus.DRAFT:
        raise Conflict(
            gettext("只有草稿可以修改，当前状态为“%(label)s”") % {"label": gettext(ReviewStatus(resource.status).label)}
        )
    resolved = checked_edit(resource, draft, actor=actor)
    items = _apply_draft(resource, resolved)
    resource.version += 1
    resource.save()
    resource.items.all().delete()
    Item.objects.bulk_create(items)
    version = _write_version(resource, items, VersionAction.UPDATE, actor)
    record_action(actor, "catalog.resource.update", resource, changes=len(version.changes))
    duplicates.record_duplicates([resource.pk])
    return resource


def checked_edit(resource: Resource, draft: ResourceDraft, *, actor: User) -> ResolvedDraft:
    """An edit of `resource` (a draft, or a change request of a published entry) checked against the rules: the
    code and class are fixed, the department too (but for the platform administrator), and the grades of a
    once-published entry change only through a grading change. Blank grades, levels and storage keep the entry's."""
    if draft.code and draft.code != resource.code:
        raise ValidationFailed([FieldProblem("code", gettext("信息资源代码生成后不可修改"))])
    draft.code = ""
    # A draft that leaves the grade or level blank keeps the entry's (API clients from before grading); so do the
    # items of a once-published entry, whose grades change only through a grading change.
    draft.grade = draft.grade or resource.grade
    draft.data_level = draft.data_level or resource.data_level
    current_items = list(resource.items.all())
    # An item whose storage is not given keeps it (API clients from before encryption at rest).
    stored_as = {item.name: item.at_rest for item in current_items}
    for item in draft.items:
        item.at_rest = item.at_rest or stored_as.get(item.name.strip(), "")
    if resource.published_on is not None:
        by_name = {item.name: item for item in current_items}
        for item in draft.items:
            if existing := by_name.get(item.name.strip()):
                item.grade = item.grade or existing.grade
                item.data_level = item.data_level or existing.data_level
    if grading_problems := grading_edit_problems(resource, current_items, draft):
        raise ValidationFailed(grading_problems)
    resolved = _resolve_one(draft)
    if resolved.department.pk != resource.department_id and not actor.is_platform_admin:
        raise ValidationFailed([FieldProblem("department_code", gettext("不能把资源改到其他部门"))])
    if resolved.category.code_prefix != resource.code.split("/")[0]:
        raise ValidationFailed([FieldProblem("category_code", gettext("分类决定资源代码，生成后不可改为其他分类"))])
    return resolved


# ---------------------------------------------------------------------------------------------- review workflow
# Every action is taken by the table in govshare.catalog.workflow, for one entry or many.


def _checked_reason(step: Transition, reason: str) -> str:
    """The reason an action records (its version note): required and stripped for the actions that take one."""
    if not step.reason_required:
        return ""
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", step.reason_required)])
    return reason.strip()


@transaction.atomic
def take_action(action: str, resource: Resource, *, actor: User, reason: str = "") -> Resource:
    """Take one workflow action (a key of TRANSITIONS) on one entry, re-read under a row lock."""
    step = TRANSITIONS[action]
    resource = _locked(resource)
    if not step.who.may(actor, resource):
        raise _refusal(actor, resource, step.refusal)
    note = _checked_reason(step, reason)
    return _transition_many([resource], step, actor=actor, note=note)[0]


@transaction.atomic
def take_action_many(
    action: str,
    resources: Sequence[Resource],
    *,
    actor: User,
    reason: str = "",
    published_on: dt.date | None = None,
) -> list[Resource]:
    """Take one workflow action on many entries in one transaction (all or none). An action only the platform
    administrator may take is refused to anyone else for the whole batch, before any entry is read.

    `published_on` (发布日期, publishing only) defaults to today; a catalogue migrated from an earlier system keeps
    its original publication date, which may not be in the future.
    """
    step = TRANSITIONS[action]
    if step.who is Who.REVIEWER and not access.can_review(actor):
        raise PermissionDenied(step.refusal)
    for resource in resources:
        if not step.who.may(actor, resource):
            raise _refusal(actor, resource, step.refusal)
    note = _checked_reason(step, reason)
    if published_on is not None:
        if not step.stamps_publication:
            raise ValueError(f"{step.action.value} sets no publication date")
        if published_on > timezone.localdate():
            raise ValidationFailed([FieldProblem("published_on", gettext("发布日期不能晚于今天"))])
    return _transition_many(resources, step, actor=actor, note=note, published_on=published_on)


def _transition_many(
    resources: Sequence[Resource],
    step: Transition,
    *,
    actor: User,
    note: str = "",
    published_on: dt.date | None = None,
) -> list[Resource]:
    """Move entries by one step of the workflow: the state guard, a version with its diff and an audit row for
    each, written with a few bulk queries whatever the number of entries."""
    ids = list(dict.fromkeys(r.pk for r in resources))
    locked: dict[int, Resource] = {}
    items: dict[int, list[Item]] = {pk: [] for pk in ids}
    previous: dict[int, ResourceVersion] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        locked.update(
            (r.pk, r)
            for r in Resource.objects.select_for_update().select_related("category", "department").filter(pk__in=chunk)
        )
        for item in Item.objects.filter(resource_id__in=chunk).order_by("resource_id", "position"):
            items[item.resource_id].append(item)
        for version in ResourceVersion.objects.filter(resource_id__in=chunk).order_by("resource_id", "-number"):
            previous.setdefault(version.resource_id, version)
    today = published_on or timezone.localdate()
    now = timezone.now()
    reason = {"record": note, "clear": "", "keep": None}[step.rejection_reason]
    name = actor.get_username()
    changed: list[Resource] = []
    versions: list[ResourceVersion] = []
    for pk in ids:
        resource = locked.get(pk)
        if resource is None:
            raise NotFound()
        if resource.status not in step.sources:
            current = ReviewStatus(resource.status).label
            raise Conflict(
                gettext("资源“%(code)s”当前状态为“%(current)s”，不能执行“%(action_label)s”")
                % {"code": resource.code, "current": gettext(current), "action_label": gettext(step.action.label)}
            )
        resource.status = step.target
        resource.version += 1
        if reason is not None:
            resource.rejection_reason = reason
        resource.updated_at = now
        if step.stamps_publication:
            resource.published_on = today
        after = history.snapshot(resource, items[pk])
        before = previous.get(pk)
        versions.append(
            ResourceVersion(
                resource=resource,
                number=resource.version,
                action=step.action,
                snapshot=after,
                changes=history.diff(before.snapshot if before else None, after),
                note=note,
                actor=actor,
                actor_name=name,
            )
        )
        changed.append(resource)
    # Every row changes the same way (and each version by one), so one UPDATE per chunk does it.
    values: dict[str, object] = {"status": step.target, "version": F("version") + 1, "updated_at": now}
    if reason is not None:
        values["rejection_reason"] = reason
    if step.stamps_publication:
        values["published_on"] = today
    for start in range(0, len(ids), 500):
        Resource.objects.filter(pk__in=ids[start : start + 500]).update(**values)
    ResourceVersion.objects.bulk_create(versions, batch_size=1000)
    record_actions(actor, step.audit_action, changed, note=note, status=step.target)
    notices.review_decided(step.action, changed, note=note, actor=actor)  # the department hears of its entries
    return changed


def submit_resource(resource: Resource, *, actor: User) -> Resource:
    return take_action(VersionAction.SUBMIT, resource, actor=actor)


def publish_resource(resource: Resource, *, actor: User) -> Resource:
    return take_action(VersionAction.PUBLISH, resource, actor=actor)


def reject_resource(resource: Resource, *, reason: str, actor: User) -> Resource:
    return take_action(VersionAction.REJECT, resource, actor=actor, reason=reason)


def withdraw_resource(resource: Resource, *, reason: str, actor: User) -> Resource:
    return take_action(VersionAction.WITHDRAW, resource, actor=actor, reason=reason)


def recall_resource(resource: Resource, *, actor: User) -> Resource:
    """A submission not yet reviewed goes back to draft (撤回提交)."""
    return take_action(VersionAction.RECALL, resource, actor=actor)


def reopen_resource(resource: Resource, *, actor: User) -> Resource:
    """A withdrawn entry goes back to draft so that its department can revise and resubmit it."""
    return take_action(VersionAction.REOPEN, resource, actor=actor)


def submit_resources(resources: Sequence[Resource], *, actor: User) -> list[Resource]:
    """Submit many drafts for review in one transaction (all or none)."""
    return take_action_many(VersionAction.SUBMIT, resources, actor=actor)


def publish_resources(
    resources: Sequence[Resource], *, actor: User, published_on: dt.date | None = None
) -> list[Resource]:
    """Publish many submitted entries in one transaction (all or none), on `published_on` (default today)."""
    return take_action_many(VersionAction.PUBLISH, resources, actor=actor, published_on=published_on)


# ---------------------------------------------------------------------------------------------- grading


class Regrading(Protocol):
    """New values a grading decision gives an entry (any of grade, data_level, open_type, open_condition) and its
    items by name (any of grade, data_level, open_type). An item named with no values is written unchanged."""

    @property
    def resource(self) -> Mapping[str, str]: ...

    @property
    def items(self) -> Mapping[str, Mapping[str, str]]: ...


R = TypeVar("R", bound=Regrading)
_REGRADED_RESOURCE_FIELDS = ("grade", "data_level", "open_type", "open_condition")
_REGRADED_ITEM_FIELDS = ("grade", "data_level", "open_type")


def apply_grading(
    resource_id: int, decide: Callable[[Resource, list[Item]], R], *, note: str, actor: User
) -> tuple[Resource, R]:
    """Apply a grading decision to an entry, in the caller's transaction: the entry is re-read under a row lock
    with its items, `decide` answers the new values from them (or raises to refuse), and they are written with a
    version (分级调整, `note`). The caller records the decision's audit row."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("apply_grading must run inside the caller's transaction")
    resource = Resource.objects.select_for_update().select_related("category", "department").get(pk=resource_id)
    items = list(Item.objects.filter(resource=resource).order_by("position"))
    regrading = decide(resource, items)
    unknown = set(regrading.resource) - set(_REGRADED_RESOURCE_FIELDS)
    unknown |= {name for values in regrading.items.values() for name in values} - set(_REGRADED_ITEM_FIELDS)
    if unknown:
        raise ValueError(f"grading does not change {sorted(unknown)}")
    for name, value in regrading.resource.items():
        setattr(resource, name, value)
    changed_items = []
    for item in items:
        if item.name in regrading.items:
            for name, value in regrading.items[item.name].items():
                setattr(item, name, value)
            changed_items.append(item)
    resource.version += 1
    resource.save(update_fields=[*_REGRADED_RESOURCE_FIELDS, "version", "updated_at"])
    if changed_items:
        Item.objects.bulk_update(changed_items, list(_REGRADED_ITEM_FIELDS))
    _write_version(resource, items, VersionAction.REGRADE, actor, note)
    return resource, regrading


@transaction.atomic
def delete_resource(resource: Resource, *, actor: User) -> None:
    """Delete a never-published draft; its code is retired so that it is never handed out again."""
    resource = _locked(resource)
    if not access.can_edit(actor, resource):
        raise _refusal(actor, resource, gettext("只能删除本部门的资源"))
    if resource.status != ReviewStatus.DRAFT or resource.published_on is not None:
        raise Conflict("只有从未发布过的草稿可以删除；已发布的资源请下线")
    RetiredResourceCode.objects.create(code=resource.code, name=resource.name)
    record_action(actor, "catalog.resource.delete", resource, code=resource.code)
    resource.delete()
