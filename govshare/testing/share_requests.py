"""Share requests in tests, made through the real services on the fixed day (govshare.testing.sharing.TODAY): a
consumer department's approved scenario with the system that uses the data, and a request submitted for a resource."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.catalog.models import Resource
from govshare.identity import services as identity_services
from govshare.identity.models import InformationSystem
from govshare.sharing import requests
from govshare.sharing.models import Scenario, ShareRequest
from govshare.testing.clock import T0
from govshare.testing.sharing import TODAY, make_scenario


def scenario_with_system(
    department: Department, *, name: str = "医保参保资格核验"
) -> tuple[Scenario, InformationSystem]:
    """An approved scenario of the department, carried by one of its registered systems."""
    admin = testing.make_user(Role.CATALOG_ADMIN, department=department)
    number = Scenario.objects.count() + 1
    system = identity_services.register_information_system(
        identity_services.SystemInput(
            code=f"sys-{department.pk}-{number}",
            name=f"{department.name}业务系统" if number == 1 else f"{department.name}业务系统{number}",
            department=department,
        ),
        actor=admin,
    )
    scenario = make_scenario(department, name=name)
    scenario.systems.add(system)
    return scenario, system


def submitted_one(
    consumer: User,
    resource: Resource,
    *,
    items: Sequence[str] | None = None,
    scenario: tuple[Scenario, InformationSystem] | None = None,
    today: dt.date = TODAY,
    now: dt.datetime = T0,
) -> ShareRequest:
    """The consumer's request for the resource (the items named, or every shareable one), submitted on `today` for a
    year of use."""
    assert consumer.department is not None
    chosen, system = scenario or scenario_with_system(consumer.department)
    line = requests.add_to_request(consumer, resource.pk, items=items, now=now)
    data = requests.RequestInput(
        scenario_id=chosen.pk,
        system_id=system.pk,
        purpose="办理医保参保登记时核验参保人员身份",
        valid_from=today,
        valid_until=today + dt.timedelta(days=365),
        lines={line.pk: requests.LineInput(items=list(line.items))},
    )
    requests.update_request(consumer, line.request, data, now=now)
    return requests.submit_request(consumer, line.request, today=today, now=now)


def submitted(
    applicant: User,
    resources: Sequence[Resource],
    scenario: Scenario,
    system: InformationSystem,
    *,
    today: dt.date = TODAY,
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
        purpose="参保登记时核验参保人身份与户籍",
        valid_from=today,
        valid_until=today + dt.timedelta(days=days),
    )
    requests.update_request(applicant, cart, data, now=now)
    return requests.submit_request(applicant, cart, today=today, now=now)
