"""Suggestions for mapping a source's columns to the resource's information items, and checks of a mapping.

A column is matched to an item by its name (the same name; the same after folding full-width characters, spaces,
punctuation and case; a known synonym such as 证件号码 for 公民身份号码; or a close spelling, scored by
rapidfuzz) and by its sample values (values that parse as dates fit a 日期型 item, numbers a 数值型 or 货币型
item, 18-character resident ID numbers a 字符型 item of length 18). The best-scoring pairs are taken first, so
each item is used at most once and each column at most once; a column without a good enough match gets None.
The user confirms or corrects the suggestions; `validate_mapping` checks what they send.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from rapidfuzz import fuzz

from govshare.core.errors import FieldProblem
from govshare.core.identifiers import resident_id_problem

__all__ = ["SYNONYMS", "ItemLike", "MappingSuggestion", "normalise_name", "suggest_mapping", "validate_mapping"]


class ItemLike(Protocol):
    """What the suggestions need of an information item (catalog.models.Item or ItemDraft)."""

    @property
    def name(self) -> str: ...

    @property
    def data_type(self) -> str: ...

    @property
    def length(self) -> int | None: ...


@dataclass(frozen=True)
class MappingSuggestion:
    column: str
    item_name: str | None
    score: float  # 0–1; 0 when nothing is suggested
    reason: str  # Chinese, shown next to the suggestion


# Names that mean the same thing in government data. Each group is matched as one name.
SYNONYMS: tuple[frozenset[str], ...] = tuple(
    frozenset(group)
    for group in (
        {
            "公民身份号码",
            "身份证号",
            "身份证号码",
            "身份证",
            "证件号码",
            "证件号",
            "居民身份证号码",
            "sfzh",
            "idcard",
            "idno",
        },
        {"姓名", "名字", "人员姓名", "xm", "name"},
        {"性别", "xb", "sex", "gender"},
        {"出生日期", "出生年月日", "生日", "csrq", "birthday", "birthdate"},
        {
            "手机",
            "手机号",
            "手机号码",
            "联系电话",
            "电话号码",
            "电话",
            "联系方式",
            "移动电话",
            "sjhm",
            "lxdh",
            "phone",
            "mobile",
        },
        {"地址", "住址", "居住地址", "家庭住址", "详细地址", "联系地址", "dz", "address"},
        {"户籍地址", "户籍地", "户籍所在地", "户口所在地"},
        {"民族", "mz", "nation"},
        {"统一社会信用代码", "社会信用代码", "信用代码", "tyshxydm", "uscc"},
        {"单位名称", "企业名称", "机构名称", "法人名称", "dwmc"},
        {"法定代表人", "法人代表", "法定代表人姓名", "fddbr"},
        {"行政区划代码", "行政区划", "区划代码", "xzqh", "region"},
        {"更新时间", "修改时间", "最后更新时间", "gxsj", "updatetime", "updatedat"},
        {"创建时间", "录入时间", "登记时间", "cjsj", "createtime", "createdat"},
        {"邮政编码", "邮编", "yzbm", "zipcode", "postcode"},
        {"电子邮箱", "邮箱", "电子邮件", "email"},
    )
)

# Below this a name alone does not suggest anything.
MIN_NAME_SCORE = 0.6
# A suggestion from the sample values alone (no similar name) scores this much.
TYPE_ONLY_SCORE = 0.5
ID_ONLY_SCORE = 0.7

_PUNCTUATION = re.compile(r"[\s_\-—·.。,，、:：;；/\\|()（）\[\]【】{}<>《》\"'“”‘’]+")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_DATE = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))$")
_DATETIME = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?[ T](\d{1,2}):(\d{2})(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$"
)
_BOOLEAN = frozenset({"是", "否", "true", "false", "y", "n", "yes", "no", "0", "1", "t", "f"})
_TYPE_LABEL = {
    "C": "字符型",
    "N": "数值型",
    "Y": "货币型",
    "D": "日期型",
    "T": "日期时间型",
    "L": "逻辑型",
    "M": "备注型",
}


def normalise_name(name: str) -> str:
    """Full-width to half-width (NFKC), lower case, without spaces and punctuation."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", name)).lower()


