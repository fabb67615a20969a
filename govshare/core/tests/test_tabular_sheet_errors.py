"""A sheet that breaks off while read becomes one exception, XlsxRefused, with a Chinese message
(`govshare.core.tabular.xlsx.sheet_errors`)."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest
from lxml import etree  # type: ignore[import-untyped]

from govshare.core.tabular.xlsx import SheetUnreadable, XlsxRefused, sheet_errors

DAMAGED = "工作表无法读取"


def test_broken_xml_is_refused_quoting_the_parser() -> None:
    with pytest.raises(SheetUnreadable) as raised, sheet_errors(DAMAGED):
        etree.fromstring(b"<row><c></row>")
    assert raised.value.message.startswith("工作表内容不是有效的 XML，文件可能已损坏：")
    assert isinstance(raised.value.__cause__, etree.XMLSyntaxError)


@pytest.mark.parametrize(
    "error", [zipfile.BadZipFile("x"), zlib.error("x"), EOFError(), IndexError(), ValueError(), KeyError("x")]
)
def test_a_damaged_member_is_refused_in_the_callers_words(error: Exception) -> None:
    with pytest.raises(SheetUnreadable) as raised, sheet_errors(DAMAGED):
        raise error
    assert raised.value.message == DAMAGED


def test_a_refusal_stays_what_it_is() -> None:
    refusal = XlsxRefused("太大")
    with pytest.raises(XlsxRefused) as raised, sheet_errors(DAMAGED):
        raise refusal
    assert raised.value is refusal


def test_other_errors_pass_through() -> None:
    with pytest.raises(RuntimeError), sheet_errors(DAMAGED):
        raise RuntimeError("a bug stays a bug")


def test_a_text_over_the_parsers_limit_is_refused_in_chinese_naming_the_sheet_and_the_limit() -> None:
    huge = b"<row><c><is><t>" + b"x" * 10_000_001 + b"</t></is></c></row>"
    with pytest.raises(SheetUnreadable) as raised, sheet_errors(DAMAGED, sheet="信息资源"):
        for _ in etree.iterparse(io.BytesIO(huge), events=("end",), huge_tree=False):
            pass
    message = raised.value.message
    assert message.startswith("工作表“信息资源”中有单元格的文本过长：超过 10,000,000 字节")
    assert "32,767" in message and "XML_PARSE_HUGE" not in message and "Text node" not in message
