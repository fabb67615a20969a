"""Registering a provider department's own HTTP API behind a published resource whose share method is 接口
(登记提供部门接口), and changing it. The resource's own department's catalogue administrators register it (the
platform administrator may too); anyone else gets 404 for another department's resource, 403 within it.

The base URL is judged by the sources' connection policy (`sources.connection_policy`: no loopback, private,
link-local or reserved address unless the deployment allows it), when saved and again at every call (the call
connects only to the address it checked). The provider's credential is encrypted (SM4) and never shown back: a
page or the API says only 已设置. When the base URL's origin changes, the stored credential is never sent to the
new one: a new credential must be given with it (or the service set to need none).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog.choices import PlatformShareType, ReviewStatus, ShareMethod
from govshare.catalog.models import Resource
from govshare.core import crypto
from govshare.core.errors import Conflict, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from govshare.core.roles import Role
from govshare.dataplane.raw import SourceError
from govshare.gateway.choices import ProviderAuth
from govshare.gateway.models import ProviderService
from govshare.gateway.proxied import (
    SECRET_PURPOSE,
    TIMEOUT_MAX,
    TIMEOUT_MIN,
    forget_service,
    parse_path,
    path_parameters,
)
from govshare.sources.connection_policy import HostUnresolved, SourcePolicy

NOT_FOUND = gettext_noop("信息资源或提供部门接口不存在，或无权访问")
MANAGERS_ONLY = gettext_noop("只有资源所属部门的目录管理员（或平台管理员）可以登记提供部门接口")
OPERATIONS_MAX = 20
UNMAPPED_PARAMETER = gettext_noop(
    "接口 %(method)s %(path)s 的参数“%(param)s”没有对应的信息项：请以 x-govshare-item 注明"
)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
_PARAM = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
_HEADER = re.compile(r"^[A-Za-z0-9-]{1,100}$")
_RESERVED_HEADERS = frozenset({"host", "content-length", "content-type", "transfer-encoding", "connection", "accept"})


@dataclass
class ProviderServiceInput:
    """What a provider registers. `operations`: [{"name", "method", "path", "params": {parameter: item}}]; when
    empty, `openapi` (an OpenAPI 3 document as JSON) gives them. `secret`: None keeps the stored one."""

    resource_id: int
    base_url: str
    mapping: dict[str, str]
    operations: list[dict[str, Any]] = field(default_factory=list)
    openapi: str = ""
    auth_kind: str = ProviderAuth.NONE
    auth_name: str = ""
    secret: str | None = None
    timeout_seconds: float = 10.0
    is_active: bool = True


# --------------------------------------------------------------------------------------------- who may


def may_register(user: User) -> bool:
    return user.is_active and (
        user.has_role(Role.PLATFORM_ADMIN) or (user.department_id is not None and user.has_role(Role.CATALOG_ADMIN))
    )


def require_registrar(actor: User, resource: Resource) -> None:
    """404 outside the resource's department (the platform administrator excepted), 403 within it without the
    catalogue administrator's role."""
    if actor.is_active and actor.has_role(Role.PLATFORM_ADMIN):
        return
    if not actor.is_active or actor.department_id is None or actor.department_id != resource.department_id:
        raise NotFound(NOT_FOUND)
    if not actor.has_role(Role.CATALOG_ADMIN):
        raise PermissionDenied(MANAGERS_ONLY)


# --------------------------------------------------------------------------------------------- checks


def _url_problems(url: str) -> list[FieldProblem]:
    if not re.match(r"^https?://[^\s/]+", url):
        return [FieldProblem("base_url", gettext("接口基础地址应以 http:// 或 https:// 开头"))]
    parts = urlsplit(url)
    if parts.username or parts.password or parts.query or parts.fragment or "@" in parts.netloc:
        return [FieldProblem("base_url", gettext("接口基础地址不能带用户名、密码、查询参数或 #；凭证请填在认证一栏"))]
    if len(url) > 500:
        return [FieldProblem("base_url", gettext("接口基础地址不能超过 500 个字符"))]
    try:
        SourcePolicy.from_settings().check_http_url(url)
    except HostUnresolved:
        return []  # judged again at every call
    except SourceError as exc:
        return [FieldProblem("base_url", exc.message)]
    return []


