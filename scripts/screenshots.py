"""Screenshots of each role's home (工作台) for the README and docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--resources 3000]

Starts the platform on a temporary SQLite database with the demo city (`load_demo_data`, the documented accounts),
as `scripts/up` does, and signs in as each role in Debian's headless Chromium (the browser the tests use). Before
the screenshots it does, through the pages, what makes the homes show their to-dos as in daily use: the catalogue
administrator of 市公安局 proposes a grading change (the security officer's pending change) and the auditor runs a
chain check. Each home is captured at 1280 px in its top 1280 x 900 (the page's main area, so the PNG stays under
200 KB), the platform administrator's also at 390 px (a phone, its top 1,500 px), into `<out>/home-<role>.png`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 200 * 1024
HEIGHT = 900
PHONE_HEIGHT = 1500
# (file name, account, width): each role's home at a desktop width, and one at a phone's.
SHOTS = (
    ("home-platform-admin", "admin", 1280),
    ("home-catalog-admin", "gaj_admin", 1280),
    ("home-security-officer", "security", 1280),
    ("home-auditor", "auditor", 1280),
    ("home-consumer", "ybj_user", 1280),
    ("home-coordinator", "coordinator", 1280),
    ("home-platform-admin-390", "admin", 390),
)


def _sign_in(browser: Any, url: str, username: str, width: int) -> Any:
    from govshare.demo.accounts import DEMO_PASSWORD

    context = browser.new_context(viewport={"width": width, "height": HEIGHT}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:text-is('工作台')")
    return page


def _daily_use(browser: Any, url: str) -> None:
    """A pending grading change and a chain check, made through the pages as people make them."""
    page = _sign_in(browser, url, "gaj_admin", 1280)
    # One of the department's own published entries that holds 公民身份号码.
    page.goto(url + "/catalog/?status=published&q=公民身份号码")
    department = page.inner_text(".who .who-dept")
    own = page.locator("table.list tbody tr", has=page.get_by_text(department, exact=True)).first
    own.locator("td:nth-child(2) a").click()
    page.wait_for_selector("#grading-level")
    levels = page.eval_on_selector_all("#grading-level option:not(:checked)", "options => options.map(o => o.value)")
    page.select_option("#grading-level", levels[-1])
    page.fill("#grading-reason", "含公民身份号码等个人信息，按本季度分级复核结果提高敏感级别")
    page.click("#grading button[type=submit]")
    page.wait_for_selector(".message.success")
    page.context.close()

    page = _sign_in(browser, url, "auditor", 1280)
    page.goto(url + "/audit/verify/?run=1")
    page.wait_for_selector("#chain-result")
    page.context.close()


def _shoot(browser: Any, url: str, username: str, width: int, path: Path) -> int:
    page = _sign_in(browser, url, username, width)
    page.wait_for_load_state("networkidle")  # the charts are drawn after the vendored Chart.js loads
    page.wait_for_timeout(800)  # and after their short animation
    # A phone's page is long and narrow: a taller cut shows as much of it as the desktop one does.
    height = HEIGHT if width >= 1000 else PHONE_HEIGHT
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
    page.context.close()
    return path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--resources", type=int, default=3000, help="demo entries (load_demo_data --resources)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    too_large: list[str] = []
    with tempfile.TemporaryDirectory(prefix="govshare-screenshots-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        # This process only drives the browser; its settings point at a data directory of its own, never at var/.
        os.environ["GOVSHARE_DATA_DIR"] = str(Path(tmp) / "driver")
        os.environ["DJANGO_SETTINGS_MODULE"] = "govshare.settings"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from govshare.testing.live import chromium, live_server

        setup = [["load_demo_data", "--resources", str(args.resources)]]
        print(f"loading the demo city ({args.resources} entries) and starting the platform …", flush=True)
        with live_server(data_dir, setup=setup) as live, chromium() as browser:
            _daily_use(browser, live.url)
            for name, username, width in SHOTS:
                path = args.out / f"{name}.png"
                size = _shoot(browser, live.url, username, width, path)
                print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {size / 1024:.0f} KB")
                if size > MAX_BYTES:
                    too_large.append(name)
    if too_large:
        print(f"over {MAX_BYTES // 1024} KB: {', '.join(too_large)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
