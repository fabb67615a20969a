"""Demo share requests (共享申请): 市医保局's consumer (`ybj_user`) has asked for 市公安局's and 市民政局's resources for
its approved scenario 医保参保人员身份核验 (system 医保经办业务系统), and the requests are in every state — the cart
being filled, one granted at once by the catalogue's rule (无条件共享), one in review at the provider's stage within
its deadline, one overdue and escalated to the coordinator by the daily deadline pass, one approved in part, one
refused with its reason, one disputed and awaiting arbitration, one arbitrated — all through the real services
(history, deadlines in working days, grants, audit rows and notifications as real use would leave them).

Dated from the platform's day (`scopes.clock`, the local date: the day the demo is loaded): each request was
submitted and decided that many days before, and the deadline pass runs on the day itself. Once: nothing when requests exist; an account, scenario
or resource missing from a reduced demo (--departments, --resources) skips what needs it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from govshare.accounts.models import User
from govshare.catalog.choices import ReviewStatus, ShareType
from govshare.catalog.models import Resource
from govshare.datasets import scopes
from govshare.identity.models import InformationSystem
from govshare.sharing import requests
from govshare.sharing.choices import ScenarioStatus
from govshare.sharing.models import Scenario, ShareRequest, ShareRequestLine

APPLICANT = "ybj_user"
SCENARIO = "医保参保人员身份核验"  # govshare.demo.scenarios: approved, carried by ybj-jbxt
SYSTEM = "ybj-jbxt"
REVIEWERS = ("gaj_reviewer", "mzj_reviewer")  # the providers' 部门审核员, in the order their resources are used
COORDINATOR = "coordinator"
ITEMS_PER_LINE = 4
PURPOSE = "办理城乡居民医保参保登记时核验参保人员身份和户籍信息，群众不再提交户口簿复印件。"
CONDITIONS = "仅用于医保参保登记身份核验，不得向第三方提供，不得留存与业务无关的信息。"


@dataclass
class _Demo:
    applicant: User
    coordinator: User
    scenario: Scenario
    system: InformationSystem
    today: dt.date
    reviewers: dict[int, User]  # provider department → its reviewer
    made: int = 0


def _user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).first()


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _shareable(resource: Resource, share_type: str | None = None) -> list[str]:
    names = []
    for item in resource.items.order_by("position"):
        if item.share_type == ShareType.NOT_SHARED or (share_type and item.share_type != share_type):
            continue
        names.append(item.name)
    return names[:ITEMS_PER_LINE]


def _conditional(reviewers: dict[int, User]) -> list[Resource]:
    """The providers' published 有条件共享 resources with at least two items to ask for, one provider's after the
    other's (the order of REVIEWERS)."""
    found = []
    for department_id in reviewers:
        for resource in Resource.objects.filter(
            department_id=department_id, status=ReviewStatus.PUBLISHED, share_type=ShareType.CONDITIONAL
        ).order_by("code"):
            if len(_shareable(resource)) >= 2:
                found.append(resource)
    return found


def _unconditional(demo: _Demo) -> Resource | None:
    """Another department's published 无条件共享 resource with items shared unconditionally."""
    for resource in (
        Resource.objects.filter(status=ReviewStatus.PUBLISHED, share_type=ShareType.UNCONDITIONAL)
        .exclude(department=demo.applicant.department)
        .order_by("code")
    ):
        if _shareable(resource, ShareType.UNCONDITIONAL):
            return resource
    return None


def _submit(demo: _Demo, resource: Resource, items: list[str], *, days_ago: int) -> ShareRequestLine:
    """The applicant's request for the resource, submitted `days_ago` days before the demo's day, for a year."""
    day = demo.today - dt.timedelta(days=days_ago)
    line = requests.add_to_request(demo.applicant, resource.pk, items=items, now=_at(day, 9))
    data = requests.RequestInput(
        scenario_id=demo.scenario.pk,
        system_id=demo.system.pk,
        purpose=PURPOSE,
        valid_from=day,
        valid_until=day + dt.timedelta(days=365),
        lines={line.pk: requests.LineInput(items=list(line.items))},
    )
    requests.update_request(demo.applicant, line.request, data, now=_at(day, 9))
    requests.submit_request(demo.applicant, line.request, today=day, now=_at(day))
    demo.made += 1
    return ShareRequestLine.objects.get(pk=line.pk)


