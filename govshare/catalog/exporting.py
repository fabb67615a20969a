"""Export of any filtered catalogue list to .xlsx (the import template's columns, so it can be edited and
re-imported) or .csv (UTF-8 with BOM, one row per resource, written by `govshare.core.tabular.csv`). Both stream:
rows are read from the database in chunks and written as they come, whatever the size of the list."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from govshare.accounts.models import User
from govshare.catalog import access, importing, selectors
from govshare.catalog.choices import ItemDataType, ReviewStatus
from govshare.catalog.models import Item, Resource
from govshare.core.errors import FieldProblem, ValidationFailed
from govshare.core.tabular import csv as tabular_csv

EXPORT_FORMATS = ("xlsx", "csv")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
CHUNK_SIZE = 1000
FILTER_NAMES = ("department_code", "category_code", "share_type", "open_type", "format", "update_cycle", "status")

CSV_HEADERS = [
    "信息资源代码",
    "信息资源名称",
    "分类码",
    "分类名称",
    "提供方代码",
    "提供方",
    "信息资源摘要",
    "信息资源格式",
    "格式细类",
    "共享属性",
    "共享条件",
    "不予共享依据",
    "共享方式",
    "共享方式类型",
    "开放属性",
    "开放条件",
    "数据级别",
    "敏感级别",
    "更新周期",
    "关联资源代码",
    "审核状态",
    "发布日期",
    "版本",
    "信息项",
]


@dataclass(frozen=True)
class ExportRequest:
    file_format: str
    filters: selectors.ResourceFilters
    q: str = ""


def parse_export_query(params: Mapping[str, Sequence[str]]) -> ExportRequest:
    """Read the browse page's filters plus the file format from query parameters (lists of values).

    `format` serves both purposes, told apart by value: xlsx/csv choose the file, file/database/… filter the
    resource format (the browse page links here with its own query string and adds format=xlsx or csv).
    """
    formats = [v for v in params.get("format", []) if v]
    file_formats = [v for v in formats if v.lower() in EXPORT_FORMATS]
    resource_formats = [v for v in formats if v.lower() not in EXPORT_FORMATS]
    if len(set(file_formats)) > 1 or len(set(resource_formats)) > 1:
        raise ValidationFailed([FieldProblem("format", "参数 format 只能给一个导出格式（xlsx 或 csv）和一个资源格式")])
    values = {name: (params.get(name) or [""])[-1].strip() for name in FILTER_NAMES if name != "format"}
    filters = selectors.ResourceFilters(**values, format=resource_formats[0] if resource_formats else "")
    q = (params.get("q") or [""])[-1].strip()
    return ExportRequest(file_formats[0].lower() if file_formats else "xlsx", filters, q)


def export_queryset(user: User, request: ExportRequest) -> QuerySet[Resource]:
    """The permission-scoped filtered list, narrowed by the full-text search when one is available."""
    queryset = selectors.resource_list(user, request.filters)
    if not access.catalogues(user):  # what the browse page shows them: the published catalogue
        queryset = queryset.filter(status=ReviewStatus.PUBLISHED)
    if request.q:
        try:
            from govshare.catalog.search import search_resource_ids
        except ImportError:  # full-text search not installed: the query is ignored
            pass
        else:
            queryset = queryset.filter(pk__in=search_resource_ids(user, request.q, request.filters))
    items = Prefetch("items", queryset=Item.objects.order_by("position"))
    return queryset.prefetch_related(items).order_by("code")


def _filename(file_format: str) -> str:
    return f"政务信息资源目录-{timezone.localtime():%Y%m%d-%H%M}.{file_format}"


# ---------------------------------------------------------------------------------------------- xlsx


def _cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    """A value for a write-only row; text that looks like a formula stays text (never evaluated by Excel)."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def _header(sheet: WriteOnlyWorksheet, headers: Sequence[str]) -> list[WriteOnlyCell]:
    fill, font = PatternFill("solid", fgColor="1F5FA8"), Font(bold=True, color="FFFFFF")
    cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.fill, cell.font = fill, font
        cells.append(cell)
    return cells


