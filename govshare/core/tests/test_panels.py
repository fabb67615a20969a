"""Panels that apps contribute to another app's page: order, visibility decided by the panel, unknown pages, and
the `{% panels %}` tag."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest
from django.template import engines
from django.test import RequestFactory, override_settings

from govshare.core.panels import Panel, PanelRegistry, panels_for


def always(values: dict[str, Any]):
    def context(request: HttpRequest, obj: object) -> dict[str, Any] | None:
        return values

    return context


def never(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    return None


def request() -> HttpRequest:
    return RequestFactory().get("/")


def test_panels_come_in_their_order_whatever_the_order_of_registration() -> None:
    registry = PanelRegistry()
    registry.register("page", Panel(key="late", order=300, template_name="late.html", context=always({"n": 3})))
    registry.register("page", Panel(key="early", order=100, template_name="early.html", context=always({"n": 1})))
    registry.register("page", Panel(key="middle", order=200, template_name="middle.html", context=always({"n": 2})))
    shown = registry.panels_for("page", request(), object())
    assert [(p.key, p.template_name, p.context) for p in shown] == [
        ("early", "early.html", {"n": 1}),
        ("middle", "middle.html", {"n": 2}),
        ("late", "late.html", {"n": 3}),
    ]


def test_a_panel_answering_none_is_not_shown() -> None:
    registry = PanelRegistry()
    registry.register("page", Panel(key="shown", order=1, template_name="a.html", context=always({})))
    registry.register("page", Panel(key="hidden", order=2, template_name="b.html", context=never))
    assert [p.key for p in registry.panels_for("page", request(), object())] == ["shown"]


def test_a_panel_decides_from_the_request_and_the_object() -> None:
    def only_for_ones(request: HttpRequest, obj: object) -> dict[str, Any] | None:
        return {"obj": obj} if obj == 1 and request.path == "/" else None

    registry = PanelRegistry()
    registry.register("page", Panel(key="ones", order=1, template_name="a.html", context=only_for_ones))
    assert [p.context for p in registry.panels_for("page", request(), 1)] == [{"obj": 1}]
    assert registry.panels_for("page", request(), 2) == []


def test_an_unknown_page_has_no_panels() -> None:
    assert panels_for("no_such_page", request(), object()) == []


def test_panels_belong_to_their_page_only() -> None:
    registry = PanelRegistry()
    registry.register("page", Panel(key="a", order=1, template_name="a.html", context=always({})))
    assert registry.panels_for("other_page", request(), object()) == []


def test_registering_the_same_panel_again_changes_nothing() -> None:
    registry = PanelRegistry()
    panel = Panel(key="a", order=1, template_name="a.html", context=never)
    registry.register("page", panel)
    registry.register("page", panel)
    assert registry.panels("page") == [panel]


def test_another_panel_under_a_key_the_page_holds_is_refused() -> None:
    registry = PanelRegistry()
    registry.register("page", Panel(key="a", order=1, template_name="a.html", context=never))
    with pytest.raises(ValueError, match="already has a panel 'a'"):
        registry.register("page", Panel(key="a", order=2, template_name="other.html", context=never))


def test_an_exception_in_a_panel_is_not_swallowed() -> None:
    def broken(request: HttpRequest, obj: object) -> dict[str, Any] | None:
        raise ZeroDivisionError

    registry = PanelRegistry()
    registry.register("page", Panel(key="a", order=1, template_name="a.html", context=always({})))
    registry.register("page", Panel(key="broken", order=2, template_name="b.html", context=broken))
    with pytest.raises(ZeroDivisionError):
        registry.panels_for("page", request(), object())


def test_the_resource_page_has_the_panels_of_the_apps_in_their_order() -> None:
    from govshare.core.panels import registry

    assert [p.key for p in registry.panels("resource_detail")] == [
        "grading",
        "duplicates",
        "data",
        "share_request",
        "grants",
    ]


LOCMEM_TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "loaders": [
                (
                    "django.template.loaders.locmem.Loader",
                    {
                        "page.html": '{% load panels %}<main>{% panels "tag_test_page" thing %}</main>',
                        "first.html": "<p>{{ label }}: {{ thing|default:'no page value' }} {{ csrf_token }}</p>",
                        "second.html": "<p>{{ label }}</p>",
                    },
                )
            ],
            "context_processors": ["django.template.context_processors.request"],
        },
    }
]


def test_the_tag_renders_each_shown_panel_with_its_own_values_and_the_csrf_token(monkeypatch) -> None:
    from govshare.core import panels

    registry = PanelRegistry()
    registry.register(
        "tag_test_page", Panel(key="b", order=2, template_name="second.html", context=always({"label": "<b>"}))
    )
    registry.register(
        "tag_test_page", Panel(key="a", order=1, template_name="first.html", context=always({"label": "A"}))
    )
    registry.register("tag_test_page", Panel(key="c", order=3, template_name="second.html", context=never))
    monkeypatch.setattr(panels, "registry", registry)
    with override_settings(TEMPLATES=LOCMEM_TEMPLATES):
        html = engines["django"].get_template("page.html").render({"thing": "x", "csrf_token": "TOKEN"}, request())
    assert html == "<main><p>A: no page value TOKEN</p><p>&lt;b&gt;</p></main>"
