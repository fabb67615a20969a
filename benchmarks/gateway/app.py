"""The benchmark's server: the platform's WSGI application (the gateway on its lean path) plus one route of the
benchmark's own, /bare/, that answers the same lookup from the same key index with none of the gateway's work (no
token, no grant, no masking, no quota, no audit). Served by the same gunicorn, in the same processes, so the two
are measured on the same data, engine and server. Never part of the platform."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from govshare.wsgi import application as platform  # isort: skip  (sets Django up first)

from govshare.datasets import serving

DATASET_ID = int(os.environ["BENCH_DATASET_ID"])
KEY = ("公民身份号码",)


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    if not path.startswith("/bare/"):
        return platform(environ, start_response)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length))
    version = serving.served(DATASET_ID)
    assert version is not None
    rows = version.rows_for(KEY, (body["key"]["公民身份号码"],), limit=101)
    if path == "/bare/verify":
        claimed = body["values"]["姓名"]
        payload: dict[str, Any] = {"result": "match" if any(row.get("姓名") == claimed for row in rows) else "mismatch"}
    else:
        payload = {"count": len(rows), "rows": rows}
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    start_response("200 OK", [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(data)))])
    return [data]
