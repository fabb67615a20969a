"""The demo city's share requests: every state, made through the services, dated from the platform's day (the fixed
day here, whose year the working-day calendar knows)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.catalog.choices import ShareType
from govshare.datasets import scopes
from govshare.demo.share_requests import load_demo_requests
from govshare.sharing import requests
from govshare.sharing.access_requests import may_decide, stage_reviewer
from govshare.sharing.choices import GrantStatus, LineStatus, RequestAction, RequestStatus, StageReviewer
from govshare.sharing.models import ShareRequest, ShareRequestEvent, ShareRequestLine
from govshare.testing.sharing import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _isolated_data_dir() -> None:
    """The module's data directory is set once by `demo_city` (its datasets' tables outlive one test)."""


@pytest.fixture(scope="module")
def demo_city(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo loaded once for the module on the fixed day, inside a transaction rolled back at its end (each
    test's own writes roll back with its `db` transaction, a savepoint inside it); the command's output."""
    from django.conf import settings

    data_dir = tmp_path_factory.mktemp("demo-data")
    with (
        override_settings(
            GOVSHARE=settings.GOVSHARE.model_copy(update={"data_dir": data_dir}),
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        django_db_blocker.unblock(),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(scopes, "clock", lambda: TODAY)
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            out = io.StringIO()
            call_command("load_demo_data", "--resources", "300", stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def user(username: str) -> User:
    return User.objects.get(username=username)


def reviewer_of(line: ShareRequestLine) -> User:
    return User.objects.get(department_id=line.resource.department_id, roles__role=Role.DEPT_REVIEWER)


def only_line(status: str) -> ShareRequestLine:
    found = list(ShareRequestLine.objects.filter(status=status).select_related("request", "resource", "grant"))
    assert len(found) == 1, [line.pk for line in found]
    return found[0]


def actions(line: ShareRequestLine) -> list[str]:
    return list(ShareRequestEvent.objects.filter(line=line).order_by("at", "pk").values_list("action", flat=True))


def test_the_demo_has_share_requests_in_every_state(demo_city: str) -> None:
    assert set(ShareRequest.objects.values_list("status", flat=True)) == {
        RequestStatus.DRAFT,
        RequestStatus.IN_REVIEW,
        RequestStatus.CLOSED,
    }
    assert set(ShareRequestLine.objects.values_list("status", flat=True)) == set(LineStatus.values) - {
        LineStatus.WITHDRAWN
    }
    assert "共享申请 8 件" in demo_city


def test_the_consumer_has_a_cart_being_filled(demo_city: str) -> None:
    cart = requests.cart_of(user("ybj_user"))
    assert cart is not None and cart.number is None and cart.lines.count() == 1
    assert only_line(LineStatus.DRAFT).request == cart


def test_an_unconditional_resource_was_granted_at_once_by_the_rule(demo_city: str) -> None:
    line = ShareRequestLine.objects.get(events__action=RequestAction.GRANT_AT_ONCE)
    assert line.resource.share_type == ShareType.UNCONDITIONAL and line.status == LineStatus.APPROVED
    assert line.grant is not None and line.grant.granted_by is None and line.grant.status == GrantStatus.ACTIVE
    assert line.request.status == RequestStatus.CLOSED


def test_one_request_waits_for_the_provider_within_its_deadline(demo_city: str) -> None:
    today = TODAY
    waiting = [line for line in only_in_review() if line.escalated_at is None]
    assert len(waiting) == 1
    line = waiting[0]
    assert stage_reviewer(line) == StageReviewer.PROVIDER
    assert line.due_on is not None and line.due_on >= today
    assert line in requests.review_queue(reviewer_of(line))
    assert requests.urgency(line, today).startswith("剩余")


def only_in_review() -> list[ShareRequestLine]:
    return list(ShareRequestLine.objects.filter(status=LineStatus.IN_REVIEW).select_related("request", "resource"))


def test_one_overdue_request_was_escalated_to_the_coordinator_by_the_daily_pass(demo_city: str) -> None:
    today = TODAY
    coordinator = user("coordinator")
    late = [line for line in only_in_review() if line.escalated_at is not None]
    assert len(late) == 1
    line = late[0]
    assert line.due_on is not None and line.due_on < today
    assert actions(line)[-1] == RequestAction.ESCALATE
    assert requests.overdue_lines(coordinator, today) == [line]
    assert may_decide(coordinator, line)


def test_one_request_was_approved_in_part_with_the_reason_and_a_grant_of_the_approved_items(demo_city: str) -> None:
    line = only_line(LineStatus.PARTIAL)
    assert 0 < len(line.approved_items) < len(line.items) and line.refusal_reason
    assert line.grant is not None and line.grant.items == line.approved_items
    assert line.decided_by == reviewer_of(line)
    assert actions(line)[-1] == RequestAction.APPROVE_PART


def test_one_request_was_refused_with_its_reason(demo_city: str) -> None:
    line = only_line(LineStatus.REFUSED)
    assert line.refusal_reason and line.grant is None
    assert ShareRequestEvent.objects.get(line=line, action=RequestAction.REFUSE).note == line.refusal_reason
    assert line.request.status == RequestStatus.CLOSED


def test_one_refusal_is_disputed_and_awaits_the_coordinators_arbitration(demo_city: str) -> None:
    line = only_line(LineStatus.DISPUTED)
    assert line.dispute_reason and line.arbitrated_at is None
    assert requests.disputed_lines(user("coordinator")) == [line]
    assert actions(line)[-2:] == [RequestAction.REFUSE, RequestAction.DISPUTE]


def test_one_dispute_was_arbitrated_and_the_refusal_overruled(demo_city: str) -> None:
    line = ShareRequestLine.objects.get(events__action=RequestAction.OVERRULE)
    assert actions(line)[-3:] == [RequestAction.REFUSE, RequestAction.DISPUTE, RequestAction.OVERRULE]
    assert line.arbitrated_by == user("coordinator") and line.status == LineStatus.APPROVED
    assert line.grant is not None and line.grant.status == GrantStatus.ACTIVE


def test_the_requests_are_dated_on_the_days_before_the_platforms_day_in_order(demo_city: str) -> None:
    today = TODAY
    submitted = ShareRequest.objects.exclude(status=RequestStatus.DRAFT)
    assert all(r.submitted_on is not None and r.submitted_on <= today for r in submitted)
    assert max(r.submitted_on for r in submitted if r.submitted_on) > today - dt.timedelta(days=7)
    assert len({r.submitted_on for r in submitted}) > 3
    for request in submitted:
        moments = list(request.events.order_by("pk").values_list("at", flat=True))
        assert moments == sorted(moments)


def test_every_step_left_its_audit_row(demo_city: str) -> None:
    submitted = ShareRequest.objects.exclude(status=RequestStatus.DRAFT).count()
    assert AuditLog.objects.filter(action="sharing.request.submit").count() == submitted
    assert AuditLog.objects.filter(action="sharing.request.escalate").count() == 1
    assert AuditLog.objects.filter(action="sharing.request.arbitrate").count() == 1


def test_loading_the_demo_requests_again_adds_nothing(demo_city: str) -> None:
    counts = (ShareRequest.objects.count(), ShareRequestEvent.objects.count(), AuditLog.objects.count())
    assert load_demo_requests(lambda _: None) == 0
    out = io.StringIO()
    call_command("load_demo_data", "--resources", "300", stdout=out)
    assert "未做任何改动" in out.getvalue()
    assert (ShareRequest.objects.count(), ShareRequestEvent.objects.count(), AuditLog.objects.count()) == counts
