"""Zip archives from uploads (every .xlsx is one) are checked before anything parses them: zip bombs.

What parsing costs (memory, CPU) is a member's *expanded* size, which an archive chooses: a 1 MB file can expand to
1 GiB of spaces, a 126 KB one to millions of shared strings. `check_zip_members` reads the central directory and
refuses, naming the member and the limit:

- more than `MAX_MEMBERS` members or a central directory over `MAX_DIRECTORY_BYTES` (Python's zipfile builds an
  object for every entry on opening);
- an encrypted member, or one compressed otherwise than stored or deflated (the only methods spreadsheet
  applications use; bzip2 and LZMA reach far higher ratios);
- a member that expands to more than `max_member_bytes`, all members together to more than `max_total_bytes`;
- a member larger than `RATIO_FLOOR` that expands more than `max_ratio` times (Apache POI refuses from 100 times
  too), or members that together expand more than `max_ratio` times the archive's own size (overlapping members,
  which share one compressed stream, each look honest alone).

Declared sizes are not trusted: every member is then inflated once, with the byte cap its declaration gives, and
one that inflates to more (or less) than it declared is refused. Readers that open a member afterwards go through
Python's zipfile, which never returns more than the declared size either.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from govshare.core.text import say

__all__ = [
    "MAX_DIRECTORY_BYTES",
    "MAX_MEMBERS",
    "RATIO_FLOOR",
    "ArchiveRefused",
    "check_zip_members",
    "size_text",
]

MAX_MEMBERS = 10_000
MAX_DIRECTORY_BYTES = 4 * 1024 * 1024
RATIO_FLOOR = 1024 * 1024
_READ = 1024 * 1024  # compressed bytes read at a time while verifying
_INFLATE = 4 * 1024 * 1024  # most bytes one inflate step may produce
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_LOCAL_HEADER = b"PK\x03\x04"


class ArchiveRefused(Exception):
    """The archive is not read: `message` (Chinese) names the member and the limit it exceeds."""

    def __init__(self, message: str, member: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.member = member


def size_text(size: int) -> str:
    """A byte count as people say it: 2 GB, 20 MB, 512 KB."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return say("%(n)d 字节") % {"n": size}


def _limit_note(setting: str) -> str:
    return say("上限由设置 %(setting)s（环境变量 %(env)s）规定") % {
        "setting": setting,
        "env": f"GOVSHARE_{setting.upper()}",
    }


@contextmanager
def _raw(source: str | Path | IO[bytes]) -> Iterator[IO[bytes]]:
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            yield handle
        return
    position = source.tell()
    try:
        yield source
    finally:
        source.seek(position)


