"""Refused attempts to read data are audited: a signed-in subject answered 403 or 404 on a data path (previews,
downloads, loads, another department's dataset) leaves an `audit.access.deny` row.

One place for every data view (a middleware, so the views need not know): the answer is not changed (a 404 stays a
404). A scanner cannot flood the log: at most one row per subject, kind of path and minute; the refusals left out
are counted and the next row of that subject and kind says how many (`suppressed`). The counts live in Django's
cache (the database cache is shared by every worker by default).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext_noop

from govshare.audit.services import record_action
from govshare.core.authz import ANONYMOUS, subject_of

logger = logging.getLogger(__name__)

ACTION = "audit.access.deny"
DATA_PATHS = ("/datasets/", "/api/datasets/")
REFUSED_STATUSES = frozenset({403, 404})
WINDOW_SECONDS = 60
_COUNT_SECONDS = 7 * 24 * 3600  # a count of left-out refusals waits this long for the next row
# The object a data path names by its first id, as an audit object type (strings only: audit imports no app).
_OBJECT_OF_SEGMENT = {
    "resources": "catalog.resource",
    "sources": "sources.source",
    "loads": "datasets.load",
}
# What was refused, by the last word of the path that names it (its kind). Stored in Chinese (the row reads the
# same to everyone who exports it), shown in the reader's language (gettext_noop: the catalogue has them).
_REFUSED_BY_WORD = {
    "preview": gettext_noop("预览数据"),
    "download": gettext_noop("下载数据"),
    "rejects": gettext_noop("下载拒收记录"),
    "dataset": gettext_noop("查看数据集"),
    "versions": gettext_noop("查看数据版本"),
    "loads": gettext_noop("查看归集任务"),
    "sources": gettext_noop("查看数据源"),
    "mapping": gettext_noop("查看字段映射"),
    "upload": gettext_noop("上传数据文件"),
    "uploads": gettext_noop("上传数据文件"),
    "load": gettext_noop("发起归集"),
    "load-sample": gettext_noop("载入样例数据"),
    "retry": gettext_noop("重试归集"),
    "resources": gettext_noop("查看资源的数据"),
}
# A source's preview shows the source's rows, not the dataset's.
_SOURCE_PREVIEW = gettext_noop("预览数据源")
_ANY = gettext_noop("访问数据")


def path_kind(request: HttpRequest) -> str:
    """The route the path matched, its ids left out: /datasets/resources/12/preview/ →
    /datasets/resources/<int:resource_id>/preview/. Every id probed on one route counts against the same limit, and
    paths that match no route count as one kind per data prefix (made-up paths cannot open new kinds)."""
    match = request.resolver_match
    if match is not None and match.route:
        return "/" + match.route[:200]
    prefix = next((p for p in DATA_PATHS if request.path.startswith(p)), "/")
    return prefix + "?"


def _object_of(path: str) -> tuple[str, str]:
    match = re.search(r"/(resources|sources|loads)/(\d+)(?=/|$)", path)
    if match is None:
        return "", ""
    return _OBJECT_OF_SEGMENT[match.group(1)], match.group(2)


def _refused_what(kind: str) -> str:
    words = [word for word in kind.strip("/").split("/") if word and not word.startswith(("<", "?"))]
    if words[-2:] == ["sources", "preview"]:
        return _SOURCE_PREVIEW
    for word in reversed(words):
        if word in _REFUSED_BY_WORD:
            return _REFUSED_BY_WORD[word]
    return _ANY


def _keys(who: str, kind: str, minute: int) -> tuple[str, str]:
    base = f"govshare:audit:refused:{who}:{kind}"
    return f"{base}:{minute}", f"{base}:suppressed"


def admit(who: str, kind: str, now: dt.datetime) -> int | None:
    """Whether this refusal gets a row: the number of refusals left out since the last row of `who` on `kind` if it
    does, None if it is one of those left out (counted for the next row)."""
    minute = int(now.timestamp()) // WINDOW_SECONDS
    window, suppressed = _keys(who, kind, minute)
    if cache.add(window, 1, timeout=WINDOW_SECONDS * 2):
        left_out = cache.get(suppressed, 0)
        if left_out:
            cache.delete(suppressed)
        return int(left_out)
    cache.add(suppressed, 0, timeout=_COUNT_SECONDS)
    try:
        cache.incr(suppressed)
    except ValueError:  # expired between add and incr
        cache.set(suppressed, 1, timeout=_COUNT_SECONDS)
    return None


def record_refusal(request: HttpRequest, status: int, now: dt.datetime) -> bool:
    """Audit one refused data request (if the rate allows); True if a row was written."""
    subject = subject_of(request)
    if subject is ANONYMOUS:
        return False
    is_user = isinstance(subject, get_user_model())
    who = f"{type(subject).__name__}:{getattr(subject, 'pk', '')}"
    kind = path_kind(request)
    left_out = admit(who, kind, now)
    if left_out is None:
        return False
    object_type, object_id = _object_of(request.path)
    with transaction.atomic():
        record_action(
            subject if is_user else None,
            ACTION,
            object_type=object_type,
            object_id=object_id,
            object_repr=request.path[:255],
            refused=_refused_what(kind),
            method=request.method,
            path=request.path[:500],
            http_status=status,
            suppressed=left_out or None,
            subject="" if is_user else str(subject)[:150],
        )
    return True


class RefusedDataAccessMiddleware:
    """Audits 403/404 answers to signed-in subjects on the data paths; never changes the answer."""

    clock: Callable[[], dt.datetime] = staticmethod(timezone.now)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code in REFUSED_STATUSES and request.path.startswith(DATA_PATHS):
            try:
                record_refusal(request, response.status_code, self.clock())
            except Exception:
                # The refusal stands either way; a failure to audit it must not turn a 404 into a 500.
                logger.exception("auditing a refused data request failed: %s", request.path)
        return response
