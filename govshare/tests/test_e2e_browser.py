"""End to end in headless Chromium (Debian's `chromium`, driven by Playwright; no browser download) against a
real server process on a temporary SQLite database:

a department catalogue administrator downloads the Excel template, fills it in and imports it, also catalogues
an entry through the create form, finds the imported entry by searching, opens and submits it; the platform
administrator publishes it from the review queue. A screenshot of the browse page is taken on the way
(set GOVSHARE_UPDATE_SCREENSHOT=1 to write it to docs/screenshot.png).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "Test-Passw0rd-2026"
NEW_ENTRY = "网约车驾驶员从业资格信息"
FORM_ENTRY = "巡游出租汽车驾驶员信息"

# Demo-like published entries (department, name, class, share type, items) so that the browse page reads like a
# real city's catalogue in the screenshot.
SETUP = r"""
from govshare.accounts.choices import Role
from govshare.accounts.services import create_user
from govshare.catalog import services
from govshare.core import testing
from govshare.catalog.rules import ItemDraft

def items(*names):
    return [ItemDraft(name=n, data_type="C", length=100) for n in names]

departments = {}
for n, name in enumerate(["市公安局", "市市场监督管理局", "市人力资源和社会保障局", "市住房公积金管理中心",
                          "市自然资源和规划局", "市民政局", "市卫生健康委员会", "市交通运输局"], start=1):
    departments[name] = testing.make_department(name, code=testing.department_code(n))
gaj_admin = create_user(username="gaj_admin", password=testing.TEST_PASSWORD, full_name="王建国",
                        department=departments["市公安局"], roles=[Role.CATALOG_ADMIN], actor=None)
bigdata = create_user(username="bigdata_admin", password=testing.TEST_PASSWORD, full_name="李华（大数据局）",
                      department=None, roles=[Role.PLATFORM_ADMIN], actor=None)

entries = [
    ("市公安局", "常住人口户籍登记信息", "101", "conditional", ("公民身份号码", "姓名", "户籍地址")),
    ("市公安局", "流动人口居住登记信息", "101", "conditional", ("公民身份号码", "姓名", "居住地址", "登记日期")),
    ("市市场监督管理局", "企业登记基本信息", "102", "unconditional", ("统一社会信用代码", "企业名称", "法定代表人")),
    ("市市场监督管理局", "个体工商户登记信息", "102", "unconditional", ("统一社会信用代码", "字号名称", "经营者")),
    ("市市场监督管理局", "食品经营许可证信息", "204", "unconditional", ("许可证编号", "经营者名称", "有效期至")),
    ("市人力资源和社会保障局", "城镇职工基本养老保险参保信息", "203", "conditional", ("公民身份号码", "参保状态")),
    ("市人力资源和社会保障局", "失业保险金领取信息", "203", "conditional", ("公民身份号码", "领取月份", "金额")),
    ("市住房公积金管理中心", "住房公积金缴存信息", "203", "conditional", ("公民身份号码", "缴存基数", "缴存状态")),
    ("市自然资源和规划局", "不动产登记信息", "103", "conditional", ("不动产单元号", "权利人", "坐落")),
    ("市民政局", "婚姻登记信息", "101", "conditional", ("男方身份号码", "女方身份号码", "登记日期")),
    ("市民政局", "最低生活保障对象信息", "203", "not_shared", ("公民身份号码", "保障金额")),
    ("市卫生健康委员会", "出生医学证明信息", "202", "conditional", ("新生儿姓名", "出生日期", "母亲身份号码")),
    ("市交通运输局", "道路运输经营许可信息", "201", "unconditional", ("许可证号", "经营者名称", "经营范围")),
]
for department, name, category, share, item_names in entries:
    extra = {}
    if share == "unconditional":
        extra = {"share_condition": "", "platform_share_type": "table"}
    if share == "not_shared":
        extra = {"share_condition": "", "share_basis": "《社会救助暂行办法》第六十六条", "share_method": "",
                 "platform_share_type": ""}
    draft = testing.resource_draft(departments[department], name=name, category_code=category, share_type=share,
                                   summary=name + "，由" + department + "依法采集并维护。", items=items(*item_names),
                                   **extra)
    resource = services.create_resource(draft, actor=bigdata)
    services.submit_resource(resource, actor=bigdata)
    if name != "道路运输经营许可信息":
        services.publish_resource(resource, actor=bigdata)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _govshare(*args: str, env: dict[str, str], timeout: float = 300) -> None:
    subprocess.run([sys.executable, "-m", "govshare", *args], env=env, cwd=ROOT, check=True, timeout=timeout)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Browser tests need Debian's Chromium: apt-get install -y chromium fonts-noto-cjk")
    data_dir = tmp_path_factory.mktemp("govshare-e2e")
    env = {**os.environ, "GOVSHARE_DATA_DIR": str(data_dir), "DATABASE_URL": "", "GOVSHARE_DEBUG": "false"}
    env["DJANGO_SETTINGS_MODULE"] = "govshare.settings"
    _govshare("migrate", "-v", "0", env=env)
    _govshare("shell", "-c", SETUP, env=env)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "govshare", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / "server.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/login/", timeout=2) as response:  # noqa: S310 (local server)
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((data_dir / "server.log").read_text()) from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _log_in(page: Any, url: str, username: str) -> None:
    page.goto(url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".who-name")


def _log_out(page: Any) -> None:
    page.click("form[action='/logout/'] button")
    page.wait_for_selector("input[name=username]")


def _import_entry(page: Any, workdir: Path) -> None:
    """Download the import template, put the new entry into its sample row and import the file."""
    import openpyxl

    from govshare.catalog.importing import RESOURCE_SHEET

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
    page.click(f"a:text-is('{NEW_ENTRY}')")
    page.wait_for_selector(f"h1:has-text('{NEW_ENTRY}')")
    page.click("button:text-is('提交审核')")
    page.wait_for_selector(".message.success")
    assert page.inner_text("h1 .status") == "待审核"
    _log_out(page)

    # The platform administrator publishes it from the review queue.
    _log_in(page, server, "bigdata_admin")
    page.click("nav.mainnav >> text=审核队列")
    row = page.locator("tr", has_text=NEW_ENTRY)
    row.locator("button:text-is('发布')").click()
    page.wait_for_selector(".message.success")
    assert page.locator("tr", has_text=NEW_ENTRY).count() == 0
    page.click("nav.mainnav >> text=资源目录")
    page.fill("input[name=q]", NEW_ENTRY)
    page.press("input[name=q]", "Enter")
    page.click(f"a:text-is('{NEW_ENTRY}')")
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
