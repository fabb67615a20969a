"""Who am I, departments, catalogue maintenance and personal API tokens."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_noop
from ninja import Router, Status

from govshare.accounts import selectors, services
from govshare.accounts.acting import acting_user
from govshare.accounts.models import ApiToken, Department, User
from govshare.accounts.schemas import DepartmentOut, DepartmentPage, MeOut, TokenCreatedOut, TokenIn, TokenOut
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.errors import NotFound, PermissionDenied
from govshare.core.pagination import Page, paginate
from govshare.core.schemas import ERRORS
from govshare.core.security import bearer_kind

router = Router(tags=["组织与用户 accounts"])


@router.get("/me", response={200: MeOut, **ERRORS}, auth=STAFF_READ, summary="当前用户")
def me(request: HttpRequest) -> User:
    return acting_user(request)


@router.get("/departments", response={200: DepartmentPage, **ERRORS}, auth=STAFF_READ, summary="部门列表")
def list_departments(
    request: HttpRequest, search: str = "", page: int = 1, page_size: int | None = None
) -> Page[Department]:
    return paginate(selectors.department_list(search=search), page, page_size)


@router.get(
    "/departments/maintenance-overdue",
    response={200: list[DepartmentOut], **ERRORS},
    auth=STAFF_READ,
    summary="逾期未完成季度目录维护的部门",
)
def maintenance_overdue(request: HttpRequest) -> list[Department]:
    return list(selectors.departments_overdue_for_maintenance().select_related("parent"))


@router.post(
    "/departments/{code}/maintenance",
    response={200: DepartmentOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="确认本部门目录已全面维护",
)
def confirm_maintenance(request: HttpRequest, code: str) -> Department:
    department = selectors.department_list().filter(code=code).first()
    if department is None:
        raise NotFound(gettext_noop("部门不存在"))
    return services.confirm_catalog_maintenance(department, actor=acting_user(request))


@router.get("/tokens", response={200: list[TokenOut], **ERRORS}, auth=STAFF_READ, summary="我的 API 令牌")
def list_tokens(request: HttpRequest) -> list[ApiToken]:
    return list(selectors.tokens_of(acting_user(request)))


MINT_NEEDS_SESSION = gettext_noop(
    "令牌不能再创建令牌：请登录后在“我的 API 令牌”页面（/account/tokens/）创建，或以登录会话调用本接口"
)


@router.post(
    "/tokens",
    response={201: TokenCreatedOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="创建 API 令牌（只限登录会话；令牌只显示这一次）",
)
def create_token(request: HttpRequest, payload: TokenIn) -> Status[TokenCreatedOut]:
    # A token (personal or OIDC) never mints another: the new one could outlive it, its revocation and a password
    # change. Only a signed-in session (password and second factor) creates tokens.
    if bearer_kind(request) is not None:
        raise PermissionDenied(MINT_NEEDS_SESSION)
    user = acting_user(request)
    token, raw = services.create_api_token(
        user, name=payload.name, scope=payload.scope, expires_at=payload.expires_at, actor=user
    )
    return Status(201, TokenCreatedOut(**TokenOut.from_orm(token).model_dump(), token=raw))


@router.delete("/tokens/{token_id}", response={204: None, **ERRORS}, auth=STAFF_WRITE, summary="吊销 API 令牌")
def revoke_token(request: HttpRequest, token_id: int) -> Status[None]:
    user = acting_user(request)
    token = selectors.tokens_of(user).filter(pk=token_id).first()
    if token is None:
        raise NotFound(gettext_noop("令牌不存在"))
    services.revoke_api_token(token, actor=user)
    return Status(204, None)
