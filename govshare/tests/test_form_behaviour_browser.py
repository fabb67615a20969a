"""The entry and source forms in a real browser (Debian's Chromium through Playwright), under the platform's
Content-Security-Policy: fields that do not apply are hidden until their choice is made (and then marked required),
and an item named like personal data gets its suggestion while its name is typed, in a row added on the page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from govshare.testing import TEST_PASSWORD
from govshare.testing.live import CHROMIUM, chromium, live_server

pytestmark = pytest.mark.browser

SETUP = """
from govshare.accounts.choices import Role
from govshare import testing
department = testing.make_department("市公安局")
testing.make_user(Role.CATALOG_ADMIN, department=department, username="form_catalog")
testing.make_published_resource(department, name="常住人口基本信息")
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.fail("Browser tests need Debian's Chromium: apt-get install -y chromium fonts-noto-cjk")
    with live_server(tmp_path_factory.mktemp("govshare-forms"), setup=[["shell", "-c", SETUP]]) as live:
        yield live.url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{server}/login/")
        page.fill("input[name=username]", "form_catalog")
        page.fill("input[name=password]", TEST_PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_selector("nav.mainnav", state="attached")  # folded behind the menu button at 390 px
        yield page
        assert errors == []


def _label_text(page: Any, name: str) -> str:
    return str(page.eval_on_selector(f"label[for=id_{name}]", "e => getComputedStyle(e, '::after').content"))


def test_the_legal_basis_appears_only_for_not_shared_and_is_then_required(server: str, page: Any) -> None:
    page.goto(f"{server}/catalog/resources/new/")
    assert _label_text(page, "name") == '" *"'  # required fields are marked before sending
    assert not page.is_visible("#id_share_basis")
    page.select_option("#id_share_type", "not_shared")
    assert page.is_visible("#id_share_basis")
    assert page.eval_on_selector("#id_share_basis", "e => e.required && !e.disabled")
    assert _label_text(page, "share_basis") == '" *"'
    page.select_option("#id_share_type", "unconditional")
    assert not page.is_visible("#id_share_basis")
    assert page.eval_on_selector("#id_share_basis", "e => e.disabled")  # not sent while it does not apply


def test_a_typed_item_name_gets_its_suggestion_in_an_added_row(server: str, page: Any) -> None:
    page.goto(f"{server}/catalog/resources/new/")
    page.click("#add-item")
    row = page.locator("#item-rows tr").last
    row.locator("input[name$='-name']").fill("联系人手机号码")
    hint = row.locator("[data-item-hint]")
    assert hint.is_visible() and "建议敏感级别 L2 或更高" in hint.inner_text()
    row.locator("input[name$='-name']").fill("企业名称")
    assert not hint.is_visible()


def test_the_file_source_form_shows_the_sheet_for_xlsx_only_and_the_watermark_for_append(
    server: str, page: Any
) -> None:
    page.goto(f"{server}/datasets/resources/1/sources/new/file/")  # the one resource of the fresh database
    assert page.is_visible("#id_delimiter") and not page.is_visible("#id_sheet")
    page.select_option("#id_file_format", "xlsx")
    assert page.is_visible("#id_sheet") and not page.is_visible("#id_delimiter")
    assert not page.is_visible("#id_watermark_column")
    page.select_option("#id_load_mode", "append")
    assert page.is_visible("#id_watermark_column") and _label_text(page, "watermark_column") == '" *"'
