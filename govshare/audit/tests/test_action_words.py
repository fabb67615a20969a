"""The audit log in an auditor's words: actions by name with their result, objects by name, details as sentences;
renamed codes still read and filter through their aliases (what the platform writes now: test_written_codes)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import translation

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit import actions, selectors, views
from govshare.audit.models import AuditLog
from govshare.audit.services import record_action
from govshare.testing.clock import T0

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chinese() -> Iterator[None]:
    """Each test starts in the platform's default language (a page asked for in English switches the thread's)."""
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def auditor() -> User:
    return testing.make_user(Role.AUDITOR, username="auditor1")


def _page(user: User, **params: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/audit/", params)
    assert response.status_code == 200
    return response.content.decode()


def _log(action: str, object_type: str = "catalog.resource", object_repr: str = "", **extra: Any) -> AuditLog:
    with transaction.atomic():
        return record_action(None, action, object_type=object_type, object_id="7", object_repr=object_repr, **extra)


def test_a_row_shows_the_action_its_result_and_the_object_by_name(auditor: User) -> None:
    _log("catalog.resource.publish", object_repr="510600/000101 婚姻登记信息", note="同意发布")
    page = _page(auditor)
    assert "发布资源" in page and "婚姻登记信息" in page and "信息资源 #7" in page
    assert "审核意见：同意发布" in page
    assert '<span class="badge ok">成功</span>' in page


def test_an_english_reader_reads_the_row_in_english(auditor: User) -> None:
    _log("datasets.data_downloaded", object_repr="510600/000101 婚姻登记信息", resource="510600/000101", version=3)
    client = Client()
    client.force_login(auditor)
    client.cookies["django_language"] = "en"
    page = client.get("/audit/").content.decode()
    assert ">Download data</a>" in page and "Resource #7" in page and ">Succeeded</span>" in page
    assert "resource 510600/000101; version 3" in page
    assert "Last 7 days" in page and "全部“" not in page


def test_every_registered_name_has_its_english_words() -> None:
    """Action names, app headings, object types, detail names and detail sentences all have an English entry (a
    missing one would leave Chinese in the English audit page)."""
    words = [info.label for info in actions._actions.values()]
    words += [fragment for info in actions._actions.values() for fragment in info.details]
    words += [*actions._apps.values(), *actions._object_types.values(), *actions._detail_names.values()]
    with translation.override("en"):
        chinese = sorted({str(word) for word in words if re.search(r"[\u4e00-\u9fff]", str(word))})
    assert chinese == []


def test_details_read_as_a_sentence_not_a_python_repr() -> None:
    extra = {"resource": "510600/000101", "version": 3, "format": "csv", "purpose": "核验", "rows": None}
    assert actions.describe("datasets.data_downloaded", extra) == "资源 510600/000101；第 3 版；格式 csv；用途：核验"
    before = {"name": "旧名", "active": True, "roles": ["a", "b"]}
    sentence = actions.describe("accounts.department.update", {"before": before})
    assert sentence == "修改前：名称：旧名，active：是，roles：a、b"
    assert not re.search(r"[{}\[\]']", sentence)


def test_a_failed_or_refused_action_says_so() -> None:
    assert actions.outcome("accounts.login.failed", {}) == actions.Outcome.FAILED
    assert actions.outcome("catalog.import.refused", {}) == actions.Outcome.REFUSED
    assert actions.outcome("audit.verify", {"ok": False}) == actions.Outcome.FAILED
    assert actions.outcome("audit.verify", {"ok": True}) == actions.Outcome.SUCCESS


def test_an_old_code_reads_and_filters_as_its_new_one(auditor: User) -> None:
    old = _log("user.create", object_type="accounts.user", object_repr="张三")
    new = _log("accounts.user.create", object_type="accounts.user", object_repr="李四")
    assert actions.label("user.create") == actions.label("accounts.user.create") == "新建用户"
    for wanted in ("user.create", "accounts.user.create", "accounts."):
        found = set(selectors.search(auditor, {"action": wanted}).values_list("id", flat=True))
        assert {old.id, new.id} <= found, wanted


def test_every_current_code_reads_app_object_verb() -> None:
    current = {code for _group, options in actions.choices() for code, _label in options if not code.endswith(".")}
    assert len(current) > 60
    malformed = sorted(code for code in current if not re.fullmatch(r"[a-z]+\.[a-z_]+\.[a-z_]+", code))
    assert malformed == []
    assert actions.info("datasets.data_downloaded").code == "datasets.data.download"


def test_an_unknown_code_is_shown_as_itself() -> None:
    assert actions.label("someapp.thing.do") == "someapp.thing.do"
    assert actions.describe("someapp.thing.do", {"count": 2}) == "数量：2"


def test_the_action_filter_is_a_select_of_the_real_actions_grouped_by_app(auditor: User) -> None:
    page = _page(auditor, action="catalog.resource.publish")
    assert '<select id="audit-action" name="action">' in page
    assert '<optgroup label="目录">' in page and '<option value="catalog.">全部“目录”操作</option>' in page
    assert '<option value="catalog.resource.publish" selected>发布资源</option>' in page


def test_dates_are_picked_and_quick_ranges_count_from_the_clock(auditor: User, monkeypatch: pytest.MonkeyPatch) -> None:
    assert [(r.since, r.until) for r in selectors.quick_ranges(dt.date(2026, 3, 2))] == [
        (dt.date(2026, 3, 2), dt.date(2026, 3, 2)),
        (dt.date(2026, 2, 24), dt.date(2026, 3, 2)),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 2)),
    ]
    monkeypatch.setattr(views, "clock", lambda: T0)
    page = _page(auditor, actor="auditor1")
    assert 'name="since" type="date"' in page and 'name="until" type="date"' in page
    assert 'href="?actor=auditor1&amp;since=2026-02-24&amp;until=2026-03-02">近7天</a>' in page
    assert 'href="?actor=auditor1&amp;since=2026-03-01&amp;until=2026-03-02">本月</a>' in page
