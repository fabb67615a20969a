"""Checks that a message shown to an English reader carries no Chinese of the platform's own."""

from __future__ import annotations

import re
from collections.abc import Iterable

CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese_in(messages: Iterable[str], *, user_data: Iterable[str] = ()) -> list[str]:
    """The messages that still hold Chinese once the user's own data (entry names, cell values…) is taken out."""
    found = []
    for message in messages:
        text = message
        for value in user_data:
            text = text.replace(value, "")
        if CJK.search(text):
            found.append(message)
    return found
