"""Share requests in tests: a request put together and submitted through the services, on a given day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from govshare.accounts.models import User
from govshare.catalog.models import Resource
from govshare.identity.models import InformationSystem
from govshare.sharing import requests
from govshare.sharing.models import Scenario, ShareRequest
from govshare.testing.clock import T0

PURPOSE = "参保登记时核验参保人身份与户籍"
DAY = T0.date()


def submitted(
    applicant: User,
    resources: Sequence[Resource],
    scenario: Scenario,
    system: InformationSystem,
    *,
    today: dt.date = DAY,
    items: Sequence[str] | None = None,
    days: int = 365,
) -> ShareRequest:
    """A request for `resources` (each with `items`, or all shareable ones), submitted by `applicant` on `today`."""
    now = dt.datetime.combine(today, dt.time(9, 30), tzinfo=dt.UTC)
    for resource in resources:
        line = requests.add_to_request(applicant, resource.pk, items=items, now=now)
    cart = line.request
    data = requests.RequestInput(
        scenario_id=scenario.pk,
        system_id=system.pk,
        purpose=PURPOSE,
        valid_from=today,
        valid_until=today + dt.timedelta(days=days),
    )
    requests.update_request(applicant, cart, data, now=now)
    return requests.submit_request(applicant, cart, today=today, now=now)
