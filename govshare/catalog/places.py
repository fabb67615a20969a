"""Place names in catalogue entry names, so that near-duplicate scoring can discount them.

Entries that differ only by place (城北街道辖区实有人口信息, 雒城街道辖区实有人口信息) are each a different place's
data, not duplicates; a shared place name (德阳市…, 德阳市…) says nothing about whether two entries hold the same
data. `split_places` takes the place names off the front of a name, where Chinese resource names put them:

- GB/T 2260 names of every revision (core's reference data): 德阳市, 旌阳区, and their short forms without the
  administrative suffix (德阳, 旌阳; 凉山彝族自治州 → 凉山), except short forms that are everyday words of
  government data (公安 of 公安县, 路桥, 日照, 资源 …);
- township-level names by their suffix: …街道(办事处), …镇, …乡, …社区, …居委会, …村委会 (two to five characters
  before the suffix; 城乡, 城镇, 全市… are not places).

Each place is answered in a canonical form (德阳市 and 德阳 are both 德阳; 城北街道 is 城北) so that the same place
written two ways is the same place.

`whole_jurisdiction` takes a prefix that names the department's whole jurisdiction rather than a place (全市, 全县,
本省 …) off the front of what is left.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import NamedTuple

from govshare.core.regions import registry

_ADMIN_SUFFIX = re.compile(
    r"(特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区|自治州|自治县|自治旗|地区|林区|特区|省|市|区|县|盟|旗)$"
)
# 凉山彝族自治州 → 凉山, 恩施土家族苗族自治州 → 恩施 (after the suffix is gone: 凉山彝族 → 凉山).
_NATIONALITIES = re.compile(r"^(.{2,}?)(?:[\u4e00-\u9fff]{1,5}?族)+$")
# Region names (or their short forms) that are everyday words in names of government data: never taken as places.
EVERYDAY_WORDS = frozenset(
    {
        "公安", "共和", "合作", "和政", "振兴", "新建", "资源", "惠民", "惠农", "市中", "康保", "路桥", "日照",
        "动力", "解放", "和平", "向阳", "红星", "四方", "大同", "阿里", "城区", "郊区", "市郊", "矿区", "长安",
        "平安", "民主", "团结", "胜利", "新华", "人民", "工农", "建设", "高新", "经济", "文化", "友谊", "前进",
        "光明", "东方", "中心", "新城", "城中", "城关", "安全", "交通", "白云", "永和", "普安", "宝塔", "灯塔",
        "麒麟", "红旗", "新兴", "花园", "开发", "青年", "先锋", "东风", "新市", "金融", "海关", "国防", "统一",
    }
)  # fmt: skip
_TOWNSHIP = re.compile(r"([\u4e00-\u9fff]{2,5}?)(街道办事处|街道|镇|乡|社区|居委会|村委会)")
_NOT_TOWNSHIPS = re.compile(r"^(全|本|各|该|城乡|城镇|乡镇|村镇|农村)")


# 全市实有人口信息: the whole of the department's city (county, province …), not a named place.
_WHOLE_JURISDICTION = re.compile(r"^(?:全|本)(?:省|市|州|盟|县|区|旗)(?:域|范围内?)?")


class Places(NamedTuple):
    places: frozenset[str]  # canonical place names found at the front of the name
    rest: str  # the name without them (the whole name when nothing else is left)


def _short_form(name: str) -> str:
    short = _ADMIN_SUFFIX.sub("", name)
    if nationalities := _NATIONALITIES.match(short):
        short = nationalities.group(1)
    return short if len(short) >= 2 else name


@cache
def region_names() -> dict[str, str]:
    """Every GB/T 2260 name (of any revision, placeholders excepted) and its short form → the canonical place."""
    found: dict[str, str] = {}
    for region in registry():
        for entry in region.names:
            if entry.is_placeholder:
                continue
            short = _short_form(entry.name)
            if short in EVERYDAY_WORDS or entry.name in EVERYDAY_WORDS:
                continue
            found[entry.name] = short
            found.setdefault(short, short)
    return found


@cache
def _lengths_by_first_character() -> dict[str, tuple[int, ...]]:
    """The lengths of the region names starting with each character, longest first (most characters start none)."""
    lengths: dict[str, set[int]] = {}
    for name in region_names():
        lengths.setdefault(name[0], set()).add(len(name))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}


def _region_at(text: str, start: int, names: dict[str, str]) -> tuple[str, int] | None:
    """The longest region name starting at `start`: (canonical place, its end)."""
    for length in _lengths_by_first_character().get(text[start], ()):
        if (place := names.get(text[start : start + length])) is not None:
            return place, start + length
    return None


def _township_at(text: str, start: int) -> tuple[str, int] | None:
    match = _TOWNSHIP.match(text, start)
    if match is None or _NOT_TOWNSHIPS.match(match.group(1)):
        return None
    return match.group(1), match.end()


@lru_cache(maxsize=65536)
def split_places(name: str) -> Places:
    """The place names at the front of `name` (德阳市旌阳区城北街道…) and the rest. `name` is expected compact
    (no spaces or punctuation), as duplicates.normalise_name leaves it."""
    names = region_names()
    places: set[str] = set()
    position = 0
    while position < len(name):
        region = _region_at(name, position, names)
        township = _township_at(name, position)
        # 城北街道 is a township although 城北 (区) is a region name too; in 旌阳区城北街道 the region comes first.
        if township is not None and (region is None or region[1] >= position + len(township[0])):
            found = township
        elif region is not None:
            found = region
        else:
            break
        place, position = found
        places.add(place)
    rest = name[position:]
    if not rest:
        # A name that is only a place (德阳市) is compared whole.
        return Places(frozenset(), name)
    return Places(frozenset(places), rest)


def whole_jurisdiction(rest: str) -> tuple[bool, str]:
    """Whether `rest` (a name without its places) starts by naming the whole jurisdiction (全市…, 本县…), and the
    name without that prefix (the whole name when nothing else would be left)."""
    match = _WHOLE_JURISDICTION.match(rest)
    if match is None or match.end() == len(rest):
        return False, rest
    return True, rest[match.end() :]


def different_places(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two names are about different places: both name a place and neither's places hold the other's
    (德阳 and 德阳·城北 are the same place narrowed, 城北 and 雒城 are two places)."""
    return bool(a) and bool(b) and not (a <= b or b <= a)


__all__ = ["EVERYDAY_WORDS", "Places", "different_places", "region_names", "split_places", "whole_jurisdiction"]
