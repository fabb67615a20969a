"""The demo city's places are GB/T 2260 codes, and the identifiers it makes up carry them."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given
from hypothesis import strategies as st

from govshare.core.identifiers import resident_id_problem, uscc_problem
from govshare.core.regions import registry
from govshare.demo import vocabulary
from govshare.demo.datasets import _resident_id
from govshare.demo.generator import demo_departments


def test_every_demo_department_lies_in_a_current_region_of_the_city() -> None:
    regions = {d.region for d in demo_departments()}
    assert regions == {vocabulary.CITY_REGION} | {c.region for c in vocabulary.COUNTIES}
    assert all(registry().is_current(code) and code[:4] == vocabulary.CITY_REGION[:4] for code in regions)


def test_county_departments_are_named_after_the_table_s_name_of_their_county() -> None:
    for department in demo_departments():
        if department.county is not None:
            county_name = registry().path(department.region)[-1][1]  # 旌阳区, in full or short: 旌阳
            assert county_name[:-1] in department.name, department.name
            assert uscc_problem(department.code) is None


def test_the_city_and_its_counties_are_named_as_the_table_names_them() -> None:
    assert registry().name_path(vocabulary.CITY_REGION) == "四川省 德阳市"
    assert [c.name for c in vocabulary.COUNTIES] == ["旌阳区", "广汉市", "中江县", "罗江区", "什邡市", "绵竹市"]


@given(st.integers(0, 2**32), st.dates(dt.date(1930, 1, 1), dt.date(2020, 12, 31)))
def test_demo_resident_ids_are_valid_and_carry_a_county_code_of_the_city(seed: int, birth: dt.date) -> None:
    number = _resident_id(random.Random(seed), birth)
    assert resident_id_problem(number, today=dt.date(2026, 12, 1)) is None
    assert number[:4] == vocabulary.CITY_REGION[:4] and number[:6] in registry()
