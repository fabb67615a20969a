"""What the first users ran into (issue 12), end to end in headless Chromium (Debian's `chromium`, driven by
Playwright) against a real server process on a temporary SQLite database loaded with the demo city, clicking as
each person would:

a department changes a published entry through a change request (变更) while a consumer keeps seeing the
published one until the platform administrator approves it; a typed search is ordered by relevance with the
matched words highlighted, and 身份证 finds the entries that carry 公民身份号码; the platform administrator
publishes a batch from the review queue through its confirmation page; each role's home (工作台) shows its
counts and they follow what the others do; the import page shows no error before a file is chosen.

One server and one browser serve the whole module; each test works on entries no other test touches and reads
the counts it checks before acting, so the tests do not depend on their order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from govshare.demo.accounts import DEMO_PASSWORD
from govshare.testing.live import CHROMIUM, chromium, live_server

pytestmark = pytest.mark.browser

IMPORT_LIMIT = 64 * 1024  # bytes: a small import limit, so that the test can choose a file over it cheaply


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.fail("Browser tests need Debian's Chromium: apt-get install -y chromium fonts-noto-cjk")
    # A smaller demo city than the default 3,000 entries (the standing registers come first, so every state and the
    # 公民身份号码 entries are in it) keeps the set-up short.
    setup = [["load_demo_data", "--resources", "800"]]
    env = {"GOVSHARE_PAGE_SIZE": "20", "GOVSHARE_IMPORT_MAX_BYTES": str(IMPORT_LIMIT)}
    with live_server(tmp_path_factory.mktemp("govshare-first-wave"), setup=setup, env=env) as live:
        yield live.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


class Person:
    """One signed-in person in a browser context of their own (their own cookies), at a desktop width; the page's
    script errors are collected, and confirmation dialogs are answered yes."""

    def __init__(self, browser: Any, server: str, username: str, width: int = 1280) -> None:
        self.server = server
        self.context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.page.goto(server + "/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("h1:text-is('工作台')")

    def go(self, path: str) -> Any:
        self.page.goto(self.server + path)
        return self.page

    def search(self, query: str) -> Any:
        """Type a query on the browse page and press Enter, as a person does (no order chosen)."""
        page = self.go("/catalog/")
        page.fill("#search-q", query)
        with page.expect_navigation():
            page.press("#search-q", "Enter")
        return page

    def open_entry(self, name: str) -> Any:
        page = self.search(name)
        page.get_by_role("link", name=name, exact=True).first.click()  # the name may carry <mark>s
        page.wait_for_selector(f"h1:has-text('{name}')")
        return page

    def home(self) -> Any:
        page = self.page
        page.click("nav.mainnav >> text=工作台")
        page.wait_for_selector("h1:text-is('工作台')")
        return page

    def department(self) -> str:
        return str(self.page.inner_text(".who .who-dept"))

    def success(self) -> str:
        return str(self.page.inner_text(".message.success"))

    def close(self) -> None:
        self.context.close()
        assert self.errors == []


def number(text: str, pattern: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text!r}"
    return int(match.group(1))


def choose_department(page: Any, name: str) -> None:
    """Pick a department in the review queue's 提供方 filter (its options read "name（count）"), which submits."""
    value = page.eval_on_selector_all(
        "#queue-department option", "(options, name) => options.find(o => o.text.startsWith(name + '（')).value", name
    )
    with page.expect_navigation():
        page.select_option("#queue-department", value)


def summary_of(page: Any) -> str:
    return str(page.inner_text("dl.meta dt:text-is('信息资源摘要') + dd"))


def item_names(page: Any) -> list[str]:
    return [str(name) for name in page.locator("table.list tbody tr td:nth-child(2)").all_inner_texts()]


# 1. Keeping a published entry current


