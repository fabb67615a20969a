"""Zip bombs for the attack tests, built cheaply: a member is a head, one block repeated many times and a tail, and the
block is compressed once (after a full flush a deflate block refers to nothing before it, so its compressed bytes
can be repeated). A 1 GiB member costs its CRC (0.3 s) and 1 MB of memory to build, not a gigabyte of deflate.

The archive is written by hand (local headers, data, central directory, end record), which also lets a member
declare a size it does not have, or several entries share one member's data (overlapping members).
"""

from __future__ import annotations

import io
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
SHEET_TAIL = b"</sheetData></worksheet>"
STRINGS_HEAD = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}">'.encode()
STRINGS_TAIL = b"</sst>"
GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class Member:
    """`head` + `block` × `times` + `tail`, deflated; `declared` replaces the size the archive states for it."""

    name: str
    head: bytes = b""
    block: bytes = b""
    times: int = 0
    tail: bytes = b""
    declared: int | None = None
    same_data_as: str = ""  # another entry for that member's data (overlapping members)

    @property
    def size(self) -> int:
        return len(self.head) + len(self.block) * self.times + len(self.tail)


def _deflate(data: bytes, final: bool) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


def _compressed(member: Member) -> tuple[bytes, int]:
    crc = zlib.crc32(member.head)
    for _ in range(member.times):
        crc = zlib.crc32(member.block, crc)
    crc = zlib.crc32(member.tail, crc)
    block = _deflate(member.block, final=False) if member.times else b""
    return _deflate(member.head, final=False) + block * member.times + _deflate(member.tail, final=True), crc


def zip_bytes(members: Sequence[Member]) -> bytes:
    """The archive holding `members` in order (all deflated, sizes as declared)."""
    out = io.BytesIO()
    directory: list[bytes] = []
    written: dict[str, tuple[int, int, int, int]] = {}  # name → offset, crc, compressed size, size
    for member in members:
        name = member.name.encode()
        if member.same_data_as:
            offset, crc, compressed_size, size = written[member.same_data_as]
        else:
            data, crc = _compressed(member)
            size = member.size if member.declared is None else member.declared
            if member.declared is not None:  # a lie that checks out: the CRC of what the declared size shows
                crc = zlib.crc32(zlib.decompressobj(-zlib.MAX_WBITS).decompress(data, max(member.declared, 1)))
            offset, compressed_size = out.tell(), len(data)
            out.write(struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, compressed_size, size, len(name), 0))
            out.write(name)
            out.write(data)
            written[member.name] = offset, crc, compressed_size, size
        directory.append(
            struct.pack(
                "<4s6H3I5H2I",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                compressed_size,
                size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    start = out.tell()
    for entry in directory:
        out.write(entry)
    size = out.tell() - start
    out.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(directory), len(directory), size, start, 0))
    return out.getvalue()


def members_of(data: bytes, *, without: Sequence[str] = ()) -> list[Member]:
    """The members of a real workbook (as plain members), leaving out `without`."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    return [
        Member(info.filename, head=archive.read(info)) for info in archive.infolist() if info.filename not in without
    ]


def one_sheet_workbook(sheet: Member, *, strings: Member | None = None) -> bytes:
    """A minimal workbook of one sheet "数据" (and a shared-string table), its sheet part given."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    )
    relations = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package_rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{relations}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{relations}">'
        '<sheets><sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    workbook_rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{relations}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{relations}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    )
    parts = [
        Member("[Content_Types].xml", head=content_types.encode()),
        Member("_rels/.rels", head=package_rels.encode()),
        Member("xl/workbook.xml", head=workbook.encode()),
        Member("xl/_rels/workbook.xml.rels", head=workbook_rels.encode()),
        sheet,
        strings or Member("xl/sharedStrings.xml", head=STRINGS_HEAD + STRINGS_TAIL),
    ]
    return zip_bytes(parts)


def header_row(*names: str) -> bytes:
    cells = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{name}</t></is></c>' for i, name in enumerate(names))
    return f'<row r="1">{cells}</row>'.encode()


# ---------------------------------------------------------------------------------------------- the bombs


def spaces_sheet(size: int = GIB) -> Member:
    """A sheet whose cell A2 holds `size` bytes of spaces (1 GiB in about 1 MB)."""
    block = b" " * MIB
    return Member(
        "xl/worksheets/sheet1.xml",
        head=SHEET_HEAD + header_row("姓名") + b'<row r="2"><c r="A2" t="inlineStr"><is><t xml:space="preserve">',
        block=block,
        times=size // len(block),
        tail=b"</t></is></c></row>" + SHEET_TAIL,
    )


def strings_table(count: int = 5_000_000) -> Member:
    """A shared-string table of `count` strings (5 million: 85 MB in about 100 KB)."""
    per_block = 10_000
    return Member(
        "xl/sharedStrings.xml",
        head=STRINGS_HEAD,
        block=b"<si><t>x</t></si>" * per_block,
        times=count // per_block,
        tail=STRINGS_TAIL,
    )


def lying(member: Member, declared: int) -> Member:
    """The same member declaring `declared` bytes (its CRC that of the first `declared` bytes)."""
    return Member(member.name, member.head, member.block, member.times, member.tail, declared=declared)


def wide_row_sheet(cells: int, header: Sequence[str] = ("身份证号", "姓名", "出生日期")) -> Member:
    """A sheet whose row 2 has `cells` cells (a "row" the parser would build whole); ordinary compression."""
    numbers = "".join(f'<c r="A2"><v>{n}</v></c>' for n in range(1000)).encode()
    return Member(
        "xl/worksheets/sheet1.xml",
        head=SHEET_HEAD + header_row(*header) + b'<row r="2">',
        block=numbers,
        times=cells // 1000,
        tail=b"</row>" + SHEET_TAIL,
    )


# ---------------------------------------------------------------------------------------------- measuring


@dataclass
class Cost:
    seconds: float  # CPU seconds of this process
    rss_growth: int  # highest resident memory seen above the start, bytes
    result: Any = None
    error: BaseException | None = None


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096


def cost_of(call: Callable[[], Any]) -> Cost:
    """Run `call`, sampling the process's resident memory every 2 ms; its exception is kept, not raised."""
    start = _rss()
    peak = [start]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.002):
            peak[0] = max(peak[0], _rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu = time.process_time()
    cost = Cost(0.0, 0)
    try:
        cost.result = call()
    except Exception as exc:
        cost.error = exc
    finally:
        cost.seconds = time.process_time() - cpu
        done.set()
        sampler.join()
        cost.rss_growth = max(peak[0], _rss()) - start
    return cost


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
