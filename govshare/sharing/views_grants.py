"""Grant pages: the grants that concern the user (我的授权 for a consumer department, 本部门数据的授权 for a
provider: who uses its data, for which scenario, through which system; all for the coordinator, the platform
administrator and the auditor, who only reads), one grant with its revoke and confirm actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govshare.accounts.acting import acting_user
from govshare.accounts.models import User
from govshare.core.authz import permits
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.core.masking import MaskRule
from govshare.core.nostore import no_store
from govshare.core.pagination import page_number, paginate
from govshare.core.roles import Role
from govshare.datasets import scopes
from govshare.sharing import grants
from govshare.sharing.access import CONFIRM, REVOKE
from govshare.sharing.models import Grant

SIDES = ("consumer", "provider", "all")
RULE_LABELS: dict[str, str] = {
    MaskRule.ID_NUMBER: "证件号（保留前 6 后 4 位）",
    MaskRule.MOBILE: "手机号（保留前 3 后 4 位）",
    MaskRule.NAME: "姓名（保留姓）",
    MaskRule.ADDRESS: "地址（保留到区县）",
    MaskRule.BANK_CARD: "银行卡号（保留后 4 位）",
    MaskRule.TEXT: "文本（保留首尾字）",
    MaskRule.WITHHOLD: "不提供",
}


def _grant(user: User, grant_id: int) -> Grant:
    try:
        return grants.get_grant(user, grant_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _sides(user: User) -> list[str]:
    """The tabs the user has: its department's grants as consumer and as provider; all of them for those who see
    every grant."""
    sides = ["consumer", "provider"] if user.department_id is not None else []
    if user.has_role(Role.COORDINATOR, Role.PLATFORM_ADMIN, Role.AUDITOR):
        sides.append("all")
    return sides


@login_required
@no_store
def grant_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    sides = _sides(user)
    if not sides:
        raise Http404(_("没有与您相关的共享授权"))
    side = request.GET.get("side", "")
    if side not in sides:
        side = sides[0]
    today = scopes.clock()
    page = paginate(
        grants.grants_for(user, side="" if side == "all" else side).prefetch_related("scenario__systems"),
        page_number(request.GET.get("page")),
        None,
    )
    rows = [(grant, grants.as_row(grant, today)) for grant in page.items]
    context = {"page": page, "rows": rows, "side": side, "sides": sides, "today": today}
    return render(request, "sharing/grant_list.html", context)


def _masking_rows(grant: Grant) -> list[dict[str, Any]]:
    granted, masking = grants.scope_terms(grant)
    return [
        {
            "item": name,
            "granted": name in granted,
            "rule": RULE_LABELS.get(masking.get(name, ""), _("不脱敏")),
            "stricter": name in grant.masking,
        }
        for name in grant.items
    ]


@login_required
@no_store
def grant_detail(request: HttpRequest, grant_id: int) -> HttpResponse:
    user = acting_user(request)
    grant = _grant(user, grant_id)
    today = scopes.clock()
    figures = grants.as_row(grant, today)
    may_read = figures["active"] and any(g.pk == grant.pk for g in grants.usable_grants(user, grant.resource, today))
    context = {
        "grant": grant,
        "figures": figures,
        "systems": list(grant.scenario.systems.all()),
        "masking_rows": _masking_rows(grant),
        "may_revoke": grant.status == "active" and permits(user, REVOKE, grant),
        "may_confirm": figures["active"] and permits(user, CONFIRM, grant),
        "may_read": may_read,
    }
    return render(request, "sharing/grant_detail.html", context)


@login_required
@require_POST
def grant_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    user = acting_user(request)
    grant = _grant(user, grant_id)
    try:
        grants.revoke_grant(grant, actor=user, reason=request.POST.get("reason", ""))
    except PermissionDenied as exc:
        messages.error(request, exc.text)
    except ValidationFailed as exc:
        messages.error(request, "；".join(problem.message for problem in exc.problems))
    except Conflict as exc:
        messages.error(request, exc.text)
    else:
        messages.success(request, _("已撤销授权，使用部门的下一次访问即被拒绝"))
    return redirect("sharing:grant_detail", grant.pk)


@login_required
@require_POST
def grant_confirm(request: HttpRequest, grant_id: int) -> HttpResponse:
    user = acting_user(request)
    grant = _grant(user, grant_id)
    try:
        confirmed = grants.confirm_grant(grant, actor=user, note=request.POST.get("note", ""))
    except (PermissionDenied, Conflict) as exc:
        messages.error(request, exc.text)
    else:
        due = grants.review_due_on(confirmed)
        messages.success(request, _("已复核确认，下次复核期限为 %(due)s") % {"due": due.isoformat()})
    return redirect("sharing:grant_detail", grant.pk)
