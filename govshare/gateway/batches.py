"""Batch comparison (数据比对): a system uploads up to a million keys (with the values it wants compared), a job joins
them against the dataset version being served and writes a result file the system downloads.

The upload (`submit`) is a gateway call like a lookup: the scenario and the grant chosen by system + scenario +
resource (`NO_GRANT` before anything of the file is read, the same answer whether the resource exists or not), the
file's header checked against the grant and the resource's keys, the call admitted and audited
(`gateway.batch.submit`, never a key nor a value). The file is streamed to disk (`<data_dir>/gateway/batches/`,
0600) under its own size limit (`GOVSHARE_GATEWAY_BATCH_MAX_BYTES`), not the JSON body limit.

The job (`run_batch`) checks the grant again (revoked before the job runs: the batch fails, nothing is read), reads
and validates every row (a precise error naming the row and the column), counts the keys against the day's quota
(one unit per key, in the admission that records `gateway.batch.run`), then lets DuckDB join the keys with the
version's Parquet files (the grant's row filter applied there: a row outside it is a row that does not exist), and
writes the result through the Arrow masking kernels (`core.masking.mask_arrow_column`, the rules of `mask_value`):
per key found or not, per compared item 一致 / 不一致 / 查无, the granted items asked for, masked. The file is written
beside its final name and renamed into place; the upload is deleted once the job ends. Failures leave their message
on the batch (the log names only the batch and the kind of error, never a value).

Status and download are gateway calls too, admitted (the grant checked again, not counted) and audited
(`gateway.batch.status`, `gateway.batch.download`); a batch is its system's: any other system gets `BATCH_NOT_FOUND`,
as for an id that does not exist. Results are kept `GOVSHARE_GATEWAY_BATCH_KEEP_HOURS`, then the hourly sweep
(`gateway.sweep_batches`) deletes them and a download answers `BATCH_EXPIRED`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from govshare.core.masking import mask_arrow_column
from govshare.core.tabular.csv import neutralise_formulas
from govshare.core.tabular.xlsx import XlsxRefused, open_workbook
from govshare.dataplane.engines import connect_duckdb
from govshare.dataplane.transform import quote_identifier
from govshare.datasets import scopes, serving
from govshare.gateway import recording, services
from govshare.gateway.callers import Caller
from govshare.gateway.choices import BatchStatus, Service
from govshare.gateway.errors import GatewayError
from govshare.gateway.models import ComparisonBatch
from govshare.gateway.recording import Call, Pending
from govshare.identity.models import InformationSystem
from govshare.jobs import registry
from govshare.sharing.system_grants import CallRefusal, SystemGrant, system_grant

logger = logging.getLogger(__name__)

RUN_BATCH = "gateway.run_batch"  # = jobs.RUN_BATCH (jobs imports this module lazily)
SWEEP_BATCHES = "gateway.sweep_batches"

CSV_KEY_LIMIT = 1_000_000  # keys of one CSV upload
XLSX_KEY_LIMIT = 100_000  # keys of one XLSX upload, and rows of an XLSX result
VALUE_CHARS = 200  # longest key or compared value, as a lookup's
HEADER_BYTES = 64 * 1024  # the header line of a CSV must fit in this
HEADER_COLUMNS = 100
HEADER_CHARS = 50
CHUNK = 1024 * 1024
RESULT_BATCH_ROWS = 65_536
PROGRESS_SECONDS = 1.0
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ID_WITH_LOWER_X = r"^\d{17}x$"

# The result file's fixed columns.
ROW = "行号"
FOUND = "查询结果"
RECORDS = "记录数"
OVERALL = "比对结果"
COMPARED = "{item}比对"
FOUND_WORDS = ("找到", "未找到")
VERDICT_WORDS = ("一致", "不一致", "查无")


class BatchFileError(Exception):
    """A file the comparison cannot read, with the message (Chinese) naming the row and column."""


# ------------------------------------------------------------------------------------------------ files


def batches_root() -> Path:
    root = Path(settings.GOVSHARE.data_dir) / "gateway" / "batches"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _where(file_format: str, row: int, column: int, name: str) -> str:
    place = f"{_column_letter(column)} 列" if file_format == "xlsx" else f"第 {column + 1} 列"
    return f"第 {row} 行{place}（“{name}”）"


def _decoded_csv(path: Path) -> Path:
    """The CSV as UTF-8: the file itself when it is UTF-8 (with or without BOM), else its GBK/GB18030 text written
    beside it. BatchFileError naming the line of the first byte that is neither."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as source:
        try:
            while chunk := source.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return path
        except UnicodeDecodeError:
            pass
    target = path.with_name(path.name + ".utf8")
    gbk = codecs.getincrementaldecoder("gb18030")()
    line = 1
    with path.open("rb") as source, target.open("w", encoding="utf-8", newline="") as out:
        while chunk := source.read(CHUNK):
            try:
                text = gbk.decode(chunk)
            except UnicodeDecodeError as error:
                line += chunk[: error.start].count(b"\n")
                target.unlink(missing_ok=True)
                raise BatchFileError(
                    f"第 {line} 行含有无法识别的字符：文件应为 UTF-8 或 GBK（GB18030）编码的 CSV"
                ) from None
            line += chunk.count(b"\n")
            out.write(text)
    return target


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as source:
        head = source.read(HEADER_BYTES)
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    if first.startswith(codecs.BOM_UTF8):
        first = first[len(codecs.BOM_UTF8) :]
    for encoding in ("utf-8", "gb18030"):
        try:
            text = first.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BatchFileError("第 1 行（表头）含有无法识别的字符：文件应为 UTF-8 或 GBK（GB18030）编码的 CSV")
    return next(csv.reader([text]), [])


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows as text (empty cells ""), each with its row number; empty rows left out."""
    try:
        with open_workbook(path) as workbook:
            if not workbook.sheets:
                raise BatchFileError("工作簿中没有工作表")
            with workbook.open_sheet(next(iter(workbook.sheets))) as sheet:
                for number, values in sheet.rows():
                    cells = ["" if value is None else _cell_text(value) for value in values]
                    if any(cells):
                        yield number, cells
    except XlsxRefused as error:
        raise BatchFileError(str(error)) from None


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def file_header(path: Path, file_format: str) -> list[str]:
    if file_format == "xlsx":
        first = next(_xlsx_rows(path), None)
        header = first[1] if first else []
    else:
        header = _csv_header(path)
    header = [name.strip() for name in header]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise BatchFileError("第 1 行应为表头（信息项名称），文件中没有表头")
    if len(header) > HEADER_COLUMNS:
        raise BatchFileError(f"第 1 行（表头）有 {len(header)} 列，最多 {HEADER_COLUMNS} 列")
    for index, name in enumerate(header):
        if len(name) > HEADER_CHARS:
            # Not echoed: a file without a header has a key here.
            raise BatchFileError(f"第 1 行（表头）第 {index + 1} 列超过 {HEADER_CHARS} 个字符：第 1 行应为信息项名称")
        if not name:
            place = f"{_column_letter(index)} 列" if file_format == "xlsx" else f"第 {index + 1} 列"
            raise BatchFileError(f"第 1 行（表头）{place}为空：每列应写信息项名称")
        if header.index(name) != index:
            raise BatchFileError(f"第 1 行（表头）信息项“{name}”出现了两次")
    return header


@dataclass
class Keys:
    """The uploaded rows: `_n` (the file's row number), `k0…` the key items, `c0…` the compared values."""

    table: pa.Table

    @property
    def count(self) -> int:
        return self.table.num_rows


def _normalised(values: pa.Array) -> pa.Array:
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.match_substring_regex(trimmed, _ID_WITH_LOWER_X), pc.utf8_upper(trimmed), trimmed)


