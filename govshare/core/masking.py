"""Masking (脱敏) of personal values by level (domain.md §5, §7), vectorised with pyarrow compute.

Rules (each keeps the value's length in characters: every hidden character becomes one ``*``):

- ``id_number``  公民身份号码: keep the first 6 and the last 4 (``110105********002X``);
- ``mobile``     手机/电话: keep the first 3 and the last 4 (``138****5678``);
- ``name``       姓名: keep the surname, a compound one (欧阳、司马…) for names of three characters or more
  (``张*``, ``欧阳**``);
- ``address``    地址: keep up to the district: through the first 区/县/旗 among the first 20 characters, else
  through the 市 (two, as in 德阳市广汉市), never the whole address;
- ``bank_card``  银行卡号: keep the last 4;
- ``text``       any other text: keep the first and the last character;
- ``withhold``   L4 or 核心 data never leaves the platform: every value becomes null.

A value too short for its rule's kept characters falls back to the ``text`` rule (a two-character value keeps
its first character, a one-character value becomes ``*``), so that a maskable value is never returned as it was.
Masking is idempotent: masking a masked value changes nothing.

`masking_rule_for(item)` decides an item's rule from its level, grade, name and type; `mask_arrow_column`
applies a rule to a whole column (1,000,000 values in well under a second, see the tests' benchmark note);
`mask_value` masks one value with the same code. The policy (kept characters, name keywords, the levels that
are masked) is configurable: ``settings.MASKING`` may override any field of `MaskingPolicy`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings

__all__ = [
    "COMPOUND_SURNAMES",
    "MaskRule",
    "MaskingPolicy",
    "mask_arrow_column",
    "mask_value",
    "masking_policy",
    "masking_rule_for",
]


class MaskRule(StrEnum):
    ID_NUMBER = "id_number"
    MOBILE = "mobile"
    NAME = "name"
    ADDRESS = "address"
    BANK_CARD = "bank_card"
    TEXT = "text"
    WITHHOLD = "withhold"


# 复姓: a name of three or more characters starting with one of these keeps both characters.
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "太史",
        "端木",
        "上官",
        "司马",
        "东方",
        "独孤",
        "南宫",
        "万俟",
        "闻人",
        "夏侯",
        "诸葛",
        "尉迟",
        "公羊",
        "赫连",
        "澹台",
        "皇甫",
        "宗政",
        "濮阳",
        "公冶",
        "太叔",
        "申屠",
        "公孙",
        "慕容",
        "仲孙",
        "钟离",
        "长孙",
        "宇文",
        "司徒",
        "鲜于",
        "司空",
        "闾丘",
        "子车",
        "亓官",
        "司寇",
        "巫马",
        "公西",
        "颛孙",
        "壤驷",
        "公良",
        "漆雕",
        "乐正",
        "宰父",
        "谷梁",
        "拓跋",
        "夹谷",
        "轩辕",
        "令狐",
        "段干",
        "百里",
        "呼延",
        "东郭",
        "南门",
        "羊舌",
        "微生",
        "梁丘",
        "左丘",
        "西门",
        "第五",
        "南荣",
        "东里",
        "仲长",
        "子书",
        "子桑",
        "即墨",
        "达奚",
        "褚师",
    }
)

# Item names that say which rule applies, checked in this order (联系人电话 is a phone, not a name).
DEFAULT_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (MaskRule.ID_NUMBER, ("身份证", "公民身份号码", "身份号码", "证件号码", "证件号")),
    (MaskRule.BANK_CARD, ("银行卡", "银行账号", "银行帐号", "银行卡号", "账号", "帐号", "卡号")),
    (MaskRule.MOBILE, ("手机", "电话", "联系方式", "移动号码")),
    (MaskRule.NAME, ("姓名", "名字", "联系人", "法定代表人", "负责人", "户主")),
    (MaskRule.ADDRESS, ("地址", "住址", "住所", "居住地", "户籍地")),
)


@dataclass(frozen=True)
class MaskingPolicy:
    """What is masked and how; `settings.MASKING` (a dict of these fields) overrides the defaults."""

    # rule → (characters kept at the start, characters kept at the end)
    keep: Mapping[str, tuple[int, int]] = field(
        default_factory=lambda: {
            MaskRule.ID_NUMBER: (6, 4),
            MaskRule.MOBILE: (3, 4),
            MaskRule.BANK_CARD: (0, 4),
            MaskRule.TEXT: (1, 1),
        }
    )
    keywords: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_KEYWORDS
    compound_surnames: frozenset[str] = COMPOUND_SURNAMES
    # Levels whose items named like personal data are masked (DB33/T 2350: L3 较敏感, L2 低敏感).
    masked_levels: frozenset[str] = frozenset({"L2", "L3"})
    # Levels whose other text items are masked with the generic rule.
    text_levels: frozenset[str] = frozenset({"L3"})
    # L4 and 核心 data never leaves the platform.
    withheld_levels: frozenset[str] = frozenset({"L4"})
    withheld_grades: frozenset[str] = frozenset({"core"})
    # Item data types holding text (字符型, 备注型); numbers and dates are not masked as text.
    text_types: frozenset[str] = frozenset({"C", "M"})
    address_window: int = 20


def masking_policy() -> MaskingPolicy:
    """The default policy with `settings.MASKING` applied: `keep` entries replace only the rules they name; sets
    may be given as lists; an unknown key is an error (a misspelt setting must not silently mask less)."""
    overrides: Mapping[str, Any] = getattr(settings, "MASKING", None) or {}
    default = MaskingPolicy()
    if not overrides:
        return default
    unknown = set(overrides) - {f.name for f in dataclasses.fields(MaskingPolicy)}
    if unknown:
        raise ValueError(f"settings.MASKING has unknown keys: {', '.join(sorted(unknown))}")
    values = dict(overrides)
    if "keep" in values:
        values["keep"] = {**default.keep, **{k: tuple(v) for k, v in values["keep"].items()}}
    for name in (
        "compound_surnames",
        "masked_levels",
        "text_levels",
        "withheld_levels",
        "withheld_grades",
        "text_types",
    ):
        if name in values:
            values[name] = frozenset(values[name])
    return dataclasses.replace(default, **values)


class GradedItem(Protocol):
    name: str
    data_type: str
    grade: str
    data_level: str


def masking_rule_for(item: GradedItem, policy: MaskingPolicy | None = None) -> str | None:
    """The rule a non-owner's copy of this item's values gets, or None when they go out as they are (L1)."""
    policy = policy or masking_policy()
    if item.data_level in policy.withheld_levels or item.grade in policy.withheld_grades:
        return MaskRule.WITHHOLD
    if item.data_level not in policy.masked_levels:
        return None
    for rule, words in policy.keywords:
        if any(word in item.name for word in words):
            return rule
    if item.data_level in policy.text_levels and item.data_type in policy.text_types:
        return MaskRule.TEXT
    return None


# ---------------------------------------------------------------------------------------------- arrow kernels


def _stars(count: pa.Array) -> pa.Array:
    return pc.binary_repeat("*", pc.max_element_wise(count, 0))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _head(values: pa.Array, count: int) -> pa.Array:
    return pc.utf8_slice_codeunits(values, 0, count) if count else pa.scalar("", pa.string())


def _tail(values: pa.Array, count: int) -> pa.Array:
    return pc.utf8_slice_codeunits(values, -count) if count else pa.scalar("", pa.string())


def _keep(values: pa.Array, length: pa.Array, first: int, last: int) -> pa.Array:
    """Keep `first` and `last` characters, stars between; a value too short for them keeps first and last
    characters (three or more), its first (two), nothing (one)."""
    shortest = pc.min(length).as_py()
    if shortest is None or shortest > first + last:
        # The usual case: every value is long enough for the rule.
        return _join(_head(values, first), _stars(pc.subtract(length, first + last)), _tail(values, last))
    long = pc.greater(length, first + last)
    empty = pa.scalar("", values.type)
    head = _head(values, 1) if first == 1 else pc.if_else(long, _head(values, first), _head(values, 1))
    head = pc.if_else(pc.or_(long, pc.greater_equal(length, 2)), head, empty)
    tail = _tail(values, 1) if last == 1 else pc.if_else(long, _tail(values, last), _tail(values, 1))
    tail = pc.if_else(pc.or_(long, pc.greater_equal(length, 3)), tail, empty)
    hidden = pc.subtract(pc.subtract(length, pc.utf8_length(head)), pc.utf8_length(tail))
    return _join(head, _stars(hidden), tail)


def _name(values: pa.Array, length: pa.Array, policy: MaskingPolicy) -> pa.Array:
    compound = pc.and_(
        pc.greater_equal(length, 3),
        pc.is_in(_head(values, 2), value_set=pa.array(sorted(policy.compound_surnames), pa.string())),
    )
    one = _join(_head(values, 1), _stars(pc.subtract(length, 1)))
    two = _join(_head(values, 2), _stars(pc.subtract(length, 2)))
    return pc.if_else(pc.less_equal(length, 1), _stars(length), pc.if_else(compound, two, one))


def _buffers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (int64, from 0) and data bytes of a string array, without copying the data."""
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    _, offsets_buffer, data_buffer = values.buffers()
    offsets = np.frombuffer(offsets_buffer, width)[values.offset : values.offset + len(values) + 1].astype(np.int64)
    data = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    return offsets - offsets[0], data[offsets[0] : offsets[-1]]


