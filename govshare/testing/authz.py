"""Helpers of the authorisation matrix (test_authorization_matrix): the live route and page lists, the world of
users and objects the matrix runs against, and how one answer is classified."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from govshare import testing
from govshare.accounts import services as account_services
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.api import api
from govshare.audit.models import AuditLog
from govshare.catalog import importing, revisions
from govshare.catalog import services as catalog_services
from govshare.catalog.models import Category, ImportBatch, Resource
from govshare.catalog.rules import ItemDraft
from govshare.datasets import scopes
from govshare.datasets import services as dataset_services
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.gateway.choices import DeliveryKind
from govshare.gateway.models import Delivery
from govshare.gateway.provider_services import ProviderServiceInput, register_provider_service
from govshare.grading import services as grading_services
from govshare.grading.models import GradingChange
from govshare.identity import services as identity_services
from govshare.jobs.models import Job
from govshare.jobs.services import start_job
from govshare.keys.jobs import ROTATE_KEYS
from govshare.notifications import services as notification_services
from govshare.notifications.choices import NotificationKind
from govshare.sharing import demands as demand_services
from govshare.sharing import duties as duty_services
from govshare.sharing import grants
from govshare.sharing import scenarios as scenario_services
from govshare.sharing.models import Grant
from govshare.sources import services as source_services
from govshare.sources.models import Source

# The roles of the matrix, in the order of the expectation strings. Every role but `other` works in department A
# or for the whole platform; `other` is a catalogue administrator of department B.
ROLES = ("anon", "platform", "catalog", "reviewer", "consumer", "security", "auditor", "other")

# The objects each kind of route is tried with, in the order of the expectation strings.
OBJECTS: dict[str, tuple[str, ...]] = {
    "none": ("-",),
    "resource": ("a_draft", "a_published", "b_draft", "b_published"),
    "source": ("a", "b"),  # file sources (reported files), each with a finished load
    "api_source": ("a", "b"),  # 接口 sources, mapped, never loaded
    "load": ("a", "b"),
    "change": ("a", "b"),
    "row": ("row",),
    "token": ("mine", "someone_else"),
    "department": ("a", "b"),
    "category": ("101",),
    "batch": ("a", "b"),
    "role_grant": ("pending",),  # the platform administrator's proposal to make a consumer of B 审计员
    "notification": ("mine", "someone_else"),  # one in the role's own inbox, one in another account's
    "job": ("a", "b"),  # a job each of A's and B's catalogue administrators started for their department
    "demand": ("a", "b"),  # a demand of A's consumer and one of B's, neither addressed to a provider
    "duty": ("a", "b"),  # a duty of A and one of B, set by the platform administrator
    # Information systems of A and B (registered by their catalogue administrators, one credential each), as
    # {"system_id", "code"}; their credentials as {"system_id", "credential_id"} (routes with two ids).
    "system": ("a", "b"),
    "credential": ("a", "b"),
    # A scenario of A's (registered by A's consumer) and one of B's, both submitted to the coordinator.
    "scenario": ("a", "b"),
    "grant": ("a", "b"),  # a third department's grant on A's published resource, and one on B's
    # Grants A and B hold (on the third department's published resource), each for a scenario one of the holder's
    # information systems serves: the grants a consumer system calls through the gateway.
    "consumer_grant": ("a", "b"),
    "delivery": ("a", "b"),  # a delivery (库表对接) of each of those grants, registered by its holder
    # Share requests of A's consumer and of B's consumer, both submitted, each for a third department's resource, as
    # {"request_id", "line_id"} (the line: in review at the provider's stage).
    "share_request": ("a", "b"),
    "request_line": ("a", "b"),  # the same requests: routes of a line take its line_id
    # Provider services (a provider's own API behind its published resource) of A and of B.
    "provider_service": ("a", "b"),
}

# Classes of answers.
OK = "O"  # authorised and done: 2xx, or a redirect that is not to a sign-in page
REFUSED_BY_RULE = "V"  # authorised, but the request or the object's state refused: 400/409/422 (API)
LOGIN = "L"  # not signed in: 401 (API) or a redirect to a sign-in page
FORBIDDEN = "F"  # 403: may see the object but not do this
HIDDEN = "H"  # 404: out of scope (or not there)
REFUSED = "R"  # a page redirected back with an error message instead of doing it
CLIENT_ERROR = "N"  # some 4xx other than 404 (protocol endpoints called without their credentials)
CLASSES = {OK, REFUSED_BY_RULE, LOGIN, FORBIDDEN, HIDDEN, REFUSED, CLIENT_ERROR}

CSV_TEXT = "身份证号,姓名,出生日期\n11010519491231002X,张三,1949-12-31\n510603199001010011,王五,19xx-01-01\n"
MAPPING = [
    {"column": "身份证号", "item": "公民身份号码"},
    {"column": "姓名", "item": "姓名"},
    {"column": "出生日期", "item": "出生日期"},
]
ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="出生日期", data_type="D"),
]


# --- what exists -------------------------------------------------------------------------------------------------


@cache
def api_operations() -> dict[str, tuple[str, str]]:
    """Every operation of the live OpenAPI document: short name (operationId without `govshare_`) → (method,
    path)."""
    operations: dict[str, tuple[str, str]] = {}
    for path, methods in api.get_openapi_schema()["paths"].items():
        for method, operation in methods.items():
            name = str(operation["operationId"]).removeprefix("govshare_")
            operations[name] = (method.upper(), path)
    return operations


def _walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            joined = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), joined)
        elif isinstance(pattern, URLPattern):
            name = pattern.name or str(pattern.pattern)
            yield prefix + str(pattern.pattern), f"{namespace}:{name}" if namespace else name


@cache
def page_patterns() -> dict[str, str]:
    """Every page of govshare.urls: URL name → route. The API (one include) and the admin's inner pages are left
    out; the admin's index stands for it."""
    pages: dict[str, str] = {}
    for route, name in _walk(get_resolver().url_patterns, "", ""):
        if route.startswith("api/") or (name.startswith("admin:") and name != "admin:index"):
            continue
        pages[name] = route
    return pages


