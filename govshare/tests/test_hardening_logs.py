"""No secrets or personal values in logs, load logs or error texts: the redaction itself (property-based), the
safety net on every log record, and real failing loads, logins and imports whose captured logs are searched for
the values they used."""

from __future__ import annotations

import datetime as dt
import io
import logging
import string
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog import importing
from govshare.catalog.rules import ItemDraft
from govshare.core.identifiers import resident_id_check_char
from govshare.core.redaction import redact
from govshare.core.security import RedactingFilter
from govshare.datasets import services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.sources.readers import http_api

ID_NUMBER = "510603199001011231"
ID_BODY = ID_NUMBER[:17]
assert resident_id_check_char(ID_BODY) == ID_NUMBER[17]
MOBILE = "13812345678"
URL_PASSWORD = "Pa55-url-secret"

# --- the redaction -------------------------------------------------------------------------------------------

_areas = st.integers(110000, 659999).map(str)
_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 31))
_sequences = st.integers(0, 999).map(lambda n: f"{n:03d}")


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    body = draw(_areas) + draw(_dates).strftime("%Y%m%d") + draw(_sequences)
    return body + resident_id_check_char(body)


mobiles = st.builds(lambda second, rest: f"1{second}{rest:09d}", st.sampled_from("3456789"), st.integers(0, 10**9 - 1))
# Text around a value: Chinese, letters, punctuation; never a digit or letter touching the value.
_around = st.text(alphabet="某人的号码是：，。 ()[]'\"\n", max_size=20)


@given(id_numbers(), _around, _around)
def test_any_id_number_in_text_is_hidden(number: str, before: str, after: str) -> None:
    text = redact(f"{before}{number}{after}")
    assert number not in text
    assert number[:17] not in text
    assert "[身份证号已隐藏]" in text


@given(mobiles, _around, _around)
def test_any_mobile_number_in_text_is_hidden(number: str, before: str, after: str) -> None:
    text = redact(f"{before}{number}{after}")
    assert number not in text
    assert "[手机号已隐藏]" in text


@given(
    st.sampled_from(["postgresql+psycopg", "mysql+pymysql", "http", "https", "ftp"]),
    st.text(alphabet=string.ascii_letters + string.digits + "_.", min_size=1, max_size=12),
    st.text(alphabet=string.ascii_letters + string.digits + "-_.~!$&*+:@%", min_size=1, max_size=24),
)
def test_any_url_password_is_hidden_and_the_rest_kept(scheme: str, user: str, password: str) -> None:
    url = f"{scheme}://{user}:{password}@db.example.gov.cn:5432/front"
    text = redact(f"连接 {url} 失败")
    assert f":{password}@" not in text
    assert text == f"连接 {scheme}://{user}:***@db.example.gov.cn:5432/front 失败"


def test_key_value_secrets_and_bearer_tokens_are_hidden() -> None:
    text = redact("GET /x?page=2&access_token=abc123def&password=hunter2 Authorization: Bearer gs_abcdefghijk")
    assert "abc123def" not in text and "hunter2" not in text and "gs_abcdefghijk" not in text
    assert "page=2" in text


@pytest.mark.parametrize(
    "text",
    [
        "第 12 行",
        "共 13812345 行",
        "版本 20260101",
        "5106031990010112",
        "订单号 1234567890123456789",
        "资源 510600-000001",
    ],
)
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert redact(text) == text


# --- the safety net on log records ------------------------------------------------------------------------------


def test_a_log_call_with_personal_values_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("govshare.anything").warning("row of %s (%s) rejected", ID_NUMBER, MOBILE)
    assert ID_NUMBER not in caplog.text and MOBILE not in caplog.text
    assert "row of [身份证号已隐藏] ([手机号已隐藏]) rejected" in caplog.text


def test_a_logged_traceback_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    try:
        raise ValueError(f"cannot connect to mysql://gov:{URL_PASSWORD}@10.0.0.5/front for {ID_NUMBER}")
    except ValueError:
        logging.getLogger("govshare.anything").exception("load failed")
    assert "ValueError" in caplog.text
    assert URL_PASSWORD not in caplog.text and ID_NUMBER not in caplog.text


def test_the_console_handler_of_the_settings_redacts() -> None:
    from django.conf import settings

    logging_config: dict[str, Any] = settings.LOGGING
    assert logging_config["handlers"]["console"]["filters"] == ["redact"]
    assert logging_config["filters"]["redact"]["()"] == "govshare.core.security.RedactingFilter"