def _occurrences(data: np.ndarray, chars: str) -> dict[str, np.ndarray]:
    """Byte positions of each three-byte UTF-8 character. One pass finds the bytes that could end one of them
    (a continuation byte: each is a few per cent of the data), then their two leading bytes are compared."""
    encoded = {char: char.encode() for char in chars}
    if len(data) < 3:
        return {char: np.zeros(0, np.int64) for char in chars}
    tail = data[2:]
    possible = np.zeros(len(tail), np.bool_)
    for byte in {code[2] for code in encoded.values()}:
        possible |= tail == byte  # comparisons: a lookup table would index with 8-byte integers per byte
    last = np.flatnonzero(possible) + 2
    first, second, third = data[last - 2], data[last - 1], data[last]
    return {
        char: last[(first == code[0]) & (second == code[1]) & (third == code[2])] - 2 for char, code in encoded.items()
    }


def _spans(data: np.ndarray, begin: np.ndarray, end: np.ndarray, kind: pa.DataType) -> pa.Array:
    """The strings data[begin[i]:end[i]] (ascending, non-overlapping ranges on character boundaries) at the even
    positions of one array whose offsets interleave the ranges (begin0, end0, begin1, …): no byte is copied."""
    bounds = np.empty(2 * len(begin), np.int64 if pa.types.is_large_string(kind) else np.int32)
    bounds[0::2], bounds[1::2] = begin, end
    if not len(bounds):
        return pa.array([], kind)
    return pa.Array.from_buffers(kind, len(bounds) - 1, [None, pa.py_buffer(bounds), pa.py_buffer(data)])


