"""Resource pages: detail (with its workflow actions, version history and the panels apps add), create and edit.

Views only parse input and call selectors and services; domain errors become Chinese messages or errors next
to the field they name, and an object outside the user's scope answers 404."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.catalog import access, selectors, services, workflow
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.forms import (
    ItemFormSet,
    ResourceForm,
    item_initial,
    kept_item_forms,
    place_problems,
)
from govshare.catalog.models import Resource, ResourceVersion
from govshare.core.errors import DomainError, NotFound, ValidationFailed

ITEMS_PREFIX = "items"


def signed_in_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required guarantees a real account
    return user


def resource_or_404(user: User, resource_id: int) -> Resource:
    try:
        return selectors.get_resource(user, resource_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def allowed_actions(user: User, resource: Resource) -> set[str]:
    """The buttons this user may press on this resource in its current state: editing and deleting a draft, and
    the workflow actions its table allows."""
    actions = set(workflow.allowed_actions(resource, user))
    if resource.status == ReviewStatus.DRAFT and access.can_edit(user, resource):
        actions.add("edit")
        if resource.published_on is None:
            actions.add("delete")
    if resource.status == ReviewStatus.PUBLISHED and access.can_edit(user, resource):
        actions.add("revise")  # 编辑 a published entry: a change request, the entry stays published meanwhile
    return actions


def _versions(user: User, resource: Resource) -> list[ResourceVersion] | None:
    """Version history for the owning department and the platform administrator; None for everyone else."""
    try:
        return list(selectors.resource_versions(user, resource).select_related("actor"))
    except NotFound:
        return None


@login_required
def resource_detail(request: HttpRequest, resource_id: int) -> HttpResponse:
    user = signed_in_user(request)
    try:
        resource = selectors.get_resource(user, resource_id)
    except NotFound as exc:
        # A bookmark of an entry the user could see before it went offline says so (410) rather than "not found";
        # anyone else gets the same 404 as for an entry that never existed.
        offline = selectors.offline_resource(user, resource_id)
        if offline is None:
            raise Http404(exc.message) from exc
        gone: dict[str, object] = {"resource": offline[0], "withdrawal": offline[1]}
        return render(request, "catalog/offline.html", gone, status=410)
    # The panels other apps add between the items and the history (govshare.core.panels) render in the template.
    context: dict[str, object] = {
        "resource": resource,
        "items": list(resource.items.all()),
        "actions": allowed_actions(user, resource),
        "versions": _versions(user, resource),
        "revision": selectors.open_revision(user, resource),
        "withdrawal": selectors.withdrawal(resource),
    }
    return render(request, "catalog/detail.html", context)


@login_required
def withdraw_confirm(request: HttpRequest, resource_id: int) -> HttpResponse:
    """下线 asks first: this page says what taking the entry offline does and takes the reason; its form posts to the
    withdraw action (POST only)."""
    user = signed_in_user(request)
    resource = resource_or_404(user, resource_id)
    if "withdraw" not in allowed_actions(user, resource):
        if not access.can_edit(user, resource) and not access.can_review(user):
            raise DjangoPermissionDenied(_("无权下线该资源"))
        messages.error(request, _("只有已发布的资源可以下线"))
        return redirect("catalog:detail", resource.pk)
    return render(request, "catalog/withdraw_confirm.html", {"resource": resource})


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def _run_action(action: str, resource: Resource, user: User, reason: str) -> str:
    """Call the service of one workflow action; answer the success message."""
    steps: dict[str, tuple[Callable[[], object], str]] = {
        "submit": (lambda: services.submit_resource(resource, actor=user), _("已提交审核")),
        "publish": (lambda: services.publish_resource(resource, actor=user), _("已审核通过并发布")),
        "reject": (lambda: services.reject_resource(resource, reason=reason, actor=user), _("已驳回，资源退回草稿")),
        "withdraw": (lambda: services.withdraw_resource(resource, reason=reason, actor=user), _("已下线")),
        "reopen": (lambda: services.reopen_resource(resource, actor=user), _("已转为草稿，可重新编辑")),
        "recall": (lambda: services.recall_resource(resource, actor=user), _("已撤回提交，资源退回草稿")),
        "delete": (lambda: services.delete_resource(resource, actor=user), _("草稿已删除，其代码不再使用")),
    }
    if action not in steps:
        raise Http404(_("没有这个操作"))
    call, done = steps[action]
    call()
    return done


@login_required
@require_POST
def resource_action(request: HttpRequest, resource_id: int, action: str) -> HttpResponse:
    user = signed_in_user(request)
    resource = resource_or_404(user, resource_id)
    detail_url = reverse("catalog:detail", args=[resource.pk])
    try:
        done = _run_action(action, resource, user, request.POST.get("reason", ""))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(_safe_next(request, detail_url))
    messages.success(request, f"{resource.code} {resource.name}：{done}")
    if action == "delete":
        return redirect(_safe_next(request, reverse("catalog:browse")))
    return redirect(_safe_next(request, detail_url))


def _may_catalog(user: User) -> bool:
    return user.is_platform_admin or (user.has_role(Role.CATALOG_ADMIN) and user.department_id is not None)


def _with_extra_row(data: QueryDict) -> QueryDict:
    """The posted form with one more empty item row (the "添加信息项" button without JavaScript)."""
    data = data.copy()
    key = f"{ITEMS_PREFIX}-TOTAL_FORMS"
    try:
        data[key] = str(int(data.get(key, "0")) + 1)
    except ValueError:
        data[key] = "1"
    return data


def _edit_page(request: HttpRequest, user: User, resource: Resource | None) -> HttpResponse:
    initial = (
        ResourceForm.initial_for(resource) if resource else {"department_code": getattr(user.department, "code", "")}
    )
    if request.method == "POST":
        data = _with_extra_row(request.POST) if "add_item" in request.POST else request.POST
        form = ResourceForm(data, user=user, resource=resource, initial=initial)
        formset = ItemFormSet(data, prefix=ITEMS_PREFIX)
        if "add_item" not in request.POST and form.is_valid() and formset.is_valid():
            item_forms = kept_item_forms(formset)
            draft = form.to_draft([f.to_item() for f in item_forms])
            try:
                if resource is None:
                    saved = services.create_resource(draft, actor=user)
                    messages.success(request, _("已创建草稿 %(code)s") % {"code": saved.code})
                else:
                    saved = services.update_resource(resource, draft, actor=user)
                    messages.success(request, _("已保存修改（第 %(v)d 版）") % {"v": saved.version})
                return redirect("catalog:detail", saved.pk)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except ValidationFailed as exc:
                form.add_error(None, _("保存未成功，请按提示修改后重新提交。"))
                place_problems(exc.problems, form, item_forms, formset)
            except DomainError as exc:
                form.add_error(None, str(exc))
    else:
        form = ResourceForm(user=user, resource=resource, initial=initial)
        formset = ItemFormSet(prefix=ITEMS_PREFIX, initial=item_initial(resource) if resource else None)
    return render(request, "catalog/edit.html", {"form": form, "formset": formset, "resource": resource})


@login_required
def resource_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not _may_catalog(user):
        raise DjangoPermissionDenied(_("只有部门目录管理员可以新建资源"))
    return _edit_page(request, user, None)


@login_required
def resource_edit(request: HttpRequest, resource_id: int) -> HttpResponse:
    user = signed_in_user(request)
    resource = resource_or_404(user, resource_id)
    if not access.can_edit(user, resource):
        raise DjangoPermissionDenied(_("只能修改本部门的资源"))
    if resource.status != ReviewStatus.DRAFT:
        messages.error(request, _("只有草稿可以修改，当前状态为“%(s)s”") % {"s": resource.get_status_display()})
        return redirect("catalog:detail", resource.pk)
    return _edit_page(request, user, resource)
