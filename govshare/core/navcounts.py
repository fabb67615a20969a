"""Counts in the site header (待审核 3, 被驳回 2 …): each app registers how to count what awaits a user of its
roles; the header asks only for the counts it shows, each one query at most, computed once per request.

A counter answers None when the count does not concern the user (no role for it): the header then shows no badge
and asks the database nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

NavCounter = Callable[[Any], int | None]

_COUNTERS: dict[str, NavCounter] = {}
_CACHE_ATTRIBUTE = "_govshare_nav_counts"


def register_nav_count(key: str, counter: NavCounter) -> None:
    """Declare a header count (once, from the owning app's AppConfig.ready); another counter under a key already
    held is refused."""
    known = _COUNTERS.get(key)
    if known is not None and known is not counter:
        raise ValueError(f"header count {key!r} is already registered")
    _COUNTERS[key] = counter


class NavCounts:
    """The header's counts for one request's user, by key (`nav_counts.review_queue` in a template): each counted
    on first use, then remembered for the rest of the request (the page and its includes share it)."""

    def __init__(self, user: Any) -> None:
        self._user = user
        self._known: dict[str, int | None] = {}

    def __getitem__(self, key: str) -> int | None:
        if key not in self._known:
            counter = _COUNTERS.get(key)
            if counter is None:
                raise KeyError(key)
            self._known[key] = counter(self._user)
        return self._known[key]

    def __contains__(self, key: object) -> bool:
        return key in _COUNTERS


def nav_counts_for(request: HttpRequest) -> NavCounts | None:
    """The request's counts (one object per request), None for a visitor who is not signed in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    counts = getattr(request, _CACHE_ATTRIBUTE, None)
    if counts is None:
        counts = NavCounts(user)
        setattr(request, _CACHE_ATTRIBUTE, counts)
    return counts
