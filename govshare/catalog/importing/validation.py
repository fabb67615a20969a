"""Checking the drafts read from a file with the catalogue's rules (`services.resolve_drafts`, the same rules as the
API and the pages), the importer's departments and the codes in use; each rule's problem placed back on the sheet,
row and column it came from."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext

from govshare.accounts.models import User
from govshare.catalog import access, services
from govshare.catalog.importing.layout import ITEM_BY_FIELD, ITEM_SHEET, RESOURCE_BY_FIELD, RESOURCE_SHEET
from govshare.catalog.importing.reading import ParsedFile, ParsedResource
from govshare.catalog.importing.report import ImportProblem
from govshare.catalog.models import Resource, RetiredResourceCode
from govshare.core.errors import FieldProblem
from govshare.core.tabular.problems import without_repeats

_ITEM_FIELD_RE = re.compile(r"^items\[(\d+)\]\.(\w+)$")


@dataclass
class Validation:
    resolved: list[services.ResolvedDraft]
    problems: list[ImportProblem]


def merged_report(cell_problems: list[ImportProblem], rule_problems: list[ImportProblem]) -> list[ImportProblem]:
    """Both lists, without a rule's second word on a cell the reader already reported (数据长度“二十”不是整数
    needs no "必须填写数据长度" after it)."""
    return without_repeats(cell_problems, rule_problems)


def _rule_problem(
    parsed: ParsedResource, problem: FieldProblem, letters: Mapping[str, Mapping[str, str]]
) -> ImportProblem:
    """Place a rule's FieldProblem on the sheet, row and column it came from."""
    match = _ITEM_FIELD_RE.match(problem.field)
    if match:
        position, name = int(match.group(1)), match.group(2)
        row = parsed.item_rows[position - 1] if position <= len(parsed.item_rows) else None
        column = ITEM_BY_FIELD.get(name)
        letter = letters.get(ITEM_SHEET, {}).get(name, "")
        return ImportProblem.at(ITEM_SHEET, row, column.header if column else "", letter, problem.message)
    name = "seq" if problem.field == "items" else problem.field
    column = RESOURCE_BY_FIELD.get(name)
    letter = letters.get(RESOURCE_SHEET, {}).get(name, "")
    return ImportProblem.at(RESOURCE_SHEET, parsed.row, column.header if column else "", letter, problem.message)


def validate(parsed: ParsedFile, *, actor: User) -> Validation:
    """Check the drafts with the catalogue's rules, the importer's departments and the codes in use."""
    resources = [p for p in parsed.resources if p.seq_ok]
    resolved_all, rule_problems = services.resolve_drafts([p.draft for p in resources])
    problems: list[ImportProblem] = []
    resolved_iter = iter(resolved_all)
    resolved: list[services.ResolvedDraft] = []
    allowed: dict[int, bool] = {}
    for item, found in zip(resources, rule_problems, strict=True):
        if found:
            problems.extend(_rule_problem(item, p, parsed.letters) for p in found)
            continue
        r = next(resolved_iter)
        department = r.department
        if department.pk not in allowed:
            allowed[department.pk] = access.can_catalog_for(actor, department.pk)
        if not allowed[department.pk]:
            message = gettext("您无权为“%(department_name)s”（%(code)s）编目：部门目录管理员只能导入本部门的资源") % {
                "department_name": department.name,
                "code": department.code,
            }
            problems.append(_rule_problem(item, FieldProblem("department_code", message), parsed.letters))
            continue
        resolved.append(r)
    problems.extend(_code_problems(resources, parsed.letters.get(RESOURCE_SHEET, {}).get("code", "")))
    return Validation(resolved, problems)


def _code_problems(resources: Sequence[ParsedResource], letter: str) -> list[ImportProblem]:
    """Explicit codes must be unique in the file, unused and never retired (codes are never reused)."""
    column = RESOURCE_BY_FIELD["code"]
    problems: list[ImportProblem] = []
    first_row: dict[str, int] = {}
    for p in resources:
        code = p.draft.code
        if not code:
            continue
        if code in first_row:
            problems.append(
                ImportProblem.at(
                    RESOURCE_SHEET,
                    p.row,
                    column.header,
                    letter,
                    gettext("信息资源代码“%(code)s”与第%(value)s行重复") % {"code": code, "value": first_row[code]},
                )
            )
        else:
            first_row[code] = p.row
    if first_row:
        codes = list(first_row)
        used: set[str] = set()
        retired: set[str] = set()
        for start in range(0, len(codes), 900):
            chunk = codes[start : start + 900]
            used |= set(Resource.objects.filter(code__in=chunk).values_list("code", flat=True))
            retired |= set(RetiredResourceCode.objects.filter(code__in=chunk).values_list("code", flat=True))
        for code in sorted(used | retired, key=first_row.__getitem__):
            why = (
                gettext("已被平台中的资源使用")
                if code in used
                else gettext("属于已删除的资源，已注销（代码不可重复使用）")
            )
            problems.append(
                ImportProblem.at(
                    RESOURCE_SHEET,
                    first_row[code],
                    column.header,
                    letter,
                    gettext("信息资源代码“%(code)s”%(why)s") % {"code": code, "why": why},
                )
            )
    return problems
