"""Checks of an uploaded data file before anything is kept: its size against the setting, and its type by its
content, never by its name (a CSV named .xlsx is a CSV; the message says what the content is): an .xlsx must be a
zip holding the OOXML workbook parts, within the zip-bomb limits of `govshare.core.tabular.xlsx` (every member's
expanded size and ratio, the parts read whole); a CSV, TSV or JSON file must be text, not an Excel workbook, another
zip, an old Excel file, a PDF, an image or other binary data. Text in UTF-16 with its byte order
mark is text (the readers detect the BOM and transcode it); UTF-16 without a BOM and UTF-32 are named as such."""

from __future__ import annotations

import codecs
import zipfile
from typing import IO

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from govshare.core.archives import size_text
from govshare.core.errors import FieldProblem, ValidationFailed
from govshare.core.tabular.xlsx import WorkbookInvalid, XlsxRefused, open_workbook
from govshare.core.text import join_names

__all__ = ["check_data_upload", "data_file_problem", "size_text"]

# Magic numbers of the binary files most often uploaded by mistake, with what to call them.
_ZIP = b"PK\x03\x04"
# OLE2 compound file: Excel 97-2003 .xls, Word .doc.
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (_ZIP, gettext_noop("zip 压缩文件")),
    (b"PK\x05\x06", gettext_noop("空的 zip 压缩文件")),
    (b"%PDF-", gettext_noop("PDF 文件")),
    (b"\x1f\x8b", gettext_noop("gzip 压缩文件")),
    (b"Rar!", gettext_noop("RAR 压缩文件")),
    (b"7z\xbc\xaf\x27\x1c", gettext_noop("7z 压缩文件")),
    (b"\x89PNG", gettext_noop("PNG 图片")),
    (b"\xff\xd8\xff", gettext_noop("JPEG 图片")),
    (b"GIF8", gettext_noop("GIF 图片")),
    (b"SQLite format 3\x00", gettext_noop("SQLite 数据库文件")),
    (b"PAR1", gettext_noop("Parquet 文件")),
)
# The parts every SpreadsheetML workbook holds (ECMA-376 / ISO/IEC 29500).
_OOXML_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_SNIFF_BYTES = 64 * 1024
_TEXT_FORMATS = {"csv": "CSV", "tsv": "TSV", "json": "JSON", "jsonl": "JSON Lines"}
# UTF-32's marks first: UTF-32 LE's starts with UTF-16 LE's.
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def data_file_problem(head: bytes, file_format: str, archive: IO[bytes] | None = None) -> str | None:
    """What is wrong with a data file of `file_format` (the source's format) whose first bytes are `head`, or None.

    The file is judged by its content, never by its name: a CSV named .xlsx is a CSV. `archive` (the whole file,
    seekable) is opened for a zip, to tell an Excel workbook from another zip and, for xlsx, to check its parts.
    """
    if not head:
        return gettext("文件为空（0 字节），没有可读取的数据；请检查导出的文件后重新上传")
    if head.startswith(_OLE2):
        # Neither reader reads the binary Office format, whatever the source's format is.
        return gettext(
            "文件内容是旧版 Office 文件（Excel 97-2003 .xls 或 Word .doc）：旧版 Excel（.xls）不支持，"
            "请在 Excel 或 WPS 中另存为 .xlsx 或 CSV 后上传"
        )
    if file_format == "xlsx":
        return _workbook_problem(head, archive)
    return _text_problem(head, _TEXT_FORMATS.get(file_format, file_format.upper()), archive)


def _workbook_problem(head: bytes, archive: IO[bytes] | None) -> str | None:
    if not head.startswith(_ZIP):
        found = next((gettext(label) for magic, label in _MAGIC if head.startswith(magic)), None)
        if found is None:
            text = head.startswith(_UTF16_BOMS) or b"\x00" not in head[:_SNIFF_BYTES]
            found = gettext("文本（可能是改了扩展名的 .csv）") if text else gettext("无法识别的二进制数据")
        return gettext(
            "文件内容不是 Excel 工作簿（.xlsx），而是%(found)s，但数据来源的格式是 Excel (xlsx)；"
            "请在 Excel 或 WPS 中另存为 .xlsx 后上传，或修改数据来源的格式"
        ) % {"found": found}
    if archive is not None:
        try:
            archive.seek(0)
            # The archive's members and the parts read whole, against the limits (nothing of the cells is read).
            with open_workbook(archive):
                pass
        except WorkbookInvalid:
            return _not_a_workbook(archive)
        except XlsxRefused as refused:
            return refused.message
        finally:
            archive.seek(0)
    return None


