"""Encoding detection (never a wrong guess on Chinese files) and the transcoding child process."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govshare.dataplane.raw import ReadStats, SourceInvalid
from govshare.sources.readers import _transcode as transcoder
from govshare.sources.readers.encoding import TranscodingReader, detect_encoding, python_codec

GB2312 = sorted(
    ch
    for lead in range(0xB0, 0xF8)
    for trail in range(0xA1, 0xFF)
    for ch in [bytes((lead, trail)).decode("gb2312", "ignore")]
    if ch
)
PUNCTUATION = list("，。、；：？！“”（）《》【】—…·")
# Characters of GB18030 that GBK has not (CJK extension A and B, and pinyin with a tone GBK lacks).
GB18030_ONLY = list("㐀㐁䶵𠀀𠀁𪛖ḿ")

chinese = st.text(alphabet=st.sampled_from(GB2312 + PUNCTUATION), min_size=1, max_size=40)
ascii_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
chinese_lines = st.lists(st.tuples(ascii_text, chinese), min_size=1, max_size=5).map(
    lambda parts: "\n".join(a + c for a, c in parts)
)


def _decodes_to(sample: bytes, text: str) -> None:
    encoding = detect_encoding(sample)
    assert codecs.decode(sample, python_codec(encoding)) == text, encoding


@given(chinese_lines)
def test_gbk_chinese_is_detected_as_gbk(text):
    assert detect_encoding(text.encode("gbk")) == "GBK"
    _decodes_to(text.encode("gbk"), text)


@given(chinese)
def test_short_gbk_samples_are_never_taken_for_another_encoding(text):
    assert detect_encoding(text.encode("gbk")) in ("GBK", "GB18030")


@given(chinese_lines, st.sampled_from(GB18030_ONLY))
def test_gb18030_text_is_detected_as_gb18030(text, rare):
    sample = (text + rare + text).encode("gb18030")
    assert detect_encoding(sample) == "GB18030"
    _decodes_to(sample, text + rare + text)


# Two-byte UTF-8 characters (such as "·") alone are as much GBK as UTF-8: see detect_encoding.
THREE_BYTE_PUNCTUATION = [ch for ch in PUNCTUATION if ord(ch) >= 0x800]


@given(st.text(alphabet=st.sampled_from([*GB2312, *THREE_BYTE_PUNCTUATION, "a", "1", ",", "\n"]), min_size=1))
def test_utf8_chinese_text_is_detected_as_utf8(text):
    assert detect_encoding(text.encode("utf-8")) == "UTF-8"


any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]))


@given(any_text)
def test_any_utf8_file_with_a_chinese_header_is_utf8(text):
    assert detect_encoding(("姓名,地址\n" + text).encode("utf-8")) == "UTF-8"


@given(any_text)
def test_files_with_a_bom_decode_to_their_text(text):
    _decodes_to(codecs.BOM_UTF8 + text.encode("utf-8"), text)
    _decodes_to(text.encode("utf-16"), text)


def test_a_short_gbk_sample_that_is_also_valid_utf8_is_gbk():
    sample = "摹".encode("gbk")
    assert sample.decode("utf-8") == "ġ"
    assert detect_encoding(sample) == "GBK"


def test_latin_words_in_utf8_stay_utf8():
    # "Müller" read as GBK would be "M眉ller": a Chinese character inside a Latin word.
    assert detect_encoding("José Müller".encode()) == "UTF-8"


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_character_cut_at_the_end_of_the_sample_is_ignored(encoding):
    data = "公民身份号码,姓名\n".encode(encoding) * 3
    assert detect_encoding(data[:-2], truncated=True) == detect_encoding(data)


def test_plain_ascii_is_utf8():
    assert detect_encoding(b"id,name\n1,a\n") == "UTF-8"
    assert detect_encoding(b"") == "UTF-8"


def test_binary_data_is_refused():
    with pytest.raises(SourceInvalid, match="无法识别文件编码"):
        detect_encoding(bytes(range(256)) * 4)


def _transcode(path: Path, encoding: str) -> tuple[bytes, ReadStats]:
    stats = ReadStats()
    reader = TranscodingReader(path, encoding, stats)
    parts = []
    while chunk := reader.read(1 << 16):
        parts.append(chunk)
    reader.finish()
    reader.close()
    return b"".join(parts), stats


def test_transcoding_gives_utf8_and_the_checksum_of_the_source(tmp_path):
    text = "姓名,住址\n张三,北京市东城区\n" * 50_000
    path = tmp_path / "people.csv"
    path.write_bytes(text.encode("gbk"))
    out, stats = _transcode(path, "GBK")
    assert out.decode("utf-8") == text
    assert stats.bytes_read == path.stat().st_size
    assert stats.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_gb18030_character_after_a_gbk_start_is_decoded(tmp_path):
    # The first 4 MB chunk is plain GBK; the GB18030-only character comes in the second.
    text = "张三\n" * 800_000 + "𠀀\n" + "李四\n" * 10
    path = tmp_path / "people.csv"
    path.write_bytes(text.encode("gb18030"))
    out, _ = _transcode(path, "GBK")
    assert out.decode("utf-8") == text


def test_undecodable_bytes_become_replacement_characters(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes("张三\n".encode("gbk") + b"\x81\x20\n" + "李四\n".encode("gbk"))
    out, _ = _transcode(path, "GB18030")
    assert out.decode("utf-8") == "张三\n\ufffd \n李四\n"


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(chinese_lines)
def test_transcoding_any_gbk_text_round_trips(tmp_path, text):
    path = tmp_path / "any.csv"
    path.write_bytes(text.encode("gbk"))
    assert _transcode(path, "GBK")[0].decode("utf-8") == text


# The transcoder's GB18030 decoder (the C library's iconv where there is one, as on Debian)

# Every character GBK encodes, and some that only GB18030's four-byte sequences do (supplementary planes, Tibetan).
gbk_characters = st.characters(codec="gbk", exclude_categories=["Cs", "Co"])
gb18030_characters = st.one_of(
    gbk_characters, st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF), st.sampled_from("ཀཁགྷ")
)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=gb18030_characters, max_size=200), st.lists(st.integers(1, 7), max_size=60))
def test_gb18030_decodes_like_pythons_codec_across_any_chunk_boundaries(text: str, cuts: list[int]) -> None:
    decoder = transcoder._decoder("gb18030")
    data = text.encode("gb18030")
    parts, start = [], 0
    for size in cuts:
        parts.append(decoder.decode(data[start : start + size]))
        start += size
    parts.append(decoder.decode(data[start:], final=True))
    assert b"".join(parts).decode("utf-8") == text
    assert not decoder.replaced


def test_gb18030_uses_the_2022_mappings_of_former_private_use_code_points() -> None:
    # GB 18030-2022 gives FE51 the character 𠂇 (U+20087); the 2000 edition (Python's codec) a private-use one.
    decoder = transcoder._decoder("gb18030")
    if isinstance(decoder, transcoder._PythonDecoder):
        pytest.skip("the C library has no GB18030 iconv")
    assert decoder.decode(bytes.fromhex("fe51"), final=True).decode("utf-8") == "\U00020087"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x81\x20", "\ufffd "),  # a lead byte without its trail byte: the next byte is read as itself
        ("张".encode("gbk") + b"\xff" + "三".encode("gbk"), "张\ufffd三"),
        ("张".encode("gbk") + b"\x81", "张\ufffd"),  # cut at the end of the file
    ],
)
def test_undecodable_gb18030_bytes_become_one_replacement_each_and_are_noted(data: bytes, expected: str) -> None:
    decoder = transcoder._decoder("gb18030")
    assert decoder.decode(data, final=True).decode("utf-8") == expected
    assert decoder.replaced
