"""Domain errors carry their HTTP status; one handler in the API (and one in views) renders them."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext, gettext_noop


@dataclass(frozen=True)
class FieldProblem:
    """One precise problem: which field (and row, for imports) and what is wrong, in Chinese."""

    field: str
    message: str
    row: int | None = None
    column: str | None = None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"field": self.field, "message": self.message}
        if self.row is not None:
            data["row"] = self.row
        if self.column is not None:
            data["column"] = self.column
        return data


@dataclass
class DomainError(Exception):
    message: str
    status: int = 400
    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The message in the reader's language: a fixed message (one of the catalogue's) is translated when shown,
        not when raised, so that one raised in a job or a service reads in the language of whoever reads it."""
        return gettext(self.message)

    def __str__(self) -> str:
        if not self.problems:
            return self.text
        return self.text + gettext("：") + gettext("；").join(gettext(p.message) for p in self.problems)


class NotFound(DomainError):
    def __init__(self, message: str = gettext_noop("对象不存在或无权访问")) -> None:
        super().__init__(message, 404)


class Unauthenticated(DomainError):
    """401 that says why a presented credential is refused (the generic 401 says only 未登录或令牌无效)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 401)


class PermissionDenied(DomainError):
    def __init__(self, message: str = gettext_noop("无权执行此操作")) -> None:
        super().__init__(message, 403)


class ValidationFailed(DomainError):
    def __init__(self, problems: list[FieldProblem], message: str = gettext_noop("数据校验未通过")) -> None:
        super().__init__(message, 422, problems)


class Conflict(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 409)
