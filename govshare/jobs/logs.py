"""A job's log in the reader's language. Log lines are stored as written ("12:00:03 第 2 次执行", in the platform's
language): each line is read back against the sentences its writers register (a pattern and its catalogue message)
and said again in the reader's language with the values it holds; a line no pattern knows is shown as stored."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext, gettext_noop

# A pattern whose named groups are the message's parameters, the message, and how to say a group's value (a choice
# label, a nested message) — each value as it is when no function is given.
LogLine = tuple[re.Pattern[str], str, dict[str, Callable[[str], str]]]

_STAMP = re.compile(r"(?P<stamp>\d{2}:\d{2}:\d{2} )(?P<text>.*)", re.DOTALL)
_LINES: list[LogLine] = []


def line(pattern: str, message: str, /, **values: Callable[[str], str]) -> LogLine:
    return re.compile(pattern, re.DOTALL), message, values


_PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")


def sentence(message: str, /, **values: Callable[[str], str]) -> LogLine:
    """A line written as `gettext(message) % {...}` in the platform's language, recognised by the message itself:
    a number placeholder (%(page)d) matches digits, any other the shortest text that lets the rest match."""
    pattern, start = [], 0
    for placeholder in _PLACEHOLDER.finditer(message):
        value = r"-?\d+" if placeholder[2] == "d" else ".*?"
        pattern.append(re.escape(message[start : placeholder.start()]) + f"(?P<{placeholder[1]}>{value})")
        start = placeholder.end()
    pattern.append(re.escape(message[start:]))
    return line("".join(pattern), message, **values)


def register(*lines: LogLine) -> None:
    """Add the sentences an app writes into job logs (from its AppConfig.ready; the same pattern again is ignored)."""
    known = {pattern.pattern for pattern, _, _ in _LINES}
    _LINES.extend(entry for entry in lines if entry[0].pattern not in known)


def readable_text(text: str) -> str:
    """One log message (without its time) in the reader's language."""
    for pattern, message, values in _LINES:
        if match := pattern.fullmatch(text):
            params = {key: values.get(key, _as_is)(value or "") for key, value in match.groupdict().items()}
            # The values are read back as text: a number placeholder (%(row)d) is said as the text it was.
            return _PLACEHOLDER.sub(r"%(\1)s", gettext(message)) % params
    return gettext(text) if text else text


def readable(log: str) -> str:
    """A stored log in the reader's language, line by line (each keeps its time)."""
    shown = []
    for stored in log.splitlines():
        match = _STAMP.fullmatch(stored)
        shown.append(match["stamp"] + readable_text(match["text"]) if match else readable_text(stored))
    return "\n".join(shown)


def _as_is(value: str) -> str:
    return value


register(
    line(r"失败：(?P<message>.*)", gettext_noop("失败：%(message)s"), message=readable_text),
    line(r"第 (?P<n>\d+) 次执行", gettext_noop("第 %(n)s 次执行")),
)
# Fixed lines are translated as they are (`readable_text`); listed here for the message catalogue.
FIXED = (gettext_noop("完成"),)
