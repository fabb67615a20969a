"""The home page in a real browser (Debian's Chromium through Playwright): the platform administrator's charts are
drawn by the vendored Chart.js from the page's JSON under the Content-Security-Policy, and the page fits a phone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from govshare.testing import TEST_PASSWORD
from govshare.testing.live import CHROMIUM, chromium, live_server

pytestmark = pytest.mark.browser

CITY = """
from govshare.accounts.choices import Role
from govshare import testing
police = testing.make_department("市公安局")
health = testing.make_department("市卫生健康委员会")
for n in range(3):
    testing.make_published_resource(police, name=f"公安资源{n}")
testing.make_published_resource(health, name="卫健资源")
testing.make_user(Role.PLATFORM_ADMIN, username="home_admin")
testing.make_user(Role.SECURITY_OFFICER, username="home_security")
"""
CHARTS = ["chart-catalogue-status", "chart-catalogue-departments", "chart-data-freshness"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.fail("Browser tests need Debian's Chromium: apt-get install -y chromium fonts-noto-cjk")
    with live_server(tmp_path_factory.mktemp("govshare-homes"), setup=[["shell", "-c", CITY]]) as live:
        yield live.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _signed_in_page(browser: Any, server: str, username: str, width: int) -> tuple[Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []

    def console(message: Any) -> None:
        # The browser's own request for /favicon.ico (the platform has none) is not the page's.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.goto(f"{server}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("h1:has-text('工作台')")
    return page, problems


@pytest.mark.parametrize("width", [1280, 390])
def test_the_platform_administrators_charts_are_drawn_without_violations(server: str, browser: Any, width: int) -> None:
    page, problems = _signed_in_page(browser, server, "home_admin", width)
    for chart in CHARTS:
        page.wait_for_function(
            "id => Boolean(window.Chart?.getChart(document.querySelector(`canvas[data-chart='${id}']`)))",
            arg=chart,
        )
        assert page.eval_on_selector(f"canvas[data-chart='{chart}']", "c => c.width > 0 && c.height > 0")
    assert problems == []


def test_the_home_fits_a_phone(server: str, browser: Any) -> None:
    for username in ("home_admin", "home_security"):
        page, problems = _signed_in_page(browser, server, username, 390)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, username
        assert problems == []
