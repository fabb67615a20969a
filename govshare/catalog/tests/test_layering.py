"""The catalogue knows nothing of the apps above it: its Python code imports none of them (the import-linter
contract "The catalogue knows nothing of serving data" in pyproject.toml, run by `lint-imports`), and its templates
load none of their template tag libraries: those apps add their sections to its pages as panels
(govshare.core.panels)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import govshare

PACKAGE = Path(govshare.__file__).parent
CATALOG_TEMPLATES = PACKAGE / "catalog" / "templates"
LOAD = re.compile(r"{%\s*load\s+(.*?)\s*%}")


def apps_above_the_catalogue() -> list[str]:
    """The apps in the layers above govshare.catalog in the import-linter contract "Apps depend downwards only" (a
    layer may hold several, "govshare.a | govshare.b" or "govshare.a : govshare.b")."""
    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    layers = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")["layers"]
    modules = [[module.strip() for module in re.split(r"[|:]", layer)] for layer in layers]
    catalogue = next(n for n, layer in enumerate(modules) if "govshare.catalog" in layer)
    return [module.removeprefix("govshare.") for layer in modules[:catalogue] for module in layer]


def their_tag_libraries() -> set[str]:
    return {
        module.stem
        for app in apps_above_the_catalogue()
        for module in (PACKAGE / app / "templatetags").glob("*.py")
        if module.stem != "__init__"
    }


def libraries_loaded(text: str) -> set[str]:
    """The libraries named by `{% load a b %}` and `{% load x y from lib %}`."""
    names: set[str] = set()
    for arguments in LOAD.findall(text):
        words = arguments.split()
        names.update(words[words.index("from") + 1 :] if "from" in words else words)
    return names


def test_the_apps_above_the_catalogue_have_tag_libraries_to_look_for() -> None:
    assert {"grading", "datasets"} <= set(apps_above_the_catalogue())
    assert "datasets_ui" in their_tag_libraries()


def test_the_load_reader_finds_both_forms() -> None:
    assert libraries_loaded("{% load i18n datasets_ui %}{%load timeliness_badge from  grading %}") == {
        "i18n",
        "datasets_ui",
        "grading",
    }


def test_the_catalogue_templates_load_no_tag_library_of_an_app_above_it() -> None:
    forbidden = their_tag_libraries()
    templates = sorted(CATALOG_TEMPLATES.rglob("*.html"))
    assert templates
    offending = {
        str(path.relative_to(CATALOG_TEMPLATES)): sorted(libraries_loaded(path.read_text(encoding="utf-8")) & forbidden)
        for path in templates
    }
    assert {path: libraries for path, libraries in offending.items() if libraries} == {}
