"""Paging for every list: page numbers from 1, bounded page sizes, a total count; and, for lists that grow by
millions of rows (the audit log, the load history), an opaque cursor.

A cursor (`after`) names the last row a client has seen, by the values of the list's ordering keys; the next page
starts right after it. Rows appended meanwhile (newer rows sort first) do not shift the pages the way page numbers
do, so paging by cursor visits every row once, and the database seeks to the cursor instead of counting past an
offset.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet

from govshare.core.errors import FieldProblem, ValidationFailed

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    next_after: str | None = None  # the cursor of the page after this one (keyset lists only; None: no more rows)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def page_number(value: str | None) -> int:
    """A page's number from a query parameter: 1 for anything that is not a positive number (a page link, not a
    form: nothing to report)."""
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def clamp_paging(page: int | None, page_size: int | None) -> tuple[int, int]:
    config = settings.GOVSHARE
    size = page_size or config.page_size
    if size < 1 or size > config.max_page_size:
        raise ValidationFailed([FieldProblem("page_size", f"每页条数应在 1 到 {config.max_page_size} 之间")])
    number = page or 1
    if number < 1:
        raise ValidationFailed([FieldProblem("page", "页码应从 1 开始")])
    return number, size


def paginate(queryset: QuerySet[T], page: int | None, page_size: int | None) -> Page[T]:  # type: ignore[type-var]
    number, size = clamp_paging(page, page_size)
    total = queryset.count()
    start = (number - 1) * size
    # A page past the last one is empty; not asking the database keeps an offset beyond its integers (a page
    # number like 10**25) from failing there.
    items = list(queryset[start : start + size]) if start < total else []
    return Page(items, total, number, size)


BAD_CURSOR = "游标无效：请使用上一页答复中的 next_after 原样传回"


def _key_name(key: str) -> str:
    return key.removeprefix("-")


def encode_cursor(row: Any, keys: tuple[str, ...]) -> str:
    """The cursor after `row`: its values of the ordering keys, as URL-safe base64 of a JSON list."""
    values = []
    for key in keys:
        value = getattr(row, _key_name(key))
        values.append(value.isoformat() if hasattr(value, "isoformat") else value)
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(queryset: QuerySet[Any], cursor: str, keys: tuple[str, ...]) -> list[Any]:
    """The key values a cursor names, parsed by the model's fields (422 for anything that is not such a cursor)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(keys) or any(v is None for v in raw):
            raise ValueError(cursor)
        model_fields = [queryset.model._meta.get_field(_key_name(key)) for key in keys]
        values = [field.to_python(value) for field, value in zip(model_fields, raw, strict=True)]
        if any(isinstance(v, int) and not -(2**63) <= v < 2**63 for v in values):
            raise ValueError(cursor)
        if any(isinstance(v, dt.datetime) and v.tzinfo is None for v in values):
            raise ValueError(cursor)
        return values
    except (ValueError, TypeError, binascii.Error, DjangoValidationError, FieldDoesNotExist) as exc:
        raise ValidationFailed([FieldProblem("after", BAD_CURSOR)]) from exc


def _after(keys: tuple[str, ...], values: list[Any]) -> Q:
    """Rows that sort after (key1, key2, …) = values: key1 beyond, or key1 equal and key2 beyond, and so on."""
    condition = Q()
    for position in reversed(range(len(keys))):
        name = _key_name(keys[position])
        beyond = Q(**{f"{name}__{'lt' if keys[position].startswith('-') else 'gt'}": values[position]})
        condition = beyond if position == len(keys) - 1 else beyond | (Q(**{name: values[position]}) & condition)
    return condition


def paginate_keyset(
    queryset: QuerySet[T],  # type: ignore[type-var]
    *,
    keys: tuple[str, ...],
    after: str | None,
    page: int | None,
    page_size: int | None,
) -> Page[T]:
    """A page of `queryset` ordered by `keys` (the last one unique, e.g. ("-created_at", "-id")): the rows right
    after the cursor `after`, or page `page` without one; `next_after` names the next page (None after the last).
    `total` counts every row of the list, whichever page this is; with a cursor, `page` is 1 (pages are then
    counted from the cursor, and a page number besides a cursor is refused)."""
    number, size = clamp_paging(page, page_size)
    ordered = queryset.order_by(*keys)
    total = ordered.count()
    if after:
        if number != 1:
            raise ValidationFailed([FieldProblem("page", "使用游标 after 时不能再指定页码")])
        rows = list(ordered.filter(_after(keys, decode_cursor(ordered, after, keys)))[: size + 1])
    else:
        start = (number - 1) * size
        rows = list(ordered[start : start + size + 1]) if start < total else []
    items = rows[:size]
    more = len(rows) > size
    return Page(items, total, number, size, encode_cursor(items[-1], keys) if more else None)
