"""`Cache-Control: no-store` on every response that carries data: previews and lookups, downloads in every format,
rejects files, a source's sample rows, the audit log and every export. No cache may keep them: not a proxy between
the bureau and the platform, not the disk cache of a shared workstation's browser.

`no_store` marks a view: a Django view, or an API operation through ninja's `decorate_view(no_store)` (it then
covers the operation's error answers too). `NoStoreMiddleware` puts the same header on every attachment
(`Content-Disposition: attachment`), whichever view made it, so that a download added later is covered as well.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest
from django.http.response import HttpResponseBase

__all__ = ["NO_STORE", "NoStoreMiddleware", "no_store"]

NO_STORE = "no-store"

View = TypeVar("View", bound=Callable[..., Any])


def _mark(response: HttpResponseBase) -> HttpResponseBase:
    response.headers["Cache-Control"] = NO_STORE
    return response


def no_store(view: View) -> View:
    """The view's responses carry data: `Cache-Control: no-store`."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        return _mark(response) if isinstance(response, HttpResponseBase) else response

    return wrapper  # type: ignore[return-value]


class NoStoreMiddleware:
    """Every attachment (a download, an export, a rejects file) is `no-store`, marked or not."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.headers.get("Content-Disposition", "").lower().startswith("attachment"):
            _mark(response)
        return response
