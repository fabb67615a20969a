"""The platform on a phone (390 px wide) in a real browser (Debian's Chromium through Playwright): each role's main
pages fit the screen (the page body never scrolls sideways; wide tables scroll inside their own box) and the
collapsible navigation opens and closes from its menu button."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from govshare.testing import TEST_PASSWORD
from govshare.testing.live import CHROMIUM, chromium, govshare_command, live_server

pytestmark = pytest.mark.browser

PHONE = 390
World = tuple[str, dict[str, dict[str, Any]]]  # the server's address and the ids WORLD printed

# The authorisation matrix's world (two departments, every role, published entries with loaded data, grading
# changes, import batches, jobs, notifications), a submitted entry for the review queue, an entry whose name is one
# long unbroken word, and usernames the test can sign in with. Prints the objects' ids.
WORLD = """
import json
from govshare import testing
from govshare.accounts.models import User
from govshare.catalog import services
from govshare.testing.authz import ITEMS, build_world
world = build_world()
for role, user in world.users.items():
    if user is not None:
        User.objects.filter(pk=user.pk).update(username=f"phone_{role}")
catalog = world.users["catalog"]
department = catalog.department
submitted = services.create_resource(testing.resource_draft(department, name="待审核", items=ITEMS), actor=catalog)
services.submit_resource(submitted, actor=catalog)
services.create_resource(testing.resource_draft(department, name="超长名称" * 30, items=ITEMS), actor=catalog)
print(json.dumps({kind: {name: pk for name, pk in objects.items()} for kind, objects in world.objects.items()}))
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if not CHROMIUM.exists():
        pytest.fail("Browser tests need Debian's Chromium: apt-get install -y chromium fonts-noto-cjk")
    with live_server(tmp_path_factory.mktemp("govshare-phone")) as live:
        objects = json.loads(govshare_command("shell", "-c", WORLD, env=live.env).strip().splitlines()[-1])
        yield live.url, objects


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _signed_in(browser: Any, server: str, role: str, width: int = PHONE) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{server}/login/")
    page.fill("input[name=username]", f"phone_{role}")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector(".who-name", state="attached")
    return page


