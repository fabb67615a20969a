"""The notifications API: the user's own inbox (paged), the unread count, marking read; 401 without a user, 404 for
someone else's notification."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from govshare.accounts import services as account_services
from govshare.notifications import services
from govshare.notifications.choices import NotificationKind
from govshare.notifications.models import Notification
from govshare.testing.clock import minutes

pytestmark = pytest.mark.django_db

ROUTES = [
    ("get", "/api/notifications"),
    ("get", "/api/notifications/unread-count"),
    ("post", "/api/notifications/read-all"),
    ("post", "/api/notifications/1/read"),
]


def bearer(user, scope: str = "write") -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, raw = account_services.create_api_token(user, name="测试", scope=scope, actor=user)
    return {"Authorization": f"Bearer {raw}"}


def call(user, method: str, path: str, scope: str = "write", **data: Any):  # type: ignore[no-untyped-def]
    client = Client()
    if method == "get":
        return client.get(path, data, headers=bearer(user, scope))
    return client.post(path, data, content_type="application/json", headers=bearer(user, scope))


def notice(recipients, title: str, at: int = 0) -> Notification:  # type: ignore[no-untyped-def]
    return services.notify(
        recipients, kind=NotificationKind.QUALITY_RUN, title=title, body="检测结果见数据页", now=minutes(at)
    )[0]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_without_a_user_every_route_answers_401(method: str, path: str) -> None:
    response = getattr(Client(), method)(path)
    assert response.status_code == 401 and response.json()["detail"] == "未登录或令牌无效"


def test_the_inbox_lists_the_users_own_newest_first(reader, other_reader) -> None:
    notice([reader], "早", at=1)
    notice([reader, other_reader], "晚", at=2)
    body = call(reader, "get", "/api/notifications").json()
    assert body["total"] == 2
    assert [(n["title"], n["kind"], n["kind_label"], n["read_at"]) for n in body["items"]] == [
        ("晚", "quality_run", "数据质量检测", None),
        ("早", "quality_run", "数据质量检测", None),
    ]


def test_the_inbox_is_paged(reader) -> None:
    for at in range(5):
        notice([reader], f"第{at}条", at=at)
    body = call(reader, "get", "/api/notifications", page=2, page_size=2).json()
    assert (body["total"], body["page"], body["page_size"]) == (5, 2, 2)
    assert [n["title"] for n in body["items"]] == ["第2条", "第1条"]


def test_a_page_size_beyond_the_limit_is_refused_with_the_field_named(reader) -> None:
    response = call(reader, "get", "/api/notifications", page_size=10_000)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "page_size"


def test_the_inbox_may_list_unread_ones_only(reader) -> None:
    services.mark_read(notice([reader], "已读"), actor=reader)
    notice([reader], "未读")
    body = call(reader, "get", "/api/notifications", unread="true").json()
    assert [n["title"] for n in body["items"]] == ["未读"]


def test_the_inbox_is_not_kept_by_caches(reader) -> None:
    assert call(reader, "get", "/api/notifications").headers["Cache-Control"] == "no-store"


def test_the_inbox_names_what_a_notification_is_about(reader, department) -> None:
    services.notify([reader], kind=NotificationKind.SYSTEM, title="部门信息已更新", body="", target=department)
    item = call(reader, "get", "/api/notifications").json()["items"][0]
    assert (item["target_type"], item["target_key"]) == ("accounts.department", str(department.pk))


def test_the_inbox_costs_the_same_queries_for_many_notifications(reader, department) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert call(reader, "get", "/api/notifications", page_size=50).status_code == 200
        return len(captured)

    services.notify([reader], kind=NotificationKind.SYSTEM, title="一", body="", target=department)
    few = queries()
    for n in range(10):
        services.notify([reader], kind=NotificationKind.SYSTEM, title=f"多{n}", body="", target=department)
    assert queries() == few


def test_the_unread_count(reader, other_reader) -> None:
    services.mark_read(notice([reader], "一"), actor=reader)
    notice([reader, other_reader], "二")
    notice([reader], "三")
    assert call(reader, "get", "/api/notifications/unread-count").json() == {"unread": 2}


def test_marking_one_read(reader) -> None:
    mine = notice([reader], "我的")
    response = call(reader, "post", f"/api/notifications/{mine.pk}/read")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert Notification.objects.get(pk=mine.pk).read_at is not None


def test_someone_elses_notification_answers_404(reader, other_reader) -> None:
    theirs = notice([other_reader], "别人的")
    response = call(reader, "post", f"/api/notifications/{theirs.pk}/read")
    assert response.status_code == 404 and response.json()["detail"] == "消息不存在或无权访问"
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_a_missing_notification_answers_404(reader) -> None:
    assert call(reader, "post", f"/api/notifications/{2**70}/read").status_code == 404


def test_marking_all_read(reader, other_reader) -> None:
    notice([reader], "一")
    notice([reader, other_reader], "二")
    assert call(reader, "post", "/api/notifications/read-all").json() == {"marked": 2}
    assert call(reader, "get", "/api/notifications/unread-count").json() == {"unread": 0}
    assert Notification.objects.get(recipient=other_reader).read_at is None


def test_a_read_only_token_reads_but_does_not_mark(reader) -> None:
    mine = notice([reader], "我的")
    assert call(reader, "get", "/api/notifications", scope="read").status_code == 200
    assert call(reader, "post", f"/api/notifications/{mine.pk}/read", scope="read").status_code == 403
    assert Notification.objects.get(pk=mine.pk).read_at is None
