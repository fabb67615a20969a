"""Every template of every app compiles: a filter used without its `{% load %}` fails here, not as a 500 on the one
page that renders it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.template.loader import get_template

import govshare

_ROOT = Path(govshare.__file__).parent
_TEMPLATES = sorted(
    "/".join(path.parts[path.parts.index("templates") + 1 :]) for path in _ROOT.rglob("templates/**/*.html")
)


def test_the_templates_are_found() -> None:
    assert len(_TEMPLATES) > 50 and "base.html" in _TEMPLATES


@pytest.mark.parametrize("name", _TEMPLATES)
def test_template_compiles(name: str) -> None:
    get_template(name)