def _slices(data: np.ndarray, begin: np.ndarray, end: np.ndarray, kind: pa.DataType) -> pa.Array:
    """The strings data[begin[i]:end[i]] as their own array."""
    spans = _spans(data, begin, end, kind)
    return spans.take(pa.array(np.arange(0, len(spans) + 1, 2, dtype=np.int64))) if len(spans) else spans


def _first_per_row(row: np.ndarray) -> np.ndarray:
    """Indexes of the first entry of each row in an ascending array of rows."""
    if not len(row):
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.concatenate(([True], row[1:] != row[:-1])))


def _address_prefixes(values: pa.Array, length: np.ndarray, window: int) -> tuple[pa.Array, np.ndarray]:
    """Per value: its kept prefix ("" where no marker leaves anything to hide) and the prefix's characters.

    Byte-level search with numpy over the first `window` + 5 characters of each value, and slices taken through
    one array of interleaved offsets (`_slices`): pyarrow's regex and list kernels take seconds for 1,000,000
    addresses, this a fraction of it.
    """
    head = pc.utf8_slice_codeunits(values, 0, window + 5)
    offsets, data = _buffers(head)
    rows = len(values)
    starts = offsets[:-1]
    kept_chars = np.zeros(rows, np.int64)
    kept_bytes = np.zeros(rows, np.int64)

    def characters_before(row: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """How many characters of its value precede byte `pos` (rows ascending, one position each)."""
        if not len(row):
            return np.zeros(0, np.int64)
        spans = _spans(data, starts[row], pos, head.type)
        return pc.utf8_length(spans).to_numpy(zero_copy_only=False)[0::2].astype(np.int64)

    def keep(row: np.ndarray, pos: np.ndarray, chars: np.ndarray) -> None:
        usable = (chars < length[row]) & (kept_chars[row] == 0)
        row, pos, chars = row[usable], pos[usable], chars[usable]
        kept_chars[row] = chars
        kept_bytes[row] = pos + 3 - starts[row]

    markers = _occurrences(data, "区县旗市")
    # District: through the first 区/县/旗 among the first `window` characters, unless nothing follows it.
    first = np.full(rows, len(data), np.int64)
    for marker in "区县旗":
        pos = markers[marker]
        row = np.searchsorted(offsets, pos, side="right") - 1
        index = _first_per_row(row)
        found = row[index]
        first[found] = np.minimum(first[found], pos[index])
    row = np.flatnonzero(first < len(data))
    pos = first[row]
    index = characters_before(row, pos)
    inside = index < window
    keep(row[inside], pos[inside], index[inside] + 1)
    # City: through the first 市 in the window, or through a second 市 one to four characters after it.
    pos = markers["市"]
    row = np.searchsorted(offsets, pos, side="right") - 1
    first_index = _first_per_row(row)
    found = row[first_index]
    first_pos = pos[first_index]
    index = characters_before(found, first_pos)
    inside = index < window
    found, first_index, first_pos, index = found[inside], first_index[inside], first_pos[inside], index[inside]
    second_index = np.minimum(first_index + 1, max(len(pos) - 1, 0))
    has_second = (second_index > first_index) & (row[second_index] == found)
    second_pos = np.where(has_second, pos[second_index], first_pos)
    gap = characters_before(found, second_pos) - index
    near = has_second & (gap >= 2) & (gap <= 5)
    keep(found, np.where(near, second_pos, first_pos), np.where(near, index + gap, index) + 1)
    return _slices(data, starts, starts + kept_bytes, head.type), kept_chars


def _address(values: pa.Array, length: pa.Array, policy: MaskingPolicy) -> pa.Array:
    lengths = length.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    prefix, kept_chars = _address_prefixes(values, lengths, policy.address_window)
    masked = _join(prefix, _stars(pc.subtract(length, pa.array(kept_chars))))
    usable = kept_chars > 0
    if not usable.all():
        # Values without a usable district or city keep their first and last characters.
        masked = pc.if_else(pa.array(usable), masked, _keep(values, length, 1, 1))
    return masked


def _as_text(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if isinstance(array.type, pa.DictionaryType):
        array = array.dictionary_decode() if isinstance(array, pa.Array) else pc.cast(array, array.type.value_type)
    if pa.types.is_large_string(array.type) or pa.types.is_string(array.type):
        return array
    if pa.types.is_string_view(array.type):
        return pc.cast(array, pa.string())
    return pc.cast(array, pa.string())


def mask_arrow_column(
    array: pa.Array | pa.ChunkedArray, rule: str | None, policy: MaskingPolicy | None = None
) -> pa.Array | pa.ChunkedArray:
    """The column with `rule` applied to every value (nulls stay null). No rule: the column as it is.

    Values that are not text (numbers, dictionary-encoded strings) are masked as their text, so the result is a
    string column; ``withhold`` answers a string column of nulls.
    """
    if rule is None:
        return array
    policy = policy or masking_policy()
    rule = MaskRule(rule)
    if rule is MaskRule.WITHHOLD:
        return pa.nulls(len(array), pa.string())
    values = _as_text(array)
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array([_mask(chunk, rule, policy) for chunk in values.chunks], values.type)
    return _mask(values, rule, policy)


def _mask(values: pa.Array, rule: MaskRule, policy: MaskingPolicy) -> pa.Array:
    if len(values) == 0 or values.null_count == len(values):
        return values
    kind = values.type
    if pa.types.is_large_string(kind) and values.nbytes < 2**31 - 2**20:
        values = values.cast(pa.string())  # the kernels below work on one offset width
    length = pc.utf8_length(values)
    if rule is MaskRule.NAME:
        masked = _name(values, length, policy)
    elif rule is MaskRule.ADDRESS:
        masked = _address(values, length, policy)
    else:
        first, last = policy.keep[rule]
        masked = _keep(values, length, first, last)
    return masked.cast(kind) if masked.type != kind else masked


def mask_value(value: str | None, rule: str | None, policy: MaskingPolicy | None = None) -> str | None:
    """One value masked by the same rules as a column: plain Python, for the few values of one answer (a gateway
    lookup), where the column kernels' fixed cost per call would dominate. The tests hold the two equal."""
    if value is None or rule is None:
        return value
    policy = policy or masking_policy()
    rule = MaskRule(rule)
    if rule is MaskRule.WITHHOLD:
        return None
    if rule is MaskRule.NAME:
        return _name_text(value, policy)
    if rule is MaskRule.ADDRESS:
        return _address_text(value, policy)
    first, last = policy.keep[rule]
    return _keep_text(value, first, last)


def _keep_text(value: str, first: int, last: int) -> str:
    length = len(value)
    if length > first + last:
        return value[:first] + "*" * (length - first - last) + (value[length - last :] if last else "")
    head = value[:1] if length >= 2 else ""
    tail = value[-1:] if length >= 3 else ""
    return head + "*" * max(length - len(head) - len(tail), 0) + tail


def _name_text(value: str, policy: MaskingPolicy) -> str:
    length = len(value)
    if length <= 1:
        return "*" * length
    kept = 2 if length >= 3 and value[:2] in policy.compound_surnames else 1
    return value[:kept] + "*" * (length - kept)


def _address_text(value: str, policy: MaskingPolicy) -> str:
    length, window = len(value), policy.address_window
    head = value[: window + 5]
    kept = 0
    districts = [position for position in (head.find(marker) for marker in "区县旗") if position >= 0]
    if districts and min(districts) < window and min(districts) + 1 < length:
        kept = min(districts) + 1
    city = head.find("市")
    if not kept and 0 <= city < window:
        second = head.find("市", city + 1)
        chars = second + 1 if second >= 0 and 2 <= second - city <= 5 else city + 1
        if chars < length:
            kept = chars
    if not kept:
        return _keep_text(value, 1, 1)
    return value[:kept] + "*" * (length - kept)
