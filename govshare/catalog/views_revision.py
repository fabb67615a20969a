"""Pages of change requests (变更) of published entries: the revision form (编辑 on a published entry), the revision
page with its difference from the published entry and its effects on other apps, and its actions."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govshare.accounts.models import User
from govshare.catalog import access, revisions, selectors
from govshare.catalog.choices import ReviewStatus, RevisionState
from govshare.catalog.forms import (
    ItemFormSet,
    ResourceForm,
    content_initial,
    item_initial,
    kept_item_forms,
    place_problems,
)
from govshare.catalog.models import Resource, ResourceRevision
from govshare.catalog.views_resource import ITEMS_PREFIX, _with_extra_row, resource_or_404, signed_in_user
from govshare.core.errors import DomainError, NotFound, ValidationFailed


def _revision_or_404(user: User, resource: Resource) -> ResourceRevision:
    revision = selectors.open_revision(user, resource)
    if revision is None:
        raise Http404(_("该资源没有进行中的变更申请"))
    return revision


@login_required
def revision_edit(request: HttpRequest, resource_id: int) -> HttpResponse:
    user = signed_in_user(request)
    resource = resource_or_404(user, resource_id)
    if not access.can_edit(user, resource):
        raise DjangoPermissionDenied(_("只有资源所属部门的目录管理员可以申请变更"))
    if resource.status != ReviewStatus.PUBLISHED:
        messages.error(request, _("只有已发布的资源可以申请变更"))
        return redirect("catalog:detail", resource.pk)
    revision = selectors.open_revision(user, resource)
    if revision is not None and revision.state == RevisionState.SUBMITTED:
        messages.error(request, _("变更申请已提交审核，不能修改；如需修改请先撤回"))
        return redirect("catalog:revision", resource.pk)
    if revision is not None:
        initial, items_initial = content_initial(revision.content)
    else:
        initial, items_initial = ResourceForm.initial_for(resource), item_initial(resource)
    if request.method == "POST":
        data = _with_extra_row(request.POST) if "add_item" in request.POST else request.POST
        form = ResourceForm(data, user=user, resource=resource, initial=initial)
        formset = ItemFormSet(data, prefix=ITEMS_PREFIX)
        if "add_item" not in request.POST and form.is_valid() and formset.is_valid():
            item_forms = kept_item_forms(formset)
            draft = form.to_draft([f.to_item() for f in item_forms])
            try:
                revisions.save_revision(resource, draft, actor=user)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except ValidationFailed as exc:
                form.add_error(None, _("保存未成功，请按提示修改后重新提交。"))
                place_problems(exc.problems, form, item_forms, formset)
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已保存变更申请；已发布的版本在审核通过前保持不变"))
                return redirect("catalog:revision", resource.pk)
    else:
        form = ResourceForm(user=user, resource=resource, initial=initial)
        formset = ItemFormSet(prefix=ITEMS_PREFIX, initial=items_initial)
    context = {"form": form, "formset": formset, "resource": resource, "revision_mode": True}
    return render(request, "catalog/edit.html", context)


@login_required
def revision_detail(request: HttpRequest, resource_id: int) -> HttpResponse:
    user = signed_in_user(request)
    resource = resource_or_404(user, resource_id)
    revision = _revision_or_404(user, resource)
    may_edit = access.can_edit(user, resource)
    may_review = access.can_review(user)
    context = {
        "resource": resource,
        "revision": revision,
        "changes": revisions.revision_changes(revision),
        "effects": revisions.revision_effects(revision),
        "may_edit": may_edit and revision.state != RevisionState.SUBMITTED,
        "may_submit": may_edit and revision.state in (RevisionState.DRAFT, RevisionState.REJECTED),
        "may_withdraw": may_edit,
        "may_review": may_review and revision.state == RevisionState.SUBMITTED,
    }
    return render(request, "catalog/revision.html", context)


@login_required
@require_POST
def revision_action(request: HttpRequest, resource_id: int, action: str) -> HttpResponse:
    user = signed_in_user(request)
    resource = resource_or_404(user, resource_id)
    reason, note = request.POST.get("reason", ""), request.POST.get("note", "")
    steps: dict[str, tuple[Callable[[], object], str]] = {
        "submit": (lambda: revisions.submit_revision(resource, actor=user), _("变更申请已提交审核")),
        "withdraw": (lambda: revisions.withdraw_revision(resource, reason=reason, actor=user), _("变更申请已撤回")),
        "approve": (
            lambda: revisions.approve_revision(resource, note=note, actor=user),
            _("变更申请已通过，已发布的资源已更新"),
        ),
        "reject": (
            lambda: revisions.reject_revision(resource, reason=reason, actor=user),
            _("变更申请已驳回，已发布的资源保持不变"),
        ),
    }
    if action not in steps:
        raise Http404(_("没有这个操作"))
    call, done = steps[action]
    try:
        call()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("catalog:revision", resource.pk)
    messages.success(request, f"{resource.code} {resource.name}：{done}")
    if action == "submit":
        return redirect("catalog:revision", resource.pk)
    return redirect("catalog:detail", resource.pk)
