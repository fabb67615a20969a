"""GB/T 2260 administrative region codes of every revision (domain.md §6), loaded once per process.

The data is `govshare/core/data/gb2260-history.tsv` (provenance in `data/README.md`): every county-and-above
code-name pair published by 民政部 / 国家统计局 from 1980-12 to 2019-04, with the first and last revision
(`YYYYMM`) that published it. Retired codes are never given to another place, so a code is valid in a record
when it existed at *some* revision, whatever the record's dates: a resident ID keeps the code of the county that
assigned the number, which may be newer than the birth date or retired since.

A code is 省 2 + 市 2 + 县 2 digits: `510000` 四川省, `510600` 德阳市, `510603` 旌阳区. Some codes are
placeholders that group others rather than name a place (`110100` 市辖区, `500200` 县, `429000`
省直辖县级行政区划): a name path skips them above the code asked for.

Where one revision published two names for a code (a rename caught mid-way, a misprint such as 墉桥区 beside
埇桥区), the name published over the longer span is taken as the code's name at that revision.

Codes created after April 2019 are not in the file; they are refused until the file is updated.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from enum import StrEnum
from functools import cache
from importlib.resources import files
from operator import itemgetter
from typing import NamedTuple

DATA_PACKAGE = "govshare.core"
DATA_FILE = "data/gb2260-history.tsv"
_COLUMNS = ("code", "name", "first_revision", "last_revision")
_REVISION_PATTERN = r"(?:19|20)\d\d(?:0[1-9]|1[0-2])"
_REVISION = re.compile(_REVISION_PATTERN)
# One row: code, name, first and last revision (tab-separated; a CR before the line end is tolerated).
_ROW = re.compile(rf"^(\d{{6}})\t([^\t\r\n]+)\t({_REVISION_PATTERN})\t({_REVISION_PATTERN})\r?$", re.MULTILINE)
# A line that should be a row: anything but a blank line or a comment (# …).
_CONTENT_LINE = re.compile(r"^[ \t]*[^#\s]", re.MULTILINE)

# Names that group codes instead of naming a place.
PLACEHOLDER_NAMES = frozenset(
    {
        "市辖区",
        "县",
        "市",
        "省直辖县级行政区划",
        "省直辖县级行政单位",
        "省直辖行政单位",
        "自治区直辖县级行政区划",
        "自治区直辖县级行政单位",
    }
)


class RegionLevel(StrEnum):
    PROVINCE = "province"  # 省级: ..0000
    PREFECTURE = "prefecture"  # 地级: ....00
    COUNTY = "county"  # 县级


def _months(revision: str) -> int:
    return int(revision[:4]) * 12 + int(revision[4:])


def _check_revision(revision: str) -> None:
    if _REVISION.fullmatch(revision) is None:
        raise ValueError(f"revision must be YYYYMM, got {revision!r}")


class RegionName(NamedTuple):
    """One code-name pair and the revisions that published it (first and last, inclusive)."""

    name: str
    first_revision: str
    last_revision: str

    def in_force_at(self, revision: str) -> bool:
        return self.first_revision <= revision <= self.last_revision

    @property
    def span(self) -> int:
        """How many months the pair was published for (a one-revision misprint spans 0)."""
        return _months(self.last_revision) - _months(self.first_revision)

    @property
    def is_placeholder(self) -> bool:
        return self.name in PLACEHOLDER_NAMES


def _preferred(names: tuple[RegionName, ...]) -> str:
    """Of names published by the same revision, the one published over the longer span (then the newer)."""
    return names[0].name if len(names) == 1 else max(names, key=lambda n: (n.span, n.first_revision)).name


class Region(NamedTuple):
    """A GB/T 2260 code with every name it was published under, oldest first."""

    code: str
    names: tuple[RegionName, ...]
    first_revision: str
    last_revision: str

    @property
    def name(self) -> str:
        """The code's name in the last revision that published it."""
        return _preferred(self.names_at(self.last_revision))

    @property
    def level(self) -> RegionLevel:
        return _level_of(self.code)

    @property
    def is_placeholder(self) -> bool:
        """Whether the code groups others (市辖区, 县, 省直辖县级行政区划) rather than naming a place."""
        return self.name in PLACEHOLDER_NAMES

    def in_force_at(self, revision: str) -> bool:
        return any(n.in_force_at(revision) for n in self.names)

    def names_at(self, revision: str) -> tuple[RegionName, ...]:
        """Every name the revision `revision` (YYYYMM) published for the code (usually one, none if not in force)."""
        return tuple(n for n in self.names if n.in_force_at(revision))

    def name_at(self, revision: str) -> str | None:
        """The code's name at revision `revision` (YYYYMM), or None when the code was not in force then."""
        _check_revision(revision)
        found = self.names_at(revision)
        return _preferred(found) if found else None


