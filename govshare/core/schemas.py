"""API shapes shared by every app."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    """Every error answer: a Chinese message and, for invalid input, one entry per field (and row/column)."""

    detail: str
    errors: list[dict[str, Any]] = []


# The error answers every route documents in the OpenAPI document (429: rate limit).
ERRORS: dict[int, type[ErrorOut]] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}
