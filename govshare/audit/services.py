"""Writing audit rows. Callers run inside their own transaction so the row commits with the action."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from govshare.audit.models import AuditLog

# Values of these keys are never stored in the audit trail.
_CENSORED_KEYS = frozenset({"password", "token", "secret", "key"})


def _censor(extra: dict[str, Any]) -> dict[str, Any]:
    return {k: ("********" if k in _CENSORED_KEYS else v) for k, v in extra.items()}


def record_action(
    actor: Any,
    action: str,
    target: models.Model | None = None,
    *,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    **extra: Any,
) -> AuditLog:
    """Append one audit row; must be called inside the transaction of the action it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_action must run inside the action's transaction")
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
        object_repr = object_repr or str(target)[:255]
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditLog.objects.create(
        actor=actor if is_user else None,
        actor_name=actor.get_username() if is_user else "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:255],
        extra=_censor(extra),
    )
