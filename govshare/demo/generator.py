"""Deterministic plan of the demo city: departments with valid codes, and catalogue entries as drafts.

Nothing here touches the database; `govshare.demo.loader` writes the plan through the real services.
The same seed always gives the same city, whatever the machine or the day.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from govshare.accounts.choices import DepartmentLevel
from govshare.catalog.choices import ReviewStatus, UpdateCycle
from govshare.catalog.rules import ItemDraft, ResourceDraft
from govshare.core.identifiers import make_uscc
from govshare.demo import vocabulary as v

SEED = 20260101
DEFAULT_RESOURCES = 3000
# Periodic datasets are catalogued up to this month (fixed, so that the demo is the same every day).
LAST_PERIOD = dt.date(2026, 10, 1)
FIRST_MONTHLY_YEAR = 2016
FIRST_QUARTERLY_YEAR = 2011
FIRST_YEARLY_YEAR = 2001
# Share of the entries in each review state ("rejected" = back to draft with a reason).
STATE_WEIGHTS: dict[str, float] = {
    ReviewStatus.PUBLISHED: 0.72,
    ReviewStatus.SUBMITTED: 0.09,
    ReviewStatus.DRAFT: 0.08,
    "rejected": 0.05,
    ReviewStatus.WITHDRAWN: 0.06,
}
STATES = tuple(STATE_WEIGHTS)
# The city published its standing catalogue in batches (目录梳理), one on the 15th of every third month.
CATALOGUE_BATCHES = tuple(dt.date(2021 + m // 12, m % 12 + 1, 15) for m in range(2, 69, 3))
# Share of the county agencies' county-level templates that each agency actually catalogues.
COUNTY_TEMPLATE_SHARE = 0.7
TOWNSHIP_TEMPLATE_COUNT = 3

_QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")
_CYCLE_LABELS = dict(UpdateCycle.choices)


@dataclass(frozen=True)
class DemoDepartment:
    key: str  # account prefix: "mzj", "jy_mzj", "jy_cbjd"
    name: str
    short_name: str
    level: str
    region: str
    code: str
    parent_key: str | None
    line: v.Line | None
    county: v.County | None = None


@dataclass(frozen=True)
class DemoEntry:
    department: DemoDepartment
    draft: ResourceDraft
    state: str  # one of STATES
    published_on: dt.date  # 发布日期 if it is published: a periodic dataset's release, else a catalogue batch


def _org_body(rng: random.Random, level: str, used: set[str]) -> str:
    """8 characters of a 机关's organisation code: old-style digits in the city, "MB…" for newer agencies."""
    while True:
        body = f"00{rng.randrange(10**6):06d}" if level == DepartmentLevel.CITY else f"MB{rng.randrange(10**6):06d}"
        if body not in used:
            used.add(body)
            return body


def _county_agency_name(line: v.Line, county: v.County) -> str:
    if line.slug == "gaj":
        return f"{line.city_name}{county.name}分局" if county.is_district else f"{county.name}公安局"
    return line.county_pattern.format(county=county.name, short=county.short)


