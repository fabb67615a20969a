"""The first users' pages in English (issue 12), end to end in headless Chromium (Debian's `chromium`, driven by
Playwright) against a real server on a temporary SQLite database loaded with the demo city: each person's browser
asks for Chinese (Accept-Language zh-CN) and they choose English in the page's language switch, as a reader does.

Each role's home, a typed search, a change request from its edit to its approval, the review queue's batch
publication and its confirmation, the import page, a load page, the audit log and its chain check, and the same
pages on a phone, show no Chinese of the platform's own: not in headings, navigation, buttons, labels, table
headers, facets, messages, confirmations, empty states, titles, placeholders or aria-labels
(`testing.english.interface_chinese`). The data stays as it was entered (names, summaries, search snippets are
Chinese): the pages mark it with lang="zh-Hans", which the check leaves out.

One server and one browser serve the whole module; the tests work on entries no other test touches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from govshare.demo.accounts import DEMO_PASSWORD
from govshare.testing.english import CJK, interface_chinese
from govshare.testing.live import CHROMIUM, LiveServer, chromium, govshare_command, live_server

pytestmark = pytest.mark.browser

IMPORT_LIMIT = 64 * 1024  # bytes: a small import limit, so that the test can choose a file over it cheaply
PHONE = 390

# A load of the demo city with refused rows, and the username of the department administrator who owns it.
LOAD_WITH_REJECTS = """
import json
from govshare.accounts.models import User
from govshare.datasets.models import Load
load = Load.objects.filter(rows_rejected__gt=0).select_related("dataset__resource").order_by("pk").first()
owner = User.objects.filter(department=load.dataset.resource.department_id, username__endswith="_admin").first()
print(json.dumps({"load": load.pk, "owner": owner.username}))
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not CHROMIUM.exists():
        pytest.fail("Browser tests need Debian's Chromium: apt-get install -y chromium fonts-noto-cjk")
    # A smaller demo city than the default (the standing registers come first, so every state, the loads with
    # refused rows and the 公民身份号码 entries are in it) keeps the set-up short.
    setup = [["load_demo_data", "--resources", "400"]]
    env = {"GOVSHARE_PAGE_SIZE": "20", "GOVSHARE_IMPORT_MAX_BYTES": str(IMPORT_LIMIT)}
    with live_server(tmp_path_factory.mktemp("govshare-english"), setup=setup, env=env) as server:
        yield server


@pytest.fixture(scope="module")
def server(live: LiveServer) -> str:
    return live.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


class Reader:
    """One person in a browser context of their own that asks for Chinese; on the sign-in page they switch the
    language to English, then sign in. Script errors are collected; confirmation dialogs are answered yes and their
    texts kept."""

    def __init__(self, browser: Any, server: str, username: str, width: int = 1280) -> None:
        self.server = server
        self.context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", self._answer)
        page = self.go("/login/")
        assert page.get_attribute("html", "lang") == "zh-hans"
        assert interface_chinese(page)  # the check sees the Chinese interface the browser asked for
        with page.expect_navigation():
            page.select_option("#language-select", "en")  # the switch submits itself
        self.english("Log in")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("h1:text-is('Home')")

    def _answer(self, dialog: Any) -> None:
        self.dialogs.append(str(dialog.message))
        dialog.accept()

    def go(self, path: str) -> Any:
        self.page.goto(self.server + path)
        return self.page

    def english(self, heading: str) -> Any:
        """The page is in English, its first heading holds `heading`, and no Chinese is left in its interface."""
        page = self.page
        assert page.get_attribute("html", "lang") == "en"
        assert heading in page.inner_text("h1"), page.url
        assert interface_chinese(page) == [], page.url
        return page

    def search(self, query: str) -> Any:
        page = self.go("/catalog/")
        page.fill("#search-q", query)
        with page.expect_navigation():
            page.press("#search-q", "Enter")
        return self.english("Catalogue")

    def open_entry(self, name: str) -> Any:
        page = self.search(name)
        page.get_by_role("link", name=name, exact=True).first.click()
        page.wait_for_selector(f"h1:has-text('{name}')")
        return self.english(name)

    def success(self) -> str:
        return str(self.page.inner_text(".message.success"))

    def close(self) -> None:
        self.context.close()
        assert self.errors == []
        assert [text for text in self.dialogs if CJK.search(text)] == []


