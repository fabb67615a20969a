"""The header's counts registry: a count is computed on first use, remembered for the request, and a key is held by
one counter."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from govshare.core import navcounts


class SignedIn:
    is_authenticated = True


def test_a_count_is_computed_on_first_use_and_remembered_for_the_request(monkeypatch: Any) -> None:
    calls: list[object] = []

    def counter(user: object) -> int:
        calls.append(user)
        return 7

    monkeypatch.setattr(navcounts, "_COUNTERS", {"waiting": counter})
    request = RequestFactory().get("/")
    request.user = user = SignedIn()  # type: ignore[assignment]
    counts = navcounts.nav_counts_for(request)
    assert calls == []
    assert counts is not None and counts["waiting"] == 7 and counts["waiting"] == 7
    assert navcounts.nav_counts_for(request) is counts
    assert calls == [user]


def test_an_unknown_count_is_a_key_error_so_that_a_template_shows_nothing(monkeypatch: Any) -> None:
    monkeypatch.setattr(navcounts, "_COUNTERS", {})
    request = RequestFactory().get("/")
    request.user = SignedIn()  # type: ignore[assignment]
    counts = navcounts.nav_counts_for(request)
    assert counts is not None
    with pytest.raises(KeyError):
        counts["nothing"]


def test_a_key_is_held_by_one_counter(monkeypatch: Any) -> None:
    monkeypatch.setattr(navcounts, "_COUNTERS", {})

    def first(user: object) -> int:
        return 1

    def second(user: object) -> int:
        return 2

    navcounts.register_nav_count("waiting", first)
    navcounts.register_nav_count("waiting", first)  # again: nothing changes
    with pytest.raises(ValueError, match="already registered"):
        navcounts.register_nav_count("waiting", second)


def test_a_visitor_who_is_not_signed_in_has_no_counts() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert navcounts.nav_counts_for(request) is None
