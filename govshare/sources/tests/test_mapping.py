"""Column-mapping suggestions (by name and by sample values) and the checks of a confirmed mapping."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from govshare.sources.mapping import normalise_name, suggest_mapping, validate_mapping


@dataclass(frozen=True)
class Item:
    name: str
    data_type: str
    length: int | None = None


ITEMS = [
    Item("公民身份号码", "C", 18),
    Item("姓名", "C", 50),
    Item("出生日期", "D"),
    Item("联系电话", "C", 20),
    Item("住址", "C", 200),
    Item("月收入", "Y"),
]
ID_A, ID_B = "11010519491231002X", "440524188001010014"


def suggested(columns: list[str], rows: list[list[str | None]] | None = None) -> dict[str, str | None]:
    return {s.column: s.item_name for s in suggest_mapping(columns, rows or [], ITEMS)}


def test_the_same_name_is_suggested_with_full_score() -> None:
    [suggestion] = suggest_mapping(["姓名"], [], ITEMS)
    assert (suggestion.item_name, suggestion.score, suggestion.reason) == ("姓名", 1.0, "名称相同")


def test_full_width_spaces_and_case_are_ignored() -> None:
    assert normalise_name("Ｓｆｚｈ （号码）") == "sfzh号码"
    assert suggested(["姓　名", "出生_日期"]) == {"姓　名": "姓名", "出生_日期": "出生日期"}


def test_synonyms() -> None:
    columns = ["证件号码", "手机", "地址"]
    assert suggested(columns) == {"证件号码": "公民身份号码", "手机": "联系电话", "地址": "住址"}
    assert "同义名称" in suggest_mapping(["证件号码"], [], ITEMS)[0].reason


def test_similar_names_are_scored_by_rapidfuzz() -> None:
    [suggestion] = suggest_mapping(["月收入（元）"], [], ITEMS)
    assert suggestion.item_name == "月收入"
    assert 0.6 <= suggestion.score < 0.97
    assert "名称相近" in suggestion.reason


def test_unrelated_columns_get_nothing() -> None:
    assert suggested(["备注", "操作员"]) == {"备注": None, "操作员": None}


def test_sample_values_fill_in_when_names_say_nothing() -> None:
    rows: list[list[str | None]] = [[ID_A, "1949-12-31", "1,200.50"], [ID_B, "1880/1/1", None]]
    assert suggested(["col1", "col2", "col3"], rows) == {"col1": "公民身份号码", "col2": "出生日期", "col3": "月收入"}


def test_sample_values_do_not_choose_between_two_items_of_the_same_type() -> None:
    items = [Item("出生日期", "D"), Item("登记日期", "D")]
    [suggestion] = suggest_mapping(["c1"], [["2024-01-02"]], items)
    assert suggestion.item_name is None


def test_samples_that_contradict_the_type_lower_the_score() -> None:
    good = suggest_mapping(["出生日期"], [["1990-01-01"]], ITEMS)[0]
    bad = suggest_mapping(["出生日期"], [["不详"]], ITEMS)[0]
    assert bad.item_name == "出生日期"
    assert bad.score < good.score
    assert "样例值不像日期型数据" in bad.reason


def test_the_better_column_wins_an_item() -> None:
    result = suggested(["电话号码", "联系电话"])
    assert result == {"电话号码": None, "联系电话": "联系电话"}


def test_one_suggestion_per_column_in_order() -> None:
    columns = ["x", "姓名", "y"]
    assert [s.column for s in suggest_mapping(columns, [], ITEMS)] == columns


NAME_VARIANTS = {
    "公民身份号码": ["公民身份号码", "身份证号", "证件号码", "ＳＦＺＨ", "身份证号码 "],
    "姓名": ["姓名", "姓 名", "名字", "人员姓名"],
    "出生日期": ["出生日期", "生日", "出生年月日"],
    "联系电话": ["联系电话", "手机", "电话号码", "手机号码"],
    "住址": ["住址", "地址", "家庭住址"],
    "月收入": ["月收入", "月收入(元)", "收入"],
}


@given(
    st.lists(
        st.sampled_from(sorted(NAME_VARIANTS)).flatmap(lambda item: st.sampled_from(NAME_VARIANTS[item])),
        min_size=1,
        max_size=12,
    ),
    st.lists(st.sampled_from([ID_A, "2024-01-02", "12.5", "张三", "", None]), max_size=12),
)
def test_a_renaming_or_permutation_never_maps_one_item_twice(columns: list[str], samples: list[str | None]) -> None:
    rows = [samples[i:] + samples[:i] for i in range(3)]
    result = suggest_mapping(columns, rows, ITEMS)
    chosen = [s.item_name for s in result if s.item_name is not None]
    assert len(chosen) == len(set(chosen))
    assert [s.column for s in result] == columns
    assert all((s.item_name is None) == (s.score == 0) for s in result)


# --- validate_mapping ----------------------------------------------------------------------------------------------


def test_a_good_mapping_has_no_problems() -> None:
    mapping = [{"column": "sfzh", "item": "公民身份号码"}, {"column": "xm", "item": "姓名"}]
    assert validate_mapping(mapping, ["sfzh", "xm"], ITEMS, key_items=["公民身份号码"]) == []


def test_unknown_column_and_item() -> None:
    problems = validate_mapping([{"column": "籍贯", "item": "民族"}], ["xm"], ITEMS)
    assert [p.message for p in problems] == ["来源中没有字段“籍贯”", "“民族”不是本资源的信息项"]
    assert {p.field for p in problems} == {"mapping[1]"}


def test_an_item_mapped_twice() -> None:
    mapping = [{"column": "a", "item": "姓名"}, {"column": "b", "item": "姓名"}]
    [problem] = validate_mapping(mapping, ["a", "b"], ITEMS)
    assert problem.field == "mapping[2]"
    assert problem.column == "b"
    assert "信息项“姓名”被映射了两次（另见第 1 行）" in problem.message


def test_a_column_mapped_twice() -> None:
    mapping = [{"column": "a", "item": "姓名"}, {"column": "a", "item": "住址"}]
    [problem] = validate_mapping(mapping, ["a"], ITEMS)
    assert problem.message == "来源字段“a”映射了两次（另见第 1 行）"


def test_key_items_must_be_mapped() -> None:
    [problem] = validate_mapping([{"column": "a", "item": "姓名"}], ["a"], ITEMS, key_items=["公民身份号码"])
    assert problem.message == "主键信息项“公民身份号码”必须映射到一个来源字段"


def test_an_empty_mapping_is_refused() -> None:
    [problem] = validate_mapping([], ["a"], ITEMS)
    assert problem.field == "mapping"


def test_columns_unknown_yet_are_not_checked() -> None:
    assert validate_mapping([{"column": "任意", "item": "姓名"}], None, ITEMS) == []