def test_a_published_entry_is_changed_through_a_change_request_while_consumers_keep_seeing_it(
    server: str, browser: Any
) -> None:
    # The new item's word is in no entry yet, so searching it finds the entry only once the change is published.
    entry, new_item, new_word = "出入境证件签发信息", "口岸名称", "口岸"
    new_summary = "市公安局签发的出入境证件信息，本季度起增加办理口岸的名称。"
    consumer = Person(browser, server, "ybj_user")
    department = Person(browser, server, "gaj_admin")
    reviewer = Person(browser, server, "admin")

    page = consumer.open_entry(entry)
    detail = page.url
    published_summary, published_items = summary_of(page), item_names(page)
    assert new_item not in published_items

    # The department edits the published entry: 编辑 opens a change request, not the entry itself.
    page = department.open_entry(entry)
    page.click(".page-head .actions a:text-is('编辑')")
    page.wait_for_selector("h1:has-text('变更申请')")
    page.fill("#id_summary", new_summary)
    page.click("#add-item")
    last = len(published_items)
    page.fill(f"#id_items-{last}-name", new_item)
    page.select_option(f"#id_items-{last}-data_type", "C")
    page.fill(f"#id_items-{last}-length", "50")
    page.click("button[name=save]")
    page.wait_for_selector(".message.success")
    assert "已发布的版本在审核通过前保持不变" in department.success()
    assert new_summary in page.inner_text("table.diff")
    page.click(".page-head button:text-is('提交审核')")
    page.wait_for_selector(".message.success")
    assert page.inner_text("h1 .status") == "待审核"

    # The consumer still sees the published entry as it was, and nothing of the request.
    page = consumer.go(detail.removeprefix(server))
    assert page.inner_text("h1 .status") == "已发布"
    assert summary_of(page) == published_summary
    assert item_names(page) == published_items
    assert page.locator(".revision-banner").count() == 0
    assert not consumer.search(new_word).get_by_role("link", name=entry, exact=True).count()

    # The platform administrator finds the request in the review queue, sees what changes and approves it.
    page = reviewer.go("/catalog/review/")
    page.click(f"#revisions a:has-text('{entry}')")
    page.wait_for_selector("h1:has-text('变更申请')")
    assert new_item in page.inner_text("table.diff")
    page.click(".page-head button:text-is('审核通过')")  # after the confirmation dialog
    page.wait_for_selector(".message.success")
    assert "已发布的资源已更新" in reviewer.success()
    assert page.inner_text("h1 .status") == "已发布"
    assert summary_of(page) == new_summary

    # From then on the consumer sees the new content of the same, still published entry.
    page = consumer.go(detail.removeprefix(server))
    assert page.inner_text("h1 .status") == "已发布"
    assert summary_of(page) == new_summary
    assert item_names(page) == [*published_items, new_item]
    assert consumer.search(new_word).get_by_role("link", name=entry, exact=True).count() == 1
    for person in (consumer, department, reviewer):
        person.close()


# 2. Search that finds what people type


def result_codes(page: Any) -> list[str]:
    return [str(code) for code in page.locator("table.list tbody tr td:first-child code").all_inner_texts()]


def result_total(page: Any) -> int:
    return number(page.inner_text(".result-head"), r"共找到 (\d+) 条")


def test_a_typed_query_is_ordered_by_relevance_with_the_matched_words_highlighted(server: str, browser: Any) -> None:
    consumer = Person(browser, server, "ybj_user")
    page = consumer.search("身份证")
    assert page.locator("#search-sort option:checked").inner_text() == "默认（相关度）"
    # The one entry named for the word comes first, though its code sorts after most of the others.
    first = page.locator("table.list tbody tr").first
    assert first.locator("td:nth-child(2) a mark").all_inner_texts() == ["居民身份证"]
    assert "公民身份号码" in first.locator(".snippet mark").all_inner_texts()
    by_relevance = result_codes(page)
    assert by_relevance != sorted(by_relevance)

    # Choosing 资源代码 orders the same results by code.
    page.select_option("#search-sort", "code")
    with page.expect_navigation():
        page.click(".search-form button[type=submit]")
    assert result_codes(page) == sorted(result_codes(page))
    assert result_codes(page)[0] != by_relevance[0]
    consumer.close()


def test_the_everyday_word_finds_the_entries_that_carry_the_official_name(server: str, browser: Any) -> None:
    consumer = Person(browser, server, "ybj_user")
    official = result_total(consumer.search("公民身份号码"))
    page = consumer.search("身份证")
    assert result_total(page) >= official > 10
    # Every result of the page that does not say 身份证 was found through 公民身份号码, which its snippet marks.
    rows = page.locator("table.list tbody tr")
    through_synonym = 0
    for index in range(rows.count()):
        row = rows.nth(index)
        if "身份证" not in row.locator("td:nth-child(2) a").inner_text():
            assert "公民身份号码" in row.locator(".snippet mark").all_inner_texts()
            through_synonym += 1
    assert through_synonym > 10
    consumer.close()


