"""The gateway sandbox of the demo city (网关联调沙箱): a system of the big-data bureau, an approved scenario and a
grant over one of 市公安局's loaded, indexed resources, so that a consumer's developers can call every gateway service
before their own grant exists. Its client secret is shown once by the service that issues it; the demo keeps it,
with the ids and three keys that exist, in <data dir>/demo/gateway-sandbox.json (readable by the platform's user
only), which `govshare demo_accounts` prints. Demo data only: the records are generated, never a real person's."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from govshare.accounts.models import User
from govshare.catalog.choices import ReviewStatus, ShareType
from govshare.catalog.models import Resource
from govshare.core.crypto import write_private_json
from govshare.datasets import reading, scopes, serving
from govshare.datasets.models import Dataset
from govshare.identity import services as identity_services
from govshare.identity.models import InformationSystem
from govshare.sharing import grants
from govshare.sharing.choices import ScenarioStatus
from govshare.sharing.models import Scenario

SANDBOX_CODE = "gateway-sandbox"
SANDBOX_QUOTA = 1_000


def sandbox_file() -> Path:
    return Path(settings.GOVSHARE.data_dir) / "demo" / "gateway-sandbox.json"


def read_sandbox() -> dict[str, Any] | None:
    path = sandbox_file()
    if not path.is_file():
        return None
    value = json.loads(path.read_text(encoding="utf-8"))
    return value if isinstance(value, dict) else None


def _indexed_resource(department_id: int) -> tuple[Resource, serving.ServedVersion] | None:
    """The department's first published, shared resource whose key index exists."""
    for dataset in (
        Dataset.objects.filter(
            resource__department_id=department_id,
            resource__status=ReviewStatus.PUBLISHED,
            current_version__isnull=False,
        )
        .exclude(resource__share_type=ShareType.NOT_SHARED)
        .select_related("resource")
        .order_by("resource__code")
    ):
        served = serving.served(dataset.pk)
        if served is not None and served.key_items:
            return dataset.resource, served
    return None


def _sample_keys(resource: Resource, reader: User, key: tuple[str, ...]) -> list[dict[str, str]]:
    dataset = Dataset.objects.get(resource=resource)
    opened = reading.open_version(dataset, reading.staff_scope(reader, resource))
    with opened.batches as batches:
        first = next(iter(batches), None)
    if first is None:
        return []
    columns = first.slice(0, 3).to_pydict()
    return [{name: str(columns[name][row]) for name in key} for row in range(min(3, first.num_rows))]


def load_demo_sandbox(say: Callable[[str], None]) -> bool:
    """Set the sandbox up (once: nothing when its system exists)."""
    if InformationSystem.objects.filter(code=SANDBOX_CODE).exists():
        return False
    coordinator = User.objects.filter(username="coordinator", is_active=True).first()
    provider_reviewer = User.objects.filter(username="gaj_reviewer", is_active=True).first()
    admin = User.objects.filter(username="admin", is_active=True).first()
    if coordinator is None or provider_reviewer is None or admin is None or coordinator.department is None:
        return False
    assert provider_reviewer.department_id is not None
    found = _indexed_resource(provider_reviewer.department_id)
    if found is None:
        return False
    resource, served = found
    bureau = coordinator.department
    system = identity_services.register_information_system(
        identity_services.SystemInput(
            code=SANDBOX_CODE,
            name="网关联调沙箱系统",
            department=bureau,
            purpose="供各部门信息系统开发人员在取得正式授权前联调数据共享网关的各项服务（演示数据）",
        ),
        actor=admin,
    )
    credential, secret = identity_services.issue_system_credential(system, actor=admin)
    scenario = Scenario.objects.create(
        department=bureau,
        name="网关联调沙箱",
        description="各部门接入数据共享网关前的接口联调（演示数据，非真实人员信息）",
        legal_basis="《政务数据共享条例》；本市数据共享网关接入规范",
        status=ScenarioStatus.APPROVED,
        reviewed_by=coordinator,
        reviewed_at=timezone.now(),
        review_note="演示数据：联调沙箱",
    )
    scenario.systems.add(system)
    items = [item.name for item in resource.items.order_by("position") if item.share_type != ShareType.NOT_SHARED]
    key = served.key_items[0]
    today = scopes.clock()  # the day grants are judged on
    grant = grants.issue_grant(
        grants.GrantInput(
            department_id=bureau.pk,
            scenario_id=scenario.pk,
            resource_id=resource.pk,
            items=list(dict.fromkeys([*key, *items[:6]])),
            daily_quota=SANDBOX_QUOTA,
            valid_from=today,
            valid_until=today + dt.timedelta(days=365),
            conditions="仅用于接口联调，不得用于业务办理。",
        ),
        actor=provider_reviewer,
        today=today,
        source_note="演示：网关联调沙箱",
    )
    write_private_json(
        sandbox_file(),
        {
            "client_id": credential.application.client_id,
            "client_secret": secret,
            "resource": resource.pk,
            "resource_name": resource.name,
            "scenario": scenario.pk,
            "grant": grant.pk,
            "key_items": list(key),
            "sample_keys": _sample_keys(resource, provider_reviewer, key),
        },
        exclusive=False,
    )
    say(f"  网关联调沙箱：接入系统 {SANDBOX_CODE}，资源“{resource.name}”，场景编号 {scenario.pk}")
    return True