def number(text: str, pattern: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text!r}"
    return int(match.group(1))


# 1. Each role's home


HOMES = {
    "admin": "#home-review",
    "gaj_admin": "#home-department",
    "gaj_reviewer": "main",
    "security": "#home-grading",
    "auditor": "#home-audit",
    "ybj_user": "main",
}


@pytest.mark.parametrize("username", list(HOMES))
def test_each_roles_home_is_english_after_the_language_switch(server: str, browser: Any, username: str) -> None:
    reader = Reader(browser, server, username)
    page = reader.english("Home")
    assert page.locator(HOMES[username]).count() == 1
    assert page.inner_text("nav.mainnav a.current").startswith("Home")
    reader.close()


def test_switching_back_to_chinese_brings_the_chinese_interface_back(server: str, browser: Any) -> None:
    reader = Reader(browser, server, "admin")
    page = reader.page
    with page.expect_navigation():
        page.select_option("#language-select", "zh-hans")
    assert page.inner_text("h1") == "工作台"
    found = interface_chinese(page)
    assert any("工作台" in text for text in found)  # the check would see an untranslated heading
    reader.close()


# 2. A typed search


def test_a_typed_search_is_english_around_the_chinese_results(server: str, browser: Any) -> None:
    reader = Reader(browser, server, "ybj_user")
    page = reader.search("身份证")
    assert number(page.inner_text(".result-head"), r"(\d+) results? for") > 10
    assert page.locator("#search-sort option:checked").inner_text() == "Default (relevance)"
    # The results are the same as in Chinese: the word's entry first, the official name's entries marked.
    first = page.locator("table.list tbody tr").first
    assert first.locator("td:nth-child(2) a mark").all_inner_texts() == ["居民身份证"]
    assert "公民身份号码" in first.locator(".snippet mark").all_inner_texts()
    assert page.locator(".facets h2").first.inner_text() == "Provider"

    # A query that finds nothing shows an English empty state.
    reader.search("无此资源之检索词")
    assert page.locator(".search-results .empty").is_visible()
    reader.close()


# 3. A change request, from the department's edit to the reviewer's approval


def test_a_change_request_is_english_from_edit_to_approval(server: str, browser: Any) -> None:
    entry, new_item = "出入境证件签发信息", "口岸名称"
    consumer = Reader(browser, server, "ybj_user")
    department = Reader(browser, server, "gaj_admin")
    reviewer = Reader(browser, server, "admin")

    page = department.open_entry(entry)
    page.click(".page-head .actions a:text-is('Edit')")
    page.wait_for_selector("h1:has-text('Change request')")
    department.english("Change request")
    page.fill("#id_summary", "市公安局签发的出入境证件信息，本季度起增加办理口岸的名称。")
    page.click("#add-item")
    last = page.locator("table.items-table tbody tr").count() - 1
    page.fill(f"#id_items-{last}-name", new_item)
    page.select_option(f"#id_items-{last}-data_type", "C")
    page.fill(f"#id_items-{last}-length", "50")
    department.english("Change request")
    page.click("button[name=save]")
    page.wait_for_selector(".message.success")
    department.english("Change request")
    page.click(".page-head button:text-is('Submit for review')")
    page.wait_for_selector(".message.success")
    department.english("Change request")

    page = consumer.open_entry(entry)
    assert page.inner_text("h1 .status") == "Published"

    page = reviewer.go("/catalog/review/")
    reviewer.english("Review queue")
    page.click(f"#revisions a:has-text('{entry}')")
    page.wait_for_selector("h1:has-text('Change request')")
    reviewer.english("Change request")
    assert new_item in page.inner_text("table.diff")
    page.click(".page-head button:text-is('Approve')")  # after the confirmation dialog
    page.wait_for_selector(".message.success")
    reviewer.english(entry)
    assert reviewer.dialogs  # the approval asked, in English (checked on close)
    assert page.inner_text("h1 .status") == "Published"

    consumer.go(page.url.removeprefix(server))
    consumer.english(entry)
    for reader in (consumer, department, reviewer):
        reader.close()