# 3. Review at scale


def test_the_platform_administrator_publishes_a_batch_from_the_review_queue_after_confirming(
    server: str, browser: Any
) -> None:
    reviewer = Person(browser, server, "admin")
    page = reviewer.go("/catalog/review/")
    waiting = number(page.inner_text("main .lead"), r"(\d+) 条资源待审核")
    # The department with the most entries waiting (its options read "name（count）").
    busiest = page.eval_on_selector_all(
        "#queue-department option[value]:not([value=''])",
        "options => options.map(o => o.text)"
        ".sort((a, b) => parseInt(b.split('（')[1]) - parseInt(a.split('（')[1]))[0]",
    )
    choose_department(page, busiest.split("（")[0])
    rows = page.locator("table.review-list tbody tr")
    assert rows.count() >= 2
    chosen = [str(rows.nth(i).locator("td:nth-child(3) a").inner_text()) for i in range(2)]
    for i in range(2):
        rows.nth(i).locator("input[type=checkbox]").check()
    assert page.inner_text("[data-batch-count]") == "已选 2 条"

    page.click("#review-batch button[value=publish]")
    page.wait_for_selector("h1:text-is('确认发布')")
    assert "将发布以下 2 条资源" in page.inner_text("main .lead")
    assert page.locator("table.list tbody td:nth-child(2)").all_inner_texts() == chosen
    page.click("form.confirm-batch button[type=submit]")
    page.wait_for_selector("h1:text-is('审核队列')")
    assert "2" in reviewer.success()
    assert all(name not in page.inner_text("table.review-list") for name in chosen)

    page = reviewer.go("/catalog/review/")
    assert number(page.inner_text("main .lead"), r"(\d+) 条资源待审核") == waiting - 2
    for name in chosen:
        assert reviewer.open_entry(name).inner_text("h1 .status") == "已发布"
    reviewer.close()


def test_returning_from_the_confirmation_page_publishes_nothing(server: str, browser: Any) -> None:
    reviewer = Person(browser, server, "admin")
    page = reviewer.go("/catalog/review/")
    waiting = number(page.inner_text("main .lead"), r"(\d+) 条资源待审核")
    page.locator("table.review-list tbody tr").first.locator("button:text-is('发布')").click()
    page.wait_for_selector("h1:text-is('确认发布')")
    page.click("main a:text-is('返回审核队列')")
    page.wait_for_selector("h1:text-is('审核队列')")
    assert number(page.inner_text("main .lead"), r"(\d+) 条资源待审核") == waiting
    reviewer.close()


# 4. Homes (工作台) and their counts


def home_count(page: Any, section: str, pattern: str = r"(\d+)") -> int:
    return number(page.inner_text(f"#{section}"), pattern)


def test_the_reviewers_home_counts_the_queue_and_follows_a_submission(server: str, browser: Any) -> None:
    reviewer = Person(browser, server, "admin")
    department = Person(browser, server, "mzj_admin")
    page = reviewer.home()
    waiting = home_count(page, "home-review", r"(\d+)\s*条资源待审核")
    assert number(page.inner_text("nav.mainnav a[href='/catalog/review/'] .nav-count"), r"(\d+)") == waiting
    page.click("#home-review a")
    page.wait_for_selector("h1:text-is('审核队列')")
    assert number(page.inner_text("main .lead"), r"(\d+) 条资源待审核") == waiting

    # The department submits one of its drafts; the reviewer's home counts it.
    page = department.go("/catalog/?status=draft")
    page.locator("table.list tbody tr td:nth-child(2) a").first.click()
    page.click(".page-head button:text-is('提交审核')")
    page.wait_for_selector(".message.success")
    assert home_count(reviewer.home(), "home-review", r"(\d+)\s*条资源待审核") == waiting + 1
    reviewer.close()
    department.close()


