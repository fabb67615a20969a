"""Paging for every list: page numbers from 1, bounded page sizes, a total count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django.conf import settings
from django.db.models import QuerySet

from govshare.core.errors import FieldProblem, ValidationFailed

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def as_dict(self) -> dict[str, object]:
        """The page as an API answer: {items, total, page, page_size}."""
        return {"items": self.items, "total": self.total, "page": self.page, "page_size": self.page_size}

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


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