# --- the world ---------------------------------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User | None]
    tokens: dict[str, str]  # role → raw bearer token
    spare_tokens: dict[str, int]  # role → id of a second token of the role's own
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind → object name → id or code
    own_notifications: dict[str, int] = field(default_factory=dict)  # role → id of a notification in its inbox

    def object_value(self, kind: str, name: str, role: str) -> Any:
        if kind == "token" and name == "mine":
            return self.spare_tokens.get(role, self.objects["token"]["someone_else"])
        if kind == "notification" and name == "mine":
            return self.own_notifications.get(role, self.objects["notification"]["someone_else"])
        return self.objects[kind][name]


def _published(department: Department, author: User, reviewer: User, name: str) -> Resource:
    resource = catalog_services.create_resource(
        testing.resource_draft(department, name=name, items=ITEMS), actor=author
    )
    catalog_services.submit_resource(resource, actor=author)
    return catalog_services.publish_resource(resource, actor=reviewer)


def _loaded_source(resource: Resource, actor: User) -> tuple[Source, Load]:
    source = source_services.register_source(
        resource, source_services.SourceInput(name="线下报送", kind="file", config={"format": "csv"}), actor=actor
    )
    source = source_services.set_mapping(
        source, [source_services.MappingEntry(**entry) for entry in MAPPING], actor=actor, columns=None
    )
    load = dataset_services.request_load(
        source, actor=actor, upload=SimpleUploadedFile("人口.csv", CSV_TEXT.encode("gbk"))
    )
    run_load(load.pk)
    return source, Load.objects.get(pk=load.pk)


def _api_source(resource: Resource, actor: User) -> Source:
    config = {"url": "https://gaj.example.gov.cn/api/people", "records_path": "$.data[*]"}
    source = source_services.register_source(
        resource, source_services.SourceInput(name="人口接口", kind="http_api", config=config), actor=actor
    )
    return source_services.set_mapping(
        source, [source_services.MappingEntry(**entry) for entry in MAPPING], actor=actor, columns=None
    )


def _notice(user: User) -> int:
    return notification_services.notify([user], kind=NotificationKind.SYSTEM, title="矩阵通知", body="")[0].pk


def _job(user: User, department: Department) -> Job:
    return start_job(ROTATE_KEYS, 500, title="矩阵任务", actor=user, department_id=department.pk, enqueue=False)


def _system(department: Department, code: str, actor: User) -> tuple[dict[str, Any], dict[str, Any]]:
    system = identity_services.register_information_system(
        identity_services.SystemInput(code=code, name=f"{department.name}矩阵系统", department=department), actor=actor
    )
    credential, _ = identity_services.issue_system_credential(system, actor=actor)
    return {"system_id": system.pk, "code": code}, {"system_id": system.pk, "credential_id": credential.pk}


def _scenario(department: Department, system_id: int, actor: User) -> int:
    scenario = scenario_services.register_scenario(
        scenario_services.ScenarioInput(
            department=department,
            name=f"{department.name}矩阵场景",
            description="授权矩阵测试用的应用场景。",
            legal_basis="《政务数据共享条例》",
            system_ids=[system_id],
            needed_items=["公民身份号码"],
        ),
        actor=actor,
    )
    return scenario_services.submit_scenario(scenario, actor=actor).pk