def _openapi_operations(text: str, items: set[str]) -> tuple[list[dict[str, Any]], list[FieldProblem]]:
    """The GET and POST operations of an OpenAPI document (JSON): each parameter is mapped to the item its
    `x-govshare-item` names, or to the item of its own name."""
    try:
        document = json.loads(text)
    except ValueError:
        return [], [FieldProblem("openapi", gettext("OpenAPI 文档应为 JSON 格式"))]
    paths = document.get("paths") if isinstance(document, dict) else None
    if not isinstance(paths, dict) or not paths:
        return [], [FieldProblem("openapi", gettext("OpenAPI 文档中没有 paths"))]
    operations: list[dict[str, Any]] = []
    problems: list[FieldProblem] = []
    for path, entry in paths.items():
        if not isinstance(entry, dict):
            continue
        for method in ("get", "post"):
            spec = entry.get(method)
            if not isinstance(spec, dict):
                continue
            name = str(spec.get("operationId") or f"{method}{re.sub(r'[^A-Za-z0-9]+', '_', str(path))}")[:50]
            params: dict[str, str] = {}
            for parameter in spec.get("parameters") or []:
                if not isinstance(parameter, dict) or parameter.get("in") not in ("path", "query"):
                    continue
                pname = str(parameter.get("name", ""))
                item = str(parameter.get("x-govshare-item") or pname)
                if item not in items:
                    if parameter.get("in") == "path" or parameter.get("required"):
                        problems.append(
                            FieldProblem(
                                "openapi",
                                gettext(UNMAPPED_PARAMETER) % {"method": method.upper(), "path": path, "param": pname},
                            )
                        )
                    continue
                params[pname] = item
            operations.append({"name": name, "method": method.upper(), "path": str(path), "params": params})
    if not operations and not problems:
        problems.append(FieldProblem("openapi", gettext("OpenAPI 文档中没有 GET 或 POST 接口")))
    return operations, problems


def _operation_problems(operations: Any, items: set[str]) -> list[FieldProblem]:
    if not isinstance(operations, list) or not operations:
        return [FieldProblem("operations", gettext("请至少填写一个接口操作（或导入 OpenAPI 文档）"))]
    if len(operations) > OPERATIONS_MAX:
        return [FieldProblem("operations", gettext("接口操作不能超过 %(n)s 个") % {"n": OPERATIONS_MAX})]
    problems: list[FieldProblem] = []
    names: set[str] = set()
    for row, operation in enumerate(operations, start=1):
        where = f"operations[{row}]"

        def problem(message: str, where: str = where, row: int = row) -> None:
            problems.append(FieldProblem(where, gettext("第 %(row)s 个接口操作：") % {"row": row} + message, row=row))

        if not isinstance(operation, dict):
            problem(gettext("应为包含 name、method、path、params 的对象"))
            continue
        name, method, path = (str(operation.get(k) or "").strip() for k in ("name", "method", "path"))
        params = operation.get("params") or {}
        if not _NAME.match(name):
            problem(gettext("名称应为 1–50 个英文字母、数字、下划线或连字符"))
        elif name in names:
            problem(gettext("名称“%(name)s”重复") % {"name": name})
        names.add(name)
        if method.upper() not in ("GET", "POST"):
            problem(gettext("请求方法只能是 GET 或 POST"))
        if not path.startswith("/") or len(path) > 300 or ".." in path or any(c in path for c in "?#\\ \t"):
            problem(gettext("路径应以 / 开头，不超过 300 个字符，不能含 ..、?、#、空白"))
        if not isinstance(params, dict) or not params:
            problem(gettext("请填写请求参数与查询键信息项的对应（如 sfzh=公民身份号码）"))
            continue
        for param, item in params.items():
            if not _PARAM.match(str(param)):
                problem(gettext("参数名“%(param)s”不合法：应为英文字母、数字、下划线、点或连字符") % {"param": param})
            if item not in items:
                problem(gettext("参数“%(param)s”对应的“%(item)s”不是本资源的信息项") % {"param": param, "item": item})
        for param in path_parameters(path):
            if param not in params:
                problem(gettext("路径中的参数 {%(param)s} 没有对应的信息项") % {"param": param})
    return problems


