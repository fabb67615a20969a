"""The README stays true: its first two commands, every setting of govshare/config.py, the demo logins, links."""

import re
from pathlib import Path

from govshare.config import GovshareSettings
from govshare.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _config_rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in _section("Configuration reference").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    return rows


def _env_name(name: str) -> str:
    alias = GovshareSettings.model_fields[name].validation_alias
    return alias if isinstance(alias, str) else f"GOVSHARE_{name.upper()}"


def test_readme_starts_with_the_two_setup_commands() -> None:
    blocks = re.findall(r"```[a-z]*\n(.*?)```", README, flags=re.S)
    assert README.index("```") < README.index("\n## ")
    assert blocks[0].split("#")[0].strip() == "bash scripts/up"
    assert blocks[1].split("#")[0].strip() == "bash scripts/test"


def test_every_setting_is_in_the_configuration_reference_with_its_variable() -> None:
    rows = _config_rows()
    missing = sorted(set(GovshareSettings.model_fields) - set(rows))
    assert not missing, f"README 配置参考缺少设置：{missing}"
    for name in GovshareSettings.model_fields:
        assert rows[name][1] == f"`{_env_name(name)}`", name


def test_configuration_reference_lists_no_setting_that_does_not_exist() -> None:
    assert set(_config_rows()) <= set(GovshareSettings.model_fields)


def test_documented_numeric_and_boolean_defaults_match_the_code() -> None:
    rows = _config_rows()
    for name, info in GovshareSettings.model_fields.items():
        default = info.default
        if isinstance(default, bool):
            expected = str(default).lower()
        elif isinstance(default, int | float):
            expected = str(default)
        else:
            continue
        assert f"`{expected}`" in rows[name][2], f"{name}: README says {rows[name][2]}, code says {expected}"


def test_demo_logins_in_the_readme_are_the_loaded_ones() -> None:
    assert f"`{DEMO_PASSWORD}`" in README
    for account in DEMO_ACCOUNTS:
        assert f"`{account.username}`" in README, account.username


def test_relative_links_and_images_point_to_files_in_the_repository() -> None:
    targets = re.findall(r"\]\(([^)#\s]+)\)", README)
    local = [t for t in targets if "://" not in t]
    assert "docs/screenshot.png" in local
    for target in local:
        assert (ROOT / target).exists(), f"README links to missing {target}"