def _grant(resource: Resource, reviewer: User | None) -> Grant:
    """A grant of the resource's data to a third department (丙局), issued by the resource's 部门审核员: the grants
    of the matrix concern A or B only as providers."""
    from govshare.testing.sharing import make_scenario

    holder = Department.objects.filter(name="矩阵丙局").first() or testing.make_department("矩阵丙局")
    scenario = make_scenario(holder, name=f"矩阵场景{resource.pk}")
    issuer = reviewer or testing.make_user(Role.DEPT_REVIEWER, department=resource.department)
    today = scopes.clock()
    data = grants.GrantInput(
        department_id=holder.pk,
        scenario_id=scenario.pk,
        resource_id=resource.pk,
        items=["姓名"],
        valid_from=today,
        valid_until=today + dt.timedelta(days=365),
    )
    return grants.issue_grant(data, actor=issuer, today=today)


def _held_grant(holder: Department, resource: Resource, system_id: int) -> Grant:
    """A grant of the resource's data to `holder`, for a scenario of the holder's that the system serves."""
    from govshare.testing.sharing import make_scenario

    scenario = make_scenario(holder, name=f"{holder.name}矩阵网关场景")
    scenario.systems.add(system_id)
    issuer = testing.make_user(Role.DEPT_REVIEWER, department=resource.department)
    today = scopes.clock()
    data = grants.GrantInput(
        department_id=holder.pk,
        scenario_id=scenario.pk,
        resource_id=resource.pk,
        items=["公民身份号码", "姓名"],
        valid_from=today,
        valid_until=today + dt.timedelta(days=365),
    )
    return grants.issue_grant(data, actor=issuer, today=today)


def _delivery(grant: Grant) -> Delivery:
    """A delivery of the grant into its holder's database (never run: its target does not exist)."""
    return Delivery.objects.create(
        grant=grant,
        department_id=grant.department_id,
        kind=DeliveryKind.TABLE,
        target_url="sqlite:////nonexistent/matrix.sqlite",
        table_name="people",
        key_items=["_key"],
    )


def _share_request(applicant: User, resource: Resource, system_id: int) -> dict[str, int]:
    """A submitted share request of the applicant's department for the resource (of another department)."""
    from govshare.sharing import requests as share_requests
    from govshare.testing.sharing import make_scenario

    department = applicant.department
    assert department is not None
    scenario = make_scenario(department, name=f"{department.name}矩阵申请场景")
    scenario.systems.add(system_id)
    today = scopes.clock()
    line = share_requests.add_to_request(applicant, resource.pk)
    details = share_requests.RequestInput(
        scenario_id=scenario.pk,
        system_id=system_id,
        purpose="授权矩阵测试用的共享申请",
        valid_from=today,
        valid_until=today + dt.timedelta(days=365),
    )
    share_requests.update_request(applicant, line.request, details)
    share_requests.submit_request(applicant, line.request, today=today)
    return {"request_id": line.request_id, "line_id": line.pk}


# A provider's own API in the matrix: a host that never resolves (judged again at each call, never called here).
PROVIDER_BASE_URL = "https://api.matrix.example.invalid/v1"
PROVIDER_MAPPING = {"公民身份号码": "data[].sfzh", "姓名": "data[].xm"}
PROVIDER_OPERATIONS = [
    {"name": "person", "method": "GET", "path": "/people/{sfzh}", "params": {"sfzh": "公民身份号码"}}
]


def provider_service_body(resource_id: int) -> dict[str, Any]:
    return {
        "resource_id": resource_id,
        "base_url": PROVIDER_BASE_URL,
        "operations": PROVIDER_OPERATIONS,
        "mapping": PROVIDER_MAPPING,
        "auth_kind": "header",
        "auth_name": "X-Api-Key",
        "secret": "matrix-provider-key",
        "timeout_seconds": 5,
    }


def _provider_service(resource: Resource, actor: User) -> int:
    body = provider_service_body(resource.pk)
    return register_provider_service(ProviderServiceInput(**body), actor=actor).pk


