"""The auditor's search of the gateway's trail by a key (按查询键追溯): every call that asked for it. The search is
itself audited, with the number of calls found and never the key (the trail holds keys only as keyed hashes)."""

from __future__ import annotations

from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.audit.services import record_audit_read
from govshare.core.pagination import Page, paginate
from govshare.gateway import selectors

TRACE_ACTION = "gateway.key.trace"


def trace_key(user: User, key: str, *, page: int) -> Page[AuditLog]:
    """One page of the calls that asked for `key`, newest first. PermissionDenied for anyone but the auditor,
    ValidationFailed for a key that is no key; the search is recorded (committed) before the answer."""
    found = paginate(selectors.calls_for_key(user, key), page, None)
    record_audit_read(user, TRACE_ACTION, found=found.total, page=found.page)
    return found


__all__ = ["TRACE_ACTION", "trace_key"]