def _check_cells(file_format: str, rows: pa.Array, column: pa.Array, index: int, name: str, *, required: bool) -> None:
    """Empty keys, values too long or holding NUL: the first offending row, named."""
    length = pc.utf8_length(column)
    problems: list[tuple[pa.Array, str]] = [
        (pc.greater(length, VALUE_CHARS), f"超过 {VALUE_CHARS} 个字符"),
        (pc.match_substring(column, "\x00"), "含有空字符"),
    ]
    if required:
        problems.insert(0, (pc.equal(length, 0), "为空：每行都应有查询键"))
    for mask, words in problems:
        mask = pc.fill_null(mask, False)
        if pc.any(mask).as_py():
            first = pc.index(mask, True).as_py()
            raise BatchFileError(f"{_where(file_format, rows[first].as_py(), index, name)}{words}")


def read_keys(path: Path, file_format: str, header: list[str], key_items: list[str]) -> Keys:
    """Every row of the file, validated. BatchFileError names the first bad row (and column)."""
    if file_format == "xlsx":
        columns, numbers = _xlsx_columns(path, header)
    else:
        columns, numbers = _csv_columns(path, header)
    fields: dict[str, pa.Array] = {"_n": numbers}
    compared = [name for name in header if name not in key_items]
    for prefix, names in (("k", key_items), ("c", compared)):
        for n, name in enumerate(names):
            index = header.index(name)
            values = _normalised(columns[index])
            _check_cells(file_format, numbers, values, index, name, required=prefix == "k")
            fields[f"{prefix}{n}"] = values
    return Keys(pa.table(fields))


