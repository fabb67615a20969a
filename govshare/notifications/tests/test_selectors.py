"""Reading: a user's own notifications, newest first, and their unread count; nobody else's."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from govshare.core import authz
from govshare.core.errors import NotFound
from govshare.notifications import selectors, services
from govshare.notifications.choices import NotificationKind
from govshare.testing.clock import minutes

pytestmark = pytest.mark.django_db


def notice(recipients, title: str, at: int = 0):  # type: ignore[no-untyped-def]
    return services.notify(recipients, kind=NotificationKind.SYSTEM, title=title, body="", now=minutes(at))


def test_a_user_sees_their_own_newest_first(reader, other_reader) -> None:
    notice([reader], "早", at=1)
    notice([reader], "晚", at=3)
    notice([reader, other_reader], "中", at=2)
    assert [n.title for n in selectors.notifications_for(reader)] == ["晚", "中", "早"]
    assert [n.title for n in selectors.notifications_for(other_reader)] == ["中"]


def test_the_unread_ones_only(reader) -> None:
    first = notice([reader], "已读")[0]
    notice([reader], "未读")
    services.mark_read(first, actor=reader)
    assert [n.title for n in selectors.notifications_for(reader, unread=True)] == ["未读"]


def test_the_unread_count_counts_the_users_unread_notifications(reader, other_reader) -> None:
    first = notice([reader], "一")[0]
    notice([reader], "二")
    notice([reader, other_reader], "三")
    services.mark_read(first, actor=reader)
    assert (selectors.unread_count(reader), selectors.unread_count(other_reader)) == (2, 1)


def test_an_anonymous_visitor_has_nothing_and_costs_no_query(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        assert selectors.unread_count(AnonymousUser()) == 0
        assert list(selectors.notifications_for(AnonymousUser())) == []


def test_someone_elses_notification_is_not_found(reader, other_reader) -> None:
    theirs = notice([other_reader], "别人的")[0]
    with pytest.raises(NotFound):
        selectors.get_notification(reader, theirs.pk)


def test_an_id_beyond_the_databases_integers_is_not_found(reader) -> None:
    with pytest.raises(NotFound):
        selectors.get_notification(reader, 2**64)


def test_not_even_the_platform_administrator_sees_someone_elses(reader, platform_admin) -> None:
    theirs = notice([reader], "别人的")[0]
    assert list(selectors.notifications_for(platform_admin)) == []
    assert not authz.permits(platform_admin, authz.VIEW, theirs)