def write_xlsx(queryset: QuerySet[Resource], target: IO[bytes], *, note: str = "") -> int:
    """Write the list as an import template (信息资源, 信息项, 填写说明) with codes; returns the resource count."""
    book = Workbook(write_only=True)
    resources = book.create_sheet(importing.RESOURCE_SHEET)
    items = book.create_sheet(importing.ITEM_SHEET)
    guide = book.create_sheet(importing.GUIDE_SHEET)
    for sheet, columns in ((resources, importing.RESOURCE_COLUMNS), (items, importing.ITEM_COLUMNS)):
        for index, column in enumerate(columns):
            sheet.column_dimensions[get_column_letter(index + 1)].width = column.width
        sheet.freeze_panes = "B2"
        sheet.append(_header(sheet, importing.header_row(columns)))
    count = 0
    for count, resource in enumerate(queryset.iterator(chunk_size=CHUNK_SIZE), start=1):
        resources.append([_cell(resources, v) for v in importing.resource_row_values(resource, count)])
        for item in resource.items.all():
            items.append([_cell(items, v) for v in importing.item_row_values(item, count, resource)])
    guide.append(_header(guide, ["项目", "说明"]))
    guide.append(["导出", f"{timezone.localtime():%Y-%m-%d %H:%M} 导出 {count} 条信息资源。{note}".strip()])
    guide.append(["再次导入", "本文件与导入模板列相同，含信息资源代码；已在平台中使用的代码不能再次导入为新资源。"])
    for label, text in importing.guide_rows():
        guide.append([label, text])
    book.save(target)
    return count


def xlsx_response(queryset: QuerySet[Resource], *, note: str = "") -> FileResponse:
    """Write to an anonymous temporary file (write-only mode: constant memory) and stream it back."""
    spool = tempfile.TemporaryFile(prefix="govshare-export-")  # noqa: SIM115 (FileResponse closes it)
    write_xlsx(queryset, spool, note=note)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=_filename("xlsx"), content_type=importing.XLSX_CONTENT_TYPE)


# ---------------------------------------------------------------------------------------------- csv


def _item_text(item: Item) -> str:
    data_type = ItemDataType(item.data_type).label if item.data_type in ItemDataType.values else item.data_type
    return f"{item.name}({data_type}{',' + str(item.length) if item.length else ''})"


def csv_lines(queryset: QuerySet[Resource]) -> Iterator[str]:
    """UTF-8 with BOM (Excel opens it correctly), one resource per line, items in the last column; text that a
    spreadsheet would read as a formula gets a leading apostrophe (`govshare.core.tabular.csv`)."""
    return tabular_csv.csv_lines(
        CSV_HEADERS, (_csv_row(resource) for resource in queryset.iterator(chunk_size=CHUNK_SIZE))
    )


def _csv_row(resource: Resource) -> tuple[object, ...]:
    row: list[Any] = importing.resource_row_values(resource, 0)
    values = dict(zip((c.field for c in importing.RESOURCE_COLUMNS), row, strict=True))
    published: dt.date | None = resource.published_on
    return (
        resource.code,
        resource.name,
        resource.category.code,
        resource.category.name,
        resource.department.code,
        resource.department.name,
        resource.summary,
        values["format"],
        resource.sub_format,
        values["share_type"],
        resource.share_condition,
        resource.share_basis,
        values["share_method"],
        values["platform_share_type"],
        values["open_type"],
        resource.open_condition,
        values["grade"],
        values["data_level"],
        values["update_cycle"],
        values["related_codes"],
        ReviewStatus(resource.status).label,
        published.isoformat() if published else "",
        resource.version,
        "；".join(_item_text(item) for item in resource.items.all()),
    )


def csv_response(queryset: QuerySet[Resource]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in csv_lines(queryset)), content_type=CSV_CONTENT_TYPE
    )
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=_filename("csv"))
    return response


def export_response(user: User, params: Mapping[str, Sequence[str]]) -> FileResponse | StreamingHttpResponse:
    """The export answer for the page and the API (ValidationFailed on a bad format parameter)."""
    request = parse_export_query(params)
    queryset = export_queryset(user, request)
    if request.file_format == "csv":
        return csv_response(queryset)
    return xlsx_response(queryset)
