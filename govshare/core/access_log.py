"""gunicorn's access log without lookup values: the request line, the query string and the Referer keep their paths
and parameter names, and lose every query value (govshare.core.redaction.redact_query) and every personal value or
secret (govshare.core.redaction.redact), percent-encoded or not. `govshare/gunicorn_conf.py` installs it."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from govshare.core.redaction import hide_query_values, redact, redact_query

__all__ = ["RedactingLogger"]

# Atoms that are a bare query string (no "?"): gunicorn's %(q)s and the environ's {query_string}e.
_QUERY_ATOMS = frozenset({"q", "{query_string}e"})


def _clean(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _QUERY_ATOMS:
        return redact(redact_query(value))
    return redact(hide_query_values(value, absolute_urls=True))


class RedactingLogger(Logger):
    """gunicorn's Logger whose access-log atoms (every one of them: the default format and any custom one) are
    redacted before the line is formatted."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        return {name: _clean(name, value) for name, value in super().atoms(resp, req, environ, request_time).items()}
