"""A refused request (403) is one line in the server log: status, method, path, user id and Django's reason.

Django logs a PermissionDenied raised by a view as a warning carrying the whole traceback; a refusal is the
platform working as intended (a consumer opening the audit log), and a traceback per refusal buries real errors.
The filter sits on the loggers Django reports refusals to (`django.request`, `django.security.csrf`); errors (5xx)
keep their tracebacks. The path is escaped as Django escapes it (no line breaks forged into the log); the query string
is left out (it may hold looked-up values)."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["OneLineRefusals"]


def _escaped(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")


def _user_id(request: Any) -> str:
    """The signed-in user's id, or the API caller's (a bearer token's subject), or "-"."""
    try:
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return str(user.pk)
        pk = getattr(getattr(request, "auth", None), "pk", None)
    except Exception:  # the lazy user may need the database; a log line must never fail the request
        return "?"
    return str(pk) if pk is not None else "-"


class OneLineRefusals(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) != 403:
            return True
        request = getattr(record, "request", None)
        # Django's message names the reason before the path: "Forbidden (Permission denied): /audit/".
        reason = record.getMessage().split(":", 1)[0]
        method = _escaped(str(getattr(request, "method", "") or "-"))
        path = _escaped(str(getattr(request, "path", "") or "-"))
        record.msg = "403 %s %s user=%s %s"
        record.args = (method, path, _user_id(request), reason)
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True
