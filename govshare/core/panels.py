"""Panels: sections that apps contribute to another app's page without that page knowing them.

A page (named by a string, e.g. "resource_detail") renders `{% load panels %}{% panels "resource_detail" obj %}`;
each app registers its panels for that page from its AppConfig.ready. A panel decides itself, with its app's own
permission checks, whether it is shown: its context function answers None to stay hidden for this user and object.
An exception raised by a panel is a bug and propagates (the page answers 500, and its tests fail)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

PanelContext = Callable[[HttpRequest, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    """One section of a page: `context(request, obj)` answers the template's values, or None when not shown."""

    key: str
    order: int
    template_name: str
    context: PanelContext


@dataclass(frozen=True)
class RenderedPanel:
    """A panel that is shown, with the values its template renders."""

    key: str
    template_name: str
    context: dict[str, Any]


class PanelRegistry:
    def __init__(self) -> None:
        self._pages: dict[str, dict[str, Panel]] = {}

    def register(self, page: str, panel: Panel) -> None:
        """Add a panel to a page. Registering the same panel again changes nothing; another panel under a key the
        page already holds is refused."""
        panels = self._pages.setdefault(page, {})
        known = panels.get(panel.key)
        if known is not None and known != panel:
            raise ValueError(f"page {page!r} already has a panel {panel.key!r}")
        panels[panel.key] = panel

    def panels(self, page: str) -> list[Panel]:
        """The page's panels by order (then key); none for a page nobody contributes to."""
        return sorted(self._pages.get(page, {}).values(), key=lambda panel: (panel.order, panel.key))

    def panels_for(self, page: str, request: HttpRequest, obj: object) -> list[RenderedPanel]:
        """The panels of the page shown to this request's user for this object, in order."""
        shown = []
        for panel in self.panels(page):
            values = panel.context(request, obj)
            if values is not None:
                shown.append(RenderedPanel(key=panel.key, template_name=panel.template_name, context=values))
        return shown


registry = PanelRegistry()


def register_panel(page: str, panel: Panel) -> None:
    registry.register(page, panel)


def panels_for(page: str, request: HttpRequest, obj: object) -> list[RenderedPanel]:
    return registry.panels_for(page, request, obj)
