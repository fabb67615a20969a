"""The provider's endpoints under /o/. Only these: no self-service application registration (relying parties are
registered by the platform administrator), no device flow, no dynamic client registration."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, re_path
from oauth2_provider import views
from oauth2_provider.settings import oauth2_settings

from govshare.identity.oidc_views import ConsentView

app_name = "oauth2_provider"

View = Callable[..., HttpResponse]


def requires_signing_key(view: View) -> View:
    """Without a signing key no ID token can be issued: say so (503) rather than fail half-way."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not oauth2_settings.OIDC_RSA_PRIVATE_KEY:
            return render(request, "identity/no_signing_key.html", status=503)
        return view(request, *args, **kwargs)

    return guarded


urlpatterns = [
    path("authorize/", requires_signing_key(ConsentView.as_view()), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        requires_signing_key(views.ConnectDiscoveryInfoView.as_view()),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", requires_signing_key(views.JwksInfoView.as_view()), name="jwks-info"),
    path("userinfo/", requires_signing_key(views.UserInfoView.as_view()), name="user-info"),
]
