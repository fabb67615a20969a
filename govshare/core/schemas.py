"""API shapes shared by every app."""

from __future__ import annotations

from enum import Enum
from typing import Any, Generic, TypeVar

from ninja import Schema
from pydantic import Field, WithJsonSchema

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


class CursorPage(Page[T], Generic[T]):
    """One page of a list that may also be read by cursor (`after`): `next_after` names the next page."""

    next_after: str | None = Field(
        None, description="下一页的游标：作为查询参数 after 原样传回即得下一页；没有更多记录时为空"
    )


AFTER_DESCRIPTION = (
    "游标：上一页答复中的 next_after。给出时返回紧接其后的记录（不再使用页码），翻页期间新增的记录不会使已读记录"
    "重复或遗漏；适合逐页读取很长的列表"
)


def choices_text(choices: type[Enum]) -> str:
    """A filter's description: its choices' values and labels (`unconditional 无条件共享 / …`)."""
    return " / ".join(f"{member.value} {getattr(member, 'label', '')}".strip() for member in choices)


def choice_values(choices: type[Enum], *, blank: bool = False) -> WithJsonSchema:
    """The OpenAPI schema of a text input that takes one of `choices`' values (and "" with `blank`), as an `enum`.

    Used as `Annotated[str, choice_values(ShareType)]` on inputs whose values the app's rules check (with Chinese
    messages naming the field): the document lists the values while the accepted inputs and the refusals stay the
    rules'. Outputs use the choices type itself."""
    values = [str(member.value) for member in choices]
    return WithJsonSchema({"type": "string", "enum": ["", *values] if blank else values})