def test_the_department_administrators_home_lists_an_entry_the_reviewer_rejected(server: str, browser: Any) -> None:
    department = Person(browser, server, "scjg_admin")
    reviewer = Person(browser, server, "admin")
    rejected = home_count(department.home(), "home-department", r"被驳回的资源\s*(\d+)")

    page = reviewer.go("/catalog/review/")
    choose_department(page, department.department())
    row = page.locator("table.review-list tbody tr").first
    name = str(row.locator("td:nth-child(3) a").inner_text())
    reason = "共享条件未写明申请流程，请补充后重新提交"
    row.locator("input[name=reason]").fill(reason)
    row.locator("button:text-is('驳回')").click()
    page.wait_for_selector(".message.success")

    page = department.home()
    assert home_count(page, "home-department", r"被驳回的资源\s*(\d+)") == rejected + 1
    listed = page.locator("#home-department li", has_text=name)
    assert reason in listed.inner_text()
    assert number(page.inner_text("nav.mainnav a.current .nav-count"), r"(\d+)") == rejected + 1
    department.close()
    reviewer.close()


def test_the_security_officers_home_counts_a_proposed_grading_change(server: str, browser: Any) -> None:
    security = Person(browser, server, "security")
    department = Person(browser, server, "rsj_admin")
    pending = home_count(security.home(), "home-grading", r"分级调整待审核\s*(\d+)")

    page = department.go("/catalog/?status=published&q=参保")
    own = page.locator("table.list tbody tr", has=page.locator(f"td > span:text-is('{department.department()}')")).first
    name = str(own.locator("td:nth-child(2) a").inner_text())
    own.locator("td:nth-child(2) a").click()
    page.wait_for_selector("#grading-level")
    levels = page.eval_on_selector_all("#grading-level option:not(:checked)", "options => options.map(o => o.value)")
    page.select_option("#grading-level", levels[-1])
    page.fill("#grading-reason", "含参保人个人信息，应提高敏感级别")
    page.click("#grading button[type=submit]")
    page.wait_for_selector(".message.success")

    page = security.home()
    assert home_count(page, "home-grading", r"分级调整待审核\s*(\d+)") == pending + 1
    assert page.locator("#home-grading li", has_text=name).count() == 1
    assert home_count(page, "home-risks", r"个人信息风险清单\s*(\d+)") > 0
    security.close()
    department.close()


def test_the_auditors_home_shows_the_chain_check_they_just_ran(server: str, browser: Any) -> None:
    auditor = Person(browser, server, "auditor")
    page = auditor.home()
    page.click("#home-audit a:text-is('立即校验')")
    page.click("main form button:text-is('开始校验')")
    page.wait_for_selector("#chain-result")
    checked = number(page.inner_text("#chain-result"), r"已校验 (\d+) 条记录")
    assert checked > 0

    page = auditor.home()
    text = page.inner_text("#home-audit")
    assert page.inner_text("#home-audit .badge") == "完整"
    assert f"校验了 {checked} 条记录" in text
    assert "由 auditor 执行" in text
    auditor.close()


def test_the_platform_administrators_home_draws_the_citys_figures(server: str, browser: Any) -> None:
    admin = Person(browser, server, "admin")
    page = admin.home()
    for chart in ("chart-catalogue-status", "chart-catalogue-departments", "chart-data-freshness"):
        page.wait_for_function(
            "id => Boolean(window.Chart?.getChart(document.querySelector(`canvas[data-chart='${id}']`)))", arg=chart
        )
    total = home_count(page, "home-catalogue-figures", r"全市资源目录\s*(\d+)")
    by_status = page.locator("#home-catalogue-figures table:has(caption:text-is('资源按审核状态')) td.num")
    assert sum(int(cell) for cell in by_status.all_inner_texts()) == total
    # The same figure as the catalogue, which the platform administrator sees whole.
    assert number(admin.go("/catalog/").inner_text(".result-head"), r"共 (\d+) 条") == total
    admin.close()


# 5. Import


def test_the_import_page_shows_no_error_until_a_file_over_the_limit_is_chosen(server: str, browser: Any) -> None:
    department = Person(browser, server, "gaj_admin")
    page = department.page
    page.click("nav.mainnav >> text=批量导入")
    page.wait_for_selector("h1:text-is('批量导入目录')")
    assert page.locator(".error:visible, .message.error:visible, [role=alert]:visible").count() == 0

    too_large = {"name": "目录.xlsx", "mimeType": "application/octet-stream", "buffer": b"\0" * (IMPORT_LIMIT + 1)}
    page.set_input_files("#import-file", too_large)
    page.click("#import-form button[type=submit]")
    assert page.locator("#import-size-error").is_visible()  # refused in the page, before sending
    assert page.locator("#import-result").count() == 0
    department.close()