_SYNONYM_GROUP = {normalise_name(word): n for n, group in enumerate(SYNONYMS) for word in group}


# --- what the sample values look like -----------------------------------------------------------------------------


def _is_date(text: str) -> bool:
    match = _DATE.match(text)
    if match is None:
        return False
    year, month, day = (match.group(1), match.group(2) or match.group(4), match.group(3) or match.group(5))
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _is_datetime(text: str) -> bool:
    match = _DATETIME.match(text)
    if match is None:
        return False
    try:
        dt.datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)), int(match.group(4)))  # noqa: DTZ001
    except ValueError:
        return False
    return True


def _is_number(text: str) -> bool:
    return bool(_NUMBER.match(text.replace("¥", "").replace("￥", "").strip()))


def _is_resident_id(text: str) -> bool:
    return len(text) == 18 and resident_id_problem(text.upper()) is None


@dataclass(frozen=True)
class _Profile:
    """Shares of a column's non-empty sample values that look like each kind of value."""

    count: int = 0
    date: float = 0.0
    datetime: float = 0.0
    number: float = 0.0
    boolean: float = 0.0
    resident_id: float = 0.0
    max_length: int = 0

    def fit(self, data_type: str, length: int | None) -> float:
        """How well the samples fit an item of this type: 1 when they all do (or there are none), 0 when none do."""
        if self.count == 0:
            return 1.0
        if data_type == "D":
            return self.date
        if data_type == "T":
            return max(self.datetime, 0.8 * self.date)
        if data_type in ("N", "Y"):
            return self.number
        if data_type == "L":
            return self.boolean
        if data_type == "C" and length and self.max_length > length:
            return 0.3
        return 1.0

    @property
    def kind(self) -> str:
        """The item type the samples clearly point to ("" when they are plain text or there are none)."""
        if self.count == 0:
            return ""
        for kind, share in (
            ("resident_id", self.resident_id),
            ("T", self.datetime),
            ("D", self.date),
            ("N", self.number),
        ):
            if share >= 0.8:
                return kind
        return ""


def _profile(values: Iterable[str | None]) -> _Profile:
    texts = [unicodedata.normalize("NFKC", v).strip() for v in values if v is not None and v.strip()]
    if not texts:
        return _Profile()
    n = len(texts)
    return _Profile(
        count=n,
        date=sum(_is_date(t) for t in texts) / n,
        datetime=sum(_is_datetime(t) for t in texts) / n,
        number=sum(_is_number(t) for t in texts) / n,
        boolean=sum(t.lower() in _BOOLEAN for t in texts) / n,
        resident_id=sum(_is_resident_id(t) for t in texts) / n,
        max_length=max(len(t) for t in texts),
    )


# --- names -------------------------------------------------------------------------------------------------------


def _name_score(column: str, item: str) -> tuple[float, str]:
    if column == item:
        return 1.0, "名称相同"
    a, b = normalise_name(column), normalise_name(item)
    if a and a == b:
        return 0.97, "名称相同（忽略全半角、空格、标点和大小写）"
    group_a, group_b = _SYNONYM_GROUP.get(a), _SYNONYM_GROUP.get(b)
    if group_a is not None and group_a == group_b:
        return 0.92, f"同义名称：“{column}”即“{item}”"
    if not a or not b:
        return 0.0, ""
    similarity = max(fuzz.ratio(a, b), fuzz.partial_ratio(a, b) * 0.9 if min(len(a), len(b)) >= 2 else 0.0) / 100
    return similarity * 0.85, f"名称相近（相似度 {similarity:.0%}）"


def _type_only(profile: _Profile, item: ItemLike) -> tuple[float, str]:
    kind = profile.kind
    if kind == "resident_id" and item.data_type == "C" and item.length == 18:
        return ID_ONLY_SCORE, "样例值是18位公民身份号码，与长度为18的字符型信息项相符"
    if kind and kind == item.data_type:
        return TYPE_ONLY_SCORE, f"样例值都是{_TYPE_LABEL.get(kind, kind)}数据，与信息项类型相符"
    if kind == "N" and item.data_type == "Y":
        return TYPE_ONLY_SCORE, "样例值都是数值，与货币型信息项相符"
    return 0.0, ""


