"""Building import workbooks for tests: rows given by header, written with openpyxl like a user's Excel."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from govshare.catalog.importing import ITEM_COLUMNS, ITEM_SHEET, RESOURCE_COLUMNS, RESOURCE_SHEET

RESOURCE_HEADERS = [c.header for c in RESOURCE_COLUMNS]
ITEM_HEADERS = [c.header for c in ITEM_COLUMNS]


def resource_row(seq: int, department_code: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "资源序号": seq,
        "信息资源名称": f"企业登记基本信息{seq}",
        "分类码": "102",
        "提供方代码": department_code,
        "信息资源摘要": "市场主体登记的基本信息，包括统一社会信用代码、名称、法定代表人和住所。",
        "信息资源格式": "数据库",
        "格式细类": "PostgreSQL",
        "共享属性": "有条件共享",
        "共享条件": "用于政务服务，须经提供部门审核",
        "共享方式": "共享平台方式",
        "共享方式类型": "库表",
        "开放属性": "不予开放",
        "更新周期": "每日",
    }
    row.update(overrides)
    return row


def item_rows(seq: int, *names: str, **overrides: Any) -> list[dict[str, Any]]:
    return [
        {"资源序号": seq, "信息项名称": name, "数据类型": "字符型", "数据长度": 50, **overrides}
        for name in (names or ("统一社会信用代码", "企业名称"))
    ]


def workbook(
    resources: Sequence[dict[str, Any]],
    items: Sequence[dict[str, Any]],
    *,
    resource_headers: Sequence[str] = RESOURCE_HEADERS,
    item_headers: Sequence[str] = ITEM_HEADERS,
) -> Workbook:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = RESOURCE_SHEET
    sheet.append(list(resource_headers))
    for row in resources:
        sheet.append([row.get(h) for h in resource_headers])
    item_sheet = book.create_sheet(ITEM_SHEET)
    item_sheet.append(list(item_headers))
    for row in items:
        item_sheet.append([row.get(h) for h in item_headers])
    return book


def to_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx(resources: Sequence[dict[str, Any]], items: Sequence[dict[str, Any]], **kwargs: Any) -> bytes:
    return to_bytes(workbook(resources, items, **kwargs))


def valid_file(department_code: str, count: int = 2) -> bytes:
    resources = [resource_row(n, department_code) for n in range(1, count + 1)]
    items = [row for n in range(1, count + 1) for row in item_rows(n)]
    return xlsx(resources, items)


_INLINE = re.compile(r'<c ([^>]*?)t="inlineStr"([^>]*)><is><t(?: [^>]*)?>(.*?)</t></is></c>', re.S)
_SST = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def with_shared_strings(data: bytes) -> bytes:
    """The same workbook as Excel and WPS save it: every text cell points into xl/sharedStrings.xml."""
    strings: dict[str, int] = {}

    def shared(match: re.Match[str]) -> str:
        index = strings.setdefault(match.group(3), len(strings))
        return f'<c {match.group(1)}t="s"{match.group(2)}><v>{index}</v></c>'

    source = zipfile.ZipFile(io.BytesIO(data))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                content = _INLINE.sub(shared, content.decode()).encode()
            elif info.filename == "[Content_Types].xml":
                override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST}"/>'
                content = content.decode().replace("</Types>", override + "</Types>").encode()
            out.writestr(info.filename, content)
        items = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in strings)
        out.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
            f' count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>',
        )
    return target.getvalue()
