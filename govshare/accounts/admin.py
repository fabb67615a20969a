"""Back office for the platform administrator: departments and users.

The product has no superuser. Only platform administrators get in (the role carries staff status, see
`services.assign_role`), and every admin page checks the role itself rather than Django's model permissions.
Every save goes through the account services, so that 三员分立 and the audit trail apply exactly as in the API;
a domain error raised by a service re-renders the form with the message next to the field it names.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.password_validation import validate_password
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse

from govshare.accounts import selectors, services
from govshare.accounts.choices import CONFIRMED_BY, SEPARATED_ROLES, Role
from govshare.accounts.models import ApiToken, Department, RoleGrantRequest, User
from govshare.core.errors import DomainError, FieldProblem, NotFound
from govshare.core.models import CalendarYear, SpecialDay

_SERVICE_ERROR = "_govshare_service_error"


def is_platform_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and isinstance(user, User) and user.is_platform_admin)


def acting_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class PlatformAdminModelAdmin(admin.ModelAdmin):
    """Admin pages for the platform administrator only; nothing is deleted from the back office.

    `service_fields` maps a service's field names (in its FieldProblems) to this form's field names."""

    service_fields: dict[str, str] = {}

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except DomainError as exc:
            if request.method != "POST" or getattr(request, _SERVICE_ERROR, None) is not None:
                raise
            # The transaction has rolled back; show the same form again with the service's answer on it.
            setattr(request, _SERVICE_ERROR, exc)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> type[ModelForm]:  # type: ignore[type-arg]
        form_class = super().get_form(request, obj, change, **kwargs)
        error: DomainError | None = getattr(request, _SERVICE_ERROR, None)
        if error is None:
            return form_class
        mapping = self.service_fields
        found: DomainError = error

        class WithServiceError(form_class):  # type: ignore[valid-type,misc]
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                problems = found.problems or [FieldProblem("", found.message)]
                if found.problems:
                    self.add_error(None, found.message)
                for problem in problems:
                    name = mapping.get(problem.field, problem.field)
                    self.add_error(name if name in self.fields else None, problem.message)
                return cleaned

        return WithServiceError


class ReadOnlyModelAdmin(PlatformAdminModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# ---------------------------------------------------------------------------------------------- departments


class DepartmentForm(ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Department
        fields = ["code", "name", "short_name", "level", "parent", "region_code", "is_active"]


@admin.register(Department)
class DepartmentAdmin(PlatformAdminModelAdmin):
    form = DepartmentForm
    list_display = ("code", "name", "level", "parent", "is_active", "last_full_maintenance_at")
    list_filter = ("level", "is_active")
    search_fields = ("code", "name", "short_name")
    list_select_related = ("parent",)
    service_fields = {"parent_code": "parent"}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # The code identifies the department (and is part of its resources' records): fixed once created.
        return ("code", "last_full_maintenance_at") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        parent = data.get("parent")
        values = services.DepartmentInput(
            code=obj.code,
            name=data["name"],
            level=data["level"],
            parent_code=parent.code if parent else None,
            short_name=data.get("short_name", ""),
            region_code=data.get("region_code", ""),
        )
        actor = acting_user(request)
        if change:
            services.update_department(
                Department.objects.get(pk=obj.pk), values, is_active=data["is_active"], actor=actor
            )
            return
        created = services.create_department(values, actor=actor)
        if not data.get("is_active", True):
            created = services.update_department(created, values, is_active=False, actor=actor)
        adopt_created(obj, created)


def adopt_created(obj: Model, saved: Model) -> None:
    """Let the admin (its redirect and change message) continue with the row the service created."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db


# ---------------------------------------------------------------------------------------------- users