def suggest_mapping(
    columns: list[str], sample_rows: list[list[str | None]], items: Sequence[ItemLike]
) -> list[MappingSuggestion]:
    """One suggestion per column, in the columns' order; each item suggested for at most one column."""
    profiles = [_profile(row[i] if i < len(row) else None for row in sample_rows) for i in range(len(columns))]
    candidates: list[tuple[float, int, int, str]] = []
    type_only: list[tuple[float, int, int, str]] = []
    for c, column in enumerate(columns):
        for i, item in enumerate(items):
            score, reason = _name_score(column, item.name)
            fit = profiles[c].fit(item.data_type, item.length)
            if score >= MIN_NAME_SCORE:
                combined = score * (0.75 + 0.25 * fit)
                if fit < 0.5:
                    reason += f"；但样例值不像{_TYPE_LABEL.get(item.data_type, item.data_type)}数据"
                candidates.append((combined, c, i, reason))
            else:
                only, why = _type_only(profiles[c], item)
                if only:
                    type_only.append((only, c, i, why))
    chosen: dict[int, tuple[int, float, str]] = {}
    used_items: set[int] = set()
    # Names first, best first; the tie goes to the earlier column and item.
    for score, c, i, reason in sorted(candidates, key=lambda t: (-t[0], t[1], t[2])):
        if c not in chosen and i not in used_items:
            chosen[c] = (i, score, reason)
            used_items.add(i)
    # Then the sample values, but only where they point to exactly one free item.
    for score, c, i, reason in sorted(type_only, key=lambda t: (-t[0], t[1], t[2])):
        if c in chosen or i in used_items:
            continue
        rivals = {j for s, cc, j, _ in type_only if cc == c and s == score and j not in used_items}
        if len(rivals) == 1:
            chosen[c] = (i, score, reason)
            used_items.add(i)
    suggestions = []
    for c, column in enumerate(columns):
        if c in chosen:
            i, score, reason = chosen[c]
            suggestions.append(MappingSuggestion(column, items[i].name, round(score, 3), reason))
        else:
            suggestions.append(MappingSuggestion(column, None, 0.0, "未找到相符的信息项"))
    return suggestions


# --- checking a mapping --------------------------------------------------------------------------------------------


def validate_mapping(
    mapping: Sequence[Mapping[str, str]],
    columns: Sequence[str] | None,
    items: Sequence[ItemLike],
    *,
    key_items: Sequence[str] = (),
) -> list[FieldProblem]:
    """Problems of a mapping `[{"column", "item"}]`: unknown column (when the columns are known) or item, a column
    or an item mapped twice, key items left unmapped. Empty when it is fine."""
    item_names = {item.name for item in items}
    problems: list[FieldProblem] = []
    if not mapping:
        return [FieldProblem("mapping", "请至少为一个来源字段选择对应的信息项")]
    seen_columns: dict[str, int] = {}
    seen_items: dict[str, int] = {}
    for n, entry in enumerate(mapping, start=1):
        where = f"mapping[{n}]"
        column, item = str(entry.get("column", "")), str(entry.get("item", ""))
        if columns is not None and column not in columns:
            problems.append(FieldProblem(where, f"来源中没有字段“{column}”", column=column))
        if item not in item_names:
            problems.append(FieldProblem(where, f"“{item}”不是本资源的信息项", column=column))
        if column in seen_columns:
            problems.append(
                FieldProblem(where, f"来源字段“{column}”映射了两次（另见第 {seen_columns[column]} 行）", column=column)
            )
        if item in seen_items and item in item_names:
            problems.append(
                FieldProblem(
                    where,
                    f"信息项“{item}”被映射了两次（另见第 {seen_items[item]} 行），每个信息项只能对应一个来源字段",
                    column=column,
                )
            )
        seen_columns.setdefault(column, n)
        seen_items.setdefault(item, n)
    for key in key_items:
        if key not in seen_items:
            problems.append(FieldProblem("mapping", f"主键信息项“{key}”必须映射到一个来源字段"))
    return problems
