"""Counts in the site header: what waits for the user, by role, each one small query at most and once a request."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.catalog import services as catalog_services
from govshare.core.navcounts import nav_counts_for
from govshare.grading import services as grading_services

pytestmark = pytest.mark.django_db


def page_of(user: User, path: str = "/catalog/") -> str:
    client = Client()
    client.force_login(user)
    return client.get(path).content.decode()


def nav_badge(page: str, link_text: str) -> str | None:
    """The count beside a header link ('审核队列 <span class="badge danger nav-count">3…'), None without one."""
    nav = page.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    match = re.search(rf'>{link_text} <span class="badge danger nav-count"[^>]*>(\d+)<', nav)
    return match.group(1) if match else None


def submitted(department: Department, name: str) -> None:
    author = testing.make_user(Role.CATALOG_ADMIN, department=department)
    resource = catalog_services.create_resource(testing.resource_draft(department, name=name), actor=author)
    catalog_services.submit_resource(resource, actor=author)


def rejected(department: Department, name: str) -> None:
    author = testing.make_user(Role.CATALOG_ADMIN, department=department)
    resource = catalog_services.create_resource(testing.resource_draft(department, name=name), actor=author)
    catalog_services.submit_resource(resource, actor=author)
    catalog_services.reject_resource(resource, reason="摘要不全", actor=testing.make_user(Role.PLATFORM_ADMIN))


@pytest.fixture
def police() -> Department:
    return testing.make_department("市公安局")


@pytest.fixture
def health() -> Department:
    return testing.make_department("市卫生健康委")


def test_the_reviewer_sees_the_queues_count_beside_the_review_queue(police: Department) -> None:
    submitted(police, "甲")
    submitted(police, "乙")
    assert nav_badge(page_of(testing.make_user(Role.PLATFORM_ADMIN)), "审核队列") == "2"


def test_an_empty_queue_shows_no_count(police: Department) -> None:
    assert nav_badge(page_of(testing.make_user(Role.PLATFORM_ADMIN)), "审核队列") is None


def test_a_catalogue_administrator_sees_the_departments_rejected_count_beside_the_home(police: Department) -> None:
    rejected(police, "甲")
    assert nav_badge(page_of(testing.make_user(Role.CATALOG_ADMIN, department=police)), "工作台") == "1"


def test_attack_the_rejected_count_never_counts_another_departments_entries(
    police: Department, health: Department
) -> None:
    rejected(health, "卫健委的资源")
    assert nav_badge(page_of(testing.make_user(Role.CATALOG_ADMIN, department=police)), "工作台") is None


def test_the_security_officer_sees_the_pending_grading_count_beside_grading(police: Department) -> None:
    resource = testing.make_published_resource(police)
    grading_services.propose_grading_change(
        resource,
        item_name="",
        to_grade="important",
        to_level="L3",
        reason="含身份信息",
        actor=testing.make_user(Role.CATALOG_ADMIN, department=police),
    )
    assert nav_badge(page_of(testing.make_user(Role.SECURITY_OFFICER)), "数据分级") == "1"
    # The department's catalogue administrator sees the grading link but no count: deciding is not theirs.
    assert nav_badge(page_of(testing.make_user(Role.CATALOG_ADMIN, department=police)), "数据分级") is None


def test_a_count_is_counted_once_a_request_however_often_the_page_shows_it(police: Department) -> None:
    submitted(police, "甲")
    request = RequestFactory().get("/")
    request.user = testing.make_user(Role.PLATFORM_ADMIN)
    with CaptureQueriesContext(connection) as first:
        assert nav_counts_for(request)["review_queue"] == 1  # type: ignore[index]
    with CaptureQueriesContext(connection) as again:
        assert nav_counts_for(request)["review_queue"] == 1  # type: ignore[index]
    assert len(first.captured_queries) <= 2  # the user's roles (once per request), then one COUNT
    assert len(again.captured_queries) == 0


def test_a_count_that_does_not_concern_the_user_asks_the_database_nothing(police: Department) -> None:
    request = RequestFactory().get("/")
    request.user = consumer = testing.make_user(Role.CONSUMER, department=police)
    consumer.role_set()  # read once per request by the page anyway
    with CaptureQueriesContext(connection) as queries:
        counts = nav_counts_for(request)
        assert counts is not None
        assert counts["review_queue"] is None and counts["rejected"] is None and counts["grading_pending"] is None
    assert len(queries.captured_queries) == 0


def test_a_visitor_who_is_not_signed_in_has_no_counts() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert nav_counts_for(request) is None
