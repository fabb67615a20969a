"""Change requests (变更) of published entries: every write, in one transaction each with its audit row.

A department edits a revision of a published entry while the published entry stays as it is (visible to consumers,
search and the API); the platform administrator approves it (it replaces the entry as ONE version, action 变更,
with its diff) or rejects it with a reason (the entry is unchanged; the department may edit the revision again);
the department may withdraw it. Grades and levels of the entry and of its existing items are never taken from a
revision: they change only through a grading change decided by the security officer (govshare.grading)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop, pgettext_lazy

from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog import access, duplicates, effects, history
from govshare.catalog.choices import OPEN_REVISION_STATES, ReviewStatus, RevisionState, VersionAction
from govshare.catalog.models import Item, Resource, ResourceRevision
from govshare.catalog.rules import ItemDraft, ResourceDraft, tightened_open_type
from govshare.catalog.services import _apply_draft, _locked, _write_version, checked_edit
from govshare.core.errors import Conflict, FieldProblem, NotFound, PermissionDenied, ValidationFailed

StrOrPromise = str | Promise
NOT_FOUND = gettext_noop("信息资源不存在或无权访问")
NO_REVISION = gettext_noop("该资源没有进行中的变更申请")
# The steps a refusal names ("… cannot be submitted"), as verbs of its sentence.
_STEPS = {
    "提交审核": pgettext_lazy("变更申请的步骤", "提交审核"),
    "撤回": pgettext_lazy("变更申请的步骤", "撤回"),
    "驳回": pgettext_lazy("变更申请的步骤", "驳回"),
    "审核通过": pgettext_lazy("变更申请的步骤", "审核通过"),
}


def draft_from_content(content: dict[str, Any]) -> ResourceDraft:
    """The draft a revision's content (a version snapshot) stands for, to check and apply it again."""
    return ResourceDraft(
        name=content["name"],
        category_code=content["category"],
        department_code=content["department"],
        summary=content["summary"],
        format=content["format"],
        sub_format=content.get("sub_format", ""),
        share_type=content["share_type"],
        share_condition=content.get("share_condition", ""),
        share_basis=content.get("share_basis", ""),
        share_method=content.get("share_method", ""),
        platform_share_type=content.get("platform_share_type", ""),
        open_type=content["open_type"],
        open_condition=content.get("open_condition", ""),
        update_cycle=content["update_cycle"],
        related_codes=list(content.get("related_codes") or []),
        extension=dict(content.get("extension") or {}),
        grade=content.get("grade", ""),
        data_level=content.get("data_level", ""),
        items=[
            ItemDraft(
                name=item["name"],
                data_type=item["data_type"],
                length=item.get("length"),
                share_type=item.get("share_type", ""),
                open_type=item.get("open_type", ""),
                description=item.get("description", ""),
                grade=item.get("grade", ""),
                data_level=item.get("data_level", ""),
                at_rest=item.get("at_rest", ""),
            )
            for item in content.get("items", [])
        ],
    )


def published_snapshot(resource: Resource) -> dict[str, Any]:
    return history.snapshot(resource, list(Item.objects.filter(resource=resource).order_by("position")))


def revision_changes(revision: ResourceRevision) -> list[dict[str, str]]:
    """The revision's field-by-field difference from the entry as published now, in the reader's language."""
    return history.readable(history.diff(published_snapshot(revision.resource), revision.content))


def revision_effects(revision: ResourceRevision) -> list[effects.Effect]:
    """What approving the revision would break in other apps (mappings, loaded columns …): items it removes or
    retypes that their objects name (govshare.catalog.effects)."""
    changes = effects.item_changes(published_snapshot(revision.resource), revision.content)
    return effects.effects_of(revision.resource, changes)


def _open_revision(resource: Resource) -> ResourceRevision | None:
    return (
        ResourceRevision.objects.select_for_update().filter(resource=resource, state__in=OPEN_REVISION_STATES).first()
    )


def _guarded(resource: Resource, actor: User, *, review: bool = False) -> Resource:
    """The entry re-read under a row lock; 404 outside the actor's view of change requests, 403 when the actor may
    see them but not take this step."""
    resource = _locked(resource)
    if not (access.can_view(actor, resource) and access.can_see_revisions(actor, resource)):
        raise NotFound(NOT_FOUND)
    if review and not access.can_review(actor):
        raise PermissionDenied(gettext_noop("只有平台管理员可以审核变更申请"))
    if not review and not access.can_edit(actor, resource):
        raise PermissionDenied(gettext_noop("只有资源所属部门的目录管理员可以申请变更"))
    return resource


