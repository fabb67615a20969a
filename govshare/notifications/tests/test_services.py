"""notify(): one row per recipient in one insert, e-mail only after the caller's transaction commits; marking read."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from govshare.core.errors import NotFound
from govshare.notifications import services
from govshare.notifications.choices import NotificationKind
from govshare.notifications.models import Notification
from govshare.testing.clock import minutes

pytestmark = pytest.mark.django_db


def request_notice(recipients: list[Any], **values: Any) -> list[Notification]:
    arguments: dict[str, Any] = {
        "kind": NotificationKind.SHARE_REQUEST,
        "title": "新的共享申请：常住人口基本信息",
        "body": "市市场监督管理局申请共享常住人口基本信息，请审核。",
        "link": "/catalog/12/",
        **values,
    }
    return services.notify(recipients, **arguments)


class Failure(Exception):
    pass


def test_notify_puts_one_row_in_each_recipients_inbox(reader, other_reader) -> None:
    request_notice([reader, other_reader])
    rows = Notification.objects.order_by("recipient__username")
    assert [(n.recipient, n.kind, n.link, n.read_at) for n in rows] == [
        (reader, "share_request", "/catalog/12/", None),
        (other_reader, "share_request", "/catalog/12/", None),
    ]


def test_notify_writes_all_rows_in_one_insert(reader, other_reader, catalog_admin) -> None:
    with CaptureQueriesContext(connection) as queries:
        request_notice([reader, other_reader, catalog_admin])
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and Notification.objects.count() == 3


def test_a_recipient_named_twice_is_notified_once(reader) -> None:
    request_notice([reader, reader])
    assert Notification.objects.filter(recipient=reader).count() == 1


def test_the_target_is_a_saved_object_or_a_string_key(reader, other_department) -> None:
    by_object = request_notice([reader], target=other_department)[0]
    by_key = request_notice([reader], target="delivery:20260302-0001")[0]
    assert by_object.target_type is not None
    assert (by_object.target_type.model, by_object.target_key) == ("department", str(other_department.pk))
    assert (by_key.target_type, by_key.target_key) == (None, "delivery:20260302-0001")


def test_a_link_must_be_a_path_on_the_site(reader) -> None:
    for link in ("https://evil.example.com/", "//evil.example.com/x", "catalog/12/", "/a b"):
        with pytest.raises(ValueError, match="path on the site"):
            request_notice([reader], link=link)
    assert not Notification.objects.exists()


def test_an_unknown_kind_is_refused(reader) -> None:
    with pytest.raises(ValueError, match="unknown notification kind"):
        request_notice([reader], kind="gossip")


def test_a_title_is_one_line(reader) -> None:
    with pytest.raises(ValueError, match="one line"):
        request_notice([reader], title="第一行\n第二行")


@pytest.mark.usefixtures("email_on")
def test_the_email_leaves_only_after_the_callers_transaction_commits(
    reader, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            request_notice([reader])
            assert mail.outbox == []
        assert mail.outbox == []  # the test's own transaction has not committed yet either
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["reader@gaj.example.gov.cn"], "[govshare] 新的共享申请：常住人口基本信息")
    ]
    assert "市市场监督管理局申请共享常住人口基本信息，请审核。" in mail.outbox[0].body


@pytest.mark.usefixtures("email_on")
def test_a_rolled_back_action_sends_nothing_and_leaves_no_notification(
    reader, django_capture_on_commit_callbacks
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Failure),
        transaction.atomic(),
    ):
        request_notice([reader])
        raise Failure
    assert callbacks == [] and mail.outbox == []
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("email_on")
def test_a_committed_action_sends_its_email(reader) -> None:
    with transaction.atomic():
        request_notice([reader])
        assert mail.outbox == []
    assert [m.to for m in mail.outbox] == [["reader@gaj.example.gov.cn"]]


@pytest.mark.usefixtures("email_on")
def test_only_recipients_with_an_address_get_an_email(
    reader, catalog_admin, django_capture_on_commit_callbacks
) -> None:
    assert catalog_admin.email == ""
    with django_capture_on_commit_callbacks(execute=True):
        request_notice([reader, catalog_admin])
    assert [m.to for m in mail.outbox] == [["reader@gaj.example.gov.cn"]]
    assert Notification.objects.count() == 2


def test_no_email_unless_the_platform_allows_it(reader, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        request_notice([reader], send_email=True)
    assert callbacks == [] and mail.outbox == []


@pytest.mark.usefixtures("email_on")
def test_the_caller_may_send_no_email(reader, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request_notice([reader], send_email=False)
    assert mail.outbox == []


@pytest.mark.usefixtures("email_on")
def test_kinds_that_ask_for_nothing_are_not_emailed_by_default(reader, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request_notice([reader], kind=NotificationKind.QUALITY_RUN, title="数据质量检测完成")
        request_notice([reader], kind=NotificationKind.QUALITY_RUN, title="数据质量检测未通过", send_email=True)
    assert [m.subject for m in mail.outbox] == ["[govshare] 数据质量检测未通过"]


@pytest.mark.usefixtures("email_on")
def test_the_email_links_to_the_site_when_its_address_is_set(
    reader, settings, django_capture_on_commit_callbacks
) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"site_url": "https://data.example.gov.cn"})
    with django_capture_on_commit_callbacks(execute=True):
        request_notice([reader])
    assert "https://data.example.gov.cn/catalog/12/" in mail.outbox[0].body


@pytest.mark.usefixtures("email_on")
def test_an_unreachable_mail_server_loses_the_email_not_the_notification(
    reader, settings, django_capture_on_commit_callbacks, caplog: pytest.LogCaptureFixture
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nothing listens on port 1
    with (
        caplog.at_level(logging.WARNING, logger="govshare.notifications.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        request_notice([reader])
    assert Notification.objects.filter(recipient=reader).count() == 1
    assert "notification e-mail not sent (1 messages)" in caplog.text
    assert "reader@gaj.example.gov.cn" not in caplog.text


def test_the_caller_may_say_when_it_happened(reader) -> None:
    notice = request_notice([reader], now=minutes(5))[0]
    assert Notification.objects.get(pk=notice.pk).created == minutes(5)


def test_mark_read_records_when(reader) -> None:
    notice = request_notice([reader])[0]
    services.mark_read(notice, actor=reader)
    assert Notification.objects.get(pk=notice.pk).read_at is not None


def test_marking_read_again_keeps_the_first_time(reader) -> None:
    notice = request_notice([reader])[0]
    first = services.mark_read(notice, actor=reader).read_at
    again = services.mark_read(Notification.objects.get(pk=notice.pk), actor=reader).read_at
    assert first is not None and again == first


def test_nobody_marks_someone_elses_notification(reader, other_reader) -> None:
    notice = request_notice([reader])[0]
    with pytest.raises(NotFound):
        services.mark_read(notice, actor=other_reader)
    assert Notification.objects.get(pk=notice.pk).read_at is None


def test_mark_all_read_marks_only_the_actors_own(reader, other_reader) -> None:
    request_notice([reader, other_reader])
    request_notice([reader], title="第二条")
    assert services.mark_all_read(actor=reader) == 2
    assert not Notification.objects.filter(recipient=reader, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=other_reader).read_at is None
