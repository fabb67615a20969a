"""`govshare check --deploy` warns when single sign-on cannot issue ID tokens (no signing key yet)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning, register
from oauth2_provider.settings import oauth2_settings


@register(deploy=True)
def signing_key_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if oauth2_settings.OIDC_RSA_PRIVATE_KEY:
        return []
    return [
        Warning(
            "未配置 OIDC ID 令牌签名密钥，单点登录（/o/）暂不可用",
            hint="运行 govshare oidc_key 生成密钥文件（或设置 GOVSHARE_OIDC_PRIVATE_KEY），然后重启服务",
            id="identity.W001",
        )
    ]