# 4. Publishing a batch from the review queue


def test_the_review_queues_batch_publication_and_its_confirmation_are_english(server: str, browser: Any) -> None:
    reviewer = Reader(browser, server, "admin")
    page = reviewer.go("/catalog/review/")
    reviewer.english("Review queue")
    waiting = number(page.inner_text("main .lead"), r"(\d+) ")
    rows = page.locator("table.review-list tbody tr")
    chosen = [str(rows.nth(i).locator("td:nth-child(3) a").inner_text()) for i in range(2)]
    for i in range(2):
        rows.nth(i).locator("input[type=checkbox]").check()
    assert page.inner_text("[data-batch-count]") == "2 selected"

    page.click("#review-batch button[value=publish]")
    page.wait_for_selector("h1:text-is('Confirm publication')")
    reviewer.english("Confirm publication")
    assert page.locator("table.list tbody td:nth-child(2)").all_inner_texts() == chosen
    page.click("form.confirm-batch button[type=submit]")
    page.wait_for_selector(".message.success")
    reviewer.english("Review queue")
    assert number(page.inner_text("main .lead"), r"(\d+) ") == waiting - 2
    reviewer.close()


# 5. Import, a load, the audit log


def test_the_import_page_and_its_size_refusal_are_english(server: str, browser: Any) -> None:
    department = Reader(browser, server, "gaj_admin")
    page = department.page
    page.click("nav.mainnav >> text=Import")
    page.wait_for_selector("h1:text-is('Import catalogue entries')")
    department.english("Import catalogue entries")
    too_large = {"name": "目录.xlsx", "mimeType": "application/octet-stream", "buffer": b"\0" * (IMPORT_LIMIT + 1)}
    page.set_input_files("#import-file", too_large)
    page.click("#import-form button[type=submit]")
    assert page.locator("#import-size-error").is_visible()
    department.english("Import catalogue entries")
    department.close()


def test_a_load_page_with_refused_rows_is_english(live: LiveServer, browser: Any) -> None:
    found = json.loads(govshare_command("shell", "-c", LOAD_WITH_REJECTS, env=live.env).strip().splitlines()[-1])
    department = Reader(browser, live.url, found["owner"])
    page = department.go(f"/datasets/loads/{found['load']}/")
    department.english(f"Load #{found['load']}")
    reasons = page.locator("#first-rejects tbody td:nth-child(3)").all_inner_texts()
    assert reasons and all(reason.startswith("Cannot be converted to") for reason in reasons)
    department.close()


def test_the_audit_log_and_its_chain_check_are_english(server: str, browser: Any) -> None:
    auditor = Reader(browser, server, "auditor")
    page = auditor.page
    page.click("nav.mainnav >> text=Audit log")
    page.wait_for_selector("table.audit-log")
    auditor.english("Audit log")
    auditor.go("/")
    page.click("#home-audit a:text-is('Check now')")
    page.click("main form button:text-is('Verify now')")
    page.wait_for_selector("#chain-result")
    auditor.english("hash chain")
    auditor.close()


# 6. On a phone


PHONE_PAGES = {
    "admin": ["/", "/catalog/", "/catalog/review/", "/catalog/maintenance/"],
    "gaj_admin": ["/", "/catalog/?q=身份证", "/catalog/import/"],
    "security": ["/", "/grading/"],
    "auditor": ["/", "/audit/"],
    "ybj_user": ["/", "/catalog/"],
}


@pytest.mark.parametrize("username", list(PHONE_PAGES))
def test_the_english_pages_fit_a_phone(server: str, browser: Any, username: str) -> None:
    reader = Reader(browser, server, username, width=PHONE)
    page = reader.page
    assert page.inner_text("button.nav-toggle") == "Menu"
    too_wide, chinese = {}, {}
    for path in PHONE_PAGES[username]:
        reader.go(path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE:
            too_wide[path] = width
        if found := interface_chinese(page):
            chinese[path] = found
        assert page.get_attribute("html", "lang") == "en"
    assert too_wide == {}
    assert chinese == {}
    reader.close()