def _mapping_problems(mapping: Any, items: set[str]) -> list[FieldProblem]:
    if not isinstance(mapping, dict) or not mapping:
        return [FieldProblem("mapping", gettext("请填写返回字段与信息项的对应（如 姓名=data.records[].xm）"))]
    problems: list[FieldProblem] = []
    prefixes = set()
    for item, text in mapping.items():
        if item not in items:
            problems.append(
                FieldProblem("mapping", gettext("返回字段映射中的“%(item)s”不是本资源的信息项") % {"item": item})
            )
            continue
        path = parse_path(str(text)) if isinstance(text, str) else None
        if path is None:
            problems.append(
                FieldProblem(
                    "mapping",
                    gettext("信息项“%(item)s”的返回字段路径“%(path)s”不正确，应为如 data.records[].xm 的点分路径")
                    % {"item": item, "path": text},
                )
            )
            continue
        prefixes.add(path.records)
    if len(prefixes) > 1:
        problems.append(
            FieldProblem("mapping", gettext("各信息项的返回字段路径应指向同一个记录列表（[] 之前的部分相同）"))
        )
    return problems


def _auth_problems(data: ProviderServiceInput, has_secret: bool) -> list[FieldProblem]:
    if data.auth_kind not in ProviderAuth.values:
        return [FieldProblem("auth_kind", gettext("认证方式只能是 无需认证、请求头密钥 或 HTTP 基本认证"))]
    if data.auth_kind == ProviderAuth.NONE:
        return []
    problems: list[FieldProblem] = []
    name = data.auth_name.strip()
    if data.auth_kind == ProviderAuth.HEADER and (not _HEADER.match(name) or name.lower() in _RESERVED_HEADERS):
        problems.append(FieldProblem("auth_name", gettext("请填写放置密钥的请求头名称，如 X-Api-Key")))
    if data.auth_kind == ProviderAuth.BASIC and not (0 < len(name) <= 100 and ":" not in name):
        problems.append(FieldProblem("auth_name", gettext("请填写 HTTP 基本认证的用户名（不含冒号）")))
    if data.secret is not None and ("\n" in data.secret or "\r" in data.secret or len(data.secret) > 1000):
        problems.append(FieldProblem("secret", gettext("密钥不能含换行，且不超过 1000 个字符")))
    elif not (data.secret or has_secret):
        problems.append(FieldProblem("secret", gettext("请填写提供部门接口的密钥或密码")))
    return problems


def _timeout_problems(value: Any) -> list[FieldProblem]:
    if isinstance(value, bool) or not isinstance(value, int | float) or not TIMEOUT_MIN <= value <= TIMEOUT_MAX:
        return [
            FieldProblem(
                "timeout_seconds",
                gettext("超时应为 %(min)g–%(max)g 秒") % {"min": TIMEOUT_MIN, "max": TIMEOUT_MAX},
            )
        ]
    return []


def _resource(actor: User, resource_id: int) -> Resource:
    resource = Resource.objects.filter(pk=resource_id).first() if 0 < resource_id < 2**63 else None
    if resource is None:
        raise NotFound(NOT_FOUND)
    require_registrar(actor, resource)
    return resource


def _checked(data: ProviderServiceInput, resource: Resource, has_secret: bool) -> ProviderServiceInput:
    if resource.status != ReviewStatus.PUBLISHED:
        raise Conflict(gettext_noop("只有已发布的信息资源可以登记提供部门接口"))
    if resource.share_method != ShareMethod.PLATFORM or resource.platform_share_type != PlatformShareType.API:
        raise ValidationFailed(
            [FieldProblem("resource_id", gettext("只有共享方式为“共享平台方式—接口”的信息资源可以登记提供部门接口"))]
        )
    items = set(resource.items.values_list("name", flat=True))
    data.base_url = data.base_url.strip()
    problems = _url_problems(data.base_url)
    if not data.operations and data.openapi.strip():
        data.operations, imported = _openapi_operations(data.openapi, items)
        problems += imported
    if not any(problem.field == "openapi" for problem in problems):
        problems += _operation_problems(data.operations, items)
    problems += _mapping_problems(data.mapping, items)
    problems += _auth_problems(data, has_secret)
    problems += _timeout_problems(data.timeout_seconds)
    if problems:
        raise ValidationFailed(problems)
    data.operations = [
        {
            "name": str(op["name"]).strip(),
            "method": str(op["method"]).upper().strip(),
            "path": str(op["path"]).strip(),
            "params": {str(k): str(v) for k, v in op["params"].items()},
        }
        for op in data.operations
    ]
    return data


