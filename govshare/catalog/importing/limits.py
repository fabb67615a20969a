"""What an import file may be: its size (stopped while uploading, measured before reading), its type by its first
bytes, and its rows; the Chinese messages that name each limit and its setting."""

from __future__ import annotations

import hashlib
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.translation import gettext

from govshare.catalog.importing.layout import RESOURCE_SHEET
from govshare.catalog.importing.report import ImportProblem, file_problem

# Item rows allowed per resource row limit, and the largest uncompressed sheet XML (a zip bomb guard).
ITEM_ROWS_PER_RESOURCE_ROW = 10
UNCOMPRESSED_FACTOR = 25


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def size_limit_message(size: int | None = None) -> str:
    limit = settings.GOVSHARE.import_max_bytes
    got = gettext("（本文件 %(value)s）") % {"value": megabytes(size)} if size else ""
    return gettext(
        "文件超过导入大小上限 %(value)s%(got)s，未读取也未导入。请拆分为多个文件后分批导入；"
        "上限由设置 import_max_bytes（环境变量 GOVSHARE_IMPORT_MAX_BYTES）规定。"
    ) % {"value": megabytes(limit), "got": got}


def row_limit_message(rows: int | None, *, at_least: bool) -> str:
    limit = settings.GOVSHARE.import_max_rows
    counted = (
        ""
        if rows is None
        else (gettext("至少 %(rows)s 行") if at_least else gettext("%(rows)s 行")) % {"rows": f"{rows:,}"}
    )
    return gettext(
        "工作表“%(resource_sheet)s”的资源行数%(counted)s超过单个文件上限 %(limit)s 行，未导入。"
        "请拆分为多个文件分批导入（若表尾有空白但带格式的行，请删除这些行）；"
        "上限由设置 import_max_rows（环境变量 GOVSHARE_IMPORT_MAX_ROWS）规定。"
    ) % {"resource_sheet": RESOURCE_SHEET, "counted": counted, "limit": f"{limit:,}"}


# ---------------------------------------------------------------------------------------------- file type

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff_file(head: bytes) -> ImportProblem | None:
    """Refuse anything that is not a zip container by its first bytes: .xls, CSV (UTF-8 or GBK), empty files."""
    if not head:
        return file_problem(gettext("文件为空（0 字节），没有可导入的内容。请下载模板填写后再导入。"))
    if head.startswith(_ZIP):
        return None
    if head.startswith(_OLE2):
        return file_problem(
            gettext(
                "这是旧版 Excel 97-2003（.xls）文件或加密的工作簿，只接受 .xlsx 格式。"
                "请在 Excel 或 WPS 中“另存为”Excel 工作簿（.xlsx）并取消密码后再导入。"
            )
        )
    sample = head[:4096]
    for encoding, name in (("utf-8", "UTF-8"), ("gb18030", "GBK")):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            # A multi-byte character may be cut at the end of the sample.
            try:
                text = sample[:-3].decode(encoding)
            except UnicodeDecodeError:
                continue
        if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text.lstrip("\ufeff")):
            kind = gettext("CSV 或文本文件") if ("," in text or "\t" in text or "\n" in text) else gettext("文本文件")
            return file_problem(
                gettext(
                    "这是 %(name)s 编码的%(kind)s（可能是改了扩展名的 .csv），只接受 .xlsx 格式。"
                    "请下载导入模板，把数据粘贴进模板后保存为 .xlsx 再导入。"
                )
                % {"name": name, "kind": kind}
            )
    return file_problem("无法识别的文件格式：只接受 Excel 工作簿（.xlsx）。请下载模板填写后再导入。")


def measure(upload: IO[bytes]) -> tuple[int, str, bytes]:
    """Size, SHA-256 and first bytes, reading at most the size limit plus one chunk."""
    limit = settings.GOVSHARE.import_max_bytes
    digest = hashlib.sha256()
    size = 0
    head = b""
    upload.seek(0)
    while chunk := upload.read(1024 * 1024):
        if not head:
            head = chunk[:8192]
        size += len(chunk)
        if size > limit:
            break
        digest.update(chunk)
    upload.seek(0)
    return size, digest.hexdigest(), head


# ---------------------------------------------------------------------------------------------- upload limit

# Room for the multipart envelope and the form's other fields around the file.
MULTIPART_SLACK = 256 * 1024


class UploadSizeLimit(FileUploadHandler):
    """The first upload handler of an import request: stops the upload as soon as it passes import_max_bytes.

    A request whose declared length already exceeds the limit is stopped before the file's first byte is
    read; otherwise the file streams through until the limit. Either way at most the limit (plus one chunk)
    is read, nothing is kept, and the view answers with the refusal (`exceeded`).
    """

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.limit = settings.GOVSHARE.import_max_bytes
        self.exceeded = False
        self.declared: int | None = None
        self.received = 0
        self.upload_name = ""

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: str | None = None
    ) -> None:
        self.declared = content_length
        return None

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.upload_name = file_name or ""
        if self.declared is not None and self.declared > self.limit + MULTIPART_SLACK:
            self._stop()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received = start + len(raw_data)
        if self.received > self.limit:
            self._stop()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def _stop(self) -> None:
        self.exceeded = True
        raise StopUpload(connection_reset=True)

    @property
    def size(self) -> int | None:
        """The best known size of the refused file (the declared request length when it was never read)."""
        if self.declared is not None and self.declared > self.limit:
            return self.declared
        return self.received or None


def limit_upload(request: Any) -> UploadSizeLimit:
    """Install the size limit as the request's first upload handler (before anything reads the body)."""
    handler = UploadSizeLimit(request)
    request.upload_handlers.insert(0, handler)
    return handler
