"""Write the demo city through the platform's own services, in one transaction.

Every department, account, class and entry goes through the named services (create_department, create_user,
create_category, create_resources, submit/publish/reject/withdraw_resource, confirm_catalog_maintenance), so
the demo carries versions, audit rows, search tokens and duplicate candidates exactly as real use would.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from govshare.accounts import services as account_services
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.services import record_action
from govshare.catalog import services as catalog_services
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import Category, DuplicateCandidate, Resource
from govshare.demo import vocabulary as v
from govshare.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from govshare.demo.generator import SEED, DemoDepartment, DemoEntry, demo_departments, demo_entries
from govshare.demo.scenarios import load_demo_scenarios

BATCH_NOTE = f"演示数据：{v.CITY_NAME}政务信息资源目录初始化"
# Shares of departments whose last full maintenance is recent, overdue, or that never did one.
MAINTENANCE_WEIGHTS = {"recent": 0.6, "overdue": 0.28, "never": 0.12}

Progress = Callable[[str], None]


class DemoAlreadyLoaded(Exception):
    """The demo city is already in this database."""


@dataclass
class DemoSummary:
    departments: int = 0
    accounts: int = 0
    categories: int = 0
    entries: Counter[str] = field(default_factory=Counter)
    overdue_departments: int = 0
    duplicate_pairs: int = 0
    seconds: float = 0.0


def demo_is_loaded() -> bool:
    """The demo's first department (the big-data bureau) marks a loaded demo."""
    return Department.objects.filter(code=demo_departments(1)[0].code).exists()


def _create_departments(departments: list[DemoDepartment]) -> dict[str, Department]:
    by_key = {d.key: d for d in departments}
    created: dict[str, Department] = {}
    for demo in departments:
        parent_code = by_key[demo.parent_key].code if demo.parent_key in by_key else None
        created[demo.key] = account_services.create_department(
            account_services.DepartmentInput(
                code=demo.code,
                name=demo.name,
                level=demo.level,
                parent_code=parent_code,
                short_name=demo.short_name,
                region_code=demo.region,
            ),
            actor=None,
        )
    return created


def _create_accounts(departments: dict[str, Department]) -> dict[str, User]:
    users: dict[str, User] = {}
    for account in DEMO_ACCOUNTS:
        department = departments.get(account.department_key)
        if department is None:
            continue  # a reduced demo (--departments) without this account's department
        users[account.username] = account_services.create_user(
            username=account.username,
            password=DEMO_PASSWORD,
            full_name=account.full_name,
            department=department,
            roles=list(account.roles),
            actor=None,
        )
    return users


def _create_categories(actor: User) -> int:
    created = 0
    parents = {c.code: c for c in Category.objects.filter(code__in={p for p, _, _ in v.SUBJECT_CATEGORIES})}
    existing = set(Category.objects.values_list("code", flat=True))
    for parent_code, segment, name in v.SUBJECT_CATEGORIES:
        if parent_code + segment in existing or parent_code not in parents:
            continue
        catalog_services.create_category(parent=parents[parent_code], segment=segment, name=name, actor=actor)
        created += 1
    return created


def _creators(departments: dict[str, Department], users: dict[str, User], admin: User) -> dict[int, User]:
    """Who catalogues each department's entries: its demo catalogue administrator, else the big-data bureau
    (which imports the catalogues collected from the departments, as cities do at 目录初始化)."""
    creators = {department.pk: admin for department in departments.values()}
    for user in users.values():
        if user.has_role(Role.CATALOG_ADMIN) and user.department_id is not None:
            creators[user.department_id] = user
    return creators


def _create_entries(
    entries: list[DemoEntry], departments: dict[str, Department], creators: dict[int, User], progress: Progress
) -> list[Resource]:
    by_creator: dict[int, list[int]] = {}
    for index, entry in enumerate(entries):
        creator = creators[departments[entry.department.key].pk]
        by_creator.setdefault(creator.pk, []).append(index)
    users = {u.pk: u for u in creators.values()}
    resources: list[Resource | None] = [None] * len(entries)
    for creator_pk, indexes in by_creator.items():
        resolved, problems = catalog_services.resolve_drafts([entries[i].draft for i in indexes])
        broken = [(entries[i].draft.name, p) for i, p in zip(indexes, problems, strict=True) if p]
        if broken:
            name, found = broken[0]
            raise RuntimeError(f"演示数据不符合目录规则：{name}：{'；'.join(p.message for p in found)}")
        created = catalog_services.create_resources(resolved, actor=users[creator_pk], batch_note=BATCH_NOTE)
        for index, resource in zip(indexes, created, strict=True):
            resources[index] = resource
        progress(f"  {users[creator_pk].get_username()} 编目 {len(created)} 条")
    return [r for r in resources if r is not None]


