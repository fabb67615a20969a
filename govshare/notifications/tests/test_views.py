"""The inbox page (消息) and the unread badge in the site header."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from govshare.notifications import services
from govshare.notifications.choices import NotificationKind
from govshare.notifications.context_processors import unread_notifications
from govshare.notifications.models import Notification
from govshare.testing.clock import minutes

pytestmark = pytest.mark.django_db

INBOX = "/notifications/"


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def notice(recipients, title: str, at: int = 0, link: str = "") -> Notification:  # type: ignore[no-untyped-def]
    return services.notify(
        recipients, kind=NotificationKind.SHARE_GRANT, title=title, body="详见申请页", link=link, now=minutes(at)
    )[0]


def badge(page: str) -> str | None:
    marker = '<span class="badge danger unread-badge">'
    if marker not in page:
        return None
    return page.split(marker, 1)[1].split("<", 1)[0]


def test_the_inbox_lists_the_users_notifications_newest_first(reader) -> None:
    notice([reader], "较早的通知", at=1)
    notice([reader], "较新的通知", at=2)
    page = signed_in(reader).get(INBOX).content.decode()
    assert "<h1>消息</h1>" in page
    assert page.index("较新的通知") < page.index("较早的通知")


def test_unread_notifications_are_bold_and_read_ones_are_not(reader) -> None:
    services.mark_read(notice([reader], "已读的通知"), actor=reader)
    notice([reader], "未读的通知")
    page = signed_in(reader).get(INBOX).content.decode()
    assert "<strong>未读的通知</strong>" in page
    assert "已读的通知" in page and "<strong>已读的通知</strong>" not in page


def test_the_inbox_is_paged(reader, small_pages) -> None:
    for at in range(5):
        notice([reader], f"第{at}条通知", at=at)
    client = signed_in(reader)
    first, third = client.get(INBOX).content.decode(), client.get(INBOX, {"page": 3}).content.decode()
    assert "第4条通知" in first and "第3条通知" in first and "第2条通知" not in first
    assert "第 1 / 3 页" in first and "第0条通知" in third


def test_the_inbox_shows_nobody_elses_notifications(reader, other_reader) -> None:
    notice([other_reader], "别人的通知")
    page = signed_in(reader).get(INBOX).content.decode()
    assert "别人的通知" not in page and "还没有消息。" in page


def test_the_inbox_is_not_kept_by_caches(reader) -> None:
    assert signed_in(reader).get(INBOX).headers["Cache-Control"] == "no-store"


def test_an_anonymous_visitor_is_sent_to_sign_in() -> None:
    response = Client().get(INBOX)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_opening_a_notification_marks_it_read_and_follows_its_link(reader) -> None:
    mine = notice([reader], "共享申请已通过", link="/catalog/")
    response = signed_in(reader).post(reverse("notifications:open", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == "/catalog/"
    assert Notification.objects.get(pk=mine.pk).read_at is not None


def test_opening_someone_elses_notification_answers_404(reader, other_reader) -> None:
    theirs = notice([other_reader], "别人的通知")
    response = signed_in(reader).post(reverse("notifications:open", args=[theirs.pk]))
    assert response.status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_button_marks_all_read(reader, other_reader) -> None:
    notice([reader], "一")
    notice([reader, other_reader], "二")
    client = signed_in(reader)
    assert "全部标为已读" in client.get(INBOX).content.decode()
    page = client.post(reverse("notifications:mark_all_read"), follow=True).content.decode()
    assert "已将 2 条消息标为已读" in page and "<strong>" not in page.split("<main>")[1]
    assert not Notification.objects.filter(recipient=reader, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=other_reader).read_at is None


def test_no_button_when_everything_is_read(reader) -> None:
    services.mark_read(notice([reader], "一"), actor=reader)
    assert "全部标为已读" not in signed_in(reader).get(INBOX).content.decode()


def test_the_page_reads_at_phone_width(reader) -> None:
    notice([reader], "一")
    page = signed_in(reader).get(INBOX).content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert "notifications/inbox.css" in page and "<table" not in page


def test_the_page_in_english(reader) -> None:
    notice([reader], "一")
    client = signed_in(reader)
    client.post("/i18n/setlang/", {"language": "en", "next": INBOX})
    page = client.get(INBOX).content.decode()
    assert "<h1>Notifications</h1>" in page and "Mark all as read" in page


def test_the_header_shows_the_unread_count_on_every_page(reader) -> None:
    notice([reader], "一")
    notice([reader], "二")
    assert badge(signed_in(reader).get("/catalog/").content.decode()) == "2"


def test_the_header_shows_no_badge_without_unread_notifications(reader) -> None:
    services.mark_read(notice([reader], "一"), actor=reader)
    page = signed_in(reader).get("/catalog/").content.decode()
    assert badge(page) is None and reverse("notifications:inbox") in page


def test_the_header_shows_99_plus_beyond_99(reader) -> None:
    for n in range(100):
        notice([reader], f"第{n}条")
    assert badge(signed_in(reader).get("/catalog/").content.decode()) == "99+"


def test_the_badge_costs_one_query(reader) -> None:
    notice([reader], "一")
    client = signed_in(reader)
    with CaptureQueriesContext(connection) as captured:
        client.get("/catalog/")
    assert len([q for q in captured if "notifications_notification" in q["sql"]]) == 1


def test_no_query_for_an_anonymous_visitor(django_assert_num_queries) -> None:
    request = RequestFactory().get("/login/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert unread_notifications(request) == {}
