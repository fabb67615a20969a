"""Back office: relying parties (registered by the platform administrator only), and on the user page a
temporary password (changed at next login) and the reset of a lost second factor. Everything goes through the
identity services, audited; django-oauth-toolkit's and django-otp's own admin pages are replaced. The devices
(identity.TOTPDevice, key encrypted) have no admin page: nobody reads an authenticator key back."""

from __future__ import annotations

from typing import Any

import django_otp.plugins.otp_totp.admin  # noqa: F401 (registers django-otp's TOTPDevice; unregistered below)
import oauth2_provider.admin  # noqa: F401 (registers the token models; unregistered below)
from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken

from govshare.accounts import admin as account_admin
from govshare.accounts.models import User
from govshare.core.errors import DomainError
from govshare.identity import services
from govshare.identity.models import InformationSystem, SystemCredential

for _model in (Application, AccessToken, Grant, IDToken, RefreshToken, TOTPDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class ApplicationForm(ModelForm):  # type: ignore[type-arg]
    authorization_grant_type = forms.ChoiceField(
        label="授权方式",
        choices=list(services.GRANT_LABELS.items()),
        initial=Application.GRANT_AUTHORIZATION_CODE,
        help_text=(
            "授权码方式的令牌代表登录并同意授权的本人。客户端凭证方式的令牌背后没有具体的人，"
            "不以任何账号的身份调用平台 API（机器客户端将在后续版本获得自己的身份）。"
        ),
    )
    redirect_uris = forms.CharField(
        label="回调地址",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一个，如 https://ybj.example.gov.cn/oidc/callback；授权码方式必填。",
    )

    class Meta:
        model = Application
        fields = ["name", "authorization_grant_type", "redirect_uris", "skip_authorization"]
        labels = {"name": "接入系统名称", "skip_authorization": "跳过用户同意页"}

    def _post_clean(self) -> None:
        """No model validation here: the service checks the values (in Chinese) when the admin saves."""


@admin.register(Application)
class ApplicationAdmin(account_admin.PlatformAdminModelAdmin):
    form = ApplicationForm
    list_display = ("name", "client_id", "authorization_grant_type", "skip_authorization", "created")
    search_fields = ("name", "client_id")
    service_fields = {"grant_type": "authorization_grant_type"}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("client_id", "authorization_grant_type") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        actor = account_admin.acting_user(request)
        values = services.ClientInput(
            name=data["name"],
            grant_type=data.get("authorization_grant_type") or obj.authorization_grant_type,
            redirect_uris=str(data.get("redirect_uris") or "").split(),
        )
        if change:
            services.update_client(
                Application.objects.get(pk=obj.pk),
                values,
                skip_authorization=bool(data.get("skip_authorization")),
                actor=actor,
            )
            return
        client, secret = services.register_client(values, actor=actor)
        if data.get("skip_authorization"):
            services.update_client(client, values, skip_authorization=True, actor=actor)
        account_admin.adopt_created(obj, client)
        obj.name, obj.client_id = client.name, client.client_id
        messages.warning(
            request,
            f"已登记“{client.name}”：client_id {client.client_id}，client_secret {secret}"
            "（客户端密钥只显示这一次，请立即交给该系统的管理员）",
        )


class TemporaryPasswordUserForm(account_admin.UserAdminForm):
    new_password = forms.CharField(
        label="设置密码",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="新建账号必填；修改时留空表示不改密码。管理员设置的密码是临时密码：用户下次登录时必须先修改。",
    )


class UserAdmin(account_admin.UserAdmin):
    """The user page of accounts, where a password the administrator sets is temporary."""

    form = TemporaryPasswordUserForm
    actions = ["reset_second_factor"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor = account_admin.acting_user(request)
        temporary = str(form.cleaned_data.get("new_password") or "") if change else ""
        if temporary:
            form.cleaned_data["new_password"] = ""
        super().save_model(request, obj, form, change)
        user = User.objects.get(pk=obj.pk)
        if temporary:
            services.set_temporary_password(user, temporary, actor=actor)
        elif not change:
            services.require_password_change(user, actor=actor)

    @admin.action(description="重置所选用户的二次验证（丢失验证器时）")
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = account_admin.acting_user(request)
        reset = 0
        for user in queryset:
            try:
                reset += services.reset_second_factor(user, actor=actor)
            except DomainError as exc:
                messages.error(request, f"“{user}”未重置：{exc}")
        messages.success(request, f"已重置 {reset} 个用户的二次验证")


admin.site.unregister(User)
admin.site.register(User, UserAdmin)


class SystemCredentialInline(admin.TabularInline):  # type: ignore[type-arg]
    model = SystemCredential
    extra = 0
    can_delete = False
    fields = ("client_id", "created_at", "created_by", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = fields

    @admin.display(description="client_id")
    def client_id(self, credential: SystemCredential) -> str:
        return str(credential.application.client_id)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InformationSystem)
class InformationSystemAdmin(account_admin.PlatformAdminModelAdmin):
    """Information systems of every department; saved through the identity services (audited). A credential's
    secret is shown once, when it is issued."""

    list_display = ("code", "name", "department", "protection_level", "hosting", "is_active", "created_at")
    list_filter = ("is_active", "protection_level", "hosting")
    search_fields = ("code", "name", "department__name")
    fields = (
        "code",
        "name",
        "department",
        "purpose",
        "contact_name",
        "contact_phone",
        "protection_level",
        "hosting",
        "is_active",
    )
    inlines = [SystemCredentialInline]
    actions = ["issue_credential"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("code", "department", "is_active") if obj is not None else ("is_active",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor = account_admin.acting_user(request)
        data = form.cleaned_data
        values = services.SystemInput(
            code=obj.code,
            name=data["name"],
            department=obj.department,
            purpose=data.get("purpose") or "",
            contact_name=data.get("contact_name") or "",
            contact_phone=data.get("contact_phone") or "",
            protection_level=data.get("protection_level") or obj.protection_level,
            hosting=data.get("hosting") or obj.hosting,
        )
        if change:
            services.update_information_system(InformationSystem.objects.get(pk=obj.pk), values, actor=actor)
            return
        system = services.register_information_system(values, actor=actor)
        account_admin.adopt_created(obj, system)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Credentials are issued by the action, never edited here."""

    @admin.action(description="为所选接入系统签发新凭证（客户端凭证方式）")
    def issue_credential(self, request: HttpRequest, queryset: QuerySet[InformationSystem]) -> None:
        actor = account_admin.acting_user(request)
        for system in queryset:
            try:
                credential, secret = services.issue_system_credential(system, actor=actor)
            except DomainError as exc:
                messages.error(request, f"“{system}”未签发：{exc}")
                continue
            messages.warning(
                request,
                f"已为“{system}”签发凭证：client_id {credential.application.client_id}，client_secret {secret}"
                "（客户端密钥只显示这一次，请立即交给该系统的管理员）",
            )