def _run_workflow(
    entries: list[DemoEntry], resources: list[Resource], creators: dict[int, User], admin: User, progress: Progress
) -> None:
    """Submit (each department its own), then the big-data bureau publishes, rejects and withdraws."""
    rng = random.Random(SEED + 2)
    pairs = list(zip(entries, resources, strict=True))
    to_submit: dict[int, list[Resource]] = {}
    for entry, resource in pairs:
        if entry.state != ReviewStatus.DRAFT:
            to_submit.setdefault(creators[resource.department_id].pk, []).append(resource)
    users = {u.pk: u for u in creators.values()}
    for creator_pk, batch in to_submit.items():
        catalog_services.submit_resources(batch, actor=users[creator_pk])
    progress(f"  提交审核 {sum(len(b) for b in to_submit.values())} 条")
    by_date: dict[dt.date, list[Resource]] = {}
    today = timezone.localdate()
    for entry, resource in pairs:
        if entry.state in (ReviewStatus.PUBLISHED, ReviewStatus.WITHDRAWN):
            by_date.setdefault(min(entry.published_on, today), []).append(resource)
    for published_on in sorted(by_date):
        catalog_services.publish_resources(by_date[published_on], actor=admin, published_on=published_on)
    progress(f"  审核发布 {sum(len(b) for b in by_date.values())} 条（发布日期 {min(by_date)} 至 {max(by_date)}）")
    rejected = withdrawn = 0
    for entry, resource in pairs:
        if entry.state == "rejected":
            catalog_services.reject_resource(resource, reason=rng.choice(v.REJECTION_REASONS), actor=admin)
            rejected += 1
        elif entry.state == ReviewStatus.WITHDRAWN:
            catalog_services.withdraw_resource(resource, reason=rng.choice(v.WITHDRAWAL_REASONS), actor=admin)
            withdrawn += 1
    progress(f"  驳回 {rejected} 条，下线 {withdrawn} 条")


def _record_maintenance(departments: dict[str, Department], admin: User) -> int:
    """Spread the departments' last full maintenance dates so that some are overdue (quarterly duty)."""
    rng = random.Random(SEED + 3)
    now = timezone.now()
    overdue = 0
    kinds, weights = list(MAINTENANCE_WEIGHTS), list(MAINTENANCE_WEIGHTS.values())
    for department in departments.values():
        kind = rng.choices(kinds, weights)[0]
        if kind == "never":
            overdue += 1
            continue
        days = rng.randint(3, 80) if kind == "recent" else rng.randint(100, 420)
        overdue += kind == "overdue"
        when = now - dt.timedelta(days=days, hours=rng.randint(0, 9), minutes=rng.randint(0, 59))
        account_services.confirm_catalog_maintenance(department, actor=admin, maintained_at=when)
    return overdue


def load_demo(*, resources: int, departments: int | None = None, progress: Progress | None = None) -> DemoSummary:
    """Load the demo city (all or nothing); raises DemoAlreadyLoaded if it is there already."""
    say: Progress = progress or (lambda _message: None)
    started = time.perf_counter()
    plan = demo_departments(departments)
    entries = demo_entries(plan, resources)
    summary = DemoSummary()
    with transaction.atomic():
        if demo_is_loaded():
            raise DemoAlreadyLoaded()
        say(f"创建 {len(plan)} 个部门…")
        created = _create_departments(plan)
        summary.departments = len(created)
        users = _create_accounts(created)
        summary.accounts = len(users)
        admin = users.get("admin")
        if admin is None:
            raise RuntimeError("演示数据需要平台管理员所在的部门（市政务服务和大数据管理局）")
        say(f"创建 {len(users)} 个演示账号、资源分类（目）…")
        summary.categories = _create_categories(admin)
        creators = _creators(created, users, admin)
        say(f"编目 {len(entries)} 条信息资源…")
        resources_made = _create_entries(entries, created, creators, say)
        say("提交、审核、发布、驳回、下线…")
        _run_workflow(entries, resources_made, creators, admin, say)
        summary.overdue_departments = _record_maintenance(created, admin)
        systems, scenarios = load_demo_scenarios(created, users, admin)
        say(f"登记 {systems} 个接入系统、{scenarios} 个应用场景…")
        summary.entries = Counter(entry.state for entry in entries)
        summary.duplicate_pairs = DuplicateCandidate.objects.count() // 2
        summary.seconds = time.perf_counter() - started
        record_action(
            None,
            "demo.data.load",
            object_type="demo",
            object_repr=f"{v.CITY_NAME}演示数据",
            departments=summary.departments,
            resources=len(entries),
        )
    return summary
