"""Small pieces of wording shared by messages in either language."""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.utils.translation import gettext


def join_names(items: Iterable[object]) -> str:
    """Names listed in a sentence: 甲、乙、丙 in Chinese, "a, b, c" in English (the active language's separator)."""
    return gettext("、").join(str(item) for item in items)


def say(message: str) -> str:
    """A catalogue message in the active language, or as written when Django is not set up (a reader run by a bare
    script, where a row's reason is said inside pyarrow's callback and must not raise)."""
    return gettext(message) if apps.ready else message