def _csv_columns(path: Path, header: list[str]) -> tuple[list[pa.Array], pa.Array]:
    text = _decoded_csv(path)
    try:
        names = [f"f{n}" for n in range(len(header))]
        try:
            table = pa_csv.read_csv(
                text,
                read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=16 * CHUNK),
                parse_options=pa_csv.ParseOptions(newlines_in_values=False),
                convert_options=pa_csv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid:
            raise _csv_row_problem(text, len(header)) from None
    finally:
        if text != path:
            text.unlink(missing_ok=True)
    if table.num_rows > CSV_KEY_LIMIT:
        raise BatchFileError(
            f"文件有 {table.num_rows:,} 行数据，超过 CSV 文件 {CSV_KEY_LIMIT:,} 行的上限，请拆分后提交"
        )
    if table.num_rows == 0:
        raise BatchFileError("文件只有表头，没有数据行")
    numbers = pa.array(range(2, table.num_rows + 2), pa.int64())
    return [table.column(n).combine_chunks() for n in range(len(header))], numbers


def _csv_row_problem(path: Path, width: int) -> BatchFileError:
    """The first row whose number of cells is not the header's (Arrow's parser says only that one is)."""
    with path.open(encoding="utf-8-sig", newline="") as source:
        for number, row in enumerate(csv.reader(source), start=1):
            if len(row) != width and any(cell.strip() for cell in row):
                return BatchFileError(f"第 {number} 行有 {len(row)} 列，表头有 {width} 列")
    return BatchFileError("文件不是有效的 CSV：引号不成对或行格式不正确")


def _xlsx_columns(path: Path, header: list[str]) -> tuple[list[pa.Array], pa.Array]:
    width = len(header)
    columns: list[list[str]] = [[] for _ in range(width)]
    numbers: list[int] = []
    rows = _xlsx_rows(path)
    next(rows, None)  # the header
    for number, cells in rows:
        if len(numbers) >= XLSX_KEY_LIMIT:
            raise BatchFileError(f"文件超过 Excel 文件 {XLSX_KEY_LIMIT:,} 行数据的上限，请拆分或改用 CSV 提交")
        if any(cells[width:]):
            extra = next(n for n in range(width, len(cells)) if cells[n])
            raise BatchFileError(f"第 {number} 行 {_column_letter(extra)} 列在表头之外：表头有 {width} 列")
        cells += [""] * (width - len(cells))
        numbers.append(number)
        for n in range(width):
            columns[n].append(cells[n])
    if not numbers:
        raise BatchFileError("文件只有表头，没有数据行")
    return [pa.array(values, pa.string()) for values in columns], pa.array(numbers, pa.int64())


# ------------------------------------------------------------------------------------------------ the upload


def _names(query: Mapping[str, str], name: str) -> list[str]:
    value = query.get(name, "")
    names = [part.strip() for part in re.split(r"[,，]", value) if part.strip()]
    return list(dict.fromkeys(names))


def _file_format(query: Mapping[str, str], content_type: str, head: bytes) -> str:
    asked = query.get("format", "").lower()
    if asked in ("csv", "xlsx"):
        return asked
    if asked:
        raise GatewayError("INVALID_REQUEST", detail="format 应为 csv 或 xlsx")
    if head.startswith(b"PK\x03\x04") or content_type.split(";")[0].strip() == XLSX_TYPE:
        return "xlsx"
    return "csv"