def _region(code: str, names: list[RegionName]) -> Region:
    if len(names) == 1:
        only = names[0]
        return Region(code, (only,), only.first_revision, only.last_revision)
    names.sort(key=itemgetter(1, 2))
    return Region(code, tuple(names), names[0].first_revision, max(n.last_revision for n in names))


class RegionRegistry:
    """Every GB/T 2260 code of every revision, by code (O(1) look-ups)."""

    def __init__(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        names: dict[str, list[RegionName]] = {}
        for code, name, first, last in rows:
            found = names.get(code)
            if found is None:
                names[code] = [RegionName(name, first, last)]
            else:
                found.append(RegionName(name, first, last))
        if not names:
            raise ValueError("the GB/T 2260 table is empty")
        self._regions: dict[str, Region] = {code: _region(code, found) for code, found in names.items()}
        self.first_revision: str = min(r.first_revision for r in self._regions.values())
        self.latest_revision: str = max(r.last_revision for r in self._regions.values())
        self._children: dict[str, tuple[str, ...]] | None = None

    @property
    def coverage(self) -> str:
        """The revisions the table covers, in words: "1980年12月至2019年4月"."""
        return f"{_month_label(self.first_revision)}至{_month_label(self.latest_revision)}"

    def __len__(self) -> int:
        return len(self._regions)

    def __contains__(self, code: object) -> bool:
        return code in self._regions

    def __iter__(self) -> Iterator[Region]:
        return iter(self._regions.values())

    def get(self, code: str) -> Region | None:
        return self._regions.get(code)

    def is_current(self, code: str) -> bool:
        """Whether the code was in force in the latest revision the table holds (a retired code is not)."""
        region = self._regions.get(code)
        return region is not None and region.last_revision == self.latest_revision

    def problem(self, code: str) -> str | None:
        """Why `code` is not a GB/T 2260 region code of any revision, or None when it is one."""
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            return f"行政区划代码应为6位数字，实际为“{code}”"
        if code not in self._regions:
            return f"行政区划代码“{code}”不存在：{self.coverage}的 GB/T 2260 历次版本中都没有这个代码"
        return None

    def children(self, code: str, revision: str | None = None) -> tuple[Region, ...]:
        """The codes directly under a province (地级 codes) or a prefecture (县级 codes) in force at `revision`
        (default: the latest revision), placeholders included, in code order."""
        at = revision or self.latest_revision
        _check_revision(at)
        if self._children is None:
            index: defaultdict[str, list[str]] = defaultdict(list)
            for child in sorted(self._regions):
                parent = _parent_code(child)
                if parent is not None:
                    index[parent].append(child)
            self._children = {parent: tuple(found) for parent, found in index.items()}
        return tuple(
            region for child in self._children.get(code, ()) if (region := self._regions[child]).in_force_at(at)
        )

    def path(self, code: str, revision: str | None = None) -> tuple[tuple[str, str], ...]:
        """(code, name) from the province down to `code`, all names as published at `revision` (default: the
        code's own last revision).

        A province or prefecture that was not in force at that revision, or that is a placeholder (北京市's
        市辖区, 重庆市's 县, 省直辖县级行政区划), is left out: 东城区 is 北京市 东城区. Empty when the code is
        unknown or was not in force at `revision`.
        """
        region = self._regions.get(code)
        if region is None:
            return ()
        at = revision or region.last_revision
        own = region.name_at(at)
        if own is None:
            return ()
        found: list[tuple[str, str]] = []
        for ancestor_code in _ancestor_codes(code):
            ancestor = self._regions.get(ancestor_code)
            name = ancestor.name_at(at) if ancestor is not None else None
            if name is not None and name not in PLACEHOLDER_NAMES:
                found.append((ancestor_code, name))
        found.append((code, own))
        return tuple(found)

    def name_path(self, code: str, revision: str | None = None, *, separator: str = " ") -> str:
        """The names of `path(code, revision)` joined: "四川省 德阳市 旌阳区" ("" for an unknown code)."""
        return separator.join(name for _, name in self.path(code, revision))

    def province(self, code: str, revision: str | None = None) -> tuple[str, str] | None:
        """(code, name) of the province holding `code` at `revision` (default: the code's last revision)."""
        found = self.path(code, revision)
        return found[0] if found and found[0][0].endswith("0000") else None

    def prefecture(self, code: str, revision: str | None = None) -> tuple[str, str] | None:
        """(code, name) of the prefecture (地级) holding a county code at `revision`; None for a county directly
        under its province (省直辖) or a code at prefecture level or above."""
        if _level_of(code) != RegionLevel.COUNTY:
            return None
        for ancestor_code, name in self.path(code, revision)[:-1]:
            if _level_of(ancestor_code) == RegionLevel.PREFECTURE:
                return (ancestor_code, name)
        return None


def _level_of(code: str) -> RegionLevel:
    if code.endswith("0000"):
        return RegionLevel.PROVINCE
    if code.endswith("00"):
        return RegionLevel.PREFECTURE
    return RegionLevel.COUNTY


def _ancestor_codes(code: str) -> tuple[str, ...]:
    level = _level_of(code)
    if level == RegionLevel.PROVINCE:
        return ()
    if level == RegionLevel.PREFECTURE:
        return (code[:2] + "0000",)
    return (code[:2] + "0000", code[:4] + "00")


def _parent_code(code: str) -> str | None:
    ancestors = _ancestor_codes(code)
    return ancestors[-1] if ancestors else None


def _month_label(revision: str) -> str:
    return f"{revision[:4]}年{int(revision[4:])}月"


def parse_table(text: str) -> list[tuple[str, str, str, str]]:
    """The rows of the table (header checked; blank lines and lines starting with # skipped)."""
    lines = text.split("\n", 1)
    if tuple(lines[0].rstrip("\r").split("\t")) != _COLUMNS:
        raise ValueError(f"{DATA_FILE}: the header should be {_COLUMNS!r}, got {lines[0]!r}")
    body = lines[1] if len(lines) > 1 else ""
    rows: list[tuple[str, str, str, str]] = _ROW.findall(body)
    if len(rows) != len(_CONTENT_LINE.findall(body)) or any(first > last for _, _, first, last in rows):
        number, bad = next(
            (number, line)
            for number, line in enumerate(body.splitlines(), start=2)
            if _CONTENT_LINE.match(line) and not _row_is_well_formed(line)
        )
        raise ValueError(f"{DATA_FILE} line {number}: not a code-name pair with its revisions: {bad!r}")
    return rows


def _row_is_well_formed(line: str) -> bool:
    match = _ROW.fullmatch(line.rstrip("\r"))
    return match is not None and match.group(3) <= match.group(4)


@cache
def registry() -> RegionRegistry:
    """The GB/T 2260 table of every revision, read from the package data once per process."""
    text = files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return RegionRegistry(parse_table(text))


def region(code: str) -> Region | None:
    """The code with every name it was published under, or None when no revision published it."""
    return registry().get(code)


def is_region_code(code: str) -> bool:
    """Whether `code` was a GB/T 2260 code at some revision (retired codes included)."""
    return code in registry()


def region_code_problem(code: str) -> str | None:
    """Why `code` is not a GB/T 2260 region code of any revision (Chinese message), or None when it is one."""
    return registry().problem(code)


def is_current_region(code: str) -> bool:
    """Whether `code` was in force in the latest revision the table holds."""
    return registry().is_current(code)


def name_path(code: str, revision: str | None = None, *, separator: str = " ") -> str:
    """ "四川省 德阳市 旌阳区" for 510603 (names at `revision`, default the code's last); "" for an unknown code."""
    return registry().name_path(code, revision, separator=separator)


__all__ = [
    "PLACEHOLDER_NAMES",
    "Region",
    "RegionLevel",
    "RegionName",
    "RegionRegistry",
    "is_current_region",
    "is_region_code",
    "name_path",
    "region",
    "region_code_problem",
    "registry",
]
