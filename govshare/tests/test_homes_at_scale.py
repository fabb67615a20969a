"""Homes and header counts stay cheap at a city's scale: with 30,000 catalogue entries (and their items, datasets,
loads and grading changes) each role's home and the header's counts take a fixed, small number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit import services as audit_services
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import Category, Item, Resource
from govshare.core.navcounts import nav_counts_for
from govshare.datasets.choices import LoadStatus
from govshare.datasets.models import Dataset, Load
from govshare.grading.models import GradingChange
from govshare.sources.models import Source

ENTRIES = 30_000
DEPARTMENTS = 40
# Every 10th entry: 0-5 published, 6 submitted, 7 rejected (a draft with a reason), 8 draft, 9 withdrawn.
STATES = [ReviewStatus.PUBLISHED] * 6 + [ReviewStatus.SUBMITTED, ReviewStatus.DRAFT, ReviewStatus.DRAFT]
STATES += [ReviewStatus.WITHDRAWN]


@dataclass
class City:
    departments: list[Department]
    users: dict[str, User]


def _build_city() -> City:
    departments = [testing.make_department(f"规模测试部门{n}") for n in range(DEPARTMENTS)]
    owner = departments[0]
    users = {
        "platform_admin": testing.make_user(Role.PLATFORM_ADMIN, department=departments[-1]),
        "catalog_admin": testing.make_user(Role.CATALOG_ADMIN, department=owner),
        "security_officer": testing.make_user(Role.SECURITY_OFFICER, department=departments[1]),
        "auditor": testing.make_user(Role.AUDITOR),
        "consumer": testing.make_user(Role.CONSUMER, department=owner),
        "platform_and_catalog_admin": testing.make_user(Role.PLATFORM_ADMIN, Role.CATALOG_ADMIN, department=owner),
    }
    category = Category.objects.get(code="101")
    prefix = category.code_prefix
    now = timezone.now()
    Resource.objects.bulk_create(
        [
            Resource(
                code=f"{prefix}/{n + 1:06d}",
                category=category,
                name=f"规模测试资源{n}",
                department=departments[(n // 10) % DEPARTMENTS],  # each department gets every state
                summary="规模测试",
                format="database",
                share_type="conditional",
                open_type="not_open",
                update_cycle="monthly",
                status=STATES[n % 10],
                rejection_reason="摘要不全" if n % 10 == 7 else "",
            )
            for n in range(ENTRIES)
        ],
        batch_size=2000,
    )
    resources = list(Resource.objects.order_by("pk").values_list("pk", flat=True))
    names = ["公民身份号码", "姓名", "出生日期"]
    Item.objects.bulk_create(
        [
            Item(
                resource_id=pk,
                position=1,
                name=names[n % 3],
                data_type="C",
                share_type="conditional",
                open_type="not_open",
                data_level="L2" if n % 2 else "L3",
            )
            for n, pk in enumerate(resources)
        ],
        batch_size=2000,
    )
    datasets = Dataset.objects.bulk_create(
        [
            Dataset(
                resource_id=pk,
                table_uri=f"file:///nowhere/{pk}",
                current_version=1,
                row_count=100,
                last_success_at=now - dt.timedelta(days=n % 120),
            )
            for n, pk in enumerate(resources[:2000])
        ]
    )
    source = Source.objects.create(
        resource_id=resources[0],
        name="前置库",
        kind="file",
        config={"format": "csv"},
        created_by=users["catalog_admin"],
    )
    Load.objects.bulk_create(
        [
            Load(dataset=datasets[n % 200], source=source, mode="full", status=LoadStatus.FAILED, error="连接超时")
            for n in range(600)
        ]
    )
    GradingChange.objects.bulk_create(
        [
            GradingChange(
                resource_id=pk,
                from_grade="general",
                from_level="L2",
                to_grade="important",
                to_level="L3",
                reason="规模测试",
                proposer_name="someone",
            )
            for pk in resources[:300]
        ]
    )
    with transaction.atomic():
        audit_services.record_audit_read(users["auditor"], "audit.chain.verify", ok=True, checked=ENTRIES)
    return City(departments=departments, users=users)


@pytest.fixture(scope="module")
def city(django_db_setup: None, django_db_blocker: Any) -> Iterator[City]:
    """Built once for the module inside a transaction rolled back at its end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = _build_city()
            if connection.vendor == "postgresql":
                # The rows are not committed, so autovacuum never counts them: without statistics PostgreSQL plans
                # for empty tables (nested loops over 30,000 entries, minutes a query). ANALYZE in the transaction
                # sees them, as autovacuum would once a real import has committed.
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# Queries of one home, whatever the number of entries: the session, the user and its roles, each section's few
# queries, and the header's counts.
# Measured: a signed-in page 5 or 6 (session, user, roles, the user's department, the unread count), plus the
# platform administrator's review 2 (count, oldest) and figures 3, the catalogue administrator's rejected 2, maintenance
# 1 and failed loads 2, the security officer's pending 2 and risks 2, and one per header count shown. Sharing adds
# one each: the working-day calendar's years (platform administrator) and the department's rejected scenarios.
HOME_QUERIES = {
    "platform_admin": 12,
    "catalog_admin": 12,
    "security_officer": 10,
    "auditor": 5,
    "consumer": 6,
    "platform_and_catalog_admin": 19,
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(HOME_QUERIES))
def test_each_roles_home_takes_a_fixed_number_of_queries_with_30000_entries(
    city: City, role: str, django_assert_max_num_queries: Any
) -> None:
    client = signed_in(city.users[role])
    with django_assert_max_num_queries(HOME_QUERIES[role]):
        response = client.get("/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_the_homes_figures_are_the_whole_citys_with_30000_entries(city: City) -> None:
    page = signed_in(city.users["platform_admin"]).get("/").content.decode()
    assert f"{ENTRIES} 条" in page
    assert '<tr><td>已发布</td><td class="num">18000</td></tr>' in page
    assert '<strong class="home-number">3000</strong> 条资源待审核' in page


@pytest.mark.django_db
def test_the_department_administrators_home_counts_only_its_departments_entries_at_scale(city: City) -> None:
    page = signed_in(city.users["catalog_admin"]).get("/").content.decode()
    # 30,000 entries over 40 departments: 750 each, every 10th of them rejected.
    assert '被驳回的资源 <span class="badge danger">75</span>' in page


# One COUNT each, on an index, whatever the size of the catalogue.
NAV_COUNTERS = {
    "review_queue": ("platform_admin", ENTRIES // 10),
    "rejected": ("catalog_admin", ENTRIES // DEPARTMENTS // 10),
    "grading_pending": ("security_officer", 300),
}


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(NAV_COUNTERS))
def test_each_header_count_is_one_query_with_30000_entries(city: City, key: str) -> None:
    role, expected = NAV_COUNTERS[key]
    request = RequestFactory().get("/")
    request.user = user = city.users[role]
    user.role_set()  # read once per request by the page anyway
    with CaptureQueriesContext(connection) as queries:
        counts = nav_counts_for(request)
        assert counts is not None and counts[key] == expected
    assert len(queries.captured_queries) == 1


def queries_of(user: User, path: str) -> int:
    client = signed_in(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["platform_admin", "catalog_admin", "security_officer"])
def test_the_header_adds_one_query_for_the_roles_count_with_30000_entries(city: City, role: str) -> None:
    # The same page for a consumer (no count in the header) is the baseline.
    baseline = queries_of(city.users["consumer"], "/account/tokens/")
    assert queries_of(city.users[role], "/account/tokens/") == baseline + 1