def _store_upload(stream: IO[bytes], length: int) -> tuple[Path, bytes]:
    """The body written to its own file (0600), read in chunks up to Content-Length; its first bytes."""
    path = batches_root() / f"{secrets.token_hex(12)}.upload"
    left, head = length, b""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            while left > 0:
                chunk = stream.read(min(CHUNK, left))
                if not chunk:
                    break
                head = head or chunk[:8]
                out.write(chunk)
                left -= len(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if left:
        path.unlink(missing_ok=True)
        raise GatewayError("INVALID_REQUEST", detail="请求体比 Content-Length 短：文件未上传完整")
    return path, head


def _key_items(
    query: Mapping[str, str], header: list[str], grant: SystemGrant, keys: tuple[tuple[str, ...], ...]
) -> list[str]:
    asked = _names(query, "key")
    if asked:
        services._require_granted(asked, grant)
        key = next((items for items in keys if set(items) == set(asked)), None)
    else:
        key = next((items for items in keys if set(items) <= set(header) and set(items) <= grant.items), None)
    if key is None:
        usable = ["+".join(items) for items in keys if set(items) <= grant.items]
        named = "、".join(asked) if asked else "表头中的信息项"
        raise GatewayError("KEY_NOT_SUPPORTED", detail=named, keys="、".join(usable) or "无")
    missing = [name for name in key if name not in header]
    if missing:
        raise GatewayError("INVALID_BATCH_FILE", detail=f"第 1 行（表头）缺少查询键信息项“{'、'.join(missing)}”")
    return list(key)


def submit(
    call: Call,
    query: Mapping[str, str],
    stream: IO[bytes],
    length: int | None,
    content_type: str,
    *,
    today: dt.date,
    now: dt.datetime,
) -> dict[str, Any]:
    """Accept an upload: the batch row, queued for the job; the call admitted and audited."""
    grant = services._granted(call, query, today)
    limit = settings.GOVSHARE.gateway_batch_max_bytes
    if length is None:
        raise GatewayError("INVALID_REQUEST", detail="请在 Content-Length 中给出文件的字节数")
    if length > limit:
        raise GatewayError("BATCH_FILE_TOO_LARGE", detail=f"{limit:,}")
    if length == 0:
        raise GatewayError("INVALID_BATCH_FILE", detail="请求体为空：请把 CSV 或 Excel 文件本身作为请求体上传")
    returned = _names(query, "return")
    services._require_granted(returned, grant)
    xlsx_result = query.get("result", "csv").lower() == "xlsx"
    version = services._served(call.resource_id)
    path, head = _store_upload(stream, length)
    try:
        file_format = _file_format(query, content_type, head)
        try:
            header = file_header(path, file_format)
        except BatchFileError as error:
            raise GatewayError("INVALID_BATCH_FILE", detail=str(error)) from None
        services._require_granted(header, grant)
        key_items = _key_items(query, header, grant, version.key_items)
        batch = ComparisonBatch.objects.create(
            system_id=call.caller.system_id,
            application_id=call.caller.application_id,
            resource_id=call.resource_id,
            scenario_id=grant.scenario_id,
            grant_id=grant.grant_id,
            request_id=call.request_id,
            file_format=file_format,
            xlsx_result=xlsx_result,
            key_items=key_items,
            compare_items=[name for name in header if name not in key_items],
            return_items=returned,
            upload_path=str(path),
            created_at=now,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    call.batch_id = batch.pk
    call.items = sorted(set(header) | set(returned))
    call.units = 0  # the keys are counted by the job, once it has read them
    try:
        services._admit(call, grant, today=today, now=now)
    except BaseException as error:
        _fail(batch, "NO_GRANT" if isinstance(error, GatewayError) else "INTERNAL", "提交未被受理", now=now)
        raise
    registry.enqueue(RUN_BATCH, batch.pk, task_name=f"gateway-batch-{batch.pk}", group="gateway-batches")
    return {"batch": batch.pk, **_state(batch)}


# ------------------------------------------------------------------------------------------------ status, result


def _own_batch(call: Call, batch_id: int) -> ComparisonBatch:
    batch = ComparisonBatch.objects.filter(pk=batch_id, system_id=call.caller.system_id).first()
    if batch is None:
        raise GatewayError("BATCH_NOT_FOUND", detail=str(batch_id))
    call.resource_id = int(batch.resource_id)
    call.scenario_id = int(batch.scenario_id)
    call.grant_id = int(batch.grant_id)
    call.batch_id = batch.pk
    call.units = 0
    return batch


def _state(batch: ComparisonBatch) -> dict[str, Any]:
    error = {"code": batch.error_code, "message": batch.error} if batch.status == BatchStatus.FAILED else None
    return {
        "status": str(batch.status),
        "progress": batch.progress,
        "resource": int(batch.resource_id),
        "scenario": int(batch.scenario_id),
        "grant": int(batch.grant_id),
        "version": batch.version,
        "key_items": batch.key_items,
        "compare_items": batch.compare_items,
        "return_items": batch.return_items,
        "keys": batch.total_keys,
        "found": batch.found_keys,
        "matched": batch.matched_keys,
        "error": error,
        "created_at": batch.created_at.isoformat(timespec="seconds"),
        "finished_at": batch.finished_at.isoformat(timespec="seconds") if batch.finished_at else None,
        "expires_at": batch.expires_at.isoformat(timespec="seconds") if batch.expires_at else None,
        "formats": ["csv", "xlsx"] if batch.xlsx_path else ["csv"] if batch.result_path else [],
    }


def status(call: Call, batch_id: int, *, today: dt.date, now: dt.datetime) -> dict[str, Any]:
    batch = _own_batch(call, batch_id)
    call.keys = batch.total_keys
    services._admit(call, _grant_stub(batch), today=today, now=now)
    return {"batch": batch.pk, **_state(batch)}


def _grant_stub(batch: ComparisonBatch) -> SystemGrant:
    """What `_admit` needs of the grant (its id and quota) for a call that counts nothing."""
    return SystemGrant(
        grant_id=int(batch.grant_id),
        scenario_id=int(batch.scenario_id),
        scenario_name="",
        resource_id=int(batch.resource_id),
        department_id=0,
        items=frozenset(),
        masking={},
        row_filter={},
        daily_quota=None,
        valid_until=dt.date.max,
    )


@dataclass(frozen=True)
class ResultFile:
    path: Path
    content_type: str
    filename: str


def result(call: Call, batch_id: int, query: Mapping[str, str], *, today: dt.date, now: dt.datetime) -> ResultFile:
    """The result file to send, once the call is admitted and audited."""
    batch = _own_batch(call, batch_id)
    wanted = query.get("format", "csv").lower()
    if wanted not in ("csv", "xlsx"):
        raise GatewayError("INVALID_REQUEST", detail="format 应为 csv 或 xlsx")
    if batch.status == BatchStatus.FAILED:
        raise GatewayError("BATCH_FAILED", detail=batch.error)
    expired = batch.status == BatchStatus.EXPIRED or (batch.expires_at is not None and batch.expires_at <= now)
    if expired:
        until = batch.expires_at.isoformat(timespec="minutes") if batch.expires_at else ""
        raise GatewayError("BATCH_EXPIRED", detail=until)
    if batch.status != BatchStatus.DONE:
        raise GatewayError("BATCH_NOT_READY", detail=f"{batch.get_status_display()}，{batch.progress}%")
    if wanted == "xlsx" and not batch.xlsx_path:
        raise GatewayError("BATCH_XLSX_TOO_LARGE", detail=f"{XLSX_KEY_LIMIT:,}")
    path = Path(batch.xlsx_path if wanted == "xlsx" else batch.result_path)
    if not path.is_file():
        raise GatewayError(
            "BATCH_EXPIRED", detail=batch.expires_at.isoformat(timespec="minutes") if batch.expires_at else ""
        )
    call.keys = batch.total_keys
    call.rows = batch.total_keys
    call.items = sorted(set(batch.key_items) | set(batch.compare_items) | set(batch.return_items))
    services._admit(call, _grant_stub(batch), today=today, now=now)
    content_type = XLSX_TYPE if wanted == "xlsx" else "text/csv; charset=utf-8"
    return ResultFile(path, content_type, f"comparison-{batch.pk}.{wanted}")


# ------------------------------------------------------------------------------------------------ the job


def _fail(batch: ComparisonBatch, code: str, message: str, *, now: dt.datetime) -> None:
    ComparisonBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.FAILED,
        error_code=code,
        error=message[:2000],
        finished_at=now,
        expires_at=now + dt.timedelta(hours=settings.GOVSHARE.gateway_batch_keep_hours),
    )
    Path(batch.upload_path).unlink(missing_ok=True)


def _caller(batch: ComparisonBatch) -> Caller | None:
    system = InformationSystem.objects.filter(pk=batch.system_id).first()
    if system is None:
        return None
    return Caller(
        system_id=system.pk,
        system_code=system.code,
        system_name=system.name,
        department_id=system.department_id,
        application_id=int(batch.application_id),
        token_expires=timezone.now(),
    )


def run_batch(batch_id: int) -> str:
    """The job: compare the batch's keys and write its result; the batch's status at the end. Idempotent: a batch
    that is no longer queued or running is left as it is."""
    batch = ComparisonBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING):
        return "" if batch is None else str(batch.status)
    now = timezone.now()
    ComparisonBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.RUNNING, started_at=now, progress=1)
    try:
        _run(batch, today=scopes.clock())
    except GatewayError as error:
        _fail(batch, error.kind.code, error.message(), now=timezone.now())
    except BatchFileError as error:
        _fail(batch, "INVALID_BATCH_FILE", str(error), now=timezone.now())
    except Exception as error:
        # The error's text may hold a value (an engine's conversion message): logged by its kind only.
        logger.error("comparison batch %s failed: %s", batch.pk, type(error).__name__)
        _fail(batch, "INTERNAL", "比对任务出错，未生成结果；请重新提交，持续出现请联系平台运维", now=timezone.now())
    finally:
        Path(batch.upload_path).unlink(missing_ok=True)
    return str(ComparisonBatch.objects.values_list("status", flat=True).get(pk=batch.pk))


