"""check_zip_members: the limits from the zip's directory, and declared sizes verified by inflating."""

from __future__ import annotations

import contextlib
import io
import struct
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from govshare.core.archives import MAX_MEMBERS, ArchiveRefused, check_zip_members, size_text
from govshare.testing import bombs

LIMITS = {"max_member_bytes": 64 * bombs.MIB, "max_total_bytes": 128 * bombs.MIB, "max_ratio": 100}


def _workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for n in range(200):
        sheet.append([f"11010519491231{n:04d}", "张三", n])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _refused(data: bytes, **limits: float) -> str:
    with pytest.raises(ArchiveRefused) as refused:
        check_zip_members(io.BytesIO(data), **{**LIMITS, **limits})  # type: ignore[arg-type]
    return refused.value.message


def test_a_workbook_passes_and_the_file_is_left_where_it_was(tmp_path) -> None:
    data = _workbook()
    handle = io.BytesIO(data)
    handle.seek(7)
    members = check_zip_members(handle, **LIMITS)  # type: ignore[arg-type]
    assert handle.tell() == 7
    assert "xl/worksheets/sheet1.xml" in {m.filename for m in members}
    path = bombs.write(tmp_path / "a.xlsx", data)
    assert [m.filename for m in check_zip_members(path, **LIMITS)] == [m.filename for m in members]  # type: ignore[arg-type]


def test_a_member_over_the_size_limit_is_named_with_the_limit() -> None:
    data = bombs.zip_bytes([bombs.Member("xl/worksheets/sheet1.xml", block=bytes(range(256)) * 4096, times=3)])
    message = _refused(data, max_member_bytes=2 * bombs.MIB)
    assert "“xl/worksheets/sheet1.xml”解压后为 3 MB，超过单个部件的解压上限 2 MB" in message
    assert "GOVSHARE_XLSX_MAX_MEMBER_BYTES" in message


def test_a_member_expanding_more_than_the_ratio_is_refused_as_a_bomb() -> None:
    data = bombs.zip_bytes([bombs.Member("xl/sharedStrings.xml", block=b"<si><t>x</t></si>" * 1000, times=200)])
    message = _refused(data)
    assert "“xl/sharedStrings.xml”由" in message and "超过上限 100 倍（压缩炸弹）" in message
    assert "GOVSHARE_XLSX_MAX_RATIO" in message


def test_small_members_are_not_held_to_the_ratio() -> None:
    data = bombs.zip_bytes([bombs.Member("xl/styles.xml", block=b" " * 1024, times=1000)])  # 1000 KB of spaces
    assert check_zip_members(io.BytesIO(data), **LIMITS)  # type: ignore[arg-type]


def test_members_over_the_total_are_refused_naming_where_the_total_was_passed() -> None:
    part = bytes(range(256)) * 4096  # 1 MB that does not compress
    data = bombs.zip_bytes([bombs.Member(f"xl/media/image{n}.png", head=part) for n in range(1, 4)])
    message = _refused(data, max_total_bytes=2 * bombs.MIB + 1)
    assert "解压后的总大小超过上限 2 MB（到“xl/media/image3.png”为止已有 3 MB）" in message


def test_overlapping_members_that_share_one_stream_are_refused() -> None:
    # Each entry alone expands 10 times; 400 entries over the same data expand the archive 4,000 times.
    block = b"".join(f'<c r="A{n}"><v>{n}</v></c>'.encode() for n in range(20_000))
    first = bombs.Member("xl/worksheets/sheet1.xml", head=block)
    others = [bombs.Member(f"xl/worksheets/sheet{n}.xml", same_data_as=first.name) for n in range(2, 401)]
    data = bombs.zip_bytes([first, *others])
    with pytest.raises((ArchiveRefused, zipfile.BadZipFile)) as refused:
        check_zip_members(io.BytesIO(data), **{**LIMITS, "max_total_bytes": 4 * 1024**3})  # type: ignore[arg-type]
    if isinstance(refused.value, ArchiveRefused):
        assert "部件共用压缩数据" in refused.value.message


