"""API shapes shared by every app."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from ninja import Schema
from pydantic import Field

T = TypeVar("T")


class ErrorOut(Schema):
    """Every error answer: a Chinese message and, for invalid input, one entry per field (and row/column)."""

    detail: str
    errors: list[dict[str, Any]] = []


# The error answers every route documents in the OpenAPI document (429: rate limit).
ERRORS: dict[int, type[ErrorOut]] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}


class Page(Schema, Generic[T]):
    """One page of a list: `Page[ResourceBrief]`. Routes return a `govshare.core.pagination.Page` of models.

    Each list names its page (`class ResourcePage(Page[ResourceBrief])`) so that the OpenAPI document keeps one
    stable, readable schema name per list."""

    items: list[T]
    total: int = Field(..., description="符合条件的总条数")
    page: int = Field(..., description="页码，从 1 开始")
    page_size: int = Field(..., description="每页条数")