def demo_departments(limit: int | None = None) -> list[DemoDepartment]:
    """The city's departments: city agencies, then county agencies and government offices, then townships.

    Parents always precede their children, so the first `limit` departments are a consistent hierarchy.
    """
    rng = random.Random(SEED)
    used: set[str] = set()
    found: list[DemoDepartment] = []

    def add(key: str, name: str, short: str, level: str, region: str, parent: str | None, **kw: object) -> None:
        code = make_uscc("11", region, _org_body(rng, level, used))
        found.append(DemoDepartment(key, name, short, level, region, code, parent, **kw))  # type: ignore[arg-type]

    for line in v.LINES:
        add(line.slug, line.city_name, line.short, DepartmentLevel.CITY, v.CITY_REGION, None, line=line)
    for county in v.COUNTIES:
        for line in v.LINES:
            if not line.county_pattern or not (county.has_agencies or line.slug == "zfb"):
                continue
            name = _county_agency_name(line, county)
            add(
                f"{county.slug}_{line.slug}",
                name,
                name,
                DepartmentLevel.COUNTY,
                county.region,
                line.slug,
                line=line,
                county=county,
            )
    counties = {c.slug: c for c in v.COUNTIES}
    for county_slug, township, slug in v.TOWNSHIPS:
        county = counties[county_slug]
        name = f"{county.name}{township}{'人民政府' if township.endswith('镇') else '办事处'}"
        add(
            f"{county_slug}_{slug}",
            name,
            township,
            DepartmentLevel.TOWNSHIP,
            county.region,
            f"{county_slug}_zfb",
            line=None,
            county=county,
        )
    return found[:limit] if limit is not None else found


# ---------------------------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class _Planned:
    department: DemoDepartment
    template: v.Template
    name: str
    purpose: str
    released: dt.date | None = None


def _templates_of(department: DemoDepartment, rng: random.Random) -> list[v.Template]:
    if department.level == DepartmentLevel.TOWNSHIP:
        return rng.sample(list(v.TOWNSHIP_TEMPLATES), TOWNSHIP_TEMPLATE_COUNT)
    assert department.line is not None
    if department.level == DepartmentLevel.CITY:
        return [t for t in department.line.templates if t.scope != "county_only"]
    chosen = []
    for template in department.line.templates:
        if template.scope == "dup" or (
            template.scope in ("county", "county_only") and rng.random() < COUNTY_TEMPLATE_SHARE
        ):
            chosen.append(template)
    return chosen


def _entry_name(department: DemoDepartment, template: v.Template, name: str) -> str:
    if department.level == DepartmentLevel.CITY:
        return name
    if department.level == DepartmentLevel.TOWNSHIP:
        return f"{department.short_name}{name}"
    assert department.county is not None
    if template.scope == "dup" and department.county.copies_city_names:
        return name  # exactly the city department's name: a near-duplicate to detect
    return f"{department.county.name}{name}"


def _periods(template: v.Template) -> Iterator[tuple[dt.date, str]]:
    """(date the period's dataset is released, name) of every period of a periodic template, newest first."""
    kind = template.periodic
    for year in range(LAST_PERIOD.year, FIRST_YEARLY_YEAR - 1, -1):
        if kind == "year":
            released = dt.date(year + 1, 1, 20)
            if released <= LAST_PERIOD:
                yield released, template.name.format(year=year)
        elif kind == "quarter" and year >= FIRST_QUARTERLY_YEAR:
            for quarter in range(4, 0, -1):
                released = dt.date(year + (quarter == 4), quarter * 3 % 12 + 1, 15)
                if released <= LAST_PERIOD:
                    yield released, template.name.format(year=year, quarter=_QUARTERS[quarter - 1])
        elif kind == "month" and year >= FIRST_MONTHLY_YEAR:
            for month in range(12, 0, -1):
                released = dt.date(year + (month == 12), month % 12 + 1, 10)
                if released <= LAST_PERIOD:
                    yield released, template.name.format(year=year, month=f"{month}月")


def _plan(departments: list[DemoDepartment]) -> Iterator[_Planned]:
    """Standing entries first (round-robin over departments), then periodic datasets, newest period first."""
    rng = random.Random(SEED)
    standing: list[list[_Planned]] = []
    periodic: list[tuple[dt.date, int, _Planned]] = []
    for index, department in enumerate(departments):
        purposes = department.line.purposes if department.line else v.TOWNSHIP_PURPOSES
        own: list[_Planned] = []
        for template in _templates_of(department, rng):
            if template.periodic:
                for released, name in _periods(template):
                    planned = _Planned(
                        department,
                        template,
                        _entry_name(department, template, name),
                        rng.choice(purposes),
                        max(released, CATALOGUE_BATCHES[0]),  # older datasets: catalogued in the first batch
                    )
                    periodic.append((released, index, planned))
            else:
                own.append(
                    _Planned(
                        department, template, _entry_name(department, template, template.name), rng.choice(purposes)
                    )
                )
        standing.append(own)
    longest = max((len(own) for own in standing), default=0)
    for position in range(longest):
        for own in standing:
            if position < len(own):
                yield own[position]
    periodic.sort(key=lambda row: (-row[0].toordinal(), row[1]))
    for _, _, planned in periodic:
        yield planned


