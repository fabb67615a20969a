"""End to end in headless Chromium (Debian's `chromium`, driven by Playwright; no browser download) against a
real server process on a temporary SQLite database loaded with the demo city:

a department catalogue administrator downloads the Excel template, fills it in and imports it, also catalogues
an entry through the create form, finds the imported entry by searching, opens and submits it; the platform
administrator, who has it in the review queue, publishes it. A screenshot of the browse page is taken on the way
(set GOVSHARE_UPDATE_SCREENSHOT=1 to write it to docs/screenshot.png).

Sharing, from request to revocation: 市人社局's consumer applies for 市公安局's loaded 户籍迁入信息 for its approved
scenario; 市公安局's 部门审核员 approves all but one item; the consumer sees the grant and previews the data with the
ID numbers masked and without the refused item; the reviewer revokes the grant and the consumer's next preview is
refused.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govshare.demo.accounts import DEMO_PASSWORD
from govshare.testing.live import CHROMIUM, ROOT, chromium, live_server

pytestmark = pytest.mark.browser

NEW_ENTRY = "网约车驾驶员从业资格信息"
SHARED_ENTRY = "户籍迁入信息"  # 市公安局's, loaded with generated rows in the demo city
REFUSED_ITEM = "迁入地址"
FORM_ENTRY = "巡游出租汽车驾驶员信息"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.fail("Browser tests need Debian's Chromium: apt-get install -y chromium fonts-noto-cjk")
    # The demo city (84 departments, 3,000 entries in every state) with its documented accounts.
    setup = [["load_demo_data"]]
    with live_server(tmp_path_factory.mktemp("govshare-e2e"), setup=setup, env={"GOVSHARE_PAGE_SIZE": "20"}) as live:
        yield live.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _log_in(page: Any, url: str, username: str) -> None:
    page.goto(url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".who-name")


def _log_out(page: Any) -> None:
    page.click("form[action='/logout/'] button")
    page.wait_for_selector("input[name=username]")


def _import_entry(page: Any, workdir: Path) -> None:
    """Download the import template, turn its example into the new entry (a real 资源序号: an example row is
    skipped) and import the file."""
    import openpyxl

    from govshare.catalog.importing import ITEM_SHEET, RESOURCE_SHEET

    page.click("nav.mainnav >> text=批量导入")
    with page.expect_download() as download:
        page.click("#download-template")
    template = workdir / "目录导入.xlsx"
    download.value.save_as(template)
    workbook = openpyxl.load_workbook(template)
    sheet = workbook[RESOURCE_SHEET]
    headers = [cell.value for cell in sheet[1]]
    sheet.cell(row=2, column=headers.index("信息资源名称") + 1, value=NEW_ENTRY)
    summary = "本市网络预约出租汽车驾驶员从业资格证的核发、注销信息。"
    sheet.cell(row=2, column=headers.index("信息资源摘要") + 1, value=summary)
    for data_sheet in (sheet, workbook[ITEM_SHEET]):
        seq = [cell.value for cell in data_sheet[1]].index("资源序号") + 1
        for row in range(2, data_sheet.max_row + 1):
            if data_sheet.cell(row=row, column=seq).value == "示例":
                data_sheet.cell(row=row, column=seq, value=1)
    workbook.save(template)
    page.set_input_files("#import-file", str(template))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-result")
    assert "已导入 1 条信息资源" in page.inner_text("#import-result")


def _create_entry(page: Any, url: str) -> None:
    """The department administrator catalogues a new entry through the create form (two item rows)."""
    page.click("nav.mainnav >> text=新建资源")
    page.fill("#id_name", FORM_ENTRY)
    page.select_option("#id_category_code", "101")
    page.fill("#id_summary", "本市网络预约出租汽车驾驶员从业资格证的核发、注销信息。")
    page.select_option("#id_format", "database")
    page.select_option("#id_share_type", "conditional")
    page.fill("#id_share_condition", "用于交通运输执法和政务服务核验")
    page.select_option("#id_share_method", "platform")
    page.select_option("#id_platform_share_type", "api")
    page.select_option("#id_open_type", "not_open")
    page.select_option("#id_update_cycle", "daily")
    page.fill("#id_items-0-name", "公民身份号码")
    page.select_option("#id_items-0-data_type", "C")
    page.fill("#id_items-0-length", "18")
    page.click("#add-item")
    page.fill("#id_items-1-name", "从业资格证号")
    page.select_option("#id_items-1-data_type", "C")
    page.fill("#id_items-1-length", "30")
    page.click("button[name=save]")
    page.wait_for_selector(".message.success")


def test_department_admin_catalogues_and_submits_platform_admin_publishes(
    server: str, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)

    _log_in(page, server, "gaj_admin")
    _import_entry(page, tmp_path)
    _create_entry(page, server)
    assert page.inner_text("h1 .status") == "草稿"

    # Search for it on the browse page, open it and submit it for review.
    page.click("nav.mainnav >> text=资源目录")
    page.fill("input[name=q]", NEW_ENTRY)
    page.press("input[name=q]", "Enter")
    page.get_by_role("link", name=NEW_ENTRY, exact=True).click()  # the name may carry <mark>s
    page.wait_for_selector(f"h1:has-text('{NEW_ENTRY}')")
    page.click("button:text-is('提交审核')")
    page.wait_for_selector(".message.success")
    assert page.inner_text("h1 .status") == "待审核"
    _log_out(page)

    # The platform administrator finds it waiting for review and publishes it.
    _log_in(page, server, "admin")
    page.click("nav.mainnav >> text=审核队列")
    waiting = int(re.search(r"(\d+) 条资源待审核", page.inner_text("main")).group(1))  # type: ignore[union-attr]
    page.goto(f"{server}/catalog/review/?page={-(-waiting // 20)}")  # oldest first: the newest is on the last page
    assert page.locator("tr", has_text=NEW_ENTRY).count() == 1
    page.click("nav.mainnav >> text=资源目录")
    page.fill("input[name=q]", NEW_ENTRY)
    page.press("input[name=q]", "Enter")
    page.get_by_role("link", name=NEW_ENTRY, exact=True).click()  # the name may carry <mark>s
    assert page.inner_text("h1 .status") == "待审核"
    page.click("button:text-is('审核通过并发布')")
    page.wait_for_selector(".message.success")
    assert page.inner_text("h1 .status") == "已发布"
    assert "发布" in page.inner_text("ol.versions")

    # The browse page with the demo entries, for the README.
    page.goto(server + "/catalog/")
    shot = tmp_path / "screenshot.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size < 300_000
    if os.environ.get("GOVSHARE_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, ROOT / "docs" / "screenshot.png")

    # The language switch turns the pages to English and back.
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    assert page.inner_text("nav.mainnav >> a.current") == "Catalogue"
    with page.expect_navigation():
        page.select_option("#language-select", "zh-hans")
    assert page.inner_text("nav.mainnav >> a.current") == "资源目录"
    context.close()


def _open_entry(page: Any, name: str) -> None:
    page.click("nav.mainnav >> text=资源目录")
    page.fill("input[name=q]", name)
    page.press("input[name=q]", "Enter")
    page.get_by_role("link", name=name, exact=True).first.click()
    page.wait_for_selector(f"h1:has-text('{name}')")


def test_consumer_applies_provider_approves_part_consumer_reads_masked_then_revocation_refuses(
    server: str, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)

    # 市人社局's consumer puts the entry into a request and submits it for its approved scenario and system.
    _log_in(page, server, "rsj_admin")
    _open_entry(page, SHARED_ENTRY)
    page.click("#request-add")
    page.wait_for_selector("#cart-form")
    page.select_option("#scenario_id", label="社会保险待遇领取资格认证")
    page.select_option("#system_id", label="社会保险经办系统")
    page.fill("#purpose", "待遇领取资格认证时核对参保人户籍迁移情况")
    page.click("#cart-submit")
    page.wait_for_selector("#request-lines")
    number = page.inner_text("h1").split()[-1]
    assert "审核中" in page.inner_text("#request-lines")
    _log_out(page)

    # 市公安局's reviewer finds it in the review queue and approves every item but one, saying why.
    _log_in(page, server, "gaj_reviewer")
    page.goto(server + "/sharing/requests/review/")
    page.locator("tr", has_text=number).get_by_role("link").first.click()
    approve = page.locator("form[id^=approve-]")
    approve.locator(f"input[name=items][value='{REFUSED_ITEM}']").uncheck()
    approve.locator("textarea[name=reason]").fill("迁入地址超出资格认证的最小必要范围")
    approve.locator("button[type=submit]").click()
    page.wait_for_selector(".message.success")
    assert "部分同意" in page.inner_text("#request-lines")
    grant_link = page.locator("#request-lines a[href*='/sharing/grants/']").first
    grant_path = grant_link.get_attribute("href")
    _log_out(page)

    # The consumer sees the grant and reads the data through it: ID numbers masked, the refused item absent.
    _log_in(page, server, "rsj_admin")
    page.goto(server + grant_path)
    assert "有效" in page.inner_text("#grant-facts")
    page.click("text=按此授权预览数据")
    page.wait_for_selector("#preview")
    headers = page.locator("#preview thead th").all_inner_texts()
    assert "公民身份号码" in headers and REFUSED_ITEM not in headers
    column = headers.index("公民身份号码")
    first_id = page.locator("#preview tbody tr").first.locator("td").nth(column).inner_text()
    assert "*" in first_id and len(first_id) == 18
    preview_url = page.url
    _log_out(page)

    # The reviewer revokes the grant; the consumer's very next preview is refused.
    _log_in(page, server, "gaj_reviewer")
    page.goto(server + grant_path)
    page.fill("#revoke input[name=reason]", "资格认证工作已结束")
    page.click("#revoke button[type=submit]")
    page.wait_for_selector(".message.success")
    _log_out(page)
    _log_in(page, server, "rsj_admin")
    response = page.goto(preview_url)
    assert response is not None and response.status == 404
    assert first_id not in page.content()
    context.close()
