"""GB/T 2260 region codes of every revision (domain.md §6): the table shipped with the package, read once."""

from __future__ import annotations

import csv
from importlib.resources import files

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govshare.core.regions import (
    DATA_FILE,
    DATA_PACKAGE,
    RegionLevel,
    RegionRegistry,
    is_current_region,
    is_region_code,
    name_path,
    parse_table,
    region,
    region_code_problem,
    registry,
)

# The shipped file, read independently of the module (csv, not its regular expression).
ROWS = list(
    csv.DictReader(files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8").splitlines(), delimiter="\t")
)
CODES = sorted({row["code"] for row in ROWS})
KNOWN = frozenset(CODES)
six_digits = st.integers(0, 999_999).map(lambda n: f"{n:06d}")


def test_the_table_holds_every_code_name_pair_of_1980_to_2019() -> None:
    assert len(ROWS) == 7396 and len(CODES) == 7042
    assert (registry().first_revision, registry().latest_revision) == ("198012", "201904")
    assert len(registry()) == len(CODES)


def test_the_table_is_read_once_per_process() -> None:
    assert registry() is registry()


def test_every_code_of_the_file_is_valid() -> None:
    assert [code for code in CODES if region_code_problem(code) is not None] == []


def test_every_code_name_pair_of_the_file_is_one_of_its_code_names() -> None:
    for row in ROWS:
        found = region(row["code"])
        assert found is not None
        assert (row["name"], row["first_revision"], row["last_revision"]) in found.names


@given(six_digits.filter(lambda code: code not in KNOWN))
def test_six_digits_no_revision_published_are_refused_naming_the_code(code: str) -> None:
    problem = region_code_problem(code)
    assert problem == f"行政区划代码“{code}”不存在：1980年12月至2019年4月的 GB/T 2260 历次版本中都没有这个代码"
    assert not is_region_code(code)


@given(st.text(max_size=8).filter(lambda text: not (len(text) == 6 and text.isascii() and text.isdigit())))
def test_anything_but_six_digits_is_refused_as_not_six_digits(text: str) -> None:
    assert region_code_problem(text) == f"行政区划代码应为6位数字，实际为“{text}”"


def test_full_width_digits_are_not_a_region_code() -> None:
    assert region_code_problem("５１０６０３") == "行政区划代码应为6位数字，实际为“５１０６０３”"


def test_a_retired_code_stays_valid_but_is_not_current() -> None:
    # 510602 德阳市市中区 was published 1984-12 … 1995-12, then became 旌阳区 under a new code.
    assert region_code_problem("510602") is None
    assert not is_current_region("510602")
    assert is_current_region("510603")


def test_a_renamed_code_has_each_name_at_its_revisions_and_its_last_name_as_name() -> None:
    renamed = region("120110")
    assert renamed is not None
    assert renamed.name_at("198512") == "东郊区"
    assert renamed.name_at("199512") == "东丽区"
    assert renamed.name == "东丽区"
    assert renamed.name_at("197912") is None


def test_a_name_misprinted_in_some_revisions_gives_way_to_the_name_published_longer() -> None:
    # The 2002-12 … 2004-09 revisions printed 341302 as 墉桥区 beside 埇桥区.
    misprinted = region("341302")
    assert misprinted is not None
    assert {n.name for n in misprinted.names_at("200312")} == {"埇桥区", "墉桥区"}
    assert misprinted.name_at("200312") == "埇桥区"


def test_a_revision_that_is_not_yyyymm_is_refused() -> None:
    county = region("510603")
    assert county is not None
    with pytest.raises(ValueError, match="YYYYMM"):
        county.name_at("2019-04")


def test_a_county_name_path_runs_from_its_province_through_its_prefecture() -> None:
    assert name_path("510603") == "四川省 德阳市 旌阳区"
    assert registry().path("510603") == (("510000", "四川省"), ("510600", "德阳市"), ("510603", "旌阳区"))
    assert registry().province("510603") == ("510000", "四川省")
    assert registry().prefecture("510603") == ("510600", "德阳市")


def test_name_paths_skip_the_placeholders_that_group_municipal_and_directly_administered_counties() -> None:
    assert name_path("110101") == "北京市 东城区"  # 110100 is 市辖区
    assert name_path("500229") == "重庆市 城口县"  # 500200 is 县
    assert name_path("429004") == "湖北省 仙桃市"  # 429000 is 省直辖县级行政区划
    assert registry().prefecture("429004") is None


def test_a_placeholder_asked_for_itself_is_named_under_its_prefecture() -> None:
    assert name_path("510601") == "四川省 德阳市 市辖区"
    placeholder = region("510601")
    assert placeholder is not None and placeholder.is_placeholder


def test_a_name_path_uses_the_names_in_force_at_the_revision_asked_for() -> None:
    assert name_path("210112", "199012") == "辽宁省 沈阳市 东陵区"
    assert name_path("210112") == "辽宁省 沈阳市 浑南区"
    assert name_path("510603", "199012") == ""  # 旌阳区 dates from 1996


def test_a_prefecture_created_after_a_county_was_retired_is_not_its_prefecture() -> None:
    # 231120 绥芬河市 (1984-12 … 1985-12) predates 231100 黑河市 (from 1993-12).
    assert name_path("231120") == "黑龙江省 绥芬河市"
    assert registry().prefecture("231120") is None


def test_an_unknown_code_has_no_path() -> None:
    assert name_path("510605") == ""
    assert registry().province("510605") is None


@given(st.sampled_from(CODES))
def test_every_code_path_ends_with_its_own_name_below_ancestors_whose_codes_it_extends(code: str) -> None:
    found = region(code)
    assert found is not None
    path = registry().path(code)
    assert path[-1] == (code, found.name)
    assert path[0][0].endswith("0000")
    for ancestor, _ in path[:-1]:
        assert code.startswith(ancestor.rstrip("0")) and ancestor != code


def test_levels_follow_the_code_segments() -> None:
    levels = {found.code: found.level for found in registry() if found.code in ("510000", "510600", "510603")}
    assert levels == {"510000": RegionLevel.PROVINCE, "510600": RegionLevel.PREFECTURE, "510603": RegionLevel.COUNTY}


def test_children_are_the_codes_directly_below_in_force_at_the_revision() -> None:
    assert [c.name for c in registry().children("510600")] == [
        "旌阳区",
        "罗江区",
        "中江县",
        "广汉市",
        "什邡市",
        "绵竹市",
    ]
    assert [c.code for c in registry().children("510600", "198412")] == [
        "510602",
        "510622",
        "510623",
        "510624",
        "510625",
    ]


def test_the_parser_skips_blank_lines_and_comments() -> None:
    text = "code\tname\tfirst_revision\tlast_revision\n# 来源：民政部\n\n510603\t旌阳区\t199612\t201904\n"
    table = RegionRegistry(parse_table(text))
    assert len(table) == 1 and table.is_current("510603")


@pytest.mark.parametrize(
    "row",
    [
        "51060\t旌阳区\t199612\t201904",  # 5-digit code
        "510603\t旌阳区\t199612",  # a column missing
        "510603\t旌阳区\t201904\t199612",  # last before first
        "510603\t旌阳区\t199613\t201904",  # no month 13
        " 510603\t旌阳区\t199612\t201904",  # indented
    ],
)
def test_the_parser_refuses_a_malformed_row_naming_its_line(row: str) -> None:
    with pytest.raises(ValueError, match="line 3: not a code-name pair"):
        parse_table(f"code\tname\tfirst_revision\tlast_revision\n110000\t北京市\t198012\t201904\n{row}\n")


def test_the_parser_refuses_a_table_without_its_header() -> None:
    with pytest.raises(ValueError, match="header"):
        parse_table("510603\t旌阳区\t199612\t201904\n")
