"""Demo grants (共享授权): 市医保局 may read 市公安局's and 市民政局's loaded resources for an approved scenario, masked
(one item withheld beyond its grade) and, for 公安's, only the rows of one value of a low-variety item (a district
or a category); 旌阳区公安分局's grant was revoked and 市医保局's older one lapsed (its access review was never
confirmed). So `ybj_user` previews masked data at once, and the provider reviewers see who uses their data."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from django.utils import timezone

from govshare.accounts.models import Department, User
from govshare.catalog.choices import ReviewStatus, ShareType
from govshare.catalog.models import Resource
from govshare.core.masking import MaskRule, masking_rule_for
from govshare.datasets import reading
from govshare.datasets.models import Dataset
from govshare.sharing import grants
from govshare.sharing.choices import ScenarioStatus
from govshare.sharing.models import Grant, Scenario

SCENARIOS = {
    "ybj": (
        "医保参保登记身份核验",
        "参保登记、待遇核定时核验参保人身份与户籍信息",
        "《中华人民共和国社会保险法》第五十八条",
    ),
    "jy_gaj": ("辖区人口信息比对", "旌阳区公安分局辖区实有人口信息比对", "《居民身份证法》第十五条"),
}


def _user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).first()


def _scenario(department: Department, key: str, approver: User | None) -> Scenario:
    name, description, basis = SCENARIOS[key]
    scenario, _ = Scenario.objects.get_or_create(
        department=department,
        name=name,
        defaults={
            "description": description,
            "legal_basis": basis,
            "status": ScenarioStatus.APPROVED,
            "reviewed_by": approver,
            "reviewed_at": timezone.now(),
            "review_note": "演示数据：已审核",
        },
    )
    return scenario


def _loaded(department_id: int) -> list[Resource]:
    with_data = Dataset.objects.filter(current_version__isnull=False).values("resource_id")
    return list(
        Resource.objects.filter(department_id=department_id, status=ReviewStatus.PUBLISHED, pk__in=with_data)
        .exclude(share_type=ShareType.NOT_SHARED)
        .order_by("code")
    )


def _terms(resource: Resource, reader: User) -> tuple[list[str], dict[str, list[str]], dict[str, str]]:
    """Up to five shareable items; a row filter on the item with the fewest distinct values among the first rows
    (its most common value), and one masked item withheld beyond its grade."""
    items = [item for item in resource.items.order_by("position") if item.share_type != ShareType.NOT_SHARED]
    chosen = [item.name for item in items[:5]]
    # The owner's own first rows (read, not previewed: nobody looked at them, so no audit row).
    dataset = Dataset.objects.get(resource=resource)
    opened = reading.open_version(dataset, reading.staff_scope(reader, resource))
    with opened.batches as batches:
        first = next(iter(batches), None)
    columns = first.slice(0, 200).to_pydict() if first is not None else {}
    row_filter: dict[str, list[str]] = {}
    best: tuple[int, str, str] | None = None
    for name in opened.names:
        values = Counter(str(value) for value in columns.get(name, []) if value not in (None, ""))
        if name in chosen and 1 < len(values) <= 12:
            value, _ = values.most_common(1)[0]
            if best is None or len(values) < best[0]:
                best = (len(values), name, value)
    if best is not None:
        row_filter[best[1]] = [best[2]]
    masking: dict[str, str] = {}
    for item in items[:5]:
        rule = masking_rule_for(item)
        if rule not in (None, MaskRule.WITHHOLD) and item.name not in row_filter:
            masking[item.name] = MaskRule.WITHHOLD
            break
    return chosen, row_filter, masking


def load_demo_grants(say: Callable[[str], None]) -> int:
    """Issue the demo grants (once: nothing when grants exist); answers how many were made."""
    if Grant.objects.exists():
        return 0
    coordinator, ybj_user, jy_user = _user("coordinator"), _user("ybj_user"), _user("jy_gaj_user")
    gaj_reviewer, mzj_reviewer = _user("gaj_reviewer"), _user("mzj_reviewer")
    if None in (coordinator, ybj_user, jy_user, gaj_reviewer, mzj_reviewer):
        return 0
    assert coordinator and ybj_user and jy_user and gaj_reviewer and mzj_reviewer
    assert ybj_user.department and jy_user.department and gaj_reviewer.department and mzj_reviewer.department
    gaj, mzj = _loaded(gaj_reviewer.department.pk), _loaded(mzj_reviewer.department.pk)
    if not gaj:
        return 0
    today = timezone.localdate()
    medical = _scenario(ybj_user.department, "ybj", coordinator)
    district = _scenario(jy_user.department, "jy_gaj", coordinator)
    made = 0

    def issue(
        resource: Resource, scenario: Scenario, actor: User, *, on: dt.date, days: int, note: str, **terms: object
    ) -> Grant:
        nonlocal made
        items, row_filter, masking = _terms(resource, actor)
        data = grants.GrantInput(
            department_id=scenario.department_id,
            scenario_id=scenario.pk,
            resource_id=resource.pk,
            items=items,
            row_filter=terms.get("row_filter", row_filter),  # type: ignore[arg-type]
            masking=masking,
            valid_from=on,
            valid_until=on + dt.timedelta(days=days),
            daily_quota=terms.get("daily_quota"),  # type: ignore[arg-type]
            conditions="仅用于所述应用场景，不得向第三方提供，不得再向群众重复采集。",
        )
        made += 1
        return grants.issue_grant(data, actor=actor, today=on, source_note=note)

    recent, earlier = today - dt.timedelta(days=20), today - dt.timedelta(days=60)
    issue(gaj[0], medical, gaj_reviewer, on=recent, days=365, note="演示：有效授权", daily_quota=500)
    if mzj:
        issue(mzj[0], medical, mzj_reviewer, on=earlier, days=730, note="演示：有效授权", row_filter={})
    second = gaj[1] if len(gaj) > 1 else gaj[0]
    revoked = issue(second, district, gaj_reviewer, on=today - dt.timedelta(days=90), days=365, note="演示：已撤销")
    grants.revoke_grant(revoked, actor=gaj_reviewer, reason="演示：辖区比对任务已结束")
    # Issued 400 days ago with a yearly access review nobody confirmed: lapsed, though valid until next year.
    issue(second, medical, gaj_reviewer, on=today - dt.timedelta(days=400), days=730, note="演示：逾期未复核")
    say(f"  共享授权 {made} 项（有效、已撤销、逾期未复核失效）")
    return made