def _run(batch: ComparisonBatch, *, today: dt.date) -> None:
    caller = _caller(batch)
    grant = (
        system_grant(
            batch.system_id, int(batch.scenario_id), int(batch.resource_id), today, grant_id=int(batch.grant_id)
        )
        if caller is not None
        else None
    )
    if caller is None or grant is None:
        raise GatewayError("NO_GRANT")
    items = [*batch.key_items, *batch.compare_items, *batch.return_items]
    services._require_granted(items, grant)
    path = Path(batch.upload_path)
    if not path.is_file():
        raise BatchFileError("上传的文件已不存在（可能已被清理），请重新提交")
    header = file_header(path, batch.file_format)
    keys = read_keys(path, batch.file_format, header, batch.key_items)
    ComparisonBatch.objects.filter(pk=batch.pk).update(total_keys=keys.count, progress=5)
    call = Call(
        request_id=batch.request_id,
        caller=caller,
        service=Service.BATCH_RUN,
        resource_id=int(batch.resource_id),
        scenario_id=int(batch.scenario_id),
        grant_id=grant.grant_id,
        items=sorted(set(items)),
        units=0 if batch.quota_counted else keys.count,
        batch_id=batch.pk,
        keys=keys.count,
    )
    now = timezone.now()
    with transaction.atomic():
        refusal = recording.record(Pending(call, "OK", admit=True, today=today, now=now))
        if refusal is None:
            ComparisonBatch.objects.filter(pk=batch.pk).update(quota_counted=True)
    if refusal == CallRefusal.QUOTA:
        raise GatewayError(
            "QUOTA_EXCEEDED",
            detail=str(grant.daily_quota),
            reset=dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0, 0)).isoformat(timespec="minutes"),
        )
    if refusal is not None:
        raise GatewayError("NO_GRANT")
    dataset_id = services._dataset_id(int(batch.resource_id))
    served = serving.served(dataset_id) if dataset_id is not None else None
    if served is None or dataset_id is None:
        raise GatewayError("NOT_SERVABLE")
    with serving.version_files(dataset_id, served.version, holder=f"gateway-batch:{batch.pk}") as version:
        found, matched, result_path, xlsx_path = _compare(batch, grant, keys, version)
    finished = timezone.now()
    ComparisonBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.DONE,
        progress=100,
        version=served.version,
        found_keys=found,
        matched_keys=matched,
        result_path=str(result_path),
        xlsx_path=str(xlsx_path) if xlsx_path else "",
        finished_at=finished,
        expires_at=finished + dt.timedelta(hours=settings.GOVSHARE.gateway_batch_keep_hours),
    )