def test_the_filter_redacts_a_record_rebuilt_from_a_dict() -> None:
    # As a socket or queue log receiver rebuilds records: made empty through the factory, message set afterwards.
    record = logging.makeLogRecord({"msg": "row of %s rejected", "args": (ID_NUMBER,), "levelno": logging.INFO})
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "row of [身份证号已隐藏] rejected"


# --- real failures ---------------------------------------------------------------------------------------------

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="手机号码", data_type="C", length=11),
    ItemDraft(name="出生日期", data_type="D"),
]


@pytest.fixture
def admin(department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def resource(department):  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="常住人口联系信息")


def _mapped(source, admin, columns: list[str]):  # type: ignore[no-untyped-def]
    entries = [source_services.MappingEntry(c, i.name) for c, i in zip(columns, ITEMS, strict=True)]
    return source_services.set_mapping(source, entries, actor=admin)


def _assert_clean(*texts: str) -> None:
    for text in texts:
        for value in (ID_NUMBER, ID_BODY, MOBILE, URL_PASSWORD):
            assert value not in text, f"{value} in {text!r}"


@pytest.mark.django_db
@pytest.mark.usefixtures("allow_local_sources")  # 127.0.0.1:1, where nothing listens
def test_a_failing_database_load_shows_no_password(resource, admin, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    url = f"postgresql+psycopg://gov:{URL_PASSWORD}@127.0.0.1:1/front"
    data = source_services.SourceInput(name="前置库", kind=SourceKind.DATABASE, config={"url": url, "table": "rk"})
    source = _mapped(source_services.register_source(resource, data, actor=admin), admin, ["sfzh", "sjhm", "csrq"])
    load = services.request_load(source, actor=admin)
    for _ in range(load.max_attempts):
        run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.FAILED
    assert load.error
    _assert_clean(caplog.text, load.error, load.log)


@pytest.mark.django_db
@pytest.mark.usefixtures("allow_local_sources")  # 127.0.0.1:1, where nothing listens
def test_a_failing_api_load_shows_no_password(resource, admin, caplog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(http_api, "RETRY_DELAYS", (0.0, 0.0, 0.0))  # the page retries happen, without their pauses
    # A token written into the query string moves into the source's credential and is sent as that parameter (a
    # second credential, such as a password in the URL as well, would be refused: sources.credentials).
    url = f"http://127.0.0.1:1/people?token={URL_PASSWORD}"
    config = {"url": url, "records_path": "$.data[*]"}
    data = source_services.SourceInput(name="人口接口", kind=SourceKind.HTTP_API, config=config)
    source = _mapped(source_services.register_source(resource, data, actor=admin), admin, ["sfzh", "sjhm", "csrq"])
    load = services.request_load(source, actor=admin)
    for _ in range(load.max_attempts):
        run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.FAILED
    _assert_clean(caplog.text, load.error, load.log)


@pytest.mark.django_db
def test_a_file_load_with_rejected_rows_logs_no_personal_values(resource, admin, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "人口.csv"
    path.write_text(f"sfzh,sjhm,csrq\n{ID_NUMBER},{MOBILE},不是日期\n{ID_NUMBER},{MOBILE},1990-01-01\n")
    data = source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"})
    source = _mapped(source_services.register_source(resource, data, actor=admin), admin, ["sfzh", "sjhm", "csrq"])
    load = services.request_load(source, actor=admin, file_path=path)
    run_load(load.pk)
    load.refresh_from_db()
    assert load.rows_rejected == 1
    _assert_clean(caplog.text, load.error, load.log)


@pytest.mark.django_db
def test_a_failed_login_logs_neither_the_name_nor_the_password(caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    answer = Client().post("/login/", {"username": ID_NUMBER, "password": f"{MOBILE}-{URL_PASSWORD}"})
    assert answer.status_code == 200
    _assert_clean(caplog.text)


@pytest.mark.django_db
def test_a_failing_import_logs_no_personal_values(admin, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    upload = SimpleUploadedFile("目录.xlsx", f"资源名称,联系电话,身份证号\n人口,{MOBILE},{ID_NUMBER}\n".encode())
    result = importing.import_catalog(upload, file_name="目录.xlsx", actor=admin, declared_size=upload.size)
    assert not result.imported
    _assert_clean(caplog.text, io.StringIO(str([p.message for p in result.problems])).getvalue())
