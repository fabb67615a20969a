"""Masking by level (domain.md §7): documented examples exactly, and for every rule, on any text: idempotent,
the same length in characters, never the original (a value without ``*``), and a column masks like its values."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govshare.core.masking import MaskingPolicy, MaskRule, mask_arrow_column, mask_value, masking_rule_for

POLICY = MaskingPolicy()
LENGTH_KEEPING_RULES = [r for r in MaskRule if r is not MaskRule.WITHHOLD]

# Text likely to hit every branch: address markers, compound surnames, digits, ASCII, and the mask character.
ALPHABET = st.sampled_from([*"区县旗市省欧阳司马张王李路号0123456789Xab*", "\u00e9", "\U0001f600"])
TEXT = st.text(ALPHABET, max_size=30)


def mask(value: str, rule: str) -> str:
    masked = mask_value(value, rule, POLICY)
    assert masked is not None
    return masked


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("id_number", "11010519491231002X", "110105********002X"),
        ("id_number", "440524188001010014", "440524********0014"),
        ("mobile", "13812345678", "138****5678"),
        ("name", "张三", "张*"),
        ("name", "张三丰", "张**"),
        ("name", "欧阳娜娜", "欧阳**"),
        ("name", "司马相如", "司马**"),
        ("name", "欧阳", "欧*"),
        ("address", "北京市朝阳区建国路88号", "北京市朝阳区******"),
        ("address", "四川省德阳市旌阳区长江东路1号", "四川省德阳市旌阳区******"),
        ("address", "四川省德阳市广汉市雒城镇中山大道", "四川省德阳市广汉市*******"),
        ("address", "北京市朝阳区", "北京市***"),
        ("address", "建国路88号", "建****号"),
        ("bank_card", "6222021234567890123", "***************0123"),
        ("text", "某某科技有限公司", "某******司"),
        ("text", "ab", "a*"),
        ("text", "a", "*"),
        ("text", "", ""),
    ],
)
def test_documented_examples(rule: str, value: str, expected: str) -> None:
    assert mask(value, rule) == expected


@settings(max_examples=300, deadline=None)
@given(value=TEXT, rule=st.sampled_from(LENGTH_KEEPING_RULES))
def test_masking_is_idempotent(value: str, rule: str) -> None:
    once = mask(value, rule)
    assert mask(once, rule) == once


@settings(max_examples=300, deadline=None)
@given(value=TEXT, rule=st.sampled_from(LENGTH_KEEPING_RULES))
def test_masking_keeps_the_length_in_characters(value: str, rule: str) -> None:
    assert len(mask(value, rule)) == len(value)


@settings(max_examples=300, deadline=None)
@given(value=TEXT.filter(lambda v: v and "*" not in v), rule=st.sampled_from(LENGTH_KEEPING_RULES))
def test_a_value_is_never_returned_as_it_was(value: str, rule: str) -> None:
    assert mask(value, rule) != value


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.none() | TEXT, max_size=40), rule=st.sampled_from(LENGTH_KEEPING_RULES))
def test_a_column_masks_each_value_as_on_its_own(values: list[str | None], rule: str) -> None:
    column = mask_arrow_column(pa.array(values, pa.string()), rule, POLICY)
    assert column.to_pylist() == [mask_value(v, rule, POLICY) for v in values]


@settings(max_examples=500, deadline=None)
@given(value=st.text(ALPHABET, max_size=60), rule=st.sampled_from(LENGTH_KEEPING_RULES))
def test_one_value_is_masked_in_python_exactly_as_the_column_kernels_do(value: str, rule: str) -> None:
    # mask_value is plain Python (the gateway's few values per answer); the column kernels are the reference.
    assert mask_value(value, rule, POLICY) == mask_arrow_column(pa.array([value], pa.string()), rule, POLICY)[0].as_py()


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_sliced_and_large_columns_keep_nulls_and_type(kind: pa.DataType) -> None:
    column = pa.array(["x", "北京市朝阳区建国路", None, "建国路88号"], kind).slice(1)
    masked = mask_arrow_column(column, "address", POLICY)
    assert masked.type == kind and masked.to_pylist() == ["北京市朝阳区***", None, "建****号"]


def test_a_chunked_column_is_masked_chunk_by_chunk() -> None:
    column = pa.chunked_array([["13812345678"], ["13987654321", None]])
    assert mask_arrow_column(column, "mobile", POLICY).to_pylist() == ["138****5678", "139****4321", None]


def test_numbers_are_masked_as_their_text() -> None:
    assert mask_arrow_column(pa.array([13812345678, None]), "mobile", POLICY).to_pylist() == ["138****5678", None]


def test_withheld_values_never_leave() -> None:
    masked = mask_arrow_column(pa.array(["11010519491231002X", "x"]), "withhold", POLICY)
    assert masked.to_pylist() == [None, None]


def test_no_rule_leaves_the_column_as_it_is() -> None:
    column = pa.array(["张三"])
    assert mask_arrow_column(column, None, POLICY) is column


def test_policy_is_configurable(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MASKING = {"keep": {"mobile": [3, 0]}, "masked_levels": ["L2", "L3", "L1"]}
    assert mask_value("13812345678", "mobile") == "138********"
    assert mask_value("11010519491231002X", "id_number") == "110105********002X"
    assert masking_rule_for(FakeItem("姓名", data_level="L1")) == "name"


def test_a_misspelt_setting_is_refused(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MASKING = {"masked_level": ["L1"]}
    with pytest.raises(ValueError, match="unknown keys: masked_level"):
        mask_value("张三", "name")


@dataclass
class FakeItem:
    name: str
    data_type: str = "C"
    grade: str = "general"
    data_level: str = "L2"


@pytest.mark.parametrize(
    ("item", "rule"),
    [
        (FakeItem("公民身份号码", data_level="L3"), "id_number"),
        (FakeItem("法定代表人身份证号"), "id_number"),
        (FakeItem("联系电话"), "mobile"),
        (FakeItem("手机号码", data_level="L3"), "mobile"),
        (FakeItem("姓名"), "name"),
        (FakeItem("户籍地址"), "address"),
        (FakeItem("银行卡号"), "bank_card"),
        (FakeItem("备注", data_level="L3"), "text"),
        (FakeItem("备注", data_level="L2"), None),
        (FakeItem("出生日期", data_type="D", data_level="L3"), None),
        (FakeItem("姓名", data_level="L1"), None),
        (FakeItem("公民身份号码", data_level="L4"), "withhold"),
        (FakeItem("企业名称", grade="core", data_level="L1"), "withhold"),
    ],
)
def test_masking_rule_for_an_item(item: FakeItem, rule: str | None) -> None:
    assert masking_rule_for(item, POLICY) == rule