class UserAdminForm(ModelForm):  # type: ignore[type-arg]
    roles = forms.MultipleChoiceField(
        label="角色",
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=(
            "三员分立：平台管理员、安全管理员、审计员不得由同一账号兼任；勾选安全管理员或审计员是提出申请，"
            "须由另一名三员（审计员由安全管理员、安全管理员由审计员）确认后生效。安全管理员和审计员账号的角色、"
            "密码和二次验证不由平台管理员管理。"
        ),
    )
    new_password = forms.CharField(
        label="设置密码",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="新建账号必填；修改时留空表示不改密码。",
    )

    class Meta:
        model = User
        fields = ["username", "full_name", "email", "department", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["roles"] = sorted(self.instance.role_set())

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        roles = set(cleaned.get("roles") or [])
        separated = roles & SEPARATED_ROLES
        if len(separated) > 1:
            names = "、".join(str(Role(r).label) for r in Role.values if r in separated)
            self.add_error("roles", f"三员分立：{names}不能由同一账号兼任")
        if roles & {Role.CATALOG_ADMIN, Role.DEPT_REVIEWER} and not cleaned.get("department"):
            self.add_error("department", "部门目录管理员和部门审核员必须属于一个部门")
        password = cleaned.get("new_password") or ""
        if not self.instance.pk and not password:
            self.add_error("new_password", "新建账号必须设置密码")
        if password:
            user = self.instance if self.instance.pk else User(username=cleaned.get("username", ""))
            try:
                validate_password(password, user)
            except forms.ValidationError as exc:
                self.add_error("new_password", exc)
        return cleaned


@admin.register(User)
class UserAdmin(PlatformAdminModelAdmin):
    form = UserAdminForm
    list_display = ("username", "full_name", "department", "role_names", "is_active", "last_login")
    list_filter = ("is_active", "roles__role", "department__level")
    search_fields = ("username", "full_name", "email", "department__name")
    list_select_related = ("department",)
    autocomplete_fields = ("department",)
    fieldsets = (
        (None, {"fields": ("username", "full_name", "email", "department", "is_active")}),
        ("角色与密码", {"fields": ("roles", "pending_grants", "new_password")}),
    )
    service_fields = {"role": "roles", "password": "new_password"}

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("roles")

    @admin.display(description="角色")
    def role_names(self, obj: User) -> str:
        return "、".join(str(Role(r.role).label) for r in obj.roles.all())

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("username", "pending_grants") if obj is not None else ("pending_grants",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Roles are changed against the roles held now (read from the database, never a cached set): removals
        first, so that no account holds two separated roles even within this save, and every later step is
        checked against the acting administrator's roles after them. 安全管理员 and 审计员 become pending
        grants that a holder of the other separated role confirms."""
        data = form.cleaned_data
        actor = acting_user(request)
        wanted = set(data.get("roles") or [])
        proposals: list[RoleGrantRequest] = []
        if not change:
            created = services.create_user(
                username=data["username"],
                password=data["new_password"],
                full_name=data.get("full_name", ""),
                email=data.get("email", ""),
                department=data.get("department"),
                roles=[r for r in Role.values if r in wanted],
                actor=actor,
            )
            if not data.get("is_active", True):
                services.update_user(
                    created,
                    full_name=created.full_name,
                    email=created.email,
                    department=created.department,
                    is_active=False,
                    actor=actor,
                )
            adopt_created(obj, created)
            proposals = list(selectors.pending_role_grants().filter(user=created))
        else:
            user = User.objects.get(pk=obj.pk)
            held = services.held_roles(user)
            for role in [r for r in Role.values if r in held - wanted]:
                services.revoke_role(user, role, actor=actor)
            services.update_user(
                user,
                full_name=data.get("full_name", ""),
                email=data.get("email", ""),
                department=data.get("department"),
                is_active=data.get("is_active", True),
                actor=actor,
            )
            for role in [r for r in Role.values if r in wanted - held]:
                if proposal := services.request_role(user, role, actor=actor):
                    proposals.append(proposal)
            if data.get("new_password"):
                services.set_user_password(user, data["new_password"], actor=actor)
        for proposal in proposals:
            confirmer = Role(CONFIRMED_BY[proposal.role]).label
            self.message_user(
                request,
                f"已申请授予“{proposal.user}”{proposal.get_role_display()}角色：须由{confirmer}在“三员授权”页面"
                "（/account/role-grants/）确认后生效",
                messages.WARNING,
            )

    @admin.display(description="待确认的三员角色授予")
    def pending_grants(self, obj: User) -> str:
        grants = selectors.pending_role_grants().filter(user=obj) if obj.pk else []
        return "、".join(f"{g.get_role_display()}（{g.proposed_by} 申请）" for g in grants) or "—"

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Roles were saved by the services in save_model; the form has no other relations to write."""


# ---------------------------------------------------------------------------------------------- API tokens


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyModelAdmin):
    """Tokens are issued by their holders on the token page; here the platform administrator can see them and
    revoke one that leaked (not one of a 安全管理员 or 审计员: 三员分立). Only digests are stored, so nothing
    secret is shown."""

    list_display = ("name", "user", "prefix", "scope", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("scope", "revoked_at")
    search_fields = ("name", "prefix", "user__username", "user__full_name")
    list_select_related = ("user",)
    exclude = ("digest",)
    actions = ["revoke_tokens"]

    @admin.action(description="吊销所选令牌")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        actor = acting_user(request)
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            try:
                services.revoke_api_token(token, actor=actor)
            except DomainError as exc:
                self.message_user(request, f"“{token}”未吊销：{exc}", messages.ERROR)
            else:
                revoked += 1
        self.message_user(request, f"已吊销 {revoked} 个令牌", messages.SUCCESS)


# ---------------------------------------------------------------------------------------------- role grants


@admin.register(RoleGrantRequest)
class RoleGrantRequestAdmin(ReadOnlyModelAdmin):
    """Proposed grants of 安全管理员 and 审计员, for the record: they are proposed from the user page and decided by
    the other separated role on /account/role-grants/, never here."""

    list_display = ("user", "role", "status", "proposed_by", "proposed_at", "decided_by", "decided_at")
    list_filter = ("status", "role")
    search_fields = ("user__username", "user__full_name")
    list_select_related = ("user", "proposed_by", "decided_by")


class SpecialDayInline(admin.TabularInline):  # type: ignore[type-arg]
    model = SpecialDay
    fields = ("date", "kind", "name")
    readonly_fields = ("date", "kind", "name")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request)


@admin.register(CalendarYear)
class CalendarYearAdmin(ReadOnlyModelAdmin):
    """The working-day calendar, read only: a year is entered or imported on the 工作日历 page (accounts:calendar),
    whose service writes the audit row and refreshes the calendar every deadline is computed with."""

    list_display = ("year", "source", "entered_by", "entered_at", "note")
    list_filter = ("source",)
    fields = ("year", "source", "entered_by", "entered_at", "updated_at", "note")
    readonly_fields = fields
    inlines = (SpecialDayInline,)