def _text_problem(head: bytes, label: str, archive: IO[bytes] | None) -> str | None:
    if head.startswith(_UTF32_BOMS):
        return gettext("文件是 UTF-32 编码的文本，不支持；请将 %(label)s 另存为 UTF-8、GBK 或 UTF-16 编码后上传") % {
            "label": label
        }
    if head.startswith(_UTF16_BOMS):
        return _utf16_problem(head, label)
    if head.startswith(_ZIP) and _holds_a_workbook(archive):
        return gettext(
            "文件内容是 Excel 工作簿（xlsx），但数据来源的格式是 %(label)s；"
            "请在 Excel 或 WPS 中另存为 %(label)s 后上传，或把数据来源的格式改为 Excel (xlsx)"
        ) % {"label": label}
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return gettext(
                "文件内容是%(what)s，不是 %(label)s 文本文件；请导出为 %(label)s（UTF-8 或 GBK 编码）后上传"
            ) % {"what": gettext(what), "label": label}
    offset = head.find(b"\x00", 0, _SNIFF_BYTES)
    if offset >= 0:
        if _looks_like_utf16_without_bom(head):
            return gettext(
                "文件像是不带字节顺序标记（BOM）的 UTF-16 文本，无法可靠识别；"
                "请将 %(label)s 另存为 UTF-8 编码（或带 BOM 的 UTF-16，即 Excel 的“Unicode 文本”）后上传"
            ) % {"label": label}
        return gettext(
            "文件内容不是文本（可能是二进制文件）：第 %(value)s 个字节起含有空字节（0x00），"
            "而数据来源的格式是 %(label)s 文本；请导出为 UTF-8、GBK 或 UTF-16 编码的 %(label)s 后上传"
        ) % {"value": offset + 1, "label": label}
    return None


def _holds_a_workbook(archive: IO[bytes] | None) -> bool:
    """Whether a zip holds an Excel workbook's part (only its directory is read: nothing is decompressed)."""
    if archive is None:
        return False
    try:
        archive.seek(0)
        with zipfile.ZipFile(archive) as zipped:
            return "xl/workbook.xml" in zipped.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    finally:
        archive.seek(0)


def _utf16_problem(head: bytes, label: str) -> str | None:
    """UTF-16 with its byte order mark is read (the BOM says the byte order); its start must decode."""
    try:
        # "utf-16" reads the BOM; a character cut at the sample's end is not an error (final=False).
        codecs.getincrementaldecoder("utf-16")("strict").decode(head, final=False)
    except UnicodeDecodeError as exc:
        return gettext(
            "文件以 UTF-16 字节顺序标记开头，但第 %(value)s 个字节起不是有效的 UTF-16 文本；"
            "请将 %(label)s 重新另存为 UTF-8 或 UTF-16 编码后上传"
        ) % {"value": exc.start + 1, "label": label}
    return None


def _looks_like_utf16_without_bom(head: bytes) -> bool:
    """Text in UTF-16 has a zero in one byte of every ASCII character (digits, commas, line ends: at even offsets
    for BE, odd for LE) and few at the other offsets (only characters such as 一, U+4E00, have one there)."""
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return any(
        zeros.count(0) >= 0.25 * len(zeros) and text.count(0) <= 0.02 * len(text)
        for zeros, text in ((even, odd), (odd, even))
    )


def _not_a_workbook(archive: IO[bytes]) -> str:
    """What a zip archive that is not a readable workbook is (its members were within the limits)."""
    try:
        archive.seek(0)
        with zipfile.ZipFile(archive) as workbook:
            names = set(workbook.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return gettext("文件不是有效的 Excel 工作簿（.xlsx）：zip 结构已损坏或不完整，请重新保存后上传")
    missing = [part for part in _OOXML_PARTS if part not in names]
    if missing:
        parts = join_names(missing)
        return gettext(
            "文件是 zip 压缩包但不是 Excel 工作簿（缺少 %(parts)s），请上传用 Excel 或 WPS 保存的 .xlsx 文件"
        ) % {"parts": parts}
    return gettext("文件不是有效的 Excel 工作簿（.xlsx）：工作簿的部件已损坏，请在 Excel 或 WPS 中重新保存后上传")


def check_data_upload(upload: IO[bytes], *, name: str, size: int, file_format: str) -> None:
    """Refuse (422, field `file`) an upload that is too large or whose content is not of `file_format`.

    Called before the file is kept anywhere: a refused upload leaves nothing behind but Django's own temporary
    file, which is removed at the end of the request.
    """
    limit = settings.GOVSHARE.load_upload_max_bytes
    if size > limit:
        raise ValidationFailed(
            [
                FieldProblem(
                    "file",
                    gettext(
                        "文件“%(name)s”大小 %(value)s（%(size)s 字节），"
                        "超过上传上限 %(value2)s（%(limit)s 字节），未保存也未归集；"
                        "请拆分后分批报送，或请平台管理员调整设置 load_upload_max_bytes"
                        "（环境变量 GOVSHARE_LOAD_UPLOAD_MAX_BYTES）"
                    )
                    % {
                        "name": name,
                        "value": size_text(size),
                        "size": f"{size:,}",
                        "value2": size_text(limit),
                        "limit": f"{limit:,}",
                    },
                )
            ],
            gettext("上传的文件超过大小上限"),
        )
    upload.seek(0)
    head = upload.read(_SNIFF_BYTES)
    upload.seek(0)
    problem = data_file_problem(head, file_format, upload)
    if problem:
        raise ValidationFailed(
            [FieldProblem("file", gettext("文件“%(name)s”：%(problem)s") % {"name": name, "problem": problem})],
            gettext_noop("上传的文件类型不符"),
        )
