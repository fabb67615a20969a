"""Why a search result matched: its name, a window of its summary and its matching item names, cut into plain and
matched pieces. The pieces are plain strings: the template escapes each one and wraps the matched ones in <mark>,
so nothing a cataloguer or a searcher typed is ever rendered as HTML."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from govshare.catalog.models import Item, Resource

__all__ = ["Piece", "Snippet", "pieces", "snippets"]

SUMMARY_WINDOW = 60  # characters of summary shown around the first match
ITEMS_SHOWN = 3


@dataclass(frozen=True)
class Piece:
    text: str
    matched: bool


@dataclass(frozen=True)
class Snippet:
    name: list[Piece]
    summary: list[Piece]  # empty when the summary does not match
    items: list[list[Piece]]  # the matching item names, at most ITEMS_SHOWN


def _pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    """Every word at every position, overlaps included: a query's tokens may overlap in the text (不动 and 动产 of
    不动产), and the text they cover together is marked whole. Longest first: 公民身份号码 before 公民."""
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    if not ordered:
        return None
    return re.compile("(?=(" + "|".join(re.escape(w) for w in ordered) + "))", re.IGNORECASE)


def pieces(text: str, pattern: re.Pattern[str] | None) -> list[Piece]:
    """`text` as plain and matched pieces (the characters any word covers are matched; adjacent ones merged)."""
    if pattern is None:
        return [Piece(text, False)] if text else []
    marked = [False] * len(text)
    for match in pattern.finditer(text):
        start, end = match.span(1)
        marked[start:end] = [True] * (end - start)
    found: list[Piece] = []
    at = 0
    while at < len(text):
        end = at
        while end < len(text) and marked[end] == marked[at]:
            end += 1
        found.append(Piece(text[at:end], marked[at]))
        at = end
    return found


def _window(text: str, pattern: re.Pattern[str]) -> list[Piece]:
    match = pattern.search(text)
    if match is None:
        return []
    start = max(0, match.start() - SUMMARY_WINDOW // 3)
    end = min(len(text), start + SUMMARY_WINDOW)
    result = pieces(text[start:end], pattern)
    if start > 0:
        result.insert(0, Piece("…", False))
    if end < len(text):
        result.append(Piece("…", False))
    return result


def snippets(resources: Sequence[Resource], words: Sequence[str]) -> dict[int, Snippet]:
    """Snippets of a page of results (one query for their item names); none without words."""
    pattern = _pattern(words)
    if pattern is None or not resources:
        return {}
    names: dict[int, list[str]] = {}
    for resource_id, name in (
        Item.objects.filter(resource_id__in=[r.pk for r in resources])
        .order_by("resource_id", "position")
        .values_list("resource_id", "name")
    ):
        if pattern.search(name) and len(names.setdefault(resource_id, [])) < ITEMS_SHOWN:
            names[resource_id].append(name)
    return {
        r.pk: Snippet(
            pieces(r.name, pattern),
            _window(r.summary, pattern),
            [pieces(name, pattern) for name in names.get(r.pk, [])],
        )
        for r in resources
    }
