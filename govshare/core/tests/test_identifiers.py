from hypothesis import given
from hypothesis import strategies as st

from govshare.core.identifiers import (
    USCC_ALPHABET,
    make_uscc,
    org_code_check_char,
    resident_id_problem,
    uscc_check_char,
    uscc_problem,
)


def test_standard_examples_of_uscc_are_valid() -> None:
    assert uscc_problem("91350100M000100Y43") is None
    assert uscc_problem("9131000063159284XQ") is None


def test_wrong_uscc_check_character_names_the_expected_one() -> None:
    problem = uscc_problem("91350100M000100Y44")
    assert problem is not None and "应为“3”" in problem


def test_uscc_rejects_letters_outside_the_alphabet() -> None:
    problem = uscc_problem("91350100M000100YO3")
    assert problem is not None and "非法字符" in problem


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_any_first17_with_its_check_char_is_valid_and_one_changed_char_is_not(first17: str) -> None:
    full = first17 + uscc_check_char(first17)
    if full[2:8].isdigit():
        assert uscc_problem(full) is None
    wrong = USCC_ALPHABET[(USCC_ALPHABET.index(full[17]) + 1) % 31]
    assert uscc_problem(full[:17] + wrong) is not None


def test_org_code_check_char_maps_10_to_x_and_11_to_0() -> None:
    # D2143569 is the textbook example of GB 11714 with check digit X.
    assert org_code_check_char("D2143569") == "X"


def test_make_uscc_builds_a_valid_code() -> None:
    assert uscc_problem(make_uscc("11", "510600", "00000001")) is None


def test_resident_id_examples_from_the_standard_are_valid() -> None:
    assert resident_id_problem("11010519491231002X") is None
    assert resident_id_problem("440524188001010014") is None


def test_resident_id_with_future_birth_date_is_rejected() -> None:
    problem = resident_id_problem("110105209912310021")
    assert problem is not None and "出生日期" in problem


@given(st.text(alphabet="0123456789X", max_size=25))
def test_resident_id_validator_never_raises(value: str) -> None:
    result = resident_id_problem(value)
    assert result is None or isinstance(result, str)
