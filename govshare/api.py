"""The platform's HTTP API: one NinjaAPI, every route with an explicit auth declaration."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import NinjaAPI, Swagger
from ninja.throttling import AnonRateThrottle, UserRateThrottle

from govshare.accounts.api import router as accounts_router
from govshare.audit.api import router as audit_router
from govshare.catalog.api import router as catalog_router
from govshare.catalog.api_review import router as catalog_review_router
from govshare.catalog.api_revisions import router as catalog_revisions_router
from govshare.catalog.api_search import router as catalog_search_router
from govshare.catalog.api_transfer import router as catalog_transfer_router
from govshare.core.apierrors import install_error_handlers
from govshare.datasets.api import router as datasets_router
from govshare.gateway.api import router as gateway_router
from govshare.gateway.api_deliveries import router as deliveries_router
from govshare.grading.api import router as grading_router
from govshare.identity.api_systems import router as identity_systems_router
from govshare.jobs.api import router as jobs_router
from govshare.notifications.api import router as notifications_router
from govshare.sharing.api_grants import router as sharing_grants_router
from govshare.sharing.api_lists import router as sharing_lists_router
from govshare.sharing.api_requests import router as sharing_requests_router
from govshare.sharing.api_scenarios import router as sharing_scenarios_router


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


class PlatformSwagger(Swagger):
    """Swagger UI under the platform's bar, which leads back to the platform (core/api_docs.html)."""

    template = "core/api_docs.html"


api = NinjaAPI(
    title="govshare 政务数据共享交换平台 API",
    version="1",
    description="以个人 API 令牌（Authorization: Bearer gs_…）或登录会话调用。错误以中文说明字段与原因。",
    urls_namespace="api",
    docs=PlatformSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    throttle=[AnonymousRate(), UserRate()],
)


install_error_handlers(api)

api.add_router("/accounts", accounts_router)
api.add_router("/audit", audit_router)
api.add_router("/catalog", catalog_router)
api.add_router("/catalog", catalog_search_router)
api.add_router("/catalog", catalog_revisions_router)
api.add_router("/catalog", catalog_transfer_router)
api.add_router("/catalog", catalog_review_router)
api.add_router("/datasets", datasets_router)
api.add_router("/gateway", gateway_router)
api.add_router("/gateway", deliveries_router)
api.add_router("/grading", grading_router)
api.add_router("/identity", identity_systems_router)
api.add_router("/jobs", jobs_router)
api.add_router("/notifications", notifications_router)
api.add_router("/sharing", sharing_lists_router)
api.add_router("/sharing", sharing_scenarios_router)
api.add_router("/sharing", sharing_grants_router)
api.add_router("/sharing", sharing_requests_router)