def _settings(service: ProviderService) -> dict[str, Any]:
    """What the audit trail records of a service: never the credential (only whether it is set)."""
    return {
        "base_url": service.base_url,
        "operations": [f"{op['name']} {op['method']} {op['path']}" for op in service.operations],
        "auth_kind": service.auth_kind,
        "auth_name": service.auth_name,
        "credential": "已设置" if service.secret else "无",
        "timeout_seconds": service.timeout_seconds,
        "mapping": service.mapping,
        "is_active": service.is_active,
    }


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def _secret(data: ProviderServiceInput, resource: Resource, stored: str) -> str:
    if data.auth_kind == ProviderAuth.NONE:
        return ""
    if data.secret:
        return crypto.encrypt_text(data.secret, f"{SECRET_PURPOSE}:{resource.pk}")
    return stored


def register_provider_service(data: ProviderServiceInput, *, actor: User) -> ProviderService:
    """登记: the resource gets the provider's API the gateway proxies calls to."""
    resource = _resource(actor, data.resource_id)
    data = _checked(data, resource, has_secret=False)
    if ProviderService.objects.filter(resource=resource).exists():
        raise Conflict(gettext_noop("该信息资源已登记提供部门接口，请修改已有的登记"))
    with transaction.atomic():
        service = ProviderService.objects.create(
            resource=resource,
            base_url=data.base_url,
            operations=data.operations,
            auth_kind=data.auth_kind,
            auth_name=data.auth_name.strip() if data.auth_kind != ProviderAuth.NONE else "",
            secret=_secret(data, resource, ""),
            timeout_seconds=float(data.timeout_seconds),
            mapping=data.mapping,
            is_active=data.is_active,
            created_by=actor,
        )
        record_action(actor, "gateway.provider.register", service, resource=resource.code, **_settings(service))
    forget_service(resource.pk)
    return service


def update_provider_service(service: ProviderService, data: ProviderServiceInput, *, actor: User) -> ProviderService:
    """修改. A new base URL origin needs a new credential (the stored one is never sent elsewhere)."""
    resource = service.resource
    require_registrar(actor, resource)
    data.resource_id = resource.pk
    moved = _origin(data.base_url.strip()) != _origin(service.base_url)
    keeps = bool(service.secret) and not moved and data.auth_kind == service.auth_kind
    if moved and not data.secret and data.auth_kind != ProviderAuth.NONE:
        raise ValidationFailed(
            [FieldProblem("secret", gettext("接口基础地址的主机变了：已保存的密钥不会发往新地址，请重新填写密钥"))]
        )
    data = _checked(data, resource, has_secret=keeps)
    before = _settings(service)
    with transaction.atomic():
        locked = ProviderService.objects.select_for_update().get(pk=service.pk)
        locked.base_url = data.base_url
        locked.operations = data.operations
        locked.auth_kind = data.auth_kind
        locked.auth_name = data.auth_name.strip() if data.auth_kind != ProviderAuth.NONE else ""
        locked.secret = _secret(data, resource, locked.secret if keeps else "")
        locked.timeout_seconds = float(data.timeout_seconds)
        locked.mapping = data.mapping
        locked.is_active = data.is_active
        locked.save()
        after = _settings(locked)
        changes = {name: {"from": before[name], "to": after[name]} for name in after if before[name] != after[name]}
        if data.secret:
            changes["credential"] = {"from": before["credential"], "to": "已更换"}
        record_action(actor, "gateway.provider.change", locked, resource=resource.code, changes=changes)
    forget_service(resource.pk)
    return locked


__all__ = [
    "MANAGERS_ONLY",
    "NOT_FOUND",
    "ProviderServiceInput",
    "may_register",
    "register_provider_service",
    "require_registrar",
    "update_provider_service",
]
