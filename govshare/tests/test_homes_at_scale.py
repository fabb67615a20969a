"""Homes and header counts stay cheap at a city's scale: with 30,000 catalogue entries (and their items, datasets,
loads and grading changes) and 1,200 share requests each role's home and the header's counts take a fixed, small
number of queries."""

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
from govshare.datasets import scopes
from govshare.datasets.choices import LoadStatus
from govshare.datasets.models import Dataset, Load
from govshare.grading.models import GradingChange
from govshare.sharing.choices import LineStatus, RequestStatus, StageReviewer
from govshare.sharing.models import ShareRequest, ShareRequestLine
from govshare.sources.models import Source

ENTRIES = 30_000
DEPARTMENTS = 40
# Every 10th entry: 0-5 published, 6 submitted, 7 rejected (a draft with a reason), 8 draft, 9 withdrawn.
STATES = [ReviewStatus.PUBLISHED] * 6 + [ReviewStatus.SUBMITTED, ReviewStatus.DRAFT, ReviewStatus.DRAFT]
STATES += [ReviewStatus.WITHDRAWN]
SHARE_REQUESTS = 1_200
# Every 10th request's line: 0-4 in review before its deadline, 5 overdue and escalated to the coordinator, 6 with
# no computable deadline, 7 disputed, 8 approved, 9 in the coordinator's compliance stage.
LINE_KINDS = 10


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
        "dept_reviewer": testing.make_user(Role.DEPT_REVIEWER, department=departments[1]),
        "coordinator": testing.make_user(Role.COORDINATOR, department=departments[2]),
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
    _share_requests(departments, users, resources)
    with transaction.atomic():
        audit_services.record_audit_read(users["auditor"], "audit.chain.verify", ok=True, checked=ENTRIES)
    return City(departments=departments, users=users)


def _share_requests(departments: list[Department], users: dict[str, User], resources: list[int]) -> None:
    """The consumer's department asks the reviewer's department for its entries, one request each, in every state
    a line can wait in; and the consumer's cart holds a line."""
    today = scopes.clock()
    now = timezone.now()
    provider = {"name": "提供部门审核", "reviewer": StageReviewer.PROVIDER, "days": 10}
    compliance = {"name": "合规审查", "reviewer": StageReviewer.COORDINATOR, "days": 3}
    # Department 1 owns entries 10-19, 410-419, …: 750 in all.
    asked = [pk for n, pk in enumerate(resources) if (n // 10) % DEPARTMENTS == 1]
    requests = ShareRequest.objects.bulk_create(
        [
            ShareRequest(
                number=f"GX{n:014d}",
                department=departments[0],
                created_by=users["consumer"],
                purpose="规模测试",
                status=RequestStatus.CLOSED if n % LINE_KINDS == 8 else RequestStatus.IN_REVIEW,
                submitted_at=now,
                submitted_on=today,
            )
            for n in range(SHARE_REQUESTS)
        ],
        batch_size=2000,
    )
    lines = []
    for n, request in enumerate(requests):
        kind = n % LINE_KINDS
        line = ShareRequestLine(
            request=request,
            resource_id=asked[n % len(asked)],
            items=["姓名"],
            status=LineStatus.IN_REVIEW,
            stages=[provider],
            stage_started_on=today,
            due_on=today + dt.timedelta(days=1 + n % 30),
        )
        if kind == 5:
            line.due_on, line.escalated_at = today - dt.timedelta(days=1 + n % 30), now
        elif kind == 6:
            line.due_on, line.deadline_problem = None, "工作日历缺少 2099 年的节假日安排"
        elif kind == 7:
            line.status, line.refusal_reason, line.dispute_reason, line.disputed_at = (
                LineStatus.DISPUTED,
                "超出场景所需",
                "场景确需",
                now,
            )
        elif kind == 8:
            line.status, line.approved_items = LineStatus.APPROVED, ["姓名"]
        elif kind == 9:
            line.stages = [compliance, provider]
        lines.append(line)
    cart = ShareRequest.objects.create(department=departments[0], created_by=users["consumer"])
    lines.append(ShareRequestLine(request=cart, resource_id=asked[0], items=["姓名"]))
    ShareRequestLine.objects.bulk_create(lines, batch_size=2000)


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
# one each: the working-day calendar's years (platform administrator) and the department's rejected scenarios; for
# share requests the lines to decide 1 (部门审核员, 共享协调员), the coordinator's overdue 1 and disputed 1, and the
# consumer's requests in review 2 (the newest, their count) and cart 2 (the cart, its lines) — the same with 12 or
# 1,200 requests. A home that tells a deadline in working days may read the calendar once (this process's copy is
# checked against the database every minute).
HOME_QUERIES = {
    "platform_admin": 12,
    "catalog_admin": 12,
    "security_officer": 10,
    "auditor": 5,
    "consumer": 10,
    "platform_and_catalog_admin": 19,
    "dept_reviewer": 11,
    "coordinator": 13,
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


@pytest.mark.django_db
def test_the_coordinators_home_counts_every_late_and_disputed_line_at_scale(city: City) -> None:
    page = signed_in(city.users["coordinator"]).get("/").content.decode()
    # Of every 10 requests: one overdue and one without a deadline are late, one disputed; one escalated and one at
    # the compliance stage are the coordinator's to decide.
    assert f'<strong class="home-number">{SHARE_REQUESTS // LINE_KINDS * 2}</strong> 项申请逾期未办' in page
    assert f'<strong class="home-number">{SHARE_REQUESTS // LINE_KINDS}</strong> 项异议待仲裁' in page
    assert f'待我审核的共享申请 <span class="badge danger">{SHARE_REQUESTS // LINE_KINDS * 2}</span>' in page


# One COUNT each (or one query of the lines to decide), on an index, whatever the size of the catalogue.
NAV_COUNTERS = {
    "review_queue": ("platform_admin", ENTRIES // 10),
    "rejected": ("catalog_admin", ENTRIES // DEPARTMENTS // 10),
    "grading_pending": ("security_officer", 300),
    # Lines at the provider's stage (kinds 0-6 of every 10).
    "request_review": ("dept_reviewer", SHARE_REQUESTS // LINE_KINDS * 7),
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