def build_world() -> World:
    a = testing.make_department("矩阵甲局")
    b = testing.make_department("矩阵乙局")
    users: dict[str, User | None] = {
        "anon": None,
        "platform": testing.make_user(Role.PLATFORM_ADMIN),
        "catalog": testing.make_user(Role.CATALOG_ADMIN, department=a),
        "reviewer": testing.make_user(Role.DEPT_REVIEWER, department=a),
        "consumer": testing.make_user(Role.CONSUMER, department=a),
        "security": testing.make_user(Role.SECURITY_OFFICER),
        "auditor": testing.make_user(Role.AUDITOR),
        "other": testing.make_user(Role.CATALOG_ADMIN, department=b),
    }
    tokens: dict[str, str] = {}
    spare: dict[str, int] = {}
    for role, user in users.items():
        if user is None:
            continue
        tokens[role] = account_services.create_api_token(user, name="矩阵", scope="write", actor=user)[1]
        spare[role] = account_services.create_api_token(user, name="备用", scope="write", actor=user)[0].pk
    someone = testing.make_user(Role.CONSUMER, department=b)
    someone_token = account_services.create_api_token(someone, name="别人的", scope="write", actor=someone)[0]

    admin_a, admin_b, platform = users["catalog"], users["other"], users["platform"]
    assert admin_a is not None and admin_b is not None and platform is not None
    a_draft = catalog_services.create_resource(testing.resource_draft(a, name="甲局草稿", items=ITEMS), actor=admin_a)
    b_draft = catalog_services.create_resource(testing.resource_draft(b, name="乙局草稿", items=ITEMS), actor=admin_b)
    a_published = _published(a, admin_a, platform, "甲局已发布")
    b_published = _published(b, admin_b, platform, "乙局已发布")
    # A change request (变更) of each published entry, in draft.
    for resource, author in ((a_published, admin_a), (b_published, admin_b)):
        edit = testing.resource_draft(resource.department, name=f"{resource.name}（变更）", items=ITEMS)
        revisions.save_revision(resource, edit, actor=author)
    source_a, load_a = _loaded_source(a_published, admin_a)
    source_b, load_b = _loaded_source(b_published, admin_b)
    api_a, api_b = _api_source(a_published, admin_a), _api_source(b_published, admin_b)
    change_a = grading_services.propose_grading_change(
        a_published, to_grade="important", to_level="L3", reason="含个人信息", actor=admin_a
    )
    change_b = grading_services.propose_grading_change(
        b_published, to_grade="important", to_level="L3", reason="含个人信息", actor=admin_b
    )
    batch_a = importing.import_catalog(io.BytesIO(b"not a workbook"), file_name="目录.xlsx", actor=admin_a).batch
    batch_b = importing.import_catalog(io.BytesIO(b"not a workbook"), file_name="目录.xlsx", actor=admin_b).batch
    candidate = testing.make_user(Role.CONSUMER, department=b)
    grant = account_services.propose_role_grant(candidate, Role.AUDITOR, actor=platform)
    assert Category.objects.filter(code="101").exists()
    demand_a, demand_b = (
        demand_services.create_demand(demand_services.DemandInput(title="矩阵需求", description="核验"), actor=user)
        for user in (users["consumer"], someone)
        if user is not None
    )
    duty_a, duty_b = (
        duty_services.create_duty(
            duty_services.DutyInput(department_code=department.code, name="矩阵责任", legal_basis="条例"),
            actor=platform,
        )
        for department in (a, b)
    )
    system_a, credential_a = _system(a, "matrix-a", admin_a)
    system_b, credential_b = _system(b, "matrix-b", admin_b)
    consumer_a = users["consumer"]
    assert consumer_a is not None
    scenario_a = _scenario(a, system_a["system_id"], consumer_a)
    scenario_b = _scenario(b, system_b["system_id"], admin_b)
    grant_a, grant_b = _grant(a_published, users["reviewer"]), _grant(b_published, None)
    c = Department.objects.get(name="矩阵丙局")  # the holder of the grants
    c_admin = testing.make_user(Role.CATALOG_ADMIN, department=c)
    c_published = _published(c, c_admin, platform, "丙局已发布")
    request_a = _share_request(consumer_a, c_published, system_a["system_id"])
    request_b = _share_request(someone, c_published, system_b["system_id"])
    held_a = _held_grant(a, c_published, system_a["system_id"])
    held_b = _held_grant(b, c_published, system_b["system_id"])
    provider_a, provider_b = _provider_service(a_published, admin_a), _provider_service(b_published, admin_b)
    inboxes = {role: _notice(user) for role, user in users.items() if user is not None}
    world = World(users=users, tokens=tokens, spare_tokens=spare, own_notifications=inboxes)
    world.objects = {
        "none": {"-": None},
        "resource": {
            "a_draft": a_draft.pk,
            "a_published": a_published.pk,
            "b_draft": b_draft.pk,
            "b_published": b_published.pk,
        },
        "source": {"a": source_a.pk, "b": source_b.pk},
        "api_source": {"a": api_a.pk, "b": api_b.pk},
        "load": {"a": load_a.pk, "b": load_b.pk},
        "change": {"a": change_a.pk, "b": change_b.pk},
        "row": {"row": AuditLog.objects.order_by("-pk").values_list("pk", flat=True).first()},
        "token": {"someone_else": someone_token.pk},
        "department": {"a": a.code, "b": b.code},
        "category": {"101": "101"},
        "batch": {"a": batch_a.pk, "b": batch_b.pk},
        "role_grant": {"pending": grant.pk},
        "notification": {"someone_else": _notice(someone)},
        "job": {"a": _job(admin_a, a).pk, "b": _job(admin_b, b).pk},
        "demand": {"a": demand_a.pk, "b": demand_b.pk},
        "duty": {"a": duty_a.pk, "b": duty_b.pk},
        "system": {"a": system_a, "b": system_b},
        "credential": {"a": credential_a, "b": credential_b},
        "scenario": {"a": scenario_a, "b": scenario_b},
        "grant": {"a": grant_a.pk, "b": grant_b.pk},
        "consumer_grant": {"a": held_a.pk, "b": held_b.pk},
        "delivery": {"a": _delivery(held_a).pk, "b": _delivery(held_b).pk},
        "share_request": {"a": request_a, "b": request_b},
        "request_line": {"a": request_a, "b": request_b},
        "provider_service": {"a": provider_a, "b": provider_b},
    }
    assert isinstance(batch_a, ImportBatch) and isinstance(change_a, GradingChange)
    return world


