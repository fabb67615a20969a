import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from govshare.core.identifiers import (
    USCC_ALPHABET,
    make_uscc,
    org_code_check_char,
    resident_id_check_char,
    resident_id_problem,
    uscc_check_char,
    uscc_problem,
)
from govshare.core.regions import registry

TODAY = dt.date(2026, 12, 1)
REGION_CODES = sorted(r.code for r in registry())
region_codes = st.sampled_from(REGION_CODES)
unknown_regions = st.integers(0, 999_999).map(lambda n: f"{n:06d}").filter(lambda c: c not in registry())


def resident_id(region: str, born: str, sequence: str = "001") -> str:
    first17 = region + born + sequence
    return first17 + resident_id_check_char(first17)


def test_standard_examples_of_uscc_are_valid() -> None:
    assert uscc_problem("91350100M000100Y43") is None
    assert uscc_problem("9131000063159284XQ") is None


def test_wrong_uscc_check_character_names_the_expected_one() -> None:
    problem = uscc_problem("91350100M000100Y44")
    assert problem is not None and "应为“3”" in problem


def test_uscc_rejects_letters_outside_the_alphabet() -> None:
    problem = uscc_problem("91350100M000100YO3")
    assert problem is not None and "非法字符" in problem


@given(
    st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2),
    region_codes,
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
)
def test_any_first17_with_its_check_char_is_valid_and_one_changed_char_is_not(
    kind: str, region: str, organisation: str
) -> None:
    first17 = kind + region + organisation
    full = first17 + uscc_check_char(first17)
    assert uscc_problem(full) is None
    wrong = USCC_ALPHABET[(USCC_ALPHABET.index(full[17]) + 1) % 31]
    assert uscc_problem(full[:17] + wrong) is not None


@given(unknown_regions.filter(lambda c: c != "100000"))
def test_uscc_whose_characters_3_to_8_are_no_region_code_is_refused_naming_them(region: str) -> None:
    problem = uscc_problem(make_uscc("11", region, "00000001"))
    assert problem == (
        f"统一社会信用代码第3-8位“{region}”不是行政区划代码（1980年12月至2019年4月的 GB/T 2260 历次版本中都没有）"
    )


def test_uscc_of_a_national_registration_carries_100000() -> None:
    assert "100000" not in registry()
    assert uscc_problem(make_uscc("51", "100000", "50000001")) is None


def test_uscc_of_a_provincial_registration_carries_the_province_code() -> None:
    assert uscc_problem(make_uscc("11", "510000", "00000001")) is None


def test_uscc_keeps_the_code_of_a_retired_county() -> None:
    assert uscc_problem(make_uscc("92", "510602", "L0000001")) is None  # 德阳市市中区, retired in 1996


def test_org_code_check_char_maps_10_to_x_and_11_to_0() -> None:
    # D2143569 is the textbook example of GB 11714 with check digit X.
    assert org_code_check_char("D2143569") == "X"


def test_make_uscc_builds_a_valid_code() -> None:
    assert uscc_problem(make_uscc("11", "510600", "00000001")) is None


def test_resident_id_examples_from_the_standard_are_valid() -> None:
    assert resident_id_problem("11010519491231002X") is None
    assert resident_id_problem("440524188001010014") is None


@given(region_codes, st.dates(dt.date(1900, 1, 1), TODAY), st.integers(0, 999))
def test_a_resident_id_of_any_region_code_of_any_revision_and_any_past_birth_date_is_valid(
    region: str, born: dt.date, sequence: int
) -> None:
    assert resident_id_problem(resident_id(region, f"{born:%Y%m%d}", f"{sequence:03d}"), today=TODAY) is None


def test_a_resident_id_keeps_the_code_of_a_county_retired_since() -> None:
    # 510602 德阳市市中区 was last published in 1995-12.
    assert resident_id_problem(resident_id("510602", "19490101"), today=TODAY) is None


def test_a_resident_id_may_carry_a_county_code_created_after_the_birth() -> None:
    # 510604 罗江区 dates from 2017-12; the number was assigned where the holder was registered, not at birth.
    assert resident_id_problem(resident_id("510604", "19570301"), today=TODAY) is None


@given(unknown_regions)
def test_a_resident_id_whose_first_6_digits_are_no_region_code_is_refused_naming_them(region: str) -> None:
    problem = resident_id_problem(resident_id(region, "19900101"), today=TODAY)
    assert problem == (
        f"公民身份号码前6位（地址码）“{region}”不是行政区划代码（1980年12月至2019年4月的 GB/T 2260 历次版本中都没有）"
    )


def test_resident_id_with_future_birth_date_is_rejected() -> None:
    problem = resident_id_problem("110105209912310021")
    assert problem is not None and "出生日期" in problem


@given(st.text(alphabet="0123456789X", max_size=25))
def test_resident_id_validator_never_raises(value: str) -> None:
    result = resident_id_problem(value)
    assert result is None or isinstance(result, str)