def _directory(raw: IO[bytes]) -> tuple[int, int] | None:
    """The central directory's entry count and size from the end record (Zip64 too), or None without one."""
    raw.seek(0, 2)
    size = raw.tell()
    tail_size = min(size, 22 + 65_535)
    raw.seek(size - tail_size)
    tail = raw.read(tail_size)
    at = tail.rfind(_EOCD)
    if at < 0 or at + 22 > len(tail):
        return None
    entries, directory_size = struct.unpack("<HI", tail[at + 10 : at + 16])
    locator = at - 20
    if locator >= 0 and tail[locator : locator + 4] == _EOCD64_LOCATOR:
        (offset,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
        if offset >= size:
            return None
        raw.seek(offset)
        record = raw.read(56)
        if len(record) == 56 and record[:4] == _EOCD64:
            entries, directory_size = struct.unpack("<QQ", record[32:48])
    return entries, directory_size


def _inflated_size(raw: IO[bytes], info: zipfile.ZipInfo) -> int | None:
    """How many bytes the member really inflates to, counting no further than one byte past its declared size;
    None when its data is damaged or cut short."""
    if info.header_offset < 0:
        return None
    raw.seek(info.header_offset)
    header = raw.read(30)
    if len(header) < 30 or header[:4] != _LOCAL_HEADER:
        return None
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    raw.seek(info.header_offset + 30 + name_length + extra_length)
    if info.compress_type == zipfile.ZIP_STORED:
        start = raw.tell()
        end = raw.seek(0, 2)
        return info.compress_size if start + info.compress_size <= end else None
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    cap = info.file_size + 1
    produced = 0
    remaining = info.compress_size
    try:
        while remaining > 0 and not inflater.eof:
            data = raw.read(min(remaining, _READ))
            if not data:
                return None
            remaining -= len(data)
            while data and not inflater.eof:
                produced += len(inflater.decompress(data, min(_INFLATE, cap - produced)))
                if produced >= cap:
                    return produced
                data = inflater.unconsumed_tail
    except zlib.error:
        return None
    return produced if inflater.eof else None


def check_zip_members(
    source: str | Path | IO[bytes],
    *,
    max_member_bytes: int,
    max_total_bytes: int,
    max_ratio: float,
) -> list[zipfile.ZipInfo]:
    """Refuse (ArchiveRefused) an archive whose members exceed the limits or do not inflate to what they declare;
    otherwise return its members. A file object is left at the position it had. zipfile.BadZipFile when the file is
    not a zip archive at all."""
    with _raw(source) as raw:
        directory = _directory(raw)
        if directory is not None:
            entries, directory_size = directory
            if entries > MAX_MEMBERS:
                raise ArchiveRefused(
                    say("压缩包含有 %(n)s 个文件，超过上限 %(max)s 个，不是正常的 Excel 工作簿，未读取")
                    % {"n": f"{entries:,}", "max": f"{MAX_MEMBERS:,}"}
                )
            if directory_size > MAX_DIRECTORY_BYTES:
                raise ArchiveRefused(
                    say("压缩包的文件目录有 %(size)s，超过上限 %(max)s，不是正常的 Excel 工作簿，未读取")
                    % {"size": size_text(directory_size), "max": size_text(MAX_DIRECTORY_BYTES)}
                )
        raw.seek(0, 2)
        archive_size = raw.tell()
        raw.seek(0)
        try:
            with zipfile.ZipFile(raw) as archive:
                members = archive.infolist()
        except (ValueError, NotImplementedError, EOFError, OverflowError, struct.error) as exc:
            # A damaged directory: offsets before the start, an unknown "version needed to extract"…
            raise zipfile.BadZipFile(str(exc)) from exc
        total = 0
        for info in members:
            name = info.filename
            if info.flag_bits & 0x1:
                message = say("压缩包中的“%(name)s”已加密，无法读取；请取消工作簿密码后重新保存") % {"name": name}
                raise ArchiveRefused(message, name)
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ArchiveRefused(
                    say(
                        "压缩包中的“%(name)s”使用了 Excel 不使用的压缩方式（编号 %(type)s），"
                        "请在 Excel 或 WPS 中重新保存后上传"
                    )
                    % {"name": name, "type": info.compress_type},
                    name,
                )
            if info.file_size > max_member_bytes:
                raise ArchiveRefused(
                    say(
                        "压缩包中的“%(name)s”解压后为 %(size)s，超过单个部件的解压上限 %(max)s，"
                        "未读取；请拆分为多个文件，或改用 CSV 报送。"
                    )
                    % {"name": name, "size": size_text(info.file_size), "max": size_text(max_member_bytes)}
                    + _limit_note("xlsx_max_member_bytes"),
                    name,
                )
            if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
                ratio = info.file_size / max(info.compress_size, 1)
                raise ArchiveRefused(
                    say(
                        "压缩包中的“%(name)s”由 %(packed)s 解压为 %(size)s，"
                        "压缩比 %(ratio)s 倍，超过上限 %(max)s 倍（压缩炸弹），未读取。"
                    )
                    % {
                        "name": name,
                        "packed": size_text(info.compress_size),
                        "size": size_text(info.file_size),
                        "ratio": f"{ratio:,.0f}",
                        "max": f"{max_ratio:g}",
                    }
                    + _limit_note("xlsx_max_ratio"),
                    name,
                )
            total += info.file_size
            if total > max_total_bytes:
                raise ArchiveRefused(
                    say("压缩包解压后的总大小超过上限 %(max)s（到“%(name)s”为止已有 %(total)s），未读取。")
                    % {"max": size_text(max_total_bytes), "name": name, "total": size_text(total)}
                    + _limit_note("xlsx_max_total_bytes"),
                    name,
                )
        if total > RATIO_FLOOR and total > max_ratio * max(archive_size, 1):
            raise ArchiveRefused(
                say("压缩包由 %(packed)s 解压为 %(size)s，超过上限 %(max)s 倍（部件共用压缩数据，压缩炸弹），未读取。")
                % {"packed": size_text(archive_size), "size": size_text(total), "max": f"{max_ratio:g}"}
                + _limit_note("xlsx_max_ratio")
            )
        for info in members:
            inflated = _inflated_size(raw, info)
            if inflated is None:
                raise ArchiveRefused(
                    say("压缩包中的“%(name)s”已损坏或不完整，无法解压；请在 Excel 或 WPS 中重新保存后上传")
                    % {"name": info.filename},
                    info.filename,
                )
            if inflated != info.file_size:
                if inflated > info.file_size:
                    message = say(
                        "压缩包中的“%(name)s”实际解压后的大小超过其声明的 %(size)s（文件已被篡改或损坏），未读取"
                    )
                else:
                    message = say(
                        "压缩包中的“%(name)s”实际解压后的大小不足其声明的 %(size)s（文件已被篡改或损坏），未读取"
                    )
                raise ArchiveRefused(
                    message % {"name": info.filename, "size": size_text(info.file_size)}, info.filename
                )
    return members
