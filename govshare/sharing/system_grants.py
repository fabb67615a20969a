"""Grants as a consumer information system uses them (the data service gateway, domain.md §7).

A system calls for one resource under one scenario; the grant is chosen by the three: a grant on the resource for
that scenario, active today, whose scenario lists the system among those serving it, the system active and of the
scenario's department. `system_grant` answers the grant's terms (items, masking, row filter, quota), which the
gateway may keep for a short while; `admit_system_call` is the authority at each call: in the transaction that
records the call, one statement checks everything again (the grant, its scenario and department, the resource,
the system and the credential the token came from) and counts the call against the day's quota, so a revocation
of any of them refuses the very next call whatever a process has cached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.db.models import F

from govshare.accounts.models import Department
from govshare.catalog.choices import ReviewStatus, ShareType
from govshare.catalog.models import Resource
from govshare.identity.models import InformationSystem, SystemCredential
from govshare.sharing.choices import GrantStatus, ScenarioStatus
from govshare.sharing.grants import _table, grant_is_active, resource_shareable, scope_terms
from govshare.sharing.models import Grant, GrantUsage, Scenario

__all__ = ["CallRefusal", "SystemGrant", "admit_system_call", "system_grant"]


@dataclass(frozen=True)
class SystemGrant:
    """What a grant gives a system today: the items (those still shareable), each item's masking rule, the rows
    (item → the values it may hold), and the daily call quota (None: no limit)."""

    grant_id: int
    scenario_id: int
    scenario_name: str
    resource_id: int
    department_id: int
    items: frozenset[str]
    masking: Mapping[str, str]
    row_filter: Mapping[str, frozenset[str]]
    daily_quota: int | None
    valid_until: dt.date


class CallRefusal:
    """Why `admit_system_call` refused a call."""

    GONE = "gone"  # the grant, scenario, department, resource, system or credential no longer allows it
    QUOTA = "quota"  # the day's quota is used up


_SCENARIO_SYSTEMS = Scenario.systems.through


def system_grant(
    system_id: int, scenario_id: int, resource_id: int, today: dt.date, *, grant_id: int | None = None
) -> SystemGrant | None:
    """The grant through which the system may read the resource for the scenario today (the oldest, unless the call
    names one), or None. None says nothing about why: a resource that does not exist, one not shared, a scenario
    the system does not serve and a revoked grant look the same to the caller."""
    grants = (
        Grant.objects.select_related("scenario__department", "resource")
        .filter(
            scenario_id=scenario_id,
            resource_id=resource_id,
            status=GrantStatus.ACTIVE,
            scenario__systems__id=system_id,
            scenario__systems__is_active=True,
            scenario__systems__department_id=F("scenario__department_id"),
        )
        .order_by("created_at", "id")
    )
    if grant_id is not None:
        grants = grants.filter(pk=grant_id)
    for grant in grants:
        if not grant_is_active(grant, today) or not resource_shareable(grant.resource):
            continue
        items, masking = scope_terms(grant)
        return SystemGrant(
            grant_id=grant.pk,
            scenario_id=grant.scenario_id,
            scenario_name=grant.scenario.name,
            resource_id=grant.resource_id,
            department_id=grant.department_id,
            items=items,
            masking=masking,
            row_filter={name: frozenset(str(v) for v in values) for name, values in grant.row_filter.items()},
            daily_quota=grant.daily_quota,
            valid_until=grant.valid_until,
        )
    return None


# The call's rows of the grant, its scenario and department, the resource, the scenario's listing of the system, the
# system and the credential: one row when all of them still allow the call on that day (the quota aside).
_CALL_ALLOWED = """
SELECT g.id, %s, {units} FROM {grant} g
  JOIN {scenario} s ON s.id = g.scenario_id
  JOIN {department} d ON d.id = s.department_id
  JOIN {resource} r ON r.id = g.resource_id
  JOIN {serves} ss ON ss.scenario_id = s.id AND ss.informationsystem_id = %s
  JOIN {system} sys ON sys.id = ss.informationsystem_id
  JOIN {credential} c ON c.system_id = sys.id AND c.application_id = %s
 WHERE g.id = %s AND g.status = %s AND g.valid_from <= %s AND g.valid_until >= %s
   AND s.status = %s AND d.is_active = %s AND r.status = %s AND r.share_type <> %s
   AND sys.is_active = %s AND sys.department_id = s.department_id
   AND c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > %s)
"""
# Counted in the same statement, or not at all: the database serialises two calls on the day's last unit.
# The placeholders are table names from the models; every value is a parameter.
_ADMIT_CALL = (
    "INSERT INTO {usage} (grant_id, day, accesses)"  # noqa: S608
    + _CALL_ALLOWED
    + """   AND (g.daily_quota IS NULL OR g.daily_quota >= %s)
ON CONFLICT (grant_id, day) DO UPDATE SET accesses = {usage}.accesses + excluded.accesses
 WHERE {usage}.accesses + excluded.accesses
       <= COALESCE((SELECT daily_quota FROM {grant} WHERE id = excluded.grant_id), 2147483647)
"""
)


@cache
def _statements() -> tuple[str, str]:
    """The admission and the check without counting, with the tables' names (quoted once per process)."""
    names = {
        name: _table(model)
        for name, model in (
            ("usage", GrantUsage),
            ("grant", Grant),
            ("scenario", Scenario),
            ("department", Department),
            ("resource", Resource),
            ("serves", _SCENARIO_SYSTEMS),
            ("system", InformationSystem),
            ("credential", SystemCredential),
        )
    }
    return _ADMIT_CALL.format(units="%s", **names), _CALL_ALLOWED.format(units="1", **names)


def admit_system_call(
    grant_id: int, *, system_id: int, application_id: int, today: dt.date, now: dt.datetime, units: int = 1
) -> str | None:
    """In the transaction that records the call: check it may still happen and count it. Answers None when
    counted, else a `CallRefusal`. The access review's lapse is judged from the terms the caller holds (only a
    confirmation moves it, and only later). `units`: how much of the day's quota the call uses (a batch
    comparison counts each of its keys; 0 checks the call without counting it, and without the quota)."""
    admit, check = _statements()
    params: list[str | int | bool | dt.date | dt.datetime] = [
        today,
        system_id,
        application_id,
        grant_id,
        GrantStatus.ACTIVE,
        today,
        today,
        ScenarioStatus.APPROVED,
        True,
        ReviewStatus.PUBLISHED,
        ShareType.NOT_SHARED,
        True,
        now,
    ]
    with connection.cursor() as cursor:
        if units == 0:
            cursor.execute(check, params)
            return None if cursor.fetchone() is not None else CallRefusal.GONE
        cursor.execute(admit, [params[0], units, *params[1:], units])
        if cursor.rowcount:
            return None
        # Refused: by the quota only if everything else still allows the call (the rare path may read again).
        cursor.execute(check, params)
        allowed = cursor.fetchone() is not None
    return CallRefusal.QUOTA if allowed else CallRefusal.GONE
