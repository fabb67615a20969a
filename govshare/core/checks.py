"""System checks of the platform core: production mode does not start without an encryption key ring."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from govshare.core import crypto


def check_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.GOVSHARE.production:
        return []  # development creates <data_dir>/keys/keyring.json on first use
    try:
        crypto.current_key_ring()
    except crypto.KeyRingError as exc:
        hint = "govshare keys generate 生成密钥后设置 GOVSHARE_ENCRYPTION_KEYS"
        return [Error(str(exc), hint=hint, id="govshare.E030")]
    return []