def _compare(
    batch: ComparisonBatch, grant: SystemGrant, keys: Keys, version: serving.VersionFiles
) -> tuple[int, int, Path, Path | None]:
    needed = [*batch.key_items, *batch.compare_items, *batch.return_items, *grant.row_filter]
    missing = [name for name in dict.fromkeys(needed) if name not in version.schema.names]
    if missing:
        raise BatchFileError(f"资源当前版本的数据中没有信息项“{'、'.join(missing)}”")
    encrypted = [name for name in dict.fromkeys(needed) if name in version.encrypted]
    if encrypted:
        raise BatchFileError(f"信息项“{'、'.join(encrypted)}”加密存储，暂不支持数据比对，请改用逐条核验接口")
    sql, parameters = _join_sql(batch, grant, version.files)
    con = connect_duckdb()
    root = batches_root()
    final = root / f"{batch.pk}-{secrets.token_hex(8)}.csv"
    temporary = final.with_name(final.name + ".tmp")
    xlsx_final = final.with_suffix(".xlsx") if batch.xlsx_result and keys.count <= XLSX_KEY_LIMIT else None
    found = matched = done = 0
    reported = time.monotonic()
    try:
        con.register("batch_keys", keys.table)
        reader = con.sql(sql, params=parameters).to_arrow_reader(RESULT_BATCH_ROWS)
        with temporary.open("wb") as out, _xlsx_writer(xlsx_final) as sheet:
            out.write(codecs.BOM_UTF8)
            writer: pa_csv.CSVWriter | None = None
            for raw in reader:
                table, found_here, matched_here = _result_batch(batch, grant, raw)
                if writer is None:
                    writer = pa_csv.CSVWriter(
                        out, table.schema, write_options=pa_csv.WriteOptions(quoting_style="needed")
                    )
                writer.write_table(table)
                if sheet is not None:
                    sheet.write(table)
                found += found_here
                matched += matched_here
                done += table.num_rows
                if time.monotonic() - reported > PROGRESS_SECONDS:
                    reported = time.monotonic()
                    progress = 5 + int(90 * done / max(keys.count, 1))
                    ComparisonBatch.objects.filter(pk=batch.pk).update(progress=min(progress, 95))
            if writer is not None:
                writer.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, final)
        if xlsx_final is not None:
            os.replace(xlsx_final.with_name(xlsx_final.name + ".tmp"), xlsx_final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        if xlsx_final is not None:
            xlsx_final.with_name(xlsx_final.name + ".tmp").unlink(missing_ok=True)
        raise
    finally:
        con.close()
    return found, matched, final, xlsx_final


def _join_sql(batch: ComparisonBatch, grant: SystemGrant, files: list[str]) -> tuple[str, list[Any]]:
    """Per uploaded row (in file order): its key, how many rows of the version inside the row filter have it, per
    compared item whether any of them holds the value, and each returned item of (one of) them."""
    q = quote_identifier
    inner: list[str] = []
    on: list[str] = []
    for n, item in enumerate(batch.key_items):
        inner.append(f"NULLIF(CAST({q(item)} AS VARCHAR), '') AS _k{n}")
        on.append(f"d._k{n} = k.k{n}")
    for n, item in enumerate(batch.compare_items):
        inner.append(f"trim(CAST({q(item)} AS VARCHAR)) AS _c{n}")
    for n, item in enumerate(batch.return_items):
        inner.append(f"{q(item)} AS _r{n}")
    parameters: list[Any] = [files]
    where = ["TRUE"]
    for item, allowed in sorted(grant.row_filter.items()):
        marks = ", ".join("?" for _ in allowed)
        where.append(f"CAST({q(item)} AS VARCHAR) IN ({marks})" if allowed else "FALSE")
        parameters.extend(sorted(allowed))
    outer = ["k._n AS _n"]
    outer += [f"any_value(k.k{n}) AS k{n}" for n in range(len(batch.key_items))]
    outer.append("count(d._k0) AS _rows")
    outer += [f"bool_or(d._c{n} = k.c{n}) AS _m{n}" for n in range(len(batch.compare_items))]
    outer += [f"first(d._r{n}) AS _r{n}" for n in range(len(batch.return_items))]
    sql = (
        f"SELECT {', '.join(outer)} FROM batch_keys AS k LEFT JOIN ("  # noqa: S608 (quoted names, parameters)
        f"SELECT {', '.join(inner)} FROM read_parquet(?) WHERE {' AND '.join(where)}"
        f") AS d ON {' AND '.join(on)} GROUP BY k._n ORDER BY k._n"
    )
    return sql, parameters


def _result_batch(batch: ComparisonBatch, grant: SystemGrant, raw: pa.RecordBatch) -> tuple[pa.Table, int, int]:
    """The result columns of a joined batch, masked; with how many keys were found and fully matched."""
    found = pc.greater(raw.column("_rows"), 0)
    columns: dict[str, pa.Array] = {ROW: raw.column("_n")}
    for n, item in enumerate(batch.key_items):
        columns[item] = _text(mask_arrow_column(raw.column(f"k{n}"), grant.masking.get(item)))
    columns[FOUND] = pc.if_else(found, FOUND_WORDS[0], FOUND_WORDS[1])
    columns[RECORDS] = raw.column("_rows")
    every = found
    verdicts: dict[str, pa.Array] = {}
    for n, item in enumerate(batch.compare_items):
        match = pc.fill_null(raw.column(f"_m{n}"), False)
        every = pc.and_(every, match)
        verdicts[COMPARED.format(item=item)] = pc.if_else(
            found, pc.if_else(match, VERDICT_WORDS[0], VERDICT_WORDS[1]), VERDICT_WORDS[2]
        )
    if batch.compare_items:
        columns[OVERALL] = pc.if_else(found, pc.if_else(every, VERDICT_WORDS[0], VERDICT_WORDS[1]), VERDICT_WORDS[2])
        columns.update(verdicts)
    for n, item in enumerate(batch.return_items):
        columns[item] = _text(mask_arrow_column(raw.column(f"_r{n}"), grant.masking.get(item)))
    matched = pc.sum(pc.cast(every, pa.int64())).as_py() or 0 if batch.compare_items else 0
    found_count = pc.sum(pc.cast(found, pa.int64())).as_py() or 0
    return pa.table(columns), int(found_count), int(matched)


def _text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_string(values.type):
        values = pc.cast(values, pa.string())
    return neutralise_formulas(values)


class _Sheet:
    def __init__(self, path: Path) -> None:
        from openpyxl import Workbook

        self.path = path
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet("比对结果")
        self.header = False

    def write(self, table: pa.Table) -> None:
        if not self.header:
            self.sheet.append(table.schema.names)
            self.header = True
        for row in zip(*(column.to_pylist() for column in table.columns), strict=True):
            self.sheet.append(list(row))

    def save(self) -> None:
        with self.path.open("wb") as out:
            self.workbook.save(out)


@contextlib.contextmanager
def _xlsx_writer(final: Path | None) -> Iterator[_Sheet | None]:
    if final is None:
        yield None
        return
    sheet = _Sheet(final.with_name(final.name + ".tmp"))
    yield sheet
    sheet.save()


# ------------------------------------------------------------------------------------------------ the sweep


def sweep_batches(now: dt.datetime | None = None) -> int:
    """Delete the files of batches past their keeping time (and of uploads a dead job left); the batches swept."""
    now = now or timezone.now()
    # A job whose worker died and was never delivered again (django-q retries after its timeout).
    lost = now - dt.timedelta(seconds=2 * settings.GOVSHARE.job_timeout_seconds + 120)
    for batch in ComparisonBatch.objects.filter(
        status__in=[BatchStatus.QUEUED, BatchStatus.RUNNING], created_at__lte=lost
    ).order_by("pk"):
        _fail(batch, "INTERNAL", "比对任务中断（后台任务未能完成），未生成结果；请重新提交", now=now)
    swept = 0
    for batch in ComparisonBatch.objects.filter(
        status__in=[BatchStatus.DONE, BatchStatus.FAILED], expires_at__lte=now
    ).order_by("pk"):
        for name in (batch.result_path, batch.xlsx_path, batch.upload_path):
            if name:
                Path(name).unlink(missing_ok=True)
        ComparisonBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.EXPIRED)
        swept += 1
    return swept


__all__ = [
    "CSV_KEY_LIMIT",
    "RUN_BATCH",
    "SWEEP_BATCHES",
    "XLSX_KEY_LIMIT",
    "BatchFileError",
    "ResultFile",
    "result",
    "run_batch",
    "status",
    "submit",
    "sweep_batches",
]
