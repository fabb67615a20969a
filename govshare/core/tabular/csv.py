"""Writing CSV for people who open it in a spreadsheet: one writer, one rule against formula injection.

Every CSV the platform hands out (the catalogue export, the audit log export, dataset downloads, the rejects file
of a data load) is written here, so that every cell passes the same rule (`neutralise_formula`):

- A cell whose text starts like a formula gets a leading apostrophe, which spreadsheet programs show as text and
  never run (OWASP "CSV Injection"): `=`, `+`, `-`, `@`, a tab or a carriage return, and their full-width forms
  `＝`, `＋`, `－`, `＠` (what a Chinese input method types: treated the same way as a precaution, a legitimate
  value rarely starts with one).
- A plain number (`-5`, `+8613800138000`, `-0.25`: ASCII digits with an optional sign and decimals) stays as it is:
  every spreadsheet reads it as the number it is, never as a formula, and the data keeps its value. Anything else
  after the sign (`-1+1`, `+1e5`, `-A1`) is neutralised.

The rule has two implementations that must agree: `neutralise_formula` for one value (rows written by Python) and
`neutralise_formulas` for an Arrow text column (dataset downloads, a whole batch at once); the tests check them
against each other on arbitrary text.

Lines are UTF-8 text; the first line starts with a byte order mark (`BOM`) where the file is meant for Excel, which
otherwise reads Chinese as the local code page.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "BOM",
    "FORMULA_START",
    "CsvWriter",
    "csv_lines",
    "neutralise_formula",
    "neutralise_formulas",
]

BOM = "\ufeff"
# The characters a spreadsheet may read as the start of a formula (OWASP CSV Injection, plus full-width forms).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
# The same rule in RE2 syntax (Arrow's regular expressions); `$` is the end of the text there.
_FORMULA_START_RE2 = r"^[=+\-@\t\r＝＋－＠]"
_PLAIN_NUMBER_RE2 = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_APOSTROPHE = "'"


def neutralise_formula(value: object) -> str:
    """The value as CSV cell text (None as empty): with a leading apostrophe when it starts like a formula and is
    not a plain number; any other text unchanged."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and _PLAIN_NUMBER.fullmatch(text) is None:
        return _APOSTROPHE + text
    return text


def neutralise_formulas(array: pa.Array) -> pa.Array:
    """`neutralise_formula` for a whole Arrow text column (nulls stay null)."""
    risky = pc.and_(
        pc.match_substring_regex(array, _FORMULA_START_RE2),
        pc.invert(pc.match_substring_regex(array, _PLAIN_NUMBER_RE2)),
    )
    if not pc.any(risky).as_py():
        return array
    return pc.if_else(risky, pc.binary_join_element_wise(_APOSTROPHE, array, ""), array)


class _Line:
    """A write-only buffer for csv.writer that hands back each line."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Iterable[object]], *, bom: bool = True) -> Iterator[str]:
    """The header and the rows as CSV lines (`\\r\\n` line ends, quoted as needed), each cell through
    `neutralise_formula`; the first line starts with the BOM unless `bom` is False. Lazy: one row at a time."""
    writer = csv.writer(_Line())
    yield (BOM if bom else "") + writer.writerow([neutralise_formula(name) for name in header])
    for row in rows:
        yield writer.writerow([neutralise_formula(value) for value in row])


class CsvWriter:
    """CSV rows written to an open text file (opened with `newline=""`), each cell through `neutralise_formula`.

    The caller chooses the encoding when opening the file (`utf-8-sig` writes the BOM)."""

    def __init__(self, target: IO[str]) -> None:
        self._writer: Any = csv.writer(target)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([neutralise_formula(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        self._writer.writerows([neutralise_formula(value) for value in row] for row in rows)
