"""Write govshare/core/data/cn-workdays.tsv from the `chinese-calendar` package (run at development time only).

The platform reads the file at run time and needs no calendar package. Only the years the package really knows are
written: it raises NotImplementedError for a year it has no State Council schedule for, and that defines "knows".

    python3 -m venv /tmp/calvenv && /tmp/calvenv/bin/pip install 'chinese-calendar==1.11.0'
    /tmp/calvenv/bin/python scripts/generate_workdays.py            # writes the file
    /tmp/calvenv/bin/python scripts/generate_workdays.py --check    # exits 1 if the file differs
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import chinese_calendar  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parent.parent / "govshare" / "core" / "data" / "cn-workdays.tsv"
FIRST_YEAR = 2004  # the package's first year; earlier ones raise as later ones do
# The package names days in English; the platform shows the names of the State Council's notices.
NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def known_years() -> list[int]:
    """The consecutive years from FIRST_YEAR for which the package answers without raising."""
    years = []
    year = FIRST_YEAR
    while True:
        try:
            chinese_calendar.is_workday(dt.date(year, 7, 1))
        except NotImplementedError:
            return years
        years.append(year)
        year += 1


def render() -> str:
    years = known_years()
    version = getattr(chinese_calendar, "__version__", "?")
    lines = [
        f"# chinese-calendar {version}: the State Council's holiday schedules (国务院办公厅关于部分节假日安排的通知)",
        "# written by scripts/generate_workdays.py; do not edit by hand (see README.md)",
        f"# years: {years[0]}-{years[-1]}",
        "date\tkind\tname",
    ]
    rows = [(day, "holiday", name) for day, name in chinese_calendar.holidays.items()]
    rows += [(day, "workday", name) for day, name in chinese_calendar.workdays.items()]
    for day, kind, name in sorted(rows):
        if years[0] <= day.year <= years[-1]:
            lines.append(f"{day.isoformat()}\t{kind}\t{NAMES[str(name)]}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not what the package gives")
    args = parser.parse_args()
    text = render()
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{OUT} differs from the package's data")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10)) - 4} days)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
