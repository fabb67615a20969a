"""Login with an optional second step (TOTP code), the security page (second factor, password) and the
password change a temporary password forces."""

from __future__ import annotations

import base64
import time
from typing import Any

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME, login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from govshare.accounts.acting import acting_user
from govshare.accounts.lockout import lockout_response
from govshare.accounts.models import User
from govshare.core.errors import DomainError, ValidationFailed
from govshare.identity import services
from govshare.identity.forms import CodeForm, OwnPasswordForm
from govshare.identity.middleware import MUST_CHANGE_PASSWORD

PENDING = "identity_pending_login"
PENDING_SECONDS = 300


def _safe_next(request: HttpRequest, candidate: str, default: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


class LoginView(auth_views.LoginView):
    """Password first; a user with a confirmed authenticator is signed in only after the code (second step)."""

    template_name = "registration/login.html"

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if services.confirmed_totp_device(user) is None:
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_success_url(),
            "at": time.time(),
        }
        return HttpResponseRedirect(reverse("login_code"))


class AdminLoginView(LoginView):
    """/admin/login/ with the same second step; the admin's own page and form for the password."""

    template_name = "admin/login.html"
    authentication_form = AdminAuthenticationForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(admin.site.each_context(self.request))
        context.update({"title": _("登录"), "subtitle": None, "app_path": self.request.get_full_path()})
        if REDIRECT_FIELD_NAME not in self.request.GET and REDIRECT_FIELD_NAME not in self.request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index")
        return context


def _pending(request: HttpRequest) -> tuple[User, str, str] | None:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=int(pending.get("user") or 0), is_active=True).first()
    if user is None:
        return None
    return user, str(pending["backend"]), str(pending["next"])


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: the current code of the user's authenticator. Wrong codes count toward the lockout."""
    pending = _pending(request)
    if pending is None:
        request.session.pop(PENDING, None)
        messages.info(request, _("请先输入账号和密码。"))
        return redirect("login")
    user, backend, next_url = pending
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        credentials = {"username": user.get_username()}
        if AxesProxyHandler.is_locked(request, credentials):
            request.session.pop(PENDING, None)
            return lockout_response(request, credentials=credentials)
        device = services.verify_second_factor(user, form.cleaned_data["code"])
        if device is not None:
            request.session.pop(PENDING, None)
            login(request, user, backend)
            otp_login(request, device)
            return redirect(_safe_next(request, next_url, reverse("home")))
        # Counted by django-axes exactly like a wrong password (and audited as a failed login).
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            request.session.pop(PENDING, None)
            return lockout_response(request, credentials=credentials)
        form.add_error("code", _("验证码不正确或已过期，请输入验证器应用中当前显示的6位数字。"))
    return render(request, "identity/login_code.html", {"form": form, "username": user.get_username()})


# ------------------------------------------------------------------------------------------ security page


def _qr_svg(url: str) -> str:
    """The otpauth:// URL as an inline SVG QR code (no XML declaration)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    text = image.to_string().decode()
    return text[text.index("<svg") :]


def _base32(key: bytes) -> str:
    return base64.b32encode(key).decode().rstrip("=")


@never_cache  # the page shows a pending authenticator key
@login_required
def security(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    pending = services.pending_totp_device(user)
    context: dict[str, Any] = {
        "enabled": services.confirmed_totp_device(user) is not None,
        "pending": pending is not None,
        "form": CodeForm(),
    }
    if pending is not None:
        context["qr_svg"] = mark_safe(_qr_svg(pending.config_url))  # noqa: S308 (SVG generated here, no user input)
        context["secret"] = _base32(pending.bin_key)
    return render(request, "identity/security.html", context)


def _code_errors(exc: DomainError, request: HttpRequest) -> None:
    for problem in exc.problems or []:
        messages.error(request, problem.message)
    if not exc.problems:
        messages.error(request, exc.message)


@login_required
@require_POST
def totp_start(request: HttpRequest) -> HttpResponse:
    try:
        services.start_totp_enrolment(acting_user(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("identity:security")


@login_required
@require_POST
def totp_confirm(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请输入验证码"))
        return redirect("identity:security")
    try:
        device = services.confirm_totp_enrolment(acting_user(request), form.cleaned_data["code"])
    except DomainError as exc:
        _code_errors(exc, request)
    else:
        otp_login(request, device)
        messages.success(request, _("已启用二次验证：今后登录时，输入密码后还需输入验证器中的验证码。"))
    return redirect("identity:security")


@login_required
@require_POST
def totp_disable(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请输入验证码"))
        return redirect("identity:security")
    try:
        services.disable_totp(acting_user(request), form.cleaned_data["code"])
    except DomainError as exc:
        _code_errors(exc, request)
    else:
        messages.success(request, _("已停用二次验证。"))
    return redirect("identity:security")


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = OwnPasswordForm(user, request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        try:
            services.change_own_password(user, form.cleaned_data["old_password"], form.cleaned_data["new_password1"])
        except ValidationFailed as exc:
            for problem in exc.problems:
                form.add_error(problem.field if problem.field in form.fields else None, problem.message)
        else:
            update_session_auth_hash(request, user)
            request.session.pop(MUST_CHANGE_PASSWORD, None)
            messages.success(request, _("密码已修改。"))
            return redirect(_safe_next(request, next_url, reverse("identity:security")))
    context = {
        "form": form,
        "next": next_url,
        "forced": bool(request.session.get(MUST_CHANGE_PASSWORD)),
    }
    return render(request, "identity/password_change.html", context)
