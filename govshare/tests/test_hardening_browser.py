"""The Content-Security-Policy in a real browser (Debian's Chromium through Playwright): the platform's pages, the
Django admin and the API docs (Swagger UI) work under it, and Chromium reports no violation in the console."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from govshare.testing import TEST_PASSWORD
from govshare.testing.live import CHROMIUM, chromium, live_server

pytestmark = pytest.mark.browser

USERS = """
from govshare.accounts.choices import Role
from govshare import testing
department = testing.make_department("市公安局")
testing.make_user(Role.CATALOG_ADMIN, department=department, username="csp_catalog")
testing.make_user(Role.PLATFORM_ADMIN, username="csp_admin")
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.fail("Browser tests need Debian's Chromium: apt-get install -y chromium fonts-noto-cjk")
    with live_server(tmp_path_factory.mktemp("govshare-csp"), setup=[["shell", "-c", USERS]]) as live:
        yield live.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


class Violations:
    """Console messages and page errors of one browser page that concern the Content-Security-Policy."""

    def __init__(self, page: Any) -> None:
        self.messages: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))

    def _console(self, message: Any) -> None:
        text = str(message.text)
        if "Content Security Policy" in text or "Content-Security-Policy" in text or "Refused to" in text:
            self.messages.append(text)


def _page(browser: Any) -> tuple[Any, Violations]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page, Violations(page)


def _log_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("nav.mainnav")


def test_platform_pages_run_their_scripts_without_violations(server: str, browser: Any) -> None:
    page, violations = _page(browser)
    _log_in(page, server, "csp_catalog")
    # Styles from app.css (moved out of the page): the browse layout is a grid (signing in lands on the home).
    page.goto(f"{server}/catalog/")
    assert page.eval_on_selector(".search-layout", "e => getComputedStyle(e).display") == "grid"
    # Scripts from app.js: the catalogue form's "add item" button adds a row.
    page.goto(f"{server}/catalog/resources/new/")
    rows = page.locator("#item-rows tr").count()
    page.click("#add-item")
    assert page.locator("#item-rows tr").count() == rows + 1
    # The import page refuses an oversized file in the browser (data-max-bytes) before sending it.
    page.goto(f"{server}/catalog/import/")
    page.eval_on_selector("#import-form", "f => f.dataset.maxBytes = '10'")
    page.set_input_files(
        "#import-file", {"name": "a.xlsx", "mimeType": "application/octet-stream", "buffer": b"x" * 50}
    )
    page.click("#import-form button[type=submit]")
    assert page.is_visible("#import-size-error")
    # The language select submits its form on change.
    page.goto(f"{server}/account/tokens/")
    page.select_option("#language-select", "en")
    page.wait_for_load_state()
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert violations.messages == []


def test_the_admin_works_without_violations(server: str, browser: Any) -> None:
    page, violations = _page(browser)
    _log_in(page, server, "csp_admin")
    page.goto(f"{server}/admin/")
    assert page.is_visible("#content-main")
    page.goto(f"{server}/admin/accounts/user/")
    page.wait_for_selector("#result_list")
    page.goto(f"{server}/admin/accounts/user/add/")
    page.wait_for_selector("form")
    assert violations.messages == []


def test_the_admins_category_tree_and_change_pages_apply_no_inline_style(server: str, browser: Any) -> None:
    page, violations = _page(browser)
    _log_in(page, server, "csp_admin")
    page.goto(f"{server}/admin/")
    assert page.inner_text("a[href='/admin/oauth2_provider/']").strip() == "接入系统"
    page.goto(f"{server}/admin/catalog/category/")
    page.wait_for_selector("#result_list .category-level-2")
    # The tree is still indented (govshare/admin.css), though no style="" applied.
    assert page.eval_on_selector("#result_list .category-level-2", "e => getComputedStyle(e).paddingLeft") != "0px"
    page.click("#result_list .category-level-2")
    page.wait_for_selector("#category_form")
    page.goto(f"{server}/admin/oauth2_provider/application/add/")
    page.wait_for_selector("#application_form")
    assert violations.messages == []


def test_the_api_docs_render_without_violations(server: str, browser: Any) -> None:
    page, violations = _page(browser)
    _log_in(page, server, "csp_catalog")
    page.goto(f"{server}/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "govshare" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag")
    assert violations.messages == []


def test_the_api_docs_lead_back_to_the_platform(server: str, browser: Any) -> None:
    page, violations = _page(browser)
    _log_in(page, server, "csp_catalog")
    page.goto(f"{server}/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    page.click("a.docs-back")
    page.wait_for_selector("h1:has-text('工作台')")
    assert violations.messages == []


def test_an_inline_script_or_style_would_be_refused_and_reported(server: str, browser: Any) -> None:
    page, violations = _page(browser)
    page.goto(f"{server}/login/")
    page.evaluate(
        """() => {
            const style = document.createElement("style");
            style.textContent = "body { color: red }";
            document.head.appendChild(style);
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true";
            document.head.appendChild(script);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.inlineRan === undefined")
    assert any("style-src" in message for message in violations.messages), violations.messages
    assert any("script-src" in message for message in violations.messages), violations.messages