def _proposed_content(resource: Resource, draft: ResourceDraft, actor: User) -> dict[str, Any]:
    """The content of a revision: the draft checked as an edit of the published entry and applied to a copy."""
    resolved = checked_edit(resource, draft, actor=actor)
    # A detached copy: the published entry itself is not touched.
    proposed = Resource(**{field.attname: getattr(resource, field.attname) for field in Resource._meta.concrete_fields})
    items = _apply_draft(proposed, resolved)
    return history.snapshot(proposed, items)


@transaction.atomic
def save_revision(resource: Resource, draft: ResourceDraft, *, actor: User) -> ResourceRevision:
    """Create the entry's change request, or save an edit of its open one (a rejected one becomes a draft again)."""
    resource = _guarded(resource, actor)
    if resource.status != ReviewStatus.PUBLISHED:
        raise Conflict(
            gettext("只有已发布的资源可以申请变更，当前状态为“%(status)s”")
            % {"status": gettext(ReviewStatus(resource.status).label)}
        )
    content = _proposed_content(resource, draft, actor)
    revision = _open_revision(resource)
    if revision is not None and revision.state == RevisionState.SUBMITTED:
        raise Conflict(gettext_noop("变更申请已提交审核，不能修改；如需修改请先撤回"))
    if revision is None:
        try:
            with transaction.atomic():
                revision = ResourceRevision.objects.create(
                    resource=resource,
                    content=content,
                    base_version=resource.version,
                    author=actor,
                    author_name=actor.get_username(),
                )
        except IntegrityError as exc:  # another change request was opened meanwhile
            raise Conflict(gettext_noop("该资源已有一份进行中的变更申请")) from exc
        record_action(actor, "catalog.revision.create", revision, resource=resource.code)
        return revision
    revision.content = content
    revision.base_version = resource.version
    revision.state = RevisionState.DRAFT
    revision.author, revision.author_name = actor, actor.get_username()
    revision.save(update_fields=["content", "base_version", "state", "author", "author_name", "updated_at"])
    record_action(actor, "catalog.revision.update", revision, resource=resource.code)
    return revision


def _require_open(resource: Resource, states: tuple[str, ...], what: StrOrPromise) -> ResourceRevision:
    revision = _open_revision(resource)
    if revision is None:
        raise NotFound(NO_REVISION)
    if revision.state not in states:
        label = gettext(RevisionState(revision.state).label)
        raise Conflict(gettext("变更申请当前状态为“%(state)s”，不能%(what)s") % {"state": label, "what": what})
    return revision


@transaction.atomic
def submit_revision(resource: Resource, *, actor: User) -> ResourceRevision:
    resource = _guarded(resource, actor)
    revision = _require_open(resource, (RevisionState.DRAFT, RevisionState.REJECTED), _STEPS["提交审核"])
    if not revision_changes(revision):
        raise ValidationFailed([FieldProblem("revision", gettext_noop("变更内容与已发布的资源相同，无需提交"))])
    revision.state = RevisionState.SUBMITTED
    revision.submitted_at = timezone.now()
    revision.reason = ""
    revision.save(update_fields=["state", "submitted_at", "reason", "updated_at"])
    record_action(actor, "catalog.revision.submit", revision, resource=resource.code)
    return revision


@transaction.atomic
def withdraw_revision(resource: Resource, *, actor: User, reason: str = "") -> ResourceRevision:
    """The department gives up its change request (a submitted one too, before it is decided)."""
    resource = _guarded(resource, actor)
    revision = _require_open(resource, OPEN_REVISION_STATES, _STEPS["撤回"])
    revision.state = RevisionState.WITHDRAWN
    revision.reason = reason.strip()
    revision.decided_at = timezone.now()
    revision.save(update_fields=["state", "reason", "decided_at", "updated_at"])
    record_action(actor, "catalog.revision.withdraw", revision, resource=resource.code, reason=revision.reason)
    return revision


