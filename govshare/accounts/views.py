"""The personal API token page: list, create (the raw token is shown once) and revoke; the 三员授权 page where a
holder of one separated role confirms or rejects a proposed grant of another (and a 平台管理员 withdraws one)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from govshare.accounts import selectors, services
from govshare.accounts.acting import acting_user
from govshare.accounts.choices import CONFIRMED_BY, SEPARATED_ROLES, Role, TokenScope
from govshare.core.errors import DomainError, ValidationFailed


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("令牌名称"), required=False, max_length=100)
    scope = forms.ChoiceField(
        label=gettext_lazy("范围"),
        choices=[
            (TokenScope.READ, gettext_lazy("只读：只能读取（GET 接口）")),
            (TokenScope.WRITE, gettext_lazy("读写：与本人账号的权限相同")),
        ],
        initial=TokenScope.READ,
        required=False,
        widget=forms.RadioSelect,
    )
    expires_on = forms.DateField(
        label=gettext_lazy("有效期至"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = settings.GOVSHARE
        self.fields["expires_on"].help_text = _("可选；留空为 %(days)s 天，最长 %(most)s 天") % {
            "days": limits.api_token_days,
            "most": limits.api_token_max_days,
        }

    def clean_scope(self) -> str:
        return str(self.cleaned_data.get("scope") or TokenScope.READ)

    def clean_expires_on(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get("expires_on")
        longest = settings.GOVSHARE.api_token_max_days
        if value is not None and value <= timezone.localdate():
            raise forms.ValidationError(_("有效期应晚于今天"))
        if value is not None and value > timezone.localdate() + dt.timedelta(days=longest):
            raise forms.ValidationError(_("有效期最长 %(most)s 天") % {"most": longest})
        return value

    def expires_at(self) -> dt.datetime | None:
        """The end of the chosen day, but no later than the longest lifetime from now."""
        value: dt.date | None = self.cleaned_data.get("expires_on")
        if value is None:
            return None
        end_of_day = timezone.make_aware(dt.datetime.combine(value, dt.time.max))
        return min(end_of_day, timezone.now() + dt.timedelta(days=settings.GOVSHARE.api_token_max_days))


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    raw_token = ""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw_token = services.create_api_token(
                user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(),
                actor=user,
            )
        except ValidationFailed as exc:
            for problem in exc.problems:
                field = "expires_on" if problem.field == "expires_at" else problem.field
                form.add_error(field if field in form.fields else None, problem.message)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            form = TokenForm()
            messages.success(
                request, _("已创建令牌“%(name)s”。请立即复制保存，离开本页后不再显示。") % {"name": token.name}
            )
    context = {"form": form, "tokens": list(selectors.tokens_of(user)), "raw_token": raw_token, "now": timezone.now()}
    return render(request, "accounts/tokens.html", context)


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    user = acting_user(request)
    token = selectors.tokens_of(user).filter(pk=token_id).first()
    if token is None:
        raise Http404(_("令牌不存在"))
    try:
        services.revoke_api_token(token, actor=user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已吊销令牌“%(name)s”") % {"name": token.name})
    return redirect("accounts:tokens")


# ---------------------------------------------------------------------------------------------- 三员授权


@login_required
def role_grants(request: HttpRequest) -> HttpResponse:
    """Pending and recent grants of 安全管理员 / 审计员, for holders of a separated role only (404 for others)."""
    user = acting_user(request)
    if not user.role_set() & SEPARATED_ROLES:
        raise Http404(_("页面不存在"))
    pending, decided = selectors.role_grants_for(user)
    rows = [
        {
            "grant": grant,
            "confirmer": Role(CONFIRMED_BY[grant.role]).label,
            "may_decide": services.may_decide_role_grant(grant, user),
        }
        for grant in pending
    ]
    context = {"rows": rows, "decided": decided, "may_cancel": user.is_platform_admin}
    return render(request, "accounts/role_grants.html", context)


@login_required
@require_POST
def decide_role_grant(request: HttpRequest, grant_id: int) -> HttpResponse:
    """POST `decision` = confirm / reject (with `reason`) / cancel; a refusal comes back as a message."""
    user = acting_user(request)
    grant = selectors.role_grant_for(user, grant_id)
    if grant is None:
        raise Http404(_("申请不存在"))
    decision = request.POST.get("decision", "")
    try:
        if decision == "confirm":
            services.confirm_role_grant(grant, actor=user)
            messages.success(
                request, _("已确认：%(user)s 现为%(role)s") % {"user": grant.user, "role": grant.get_role_display()}
            )
        elif decision == "reject":
            services.reject_role_grant(grant, reason=request.POST.get("reason", ""), actor=user)
            messages.success(request, _("已拒绝这项申请"))
        elif decision == "cancel":
            services.cancel_role_grant(grant, actor=user)
            messages.success(request, _("已撤回这项申请"))
        else:
            messages.error(request, _("请选择确认、拒绝或撤回"))
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("accounts:role_grants")
