"""A version's diff is kept in Chinese and read in the reader's language: the field's label from its key, an item's
label from its name, the choice labels and the diff's words; values typed by users are theirs."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from govshare.catalog import services
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.testing import resource_draft
from govshare.testing.api import bearer
from govshare.testing.english import chinese_in

ITEMS = [ItemDraft(name="uscc", data_type="C", length=18), ItemDraft(name="holder", data_type="C", length=50)]


@pytest.fixture
def edited(catalog_admin, department) -> Resource:  # type: ignore[no-untyped-def]
    """An entry whose latest version changes a choice, an item's type, and adds and removes items."""
    resource = services.create_resource(resource_draft(department, items=ITEMS), actor=catalog_admin)
    draft = resource_draft(
        department,
        update_cycle="weekly",
        items=[ItemDraft(name="uscc", data_type="N", length=18), ItemDraft(name="since", data_type="D")],
    )
    services.update_resource(resource, draft, actor=catalog_admin)
    return resource


def _latest_changes(user, resource: Resource, **headers: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    response = Client().get(f"/api/catalog/resources/{resource.pk}/versions", headers={**bearer(user), **headers})
    assert response.status_code == 200, response.content
    return max(response.json(), key=lambda v: v["number"])["changes"]


@pytest.mark.django_db
def test_an_english_reader_reads_a_stored_diff_in_english(catalog_admin, edited) -> None:
    changes = _latest_changes(catalog_admin, edited, **{"Accept-Language": "en"})
    rows = {(c["label"], c["old"], c["new"]) for c in changes}
    assert ("Update cycle", "Daily", "Weekly") in rows, rows
    assert ('Item "since"', "(none)", "Added") in rows
    assert ('Item "holder"', "Present", "Removed") in rows
    assert chinese_in(text for c in changes for text in (c["label"], c["old"], c["new"])) == []


@pytest.mark.django_db
def test_a_chinese_reader_reads_the_diff_as_kept(catalog_admin, edited) -> None:
    changes = _latest_changes(catalog_admin, edited)
    # As stored; item entries also name their item (`name`) so that pages can mark it as content.
    shown = [{key: value for key, value in change.items() if key != "name"} for change in changes]
    assert shown == edited.versions.order_by("-number").first().changes  # type: ignore[union-attr]
    assert {"field": "update_cycle", "label": "更新周期", "old": "每日", "new": "每周"} in changes


@pytest.mark.django_db
def test_the_entry_page_shows_the_diff_in_english(catalog_admin, edited) -> None:
    client = Client()
    client.force_login(catalog_admin)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("catalog:detail", args=[edited.pk])).content.decode()
    diff = page[page.index('<table class="diff">') :]
    diff = diff[: diff.index("</table>")]
    assert "Update cycle" in diff and "Weekly" in diff
    assert chinese_in([diff]) == []
