"""How an API answers an error: the mapping of errors to status codes, installed on a NinjaAPI with its body shape.

Every API of the platform refuses the same things with the same status codes (a domain error carries its own, an
invalid request is 422, a missing or refused credential 401, too many requests 429, a malformed or too large body
422 / 413); only the shape of the body differs between API styles. The staff API renders
`{"detail": "…", "errors": [{field, message, row?, column?}]}` (`staff_error_body`); another API passes its own
`render` (the open-data API wraps the same facts in CKAN's `{"success": false, "error": {…}}`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from govshare.core.apivalidation import field_path, validation_message
from govshare.core.errors import DomainError
from govshare.core.security import TooManyWrongTokens
from govshare.core.uploads import size_text


@dataclass(frozen=True)
class ApiError:
    """One refusal, before it takes an API's shape: its status, a Chinese message, and one entry per problem."""

    status: int
    detail: str
    errors: list[dict[str, object]] = field(default_factory=list)


ErrorRender = Callable[[ApiError], object]


def staff_error_body(error: ApiError) -> dict[str, object]:
    """The staff API's error body: `{"detail", "errors": [...]}` (`govshare.core.schemas.ErrorOut`)."""
    return {"detail": error.detail, "errors": error.errors}


def api_error_of(exc: Exception) -> ApiError:
    """The refusal an exception stands for (for the exceptions `install_error_handlers` handles)."""
    if isinstance(exc, DomainError):
        # Fixed messages are translated here, at the reader's request (`DomainError.text`); built ones already are.
        problems = [{**p.as_dict(), "message": gettext(p.message)} for p in exc.problems]
        return ApiError(exc.status, exc.text, problems)
    if isinstance(exc, NinjaValidationError):
        errors: list[dict[str, object]] = [
            {"field": field_path(e.get("loc", ())) or "body", "message": validation_message(e)} for e in exc.errors
        ]
        return ApiError(422, gettext("请求参数不符合要求"), errors)
    if isinstance(exc, AuthenticationError):
        return ApiError(401, gettext("未登录或令牌无效"))
    if isinstance(exc, Throttled):
        # A refusal raised outside django-ninja's throttles (too many wrong bearer tokens) says why.
        return ApiError(429, str(exc) if isinstance(exc, TooManyWrongTokens) else gettext("请求过于频繁，请稍后再试"))
    if isinstance(exc, MultiPartParserError):
        # Django would answer 400 and log a traceback; a malformed upload is the client's error, said plainly.
        detail = gettext("请求体不是合法的 multipart/form-data（缺少 boundary 或格式错误），请重新选择文件上传")
        return ApiError(422, detail, [{"field": "body", "message": detail}])
    if isinstance(exc, RequestDataTooBig):
        # Django would answer an HTML 400; the body is past DATA_UPLOAD_MAX_MEMORY_SIZE (files do not count).
        limit = size_text(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        detail = gettext("请求体超过上限 %(limit)s（文件请以 multipart/form-data 上传，另有文件大小上限），未处理") % {
            "limit": limit
        }
        return ApiError(413, detail, [{"field": "body", "message": detail}])
    if isinstance(exc, HttpError):
        if str(exc).startswith("Cannot parse request body"):
            # django-ninja's own words for a body that is not JSON.
            detail = gettext("请求体不是合法的 JSON，无法解析")
            return ApiError(exc.status_code, detail, [{"field": "body", "message": detail}])
        return ApiError(exc.status_code, str(exc))
    raise TypeError(f"no API error for {type(exc).__name__}")


HANDLED: tuple[type[Exception], ...] = (
    DomainError,
    NinjaValidationError,
    AuthenticationError,
    Throttled,
    MultiPartParserError,
    RequestDataTooBig,
    HttpError,
)


def install_error_handlers(api: NinjaAPI, render: ErrorRender = staff_error_body) -> None:
    """Make `api` answer every handled error with its status code and `render`'s body (a 429 also says when to
    retry in Retry-After; django-ninja's own throttles add it themselves)."""

    def handle(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
        error = api_error_of(exc if isinstance(exc, Exception) else exc())
        response = api.create_response(request, render(error), status=error.status)
        if isinstance(exc, Throttled) and exc.wait:
            response["Retry-After"] = str(math.ceil(exc.wait))
        return response

    for exc_class in HANDLED:
        api.add_exception_handler(exc_class, handle)
