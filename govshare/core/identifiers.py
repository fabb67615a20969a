"""Chinese identifiers and their check digits (domain.md §6).

Resident IDs follow GB 11643-1999, unified social credit codes GB 32100-2015, organisation codes GB 11714-1997.

The region part of both (a resident ID's first 6 digits, a credit code's characters 3-8) must be a GB/T 2260
code of some revision (`govshare.core.regions`): the code of the county that assigned the number stays valid
after the county is renamed or merged, and may be newer than the holder's birth date. A credit code may also
carry `100000` (全国), which national-level registrations (中央机关, 全国性社会团体) use for the whole country and
which GB/T 2260 does not list; province-level codes (`510000`) are GB/T 2260 codes and pass as such.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from govshare.core.regions import registry

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"
# Region part of a credit code registered at national level (not a GB/T 2260 code).
USCC_NATIONAL_REGION = "100000"


def _unknown_region(code: str) -> str:
    """ " … 不是行政区划代码" text for a 6-digit `code` that no GB/T 2260 revision published."""
    table = registry()
    return _("“%(code)s”不是行政区划代码（%(y1)s年%(m1)d月至%(y2)s年%(m2)d月的 GB/T 2260 历次版本中都没有）") % {
        "code": code,
        "y1": table.first_revision[:4],
        "m1": int(table.first_revision[4:]),
        "y2": table.latest_revision[:4],
        "m2": int(table.latest_revision[4:]),
    }


def uscc_check_char(first17: str) -> str:
    """Check character of a unified social credit code from its first 17 characters."""
    if len(first17) != 17 or any(c not in USCC_ALPHABET for c in first17):
        raise ValueError("统一社会信用代码前17位只能使用 0-9 和 ABCDEFGHJKLMNPQRTUWXY")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    value = 31 - total % 31
    return USCC_ALPHABET[0 if value == 31 else value]


def uscc_problem(code: str) -> str | None:
    """Why `code` is not a valid unified social credit code, or None when it is."""
    if len(code) != 18:
        return _("统一社会信用代码应为18位，实际为%(n)d位") % {"n": len(code)}
    bad = [c for c in code if c not in USCC_ALPHABET]
    if bad:
        return _("统一社会信用代码含非法字符“%(char)s”（不得使用 I、O、Z、S、V 及小写字母）") % {"char": bad[0]}
    region = code[2:8]
    if not region.isdigit():
        return _("统一社会信用代码第3-8位应为行政区划代码")
    if region != USCC_NATIONAL_REGION and region not in registry():
        return _("统一社会信用代码第3-8位%(why)s") % {"why": _unknown_region(region)}
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return _("统一社会信用代码校验位错误：应为“%(right)s”，实际为“%(wrong)s”") % {
            "right": expected,
            "wrong": code[17],
        }
    return None


def is_valid_uscc(code: str) -> bool:
    return uscc_problem(code) is None


def org_code_check_char(first8: str) -> str:
    """Check character of an organisation code (GB 11714) from its first 8 characters."""
    if len(first8) != 8 or any(c not in _ORG_ALPHABET for c in first8):
        raise ValueError("组织机构代码前8位只能使用数字和大写字母")
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def make_uscc(authority_type: str, region: str, org_body: str) -> str:
    """Build a valid USCC from 登记管理部门+机构类别 (2 chars), region (6 digits) and 8 organisation chars."""
    org = org_body + org_code_check_char(org_body)
    first17 = authority_type + region + org
    return first17 + uscc_check_char(first17)


def resident_id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _RIC_WEIGHTS, strict=True))
    return _RIC_CHECK[total % 11]


def resident_id_problem(number: str, *, today: dt.date | None = None) -> str | None:
    """Why `number` is not a valid 18-digit resident ID number, or None when it is.

    Its first 6 digits must be a GB/T 2260 code of any revision, whatever the birth date (domain.md §6)."""
    if len(number) != 18:
        return f"公民身份号码应为18位，实际为{len(number)}位"
    if not number[:17].isascii() or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return "公民身份号码前17位应为数字，末位为数字或大写X"
    if number[:6] not in registry():
        return f"公民身份号码前6位（地址码）{_unknown_region(number[:6])}"
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return f"公民身份号码出生日期“{number[6:14]}”不是有效日期"
    if born > (today or dt.date.today()) or born.year < 1850:  # noqa: DTZ011
        return f"公民身份号码出生日期“{number[6:14]}”超出合理范围"
    expected = resident_id_check_char(number[:17])
    if number[17] != expected:
        return f"公民身份号码校验位错误：应为“{expected}”，实际为“{number[17]}”"
    return None