def capacity(departments: list[DemoDepartment] | None = None) -> int:
    """How many distinct entries the demo city can catalogue."""
    return sum(1 for _ in _plan(demo_departments() if departments is None else departments))


def _summary(planned: _Planned, items: list[str]) -> str:
    template, department = planned.template, planned.department
    cycle = _CYCLE_LABELS[template.cycle]
    listed = "、".join(items[:5])
    more = f"等{len(items)}项" if len(items) > 5 else ""
    if template.periodic:
        return (
            f"{department.short_name}按期编制的{planned.name}，包括{listed}{more}指标，{cycle}形成一期。"
            f"{planned.purpose}。"
        )
    return f"{department.short_name}在履职中采集和产生的{planned.name}，包括{listed}{more}信息，{cycle}更新。{planned.purpose}。"


def _draft(planned: _Planned, rng: random.Random) -> ResourceDraft:
    template, department = planned.template, planned.department
    fmt, sub_formats, share_method, platform_type = v.KINDS[template.kind]
    line = department.line
    condition = line.condition if line else v.TOWNSHIP_CONDITION
    open_condition = line.open_condition if line else "经申请审核后开放"
    basis = template.basis or (line.default_basis if line else v.PIPL)
    shared = template.share != "not_shared"
    items = []
    for name in template.fields:
        data_type, length = v.field_type(name)
        stricter = name in v.SENSITIVE_FIELDS
        items.append(
            ItemDraft(
                name=name,
                data_type=data_type,
                length=length,
                share_type="conditional" if stricter and template.share == "unconditional" else "",
                open_type="not_open" if stricter and template.open != "not_open" else "",
                description=v.FIELD_NOTES.get(name, ""),
                at_rest=v.AT_REST_FIELDS.get(name, ""),
            )
        )
    return ResourceDraft(
        name=planned.name,
        category_code=template.category,
        department_code=department.code,
        summary=_summary(planned, list(template.fields)),
        format=fmt,
        sub_format=rng.choice(sub_formats),
        share_type=template.share,
        share_condition=condition if template.share == "conditional" else "",
        share_basis=basis if template.share == "not_shared" else "",
        share_method=share_method if shared else "",
        platform_share_type=platform_type if shared else "",
        open_type=template.open,
        open_condition=open_condition if template.open == "conditional" else "",
        update_cycle=template.cycle,
        items=items,
    )


def demo_entries(departments: list[DemoDepartment], count: int) -> list[DemoEntry]:
    """`count` catalogue entries of these departments, each with the review state it should end in.

    The first five cover every state, so that even a tiny demo shows the whole workflow.
    """
    rng = random.Random(SEED + 1)
    dates = random.Random(SEED + 4)
    weights = list(STATE_WEIGHTS.values())
    entries: list[DemoEntry] = []
    for index, planned in enumerate(_plan(departments)):
        if index >= count:
            break
        state = STATES[index] if index < len(STATES) else rng.choices(STATES, weights)[0]
        published_on = planned.released or dates.choice(CATALOGUE_BATCHES)
        entries.append(DemoEntry(planned.department, _draft(planned, rng), state, published_on))
    if len(entries) < count:
        raise ValueError(f"演示城市最多可生成 {len(entries)} 条目录（所选部门范围内），请求了 {count} 条")
    return entries
