"""The platform's HTTP API: one NinjaAPI, every route with an explicit auth declaration."""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.throttling import AnonRateThrottle, UserRateThrottle

from govshare.accounts.api import router as accounts_router
from govshare.audit.api import router as audit_router
from govshare.catalog.api import router as catalog_router
from govshare.catalog.api_search import router as catalog_search_router
from govshare.catalog.api_transfer import router as catalog_transfer_router
from govshare.core.errors import DomainError
from govshare.core.security import TooManyWrongTokens
from govshare.core.uploads import size_text
from govshare.datasets.api import router as datasets_router
from govshare.grading.api import router as grading_router
from govshare.notifications.api import router as notifications_router


class _RateFromSettings:
    """Reads its rate from Django settings on every request, so a changed setting applies at once."""

    setting = ""
    rate: str | None
    num_requests: int | None
    duration: int | None

    def allow_request(self, request: HttpRequest) -> bool:
        rate = getattr(settings, self.setting)
        if rate != self.rate:
            self.rate = rate
            self.num_requests, self.duration = self.parse_rate(rate)  # type: ignore[attr-defined]
        return bool(super().allow_request(request))  # type: ignore[misc]


class AnonymousRate(_RateFromSettings, AnonRateThrottle):
    """Requests without a user, counted per client address (settings.api_rate_anonymous)."""

    setting = "API_RATE_ANONYMOUS"

    def __init__(self) -> None:
        super().__init__(settings.API_RATE_ANONYMOUS)


class UserRate(_RateFromSettings, UserRateThrottle):
    """Requests of a signed-in user or token, counted per user (settings.api_rate_user)."""

    setting = "API_RATE_USER"

    def __init__(self) -> None:
        super().__init__(settings.API_RATE_USER)


api = NinjaAPI(
    title="govshare 政务数据共享交换平台 API",
    version="1",
    description="以个人 API 令牌（Authorization: Bearer gs_…）或登录会话调用。错误以中文说明字段与原因。",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    throttle=[AnonymousRate(), UserRate()],
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(
        request, {"detail": exc.message, "errors": [p.as_dict() for p in exc.problems]}, status=exc.status
    )


@api.exception_handler(NinjaValidationError)
def request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", [])[1:]) or "body", "message": e.get("msg", "")}
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": "请求参数不符合要求", "errors": errors}, status=422)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "未登录或令牌无效", "errors": []}, status=401)


@api.exception_handler(Throttled)
def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    # django-ninja adds the Retry-After header itself to its throttles' answers; a refusal raised elsewhere (too
    # many wrong bearer tokens, govshare.core.security) carries its wait here.
    detail = str(exc) if isinstance(exc, TooManyWrongTokens) else "请求过于频繁，请稍后再试"
    response = api.create_response(request, {"detail": detail, "errors": []}, status=429)
    if exc.wait:
        response["Retry-After"] = str(math.ceil(exc.wait))
    return response


@api.exception_handler(MultiPartParserError)
def multipart_invalid(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    # Django would answer 400 and log a traceback; a malformed upload is the client's error, said plainly.
    detail = "请求体不是合法的 multipart/form-data（缺少 boundary 或格式错误），请重新选择文件上传"
    return api.create_response(
        request, {"detail": detail, "errors": [{"field": "body", "message": detail}]}, status=422
    )


@api.exception_handler(RequestDataTooBig)
def body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # Django would answer an HTML 400; the client sent a body past DATA_UPLOAD_MAX_MEMORY_SIZE (files do not count).
    limit = size_text(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    detail = f"请求体超过上限 {limit}（文件请以 multipart/form-data 上传，另有文件大小上限），未处理"
    return api.create_response(
        request, {"detail": detail, "errors": [{"field": "body", "message": detail}]}, status=413
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc), "errors": []}, status=exc.status_code)


api.add_router("/accounts", accounts_router)
api.add_router("/audit", audit_router)
api.add_router("/catalog", catalog_router)
api.add_router("/catalog", catalog_search_router)
api.add_router("/catalog", catalog_transfer_router)
api.add_router("/datasets", datasets_router)
api.add_router("/grading", grading_router)
api.add_router("/notifications", notifications_router)
