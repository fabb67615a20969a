"""The consent page (django-oauth-toolkit's authorisation view) with its refusals explained in Chinese."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext, gettext_noop
from oauth2_provider.views import AuthorizationView

# oauthlib's descriptions (English) → what the user is told.
_DESCRIPTIONS = {
    "Mismatching redirect URI.": gettext_noop("回调地址与该系统登记的回调地址不一致，已拒绝。请联系该系统的管理员。"),
    "Invalid client_id parameter value.": gettext_noop("该系统未在平台登记（client_id 无效）。"),
    "Missing client_id parameter.": gettext_noop("请求缺少 client_id 参数。"),
    "Code challenge required.": gettext_noop("请求缺少 PKCE 参数 code_challenge，已拒绝。"),
    "Transform algorithm not supported.": gettext_noop("不支持的 PKCE 算法（请使用 S256）。"),
}
_ERRORS = {
    "invalid_scope": gettext_noop("请求的权限范围无效。"),
    "unauthorized_client": gettext_noop("该系统未被允许使用授权码方式登录。"),
    "unsupported_response_type": gettext_noop("不支持的 response_type（请使用 code）。"),
    "invalid_request": gettext_noop("授权请求无效。"),
}


def explain(error: Any) -> str:
    english = str(getattr(error, "description", "") or "")
    known = _DESCRIPTIONS.get(english) or _ERRORS.get(str(getattr(error, "error", "")))
    return gettext(known) if known else english


class ConsentView(AuthorizationView):
    def render_to_response(self, context: dict[str, Any], **response_kwargs: Any) -> HttpResponse:
        if context.get("error") is not None:
            context["error_message"] = explain(context["error"])
        response: HttpResponse = super().render_to_response(context, **response_kwargs)
        return response
