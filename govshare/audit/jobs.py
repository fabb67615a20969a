"""The audit log's schedule: `audit-seal` every minute seals what is pending and anchors the head outside the
database (govshare.audit.anchors.seal_and_anchor), so that rows recorded by a process that then fell idle wait at
most about a minute. Created, with the first anchor of an upgraded log, after every `migrate`."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django_q.models import Schedule

from govshare.audit.anchors import anchor_head
from govshare.audit.models import AuditChainHead

SEAL_SCHEDULE_NAME = "audit-seal"
SEAL_FUNC = "govshare.audit.anchors.seal_and_anchor"


def ensure_schedule() -> None:
    Schedule.objects.update_or_create(
        name=SEAL_SCHEDULE_NAME,
        defaults={
            "func": SEAL_FUNC,
            "args": None,
            "kwargs": repr({"q_options": {"task_name": SEAL_SCHEDULE_NAME}}),
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )


def after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """post_migrate: the schedule, and an anchor of the head unless one has it (after migration 0003, the anchor
    that fixes where the unkeyed rows end, outside the database)."""
    tables = set(connections[using].introspection.table_names())
    if Schedule._meta.db_table in tables:
        ensure_schedule()
    if AuditChainHead._meta.db_table in tables and _audit_schema_is_current(kwargs.get("apps")):
        anchor_head()


def _audit_schema_is_current(migrated_apps: Any) -> bool:
    # After `migrate audit 0002` (an operator rolling back a release) the tables lack the keyed chain's columns:
    # anchoring would query columns that do not exist. The state migrate leaves says which the tables have.
    if migrated_apps is None:
        return True
    try:
        head = migrated_apps.get_model("audit", "AuditChainHead")
    except LookupError:
        return False
    wanted = {field.column for field in AuditChainHead._meta.concrete_fields}
    return wanted <= {field.column for field in head._meta.concrete_fields}
