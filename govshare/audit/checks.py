"""System check of the audit log: production mode does not start without the audit MAC key ring."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from govshare.audit.keys import AuditKeyError, current_audit_keys


def check_audit_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.GOVSHARE.production:
        return []  # development creates <data_dir>/keys/audit-keyring.json on first use
    try:
        current_audit_keys()
    except AuditKeyError as exc:
        hint = "govshare audit_keys generate 生成密钥后设置 GOVSHARE_AUDIT_KEYS，或运行 govshare audit_keys init"
        return [Error(str(exc), hint=hint, id="govshare.E031")]
    return []