def test_a_member_that_inflates_to_more_than_it_declares_is_refused() -> None:
    data = bombs.zip_bytes([bombs.lying(bombs.spaces_sheet(20 * bombs.MIB), 1000)])
    message = _refused(data)
    assert "“xl/worksheets/sheet1.xml”实际解压后的大小超过其声明的 1000 字节（文件已被篡改或损坏）" in message


def test_a_member_that_inflates_to_less_than_it_declares_is_refused() -> None:
    data = bombs.zip_bytes([bombs.lying(bombs.Member("xl/workbook.xml", head=b"<workbook/>"), 5000)])
    assert "实际解压后的大小不足其声明的 4.88 KB" in _refused(data)


def test_a_member_cut_short_is_refused_as_damaged() -> None:
    data = bytearray(bombs.zip_bytes([bombs.Member("xl/workbook.xml", head=bytes(range(256)) * 64)]))
    local = data.find(b"PK\x01\x02")
    data[100:local] = bytes(local - 100)  # the deflate stream is zeroed (a stored block of garbage, or invalid)
    assert "“xl/workbook.xml”" in _refused(bytes(data))


def _central_field(data: bytes, offset: int, value: int, size: str = "<H") -> bytes:
    out = bytearray(data)
    entry = out.find(b"PK\x01\x02")
    struct.pack_into(size, out, entry + offset, value)
    return bytes(out)


def test_an_encrypted_member_is_refused() -> None:
    data = _central_field(bombs.zip_bytes([bombs.Member("xl/workbook.xml", head=b"<workbook/>")]), 8, 0x1)
    assert "“xl/workbook.xml”已加密" in _refused(data)


def test_a_member_compressed_otherwise_than_excel_does_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("xl/sharedStrings.xml", b"<si><t>x</t></si>" * 10)
    assert "使用了 Excel 不使用的压缩方式（编号 12）" in _refused(buffer.getvalue())


def test_more_members_than_the_limit_are_refused_before_zipfile_lists_them() -> None:
    data = bombs.zip_bytes([bombs.Member(f"m{n}") for n in range(MAX_MEMBERS + 1)])
    assert "压缩包含有 10,001 个文件，超过上限 10,000 个" in _refused(data)


def test_a_file_that_is_not_a_zip_is_bad_zip() -> None:
    with pytest.raises(zipfile.BadZipFile):
        check_zip_members(io.BytesIO(b"a,b\n1,2\n"), **LIMITS)  # type: ignore[arg-type]


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=1500), st.integers(0, 255)), min_size=1, max_size=8))
def test_a_damaged_archive_is_refused_or_reported_as_bad_zip_never_anything_else(flips) -> None:
    # Mostly the directory and the end record at the end of the file, where zipfile trips over most kinds of error.
    data = bytearray(_SMALL)
    for position, value in flips:
        data[-1 - position % len(data)] = value
    with contextlib.suppress(ArchiveRefused, zipfile.BadZipFile):
        check_zip_members(io.BytesIO(bytes(data)), **LIMITS)  # type: ignore[arg-type]


_SMALL = bombs.one_sheet_workbook(bombs.wide_row_sheet(1000))


@pytest.mark.parametrize(
    ("size", "text"), [(512, "512 字节"), (1024, "1 KB"), (20 * 1024**2, "20 MB"), (2 * 1024**3, "2 GB")]
)
def test_sizes_are_said_in_units(size: int, text: str) -> None:
    assert size_text(size) == text


def test_a_refusal_is_said_in_english_to_an_english_reader() -> None:
    from django.utils import translation

    from govshare.testing.english import chinese_in

    data = bombs.zip_bytes([bombs.Member("xl/sharedStrings.xml", block=b"<si><t>x</t></si>" * 1000, times=200)])
    with translation.override("en"):
        message = _refused(data)
    assert "a zip bomb" in message and "GOVSHARE_XLSX_MAX_RATIO" in message
    assert chinese_in([message]) == []
