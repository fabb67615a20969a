"""The API of 提供部门接口: a provider department registers its own HTTP API behind a published resource shared
by 接口, reads and changes it. The credential is write-only: the answers say only whether it is set."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from govshare.accounts.acting import acting_user
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.errors import NotFound
from govshare.core.pagination import Page, paginate
from govshare.core.schemas import ERRORS, choice_values
from govshare.core.schemas import Page as SchemaPage
from govshare.gateway import provider_services, proxied, selectors
from govshare.gateway.choices import ProviderAuth
from govshare.gateway.models import ProviderService

router = Router(tags=["提供部门接口 provider services"])

MAX_ID = 2**63 - 1


class OperationIn(Schema):
    name: str = Field(..., description="操作名称（英文字母、数字、下划线、连字符），调用时以 operation 指定")
    method: str = Field("GET", description="GET 或 POST")
    path: str = Field(..., description="路径模板，如 /people/{sfzh}")
    params: dict[str, str] = Field(..., description='请求参数 → 查询键信息项，如 {"sfzh": "公民身份号码"}')


class ProviderServiceIn(Schema):
    resource_id: int = Field(..., ge=1, le=MAX_ID, description="已发布、共享方式为接口的信息资源；修改时须相同")
    base_url: str = Field(..., max_length=500, description="接口基础地址（http/https，不能是平台不允许访问的地址）")
    operations: list[OperationIn] = Field(default_factory=list, description="接口操作；为空时从 openapi 导入")
    openapi: str = Field(
        "", max_length=500_000, description="OpenAPI 3 文档（JSON 文本），参数以 x-govshare-item 注明信息项"
    )
    mapping: dict[str, str] = Field(..., description='信息项 → 返回 JSON 的点分路径，如 {"姓名": "data.records[].xm"}')
    auth_kind: Annotated[str, choice_values(ProviderAuth)] = Field(
        ProviderAuth.NONE, description="none 无需认证 / header 请求头密钥 / basic HTTP 基本认证"
    )
    auth_name: str = Field("", max_length=100, description="请求头名称（header）或用户名（basic）")
    secret: str | None = Field(None, max_length=1000, description="密钥或密码（只写）；修改时不填则保持不变")
    timeout_seconds: float = Field(10.0, description="超时秒数，1–30")
    is_active: bool = True


class ProviderServiceOut(Schema):
    id: int
    resource_id: int
    resource_name: str
    base_url: str
    operations: list[dict[str, Any]]
    mapping: dict[str, str]
    auth_kind: str
    auth_name: str
    credential: str = Field(..., description="已设置 或 未设置；密钥本身从不返回")
    timeout_seconds: float
    is_active: bool
    consecutive_failures: int
    last_failure_at: dt.datetime | None
    last_failure_code: str
    circuit_opened_at: dt.datetime | None
    recovered_at: dt.datetime | None
    breaker: str = Field(..., description="本进程中的熔断状态：closed / open / half_open")

    @staticmethod
    def resolve_resource_name(obj: ProviderService) -> str:
        return obj.resource.name

    @staticmethod
    def resolve_credential(obj: ProviderService) -> str:
        return "已设置" if obj.secret else "未设置"

    @staticmethod
    def resolve_breaker(obj: ProviderService) -> str:
        return proxied.breaker_state(obj.pk)


class ProviderServicePage(SchemaPage[ProviderServiceOut]):
    pass


class PageIn(Schema):
    page: int = Field(1, ge=1)
    page_size: int | None = Field(None, ge=1)


def _input(payload: ProviderServiceIn) -> provider_services.ProviderServiceInput:
    return provider_services.ProviderServiceInput(
        resource_id=payload.resource_id,
        base_url=payload.base_url,
        operations=[operation.dict() for operation in payload.operations],
        openapi=payload.openapi,
        mapping=payload.mapping,
        auth_kind=payload.auth_kind,
        auth_name=payload.auth_name,
        secret=payload.secret or None,
        timeout_seconds=payload.timeout_seconds,
        is_active=payload.is_active,
    )


def _one(request: HttpRequest, service_id: int) -> ProviderService:
    if service_id > MAX_ID:
        raise NotFound(selectors.PROVIDER_NOT_FOUND)
    return selectors.get_provider_service(acting_user(request), service_id)


@router.get(
    "/provider-services",
    response={200: ProviderServicePage, **ERRORS},
    auth=STAFF_READ,
    summary="提供部门接口清单（本部门的；平台管理员看全部）",
)
def list_provider_services(request: HttpRequest, filters: Query[PageIn]) -> Page[ProviderService]:
    return paginate(selectors.provider_services(acting_user(request)), filters.page, filters.page_size)


@router.post(
    "/provider-services",
    response={201: ProviderServiceOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="登记提供部门接口（资源所属部门的目录管理员或平台管理员）",
)
def register_provider_service(request: HttpRequest, payload: ProviderServiceIn) -> Status[ProviderService]:
    service = provider_services.register_provider_service(_input(payload), actor=acting_user(request))
    return Status(201, service)


@router.get(
    "/provider-services/{service_id}",
    response={200: ProviderServiceOut, **ERRORS},
    auth=STAFF_READ,
    summary="提供部门接口详情（不含密钥）",
)
def get_provider_service(request: HttpRequest, service_id: int) -> ProviderService:
    return _one(request, service_id)


@router.put(
    "/provider-services/{service_id}",
    response={200: ProviderServiceOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="修改提供部门接口（主机变更时须重新填写密钥）",
)
def update_provider_service(request: HttpRequest, service_id: int, payload: ProviderServiceIn) -> ProviderService:
    service = _one(request, service_id)
    return provider_services.update_provider_service(service, _input(payload), actor=acting_user(request))