# --- requests and answers ----------------------------------------------------------------------------------------


def resource_body(department_code: str = "") -> dict[str, Any]:
    return {
        "name": "矩阵新建资源",
        "category_code": "101",
        "department_code": department_code,
        "summary": "授权矩阵测试用的信息资源，包含公民身份号码和姓名。",
        "format": "database",
        "sub_format": "PostgreSQL",
        "share_type": "conditional",
        "share_condition": "用于政务服务身份核验",
        "share_method": "platform",
        "platform_share_type": "api",
        "open_type": "not_open",
        "update_cycle": "daily",
        "items": [{"name": "公民身份号码", "data_type": "C", "length": 18}],
    }


def csv_upload() -> io.BytesIO:
    upload = io.BytesIO(CSV_TEXT.encode("gbk"))
    upload.name = "人口.csv"
    return upload


def api_request(client: Client, method: str, path: str, body: Any, token: str | None) -> HttpResponseBase:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if isinstance(body, dict) and any(isinstance(v, io.BytesIO) for v in body.values()):
        return client.post(path, body, headers=headers)
    call = getattr(client, method.lower())
    if method == "GET":
        return call(path, body or {}, headers=headers)  # type: ignore[no-any-return]
    payload = json.dumps(body) if body is not None else ""
    return call(path, payload, content_type="application/json", headers=headers)  # type: ignore[no-any-return]


def describe(response: HttpResponseBase) -> str:
    """Status and the start of the body, for a failure message."""
    content = getattr(response, "content", b"(streamed)")
    return f"{response.status_code} {content[:300]!r}"


def classify(response: HttpResponseBase, *, page: bool) -> str:
    status = response.status_code
    if status >= 500:
        return f"5xx({status})"
    if status in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        if "/login/" in location.split("?")[0]:
            return LOGIN
        request = getattr(response, "wsgi_request", None)
        if page and request is not None and any(m.level >= message_levels.ERROR for m in get_messages(request)):
            return REFUSED
        return OK
    if status < 300:
        return OK
    if status in (400, 409, 422) and not page:
        return REFUSED_BY_RULE
    if status == 401:
        return LOGIN
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return HIDDEN
    if 400 <= status < 500:
        return CLIENT_ERROR
    return f"?({status})"


def expand(spec: str, kind: str) -> dict[tuple[str, str], str]:
    """`"L O OOHO …"`: one group per role (ROLES order), one letter per object of the kind (OBJECTS order); a
    group of one letter stands for every object."""
    groups = spec.split()
    objects = OBJECTS[kind]
    if len(groups) != len(ROLES):
        raise ValueError(f"{len(groups)} groups for {len(ROLES)} roles: {spec!r}")
    expected: dict[tuple[str, str], str] = {}
    for role, group in zip(ROLES, groups, strict=True):
        letters = group * len(objects) if len(group) == 1 else group
        if len(letters) != len(objects) or not set(letters) <= CLASSES:
            raise ValueError(f"group {group!r} of {role} does not fit {objects}")
        for obj, letter in zip(objects, letters, strict=True):
            expected[(role, obj)] = letter
    return expected
