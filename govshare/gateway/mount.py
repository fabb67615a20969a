"""Where the gateway's service is mounted in the platform's WSGI application: /gateway/v1/ (the consumer systems'
calls, on the gateway's lean handler) and nothing else; the gateway's pages beside it (/gateway/apis/ and the rest)
are Django's, like every other page."""

from __future__ import annotations

from typing import Any

from govshare.gateway.handler import StartResponse, WSGIApp, gateway_app

SERVICE_PREFIX = "/gateway/v1/"


def with_gateway_service(django_app: WSGIApp) -> WSGIApp:
    """The platform's WSGI application: /gateway/v1/ on the gateway's handler, everything else on Django's."""

    def application(environ: dict[str, Any], start_response: StartResponse) -> Any:
        if environ.get("PATH_INFO", "").startswith(SERVICE_PREFIX):
            return gateway_app(environ, start_response)
        return django_app(environ, start_response)

    return application


__all__ = ["SERVICE_PREFIX", "with_gateway_service"]