def _pages(objects: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    resource, load = objects["resource"]["a_published"], objects["load"]["a"]
    return {
        "platform": [
            "/",
            "/catalog/",
            f"/catalog/resources/{resource}/",
            "/catalog/review/",
            "/catalog/maintenance/",
            "/catalog/import/",
            "/jobs/",
            "/notifications/",
            "/account/role-grants/",
            "/account/calendar/",
            "/account/calendar/2026/",
            "/account/calendar/import/",
            "/sharing/demands/",
            "/sharing/duties/",
            "/sharing/duties/new/",
            "/sharing/negative/",
            "/systems/",
            "/systems/new/",
            "/sharing/scenarios/",
        ],
        "catalog": [
            "/",
            "/catalog/",
            "/catalog/?q=超长名称",
            f"/catalog/resources/{resource}/",
            f"/catalog/resources/{objects['resource']['a_draft']}/edit/",
            f"/datasets/resources/{resource}/",
            f"/datasets/loads/{load}/",
            "/catalog/import/",
            f"/catalog/import/batches/{objects['batch']['a']}/",
            "/grading/",
            "/jobs/",
            f"/jobs/{objects['job']['a']}/",
            "/sharing/grants/?side=provider",
            f"/sharing/grants/{objects['grant']['a']}/",
            "/notifications/",
            "/account/tokens/",
            f"/sharing/demands/{objects['demand']['a']}/",
            f"/sharing/duties/{objects['duty']['a']}/",
            "/sharing/negative/import/",
            "/systems/",
            f"/systems/{objects['system']['a']['system_id']}/",
            f"/systems/{objects['system']['a']['system_id']}/edit/",
            "/sharing/scenarios/",
            "/sharing/scenarios/new/",
            f"/sharing/scenarios/{objects['scenario']['a']}/",
            "/gateway/apis/",
            f"/gateway/apis/{objects['consumer_grant']['a']}/",
            "/gateway/calls/",
            "/gateway/providers/",
            "/gateway/providers/new/",
            f"/gateway/providers/{objects['provider_service']['a']}/",
        ],
        "security": ["/", "/grading/", f"/grading/changes/{objects['change']['a']}/"],
        "auditor": ["/", "/audit/", "/audit/verify/", "/gateway/key-search/"],
        "consumer": [
            "/",
            "/catalog/",
            f"/catalog/resources/{resource}/",
            f"/datasets/resources/{resource}/",
            "/sharing/demands/",
            "/sharing/demands/new/",
            f"/sharing/demands/{objects['demand']['a']}/",
            f"/sharing/demands/{objects['demand']['a']}/edit/",
        ],
    }


@pytest.mark.parametrize("role", ["platform", "catalog", "security", "auditor", "consumer"])
def test_each_roles_main_pages_fit_a_phone(world: World, browser: Any, role: str) -> None:
    server, objects = world
    page = _signed_in(browser, server, role)
    too_wide = {}
    for path in _pages(objects)[role]:
        response = page.goto(f"{server}{path}")
        assert response is not None and response.status == 200, path
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE:
            too_wide[path] = width
    assert too_wide == {}
    page.context.close()


def test_the_menu_button_opens_and_closes_the_navigation_on_a_phone(world: World, browser: Any) -> None:
    server, _ = world
    page = _signed_in(browser, server, "catalog")
    button = page.locator("button.nav-toggle")
    assert button.get_attribute("aria-expanded") == "false"
    assert not page.is_visible("nav.mainnav")
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    assert page.is_visible("nav.mainnav a[href='/catalog/']")
    button.click()
    assert button.get_attribute("aria-expanded") == "false"
    assert not page.is_visible("nav.mainnav")
    page.context.close()


def test_the_menu_button_works_from_the_keyboard(world: World, browser: Any) -> None:
    server, _ = world
    page = _signed_in(browser, server, "catalog")
    page.focus("button.nav-toggle")
    page.keyboard.press("Enter")
    assert page.locator("button.nav-toggle").get_attribute("aria-expanded") == "true"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('nav.mainnav') !== null")
    page.context.close()


def test_the_navigation_is_open_without_a_menu_button_on_a_desktop(world: World, browser: Any) -> None:
    server, _ = world
    page = _signed_in(browser, server, "catalog", width=1280)
    assert not page.is_visible("button.nav-toggle")
    assert page.is_visible("nav.mainnav a[href='/catalog/']")
    page.context.close()


def test_the_facets_come_after_the_results_on_a_phone(world: World, browser: Any) -> None:
    server, _ = world
    page = _signed_in(browser, server, "consumer")
    page.goto(f"{server}/catalog/")
    results_top = page.eval_on_selector(".search-results", "e => e.getBoundingClientRect().top")
    facets_top = page.eval_on_selector(".facets", "e => e.getBoundingClientRect().top")
    assert facets_top > results_top
    page.context.close()


def test_the_catalogues_results_are_cards_on_a_phone(world: World, browser: Any) -> None:
    server, _ = world
    page = _signed_in(browser, server, "consumer")
    page.goto(f"{server}/catalog/")
    row = page.locator("table.cards tbody tr").first
    # The name heads the card; every other cell is labelled with its column's name.
    name_top = row.locator("td.card-title").bounding_box()["y"]
    code_top = row.locator("td").first.bounding_box()["y"]
    assert name_top < code_top
    label = row.locator("td").first.evaluate("e => getComputedStyle(e, '::before').content")
    assert label == '"信息资源代码"'
    assert row.bounding_box()["width"] <= PHONE
    page.context.close()


def test_a_folded_menu_with_unread_messages_marks_its_button(world: World, browser: Any) -> None:
    server, _ = world
    page = _signed_in(browser, server, "catalog")  # the world sent every role a notification
    dot = "() => getComputedStyle(document.querySelector('button.nav-toggle'), '::after').content"
    assert page.evaluate(dot) == '""'
    page.click("button.nav-toggle")
    assert page.evaluate(dot) == "none"
    page.context.close()


def _cards_layout(page: Any, table: str) -> dict[str, Any]:
    """How the first row of `table` is laid out: whether its header shows, the row's width, and each cell's box."""
    return page.eval_on_selector(
        table,
        """t => {
            const head = t.querySelector('thead').getBoundingClientRect();
            const row = t.querySelector('tbody tr');
            const cells = [...row.querySelectorAll('td')].map(c => c.getBoundingClientRect());
            return {
                head: head.width * head.height,
                row: row.getBoundingClientRect().right,
                lefts: cells.map(c => Math.round(c.left)),
                tops: cells.map(c => c.top),
            };
        }""",
    )


def _assert_cards(page: Any, table: str) -> None:
    layout = _cards_layout(page, table)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE
    assert layout["head"] <= 1  # the header is visually hidden (still read by screen readers)
    assert layout["row"] <= PHONE
    assert len(set(layout["lefts"])) == 1  # the cells stack at one left edge ...
    assert len(set(layout["tops"])) == len(layout["tops"])  # ... one under the other


def _on_screen(page: Any, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return page.locator(selector).first.is_visible() and box is not None and box["x"] + box["width"] <= PHONE


def test_the_review_queues_rows_are_cards_on_a_phone(world: World, browser: Any) -> None:
    server, _ = world
    page = _signed_in(browser, server, "platform")
    page.goto(f"{server}/catalog/review/")
    _assert_cards(page, "table.review-list")
    page.context.close()


def test_the_review_queues_actions_stay_reachable_on_a_phone(world: World, browser: Any) -> None:
    server, _ = world
    page = _signed_in(browser, server, "platform")
    page.goto(f"{server}/catalog/review/")
    row = "table.review-list tbody tr"
    for action in ["input[type=checkbox][name=ids]", "button[value=publish]", "input[name=reason]", "button.danger"]:
        assert _on_screen(page, f"{row} {action}"), action
    # The header's "select all" is hidden with the header; the batch bar's one selects every row.
    page.click(".select-all-phone input")
    assert page.locator(f"{row} input[type=checkbox][name=ids]:not(:checked)").count() == 0
    assert page.locator(f"{row} input[type=checkbox][name=ids]:checked").count() >= 1
    page.context.close()


def test_the_audit_logs_rows_are_cards_on_a_phone(world: World, browser: Any) -> None:
    server, _ = world
    page = _signed_in(browser, server, "auditor")
    page.goto(f"{server}/audit/")
    _assert_cards(page, "table.audit-log")
    # The action heads the card; every other cell is labelled with its column's name.
    row = page.locator("table.audit-log tbody tr").first
    assert row.locator("td.card-title").bounding_box()["y"] < row.locator("td").first.bounding_box()["y"]
    assert row.locator("td").first.evaluate("e => getComputedStyle(e, '::before').content") == '"编号"'
    page.context.close()


def test_the_review_queue_is_still_a_table_on_a_desktop(world: World, browser: Any) -> None:
    server, _ = world
    page = _signed_in(browser, server, "platform", width=1280)
    page.goto(f"{server}/catalog/review/")
    layout = _cards_layout(page, "table.review-list")
    assert layout["head"] > 1
    assert len(set(layout["tops"])) < len(layout["tops"])  # cells side by side
    assert not page.is_visible(".select-all-phone")
    page.context.close()
