"""Source readers: every source (前置库, 接口, 文件) opened as a raw stream (govshare.dataplane.raw).

`open_source_stream` is what a load reads; `preview_source` reads only the start, for the column-mapping page.
A 前置库 or API source is opened through the connection policy (connection_policy.SourcePolicy) within read
limits: a load's (the worker's job timeout) or a preview's (GOVSHARE_SOURCE_PREVIEW_SECONDS in all, the web
request waiting no longer whatever the source does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext, gettext_noop

from govshare.dataplane.raw import BATCH_ROWS, RawStream, Reject, RejectSink, SourceInvalid
from govshare.sources.choices import SourceKind
from govshare.sources.connection_policy import ReadLimits, SourcePolicy, run_within

# A preview asks the database for this many rows at a time.
PREVIEW_BATCH_ROWS = 1000

UNKNOWN_KIND = gettext_noop("不支持的来源类型“%(kind)s”")
UNREADABLE_ROWS = gettext_noop("预览的前 %(rows)s 行中夹有 %(unreadable)s 行无法读取，例如第 %(row)s 行：%(reason)s")
SENTENCES = (UNKNOWN_KIND,)

__all__ = ["SourcePreview", "open_source_stream", "preview_source"]


@dataclass
class SourcePreview:
    """The first rows of a source as text, for mapping its columns to the resource's items."""

    columns: list[str]
    rows: list[list[str | None]]
    encoding: str = ""
    warnings: list[str] = field(default_factory=list)


def open_source_stream(
    kind: str,
    config: dict[str, Any],
    secret: str,
    *,
    path: Path | None,
    on_reject: RejectSink,
    watermark_column: str = "",
    watermark_after: str = "",
    progress: Callable[[int], None] | None = None,
    preview: bool = False,
    policy: SourcePolicy | None = None,
    limits: ReadLimits | None = None,
) -> RawStream:
    """Open a source for reading. Raises SourceUnavailable (retry later) or SourceInvalid (fix the source).
    `preview` reads in small blocks (and one page of an API), for `preview_source`. `policy` and `limits` default
    to the deployment's policy and a load's limits."""
    if kind == SourceKind.FILE:
        from govshare.sources.readers.files import open_file_stream

        if path is None:
            raise SourceInvalid(gettext("文件报送需要上传文件"))
        return open_file_stream(path, config, on_reject, progress, preview=preview)
    if kind == SourceKind.DATABASE:
        from govshare.sources.readers.database import DatabaseStream

        return DatabaseStream(
            config,
            secret,
            watermark_column=watermark_column,
            watermark_after=watermark_after,
            progress=progress,
            batch_rows=PREVIEW_BATCH_ROWS if preview else BATCH_ROWS,
            policy=policy,
            limits=limits,
        )
    if kind == SourceKind.HTTP_API:
        from govshare.sources.readers.http_api import HttpApiStream

        return HttpApiStream(
            config,
            secret,
            on_reject=on_reject,
            watermark_after=watermark_after,
            watermark_column=watermark_column,
            progress=progress,
            max_pages=1 if preview else None,
            policy=policy,
            limits=limits,
        )
    raise SourceInvalid(gettext(UNKNOWN_KIND) % {"kind": kind})


def preview_source(
    kind: str,
    config: dict[str, Any],
    secret: str,
    *,
    path: Path | None,
    rows: int = 20,
    policy: SourcePolicy | None = None,
    limits: ReadLimits | None = None,
) -> SourcePreview:
    """The columns and first `rows` rows of a source (rows refused by the reader are left out). A 前置库 or API
    is read within `limits` (a preview's by default): past its deadline the caller gets SourceUnavailable, and the
    reading thread, left behind, stops at the same deadline by its own limits."""
    if kind == SourceKind.FILE:
        return _preview(kind, config, secret, path, rows, policy, limits)
    policy = policy or SourcePolicy.from_settings()
    limits = limits or ReadLimits.for_preview()
    return run_within(limits, lambda: _preview(kind, config, secret, path, rows, policy, limits))


def _preview(
    kind: str,
    config: dict[str, Any],
    secret: str,
    path: Path | None,
    rows: int,
    policy: SourcePolicy | None,
    limits: ReadLimits | None,
) -> SourcePreview:
    rejects: list[Reject] = []
    stream = open_source_stream(
        kind, config, secret, path=path, on_reject=rejects.append, preview=True, policy=policy, limits=limits
    )
    found: list[list[str | None]] = []
    last_row = 0
    try:
        for batch in stream.batches():
            part = batch.slice(0, rows - len(found))
            values = [part.column(i).to_pylist() for i in range(1, part.num_columns)]
            found.extend([list(record) for record in zip(*values, strict=True)])
            last_row = max(last_row, *part.column(0).to_pylist()) if part.num_rows else last_row
            if len(found) >= rows:
                break
    finally:
        stream.close()
    warnings = list(stream.stats.warnings)
    shown = [r for r in rejects if r.row <= last_row or len(found) < rows]
    if shown:
        first = shown[0]
        warnings.append(
            gettext(UNREADABLE_ROWS)
            % {"rows": len(found), "unreadable": len(shown), "row": first.row, "reason": first.reason}
        )
    return SourcePreview(stream.columns, found, stream.stats.encoding, warnings)