def _refused(demo: _Demo, resource: Resource, *, days_ago: int, reason: str) -> ShareRequestLine:
    line = _submit(demo, resource, _shareable(resource), days_ago=days_ago)
    reviewer = demo.reviewers[resource.department_id]
    return requests.refuse_line(reviewer, line, reason=reason, now=_at(demo.today - dt.timedelta(days=days_ago - 3)))


def _make(demo: _Demo, resources: list[Resource]) -> None:
    pick = iter(resources[i % len(resources)] for i in range(len(resources) * 7))
    today = demo.today

    unconditional = _unconditional(demo)
    if unconditional is not None:
        _submit(demo, unconditional, _shareable(unconditional, ShareType.UNCONDITIONAL), days_ago=12)

    # Arbitrated: refused, disputed, then the coordinator overruled the refusal and granted the items asked for.
    line = _refused(demo, next(pick), days_ago=60, reason="申请用途与所需信息项不完全相符，请补充说明。")
    line = requests.dispute_line(
        demo.applicant,
        line,
        reason="参保登记须核验全部所列信息项，《社会保险法》第五十八条及应用场景已写明用途。",
        now=_at(today - dt.timedelta(days=55)),
    )
    requests.arbitrate_line(
        demo.coordinator,
        line,
        uphold=False,
        note="应用场景已经审核，所需信息项与参保登记业务相符，改为同意。",
        today=today - dt.timedelta(days=50),
        now=_at(today - dt.timedelta(days=50), 15),
    )

    # Disputed: refused, the applicant disputes; the coordinator has yet to arbitrate.
    line = _refused(demo, next(pick), days_ago=40, reason="该资源仅限公安机关内部使用，医保参保登记无需此类信息。")
    requests.dispute_line(
        demo.applicant,
        line,
        reason="异地参保人员的身份核验需要该信息，省医保局有明确要求，请协调员裁决。",
        now=_at(today - dt.timedelta(days=35)),
    )

    # Refused with its reason.
    _refused(demo, next(pick), days_ago=30, reason="申请期限内本部门正在进行数据治理，数据质量不满足共享要求。")

    # Approved in part: the last item refused, with the reason and the grant's conditions.
    resource = next(pick)
    line = _submit(demo, resource, _shareable(resource), days_ago=25)
    granted = list(line.items[:-1])
    requests.approve_line(
        demo.reviewers[resource.department_id],
        line,
        requests.Decision(
            items=granted,
            reason=f"“{line.items[-1]}”涉及个人敏感信息，参保登记身份核验不需要，不予同意。",
            conditions=CONDITIONS,
            daily_quota=1000,
        ),
        today=today - dt.timedelta(days=20),
        now=_at(today - dt.timedelta(days=20), 16),
    )

    # Overdue: submitted long enough ago that the provider's deadline passed; the daily pass escalates it below.
    resource = next(pick)
    _submit(demo, resource, _shareable(resource), days_ago=30)

    # In review at the provider's stage, within its deadline.
    resource = next(pick)
    _submit(demo, resource, _shareable(resource), days_ago=2)

    requests.follow_deadlines(today=today, now=_at(today, 1))

    # The cart being filled (last: a request is started only once the previous one is submitted).
    resource = next(pick)
    requests.add_to_request(demo.applicant, resource.pk, items=_shareable(resource)[:2], now=_at(today, 11))
    demo.made += 1


def load_demo_requests(say: Callable[[str], None]) -> int:
    """Make the demo share requests (once: nothing when requests exist); answers how many were made."""
    if ShareRequest.objects.exists():
        return 0
    applicant, coordinator = _user(APPLICANT), _user(COORDINATOR)
    if applicant is None or coordinator is None or applicant.department_id is None:
        return 0
    scenario = Scenario.objects.filter(
        department_id=applicant.department_id, name=SCENARIO, status=ScenarioStatus.APPROVED
    ).first()
    system = InformationSystem.objects.filter(code=SYSTEM, is_active=True).first()
    if scenario is None or system is None:
        return 0
    reviewers = {u.department_id: u for u in map(_user, REVIEWERS) if u is not None and u.department_id}
    demo = _Demo(applicant, coordinator, scenario, system, scopes.clock(), reviewers)
    resources = _conditional(reviewers)
    if not resources:
        return 0
    with transaction.atomic():
        _make(demo, resources)
    say(f"  共享申请 {demo.made} 件（申请车、即时授权、审核中、逾期督办、部分同意、拒绝、异议待仲裁、已仲裁）")
    return demo.made