@transaction.atomic
def reject_revision(resource: Resource, *, reason: str, actor: User) -> ResourceRevision:
    resource = _guarded(resource, actor, review=True)
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", gettext_noop("驳回必须填写理由"))])
    revision = _require_open(resource, (RevisionState.SUBMITTED,), _STEPS["驳回"])
    revision.state = RevisionState.REJECTED
    revision.reason = reason.strip()
    revision.reviewer, revision.reviewer_name = actor, actor.get_username()
    revision.decided_at = timezone.now()
    revision.save(update_fields=["state", "reason", "reviewer", "reviewer_name", "decided_at", "updated_at"])
    record_action(actor, "catalog.revision.reject", revision, resource=resource.code, reason=revision.reason)
    return revision


def _graded_as_published(resource: Resource, draft: ResourceDraft) -> ResourceDraft:
    """The draft with the entry's grade and level and those of its existing items as they are NOW (a grading change
    may have been decided since the revision was saved): blanks, which the edit check fills with the current values.
    Open attributes the current grades no longer allow are tightened, never loosened."""
    current = {item.name: item for item in resource.items.all()}
    draft.grade, draft.data_level = "", ""
    draft.open_type = tightened_open_type(draft.open_type, resource.grade, resource.data_level)
    for item in draft.items:
        existing = current.get(item.name.strip())
        if existing is None:
            continue  # a new item gets its first grade with the change, as with a draft's edit
        item.grade, item.data_level = "", ""
        item.open_type = tightened_open_type(item.open_type or draft.open_type, existing.grade, existing.data_level)
    return draft


@transaction.atomic
def approve_revision(resource: Resource, *, actor: User, note: str = "") -> Resource:
    """The revision replaces the published entry: one version (变更) with its diff; the entry stays published."""
    resource = _guarded(resource, actor, review=True)
    revision = _require_open(resource, (RevisionState.SUBMITTED,), _STEPS["审核通过"])
    if resource.status != ReviewStatus.PUBLISHED:
        raise Conflict(
            gettext("资源当前状态为“%(status)s”，变更申请不能通过，请驳回")
            % {"status": gettext(ReviewStatus(resource.status).label)}
        )
    # A grading change since the revision was saved is kept (below); any other change of the entry since then
    # (an edit after a reopen, a withdrawal and republication) would be silently undone: the department edits the
    # revision again first, which bases it on the entry as it is now.
    meanwhile = (
        resource.versions.filter(number__gt=revision.base_version)
        .exclude(action=VersionAction.REGRADE)
        .order_by("number")
        .first()
    )
    if meanwhile is not None:
        raise Conflict(
            gettext(
                "变更申请基于第 %(base)s 版，资源此后又有“%(action)s”（第 %(number)s 版）："
                "请驳回，由部门重新编辑变更申请后再提交"
            )
            % {
                "base": revision.base_version,
                "action": gettext(VersionAction(meanwhile.action).label),
                "number": meanwhile.number,
            }
        )
    draft = _graded_as_published(resource, draft_from_content(revision.content))
    try:
        resolved = checked_edit(resource, draft, actor=actor)
    except ValidationFailed as exc:
        reasons = gettext("；").join(gettext(problem.message) for problem in exc.problems)
        raise Conflict(
            gettext("变更内容已不符合目录规则，不能通过，请驳回：%(reasons)s") % {"reasons": reasons}
        ) from exc
    items = _apply_draft(resource, resolved)
    resource.version += 1
    resource.save()
    resource.items.all().delete()
    Item.objects.bulk_create(items)
    note = note.strip()
    version = _write_version(
        resource,
        items,
        VersionAction.CHANGE,
        actor,
        (history.REVISION_NOTE_REVIEWED if note else history.REVISION_NOTE)
        % {"revision": revision.pk, "author": revision.author_name, "note": note},
    )
    revision.state = RevisionState.APPROVED
    revision.reviewer, revision.reviewer_name = actor, actor.get_username()
    revision.decided_at = timezone.now()
    revision.save(update_fields=["state", "reviewer", "reviewer_name", "decided_at", "updated_at"])
    record_action(
        actor, "catalog.revision.approve", revision, resource=resource.code, version=version.number, note=note
    )
    duplicates.record_duplicates([resource.pk])
    return resource
