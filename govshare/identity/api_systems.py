"""The information-system API: the register (scoped like the pages) and each system's credentials. Issuing and
rotating a credential answers its secret once; they need a signed-in session, never a token: a credential made
with a stolen token would outlive that token's revocation (the rule personal tokens follow, accounts.api)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from govshare.accounts.acting import acting_user
from govshare.accounts.models import Department, User
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from govshare.core.pagination import Page, paginate
from govshare.core.schemas import ERRORS
from govshare.core.security import bearer_kind
from govshare.identity import selectors, services
from govshare.identity.models import InformationSystem, SystemCredential
from govshare.identity.schemas_systems import (
    MAX_ID,
    CredentialCreatedOut,
    CredentialOut,
    DeactivateIn,
    RotateIn,
    SystemIn,
    SystemOut,
    SystemPage,
)

router = Router(tags=["接入系统 information systems"])

SECRET_NEEDS_SESSION = "签发或轮换凭证只限登录会话：令牌签发的凭证会比令牌本身活得更久"  # noqa: S105 (a message, not a password)


class SystemFiltersIn(Schema):
    search: str = Field("", max_length=100, description="系统名称或编码")
    department_id: int | None = Field(None, ge=1, le=MAX_ID)
    active: str = Field("1", description="1 启用中（默认）/ 0 已停用 / all 全部")
    page: int = Field(1, ge=1)
    page_size: int | None = Field(None, ge=1)


def _one(user: User, system_id: int) -> InformationSystem:
    if system_id > MAX_ID:
        raise NotFound(selectors.SYSTEM_NOT_FOUND)
    system = selectors.system_register(user, active="all").filter(pk=system_id).first()
    if system is None:
        raise NotFound(selectors.SYSTEM_NOT_FOUND)
    return system


def _credential(user: User, system: InformationSystem, credential_id: int) -> SystemCredential:
    credential = (
        selectors.credentials_of(user, system).filter(pk=credential_id).first() if credential_id <= MAX_ID else None
    )
    if credential is None:
        raise NotFound("凭证不存在或无权访问")
    return credential


def _department(user: User, code: str) -> Department:
    if not code:
        if user.department is None:
            raise ValidationFailed([FieldProblem("department_code", "请填写所属部门代码")])
        return user.department
    department = Department.objects.filter(code=code).first()
    if department is None:
        raise ValidationFailed([FieldProblem("department_code", f"部门代码“{code}”不存在")])
    return department


def _input(payload: SystemIn, department: Department) -> services.SystemInput:
    return services.SystemInput(
        code=payload.code,
        name=payload.name,
        department=department,
        purpose=payload.purpose,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        protection_level=payload.protection_level,
        hosting=payload.hosting,
        allowed_networks=payload.allowed_networks,
    )


def _require_session(request: HttpRequest) -> None:
    if bearer_kind(request) is not None:
        raise PermissionDenied(SECRET_NEEDS_SESSION)


@router.get(
    "/systems",
    response={200: SystemPage, **ERRORS},
    auth=STAFF_READ,
    summary="接入系统清单（平台管理员、共享协调员看全市，其他人看本部门）",
)
def list_systems(request: HttpRequest, filters: Query[SystemFiltersIn]) -> Page[InformationSystem]:
    systems = selectors.system_register(
        acting_user(request), search=filters.search, department_id=filters.department_id, active=filters.active
    )
    return paginate(systems, filters.page, filters.page_size)


@router.post("/systems", response={201: SystemOut, **ERRORS}, auth=STAFF_WRITE, summary="登记接入系统")
def register_system(request: HttpRequest, payload: SystemIn) -> Status[InformationSystem]:
    user = acting_user(request)
    department = _department(user, payload.department_code)  # departments are public: the service answers 403
    system = services.register_information_system(_input(payload, department), actor=user)
    return Status(201, _one(user, system.pk))


@router.get("/systems/{system_id}", response={200: SystemOut, **ERRORS}, auth=STAFF_READ, summary="接入系统详情")
def get_system(request: HttpRequest, system_id: int) -> InformationSystem:
    return _one(acting_user(request), system_id)


@router.put(
    "/systems/{system_id}",
    response={200: SystemOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="修改接入系统（编码和所属部门不变）",
)
def update_system(request: HttpRequest, system_id: int, payload: SystemIn) -> InformationSystem:
    user = acting_user(request)
    system = _one(user, system_id)
    services.update_information_system(system, _input(payload, system.department), actor=user)
    return _one(user, system_id)


@router.post(
    "/systems/{system_id}/deactivate",
    response={200: SystemOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="停用接入系统（全部凭证立即吊销）",
)
def deactivate_system(request: HttpRequest, system_id: int, payload: DeactivateIn) -> InformationSystem:
    user = acting_user(request)
    services.deactivate_information_system(_one(user, system_id), actor=user, reason=payload.reason)
    return _one(user, system_id)


@router.get(
    "/systems/{system_id}/credentials",
    response={200: list[CredentialOut], **ERRORS},
    auth=STAFF_READ,
    summary="接入系统的凭证（不含密钥）",
)
def list_credentials(request: HttpRequest, system_id: int) -> list[SystemCredential]:
    user = acting_user(request)
    return list(selectors.credentials_of(user, _one(user, system_id)))


def _created(credential: SystemCredential, secret: str) -> SystemCredential:
    """The credential with its raw secret attached for this one answer (never stored: only its hash is)."""
    credential.client_secret = secret  # type: ignore[attr-defined]
    return credential


@router.post(
    "/systems/{system_id}/credentials",
    response={201: CredentialCreatedOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="签发新凭证（只限登录会话；密钥只返回这一次）",
)
def issue_credential(request: HttpRequest, system_id: int) -> Status[SystemCredential]:
    user = acting_user(request)
    system = _one(user, system_id)
    _require_session(request)
    credential, secret = services.issue_system_credential(system, actor=user)
    return Status(201, _created(credential, secret))


@router.post(
    "/systems/{system_id}/credentials/{credential_id}/rotate",
    response={201: CredentialCreatedOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="轮换凭证：签发新凭证，旧凭证在过渡期后失效（只限登录会话；密钥只返回这一次）",
)
def rotate_credential(
    request: HttpRequest, system_id: int, credential_id: int, payload: RotateIn
) -> Status[SystemCredential]:
    user = acting_user(request)
    credential = _credential(user, _one(user, system_id), credential_id)
    _require_session(request)
    successor, secret = services.rotate_system_credential(
        credential, actor=user, overlap=dt.timedelta(hours=payload.overlap_hours)
    )
    return Status(201, _created(successor, secret))


@router.post(
    "/systems/{system_id}/credentials/{credential_id}/revoke",
    response={200: CredentialOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="吊销凭证（立即生效）",
)
def revoke_credential(request: HttpRequest, system_id: int, credential_id: int) -> SystemCredential:
    user = acting_user(request)
    system = _one(user, system_id)
    credential = _credential(user, system, credential_id)
    services.revoke_system_credential(credential, actor=user)
    return _credential(user, system, credential_id)
