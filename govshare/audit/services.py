"""Writing audit rows. Callers run inside their own transaction so the row commits with the action."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import models, transaction

from govshare.audit.chain import seal_audit_log
from govshare.audit.models import AuditLog
from govshare.core import bulk

logger = logging.getLogger(__name__)

# Values of these keys are never stored in the audit trail.
_CENSORED_KEYS = frozenset({"password", "token", "secret", "key"})


def _censor(extra: dict[str, Any]) -> dict[str, Any]:
    return {k: ("********" if k in _CENSORED_KEYS else v) for k, v in extra.items()}


def _actor_name(actor: Any, is_user: bool) -> str:
    """A person's username; a machine subject's own name when it has one (an information system: "system:<code>");
    else "system" (the platform itself)."""
    if is_user:
        return str(actor.get_username())
    return str(getattr(actor, "audit_name", "") or "system")


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
    row = AuditLog.objects.create(
        actor=actor if is_user else None,
        actor_name=_actor_name(actor, is_user),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:255],
        extra=_censor(extra),
    )
    transaction.on_commit(_sealer.recorded)
    return row


@dataclass(frozen=True)
class AuditTarget:
    """An object an action applied to, named without its model instance (a bulk caller that has only its key)."""

    object_type: str
    object_id: str
    object_repr: str


def record_actions(
    actor: Any,
    action: str,
    targets: Iterable[models.Model | AuditTarget],
    **extra: Any,
) -> int:
    """Append one audit row per target, as many calls of `record_action` would (the same actor, action and details
    for every row; each row's content MAC computed as it is inserted), in one bulk INSERT. Must be called inside the
    transaction of the actions it records. Answers the number of rows written."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_actions must run inside the action's transaction")
    rows: list[tuple[str, str, str]] = []
    for target in targets:
        if isinstance(target, AuditTarget):
            rows.append((target.object_type, target.object_id, target.object_repr[:255]))
        else:
            rows.append((target._meta.label_lower, str(target.pk), str(target)[:255]))
    if not rows:
        return 0
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    bulk.insert_tuples(
        AuditLog,
        ("object_type", "object_id", "object_repr"),
        rows,
        same={
            "actor_id": actor.pk if is_user else None,
            "actor_name": _actor_name(actor, is_user),
            "action": action,
            "extra": _censor(extra),
        },
    )
    transaction.on_commit(partial(_sealer.recorded, len(rows)))
    return len(rows)


@dataclass(frozen=True)
class AuditEntry:
    """One row for `record_entries`: an action by a machine subject (its audit name), on an object named by type
    and id only."""

    actor_name: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    extra: dict[str, Any]


def record_entries(entries: Sequence[AuditEntry]) -> int:
    """Append one row per entry in one multi-row INSERT (each row's content MAC computed as it is inserted): the
    data gateway writes the calls of a group commit this way. Must run inside the transaction of the actions it
    records; answers the number of rows."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_entries must run inside the action's transaction")
    # As tuples, not model instances: at gateway rates building the instances cost more than inserting the rows.
    rows = [
        (
            entry.actor_name,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.object_repr[:255],
            _censor(entry.extra),
        )
        for entry in entries
    ]
    bulk.insert_tuples(
        AuditLog,
        ("actor_name", "action", "object_type", "object_id", "object_repr", "extra"),
        rows,
        same={"actor_id": None},
        one_statement=True,
    )
    if rows:
        transaction.on_commit(partial(_sealer.recorded, len(rows)))
    return len(rows)


def record_audit_read(actor: Any, action: str, **extra: Any) -> AuditLog:
    """The auditor's own reads of the trail (export, verification) are in the trail too, committed before the answer."""
    with transaction.atomic():
        return record_action(actor, action, object_type="audit.auditlog", object_repr="审计日志", **extra)


class _Sealer:
    """Seals after commit once this process has recorded N rows or T seconds have passed since it last sealed.

    The row insert never waits for the chain: sealing runs after the action's commit, and a seal already
    running in another process is skipped rather than waited for (that seal, or the next, links the rows).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = 0
        self._last = time.monotonic()

    def recorded(self, count: int = 1) -> None:
        config = settings.GOVSHARE
        with self._lock:
            self._pending += count
            due = (
                self._pending >= config.audit_seal_batch_size
                or time.monotonic() - self._last >= config.audit_seal_interval_seconds
            )
            if due:
                self._pending, self._last = 0, time.monotonic()
        if due:
            try:
                seal_audit_log(wait=False)
            except Exception:
                # The action has committed; its row stays unsealed until the next seal (reported by verification).
                logger.exception("sealing the audit log failed; the rows will be sealed by the next seal")


_sealer = _Sealer()
