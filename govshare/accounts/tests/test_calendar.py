"""The platform administrator keeps the working-day calendar: a year entered or imported makes deadlines reaching
it computable; everyone else is kept out; every change is audited."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from govshare import testing
from govshare.accounts import calendar_services as services
from govshare.accounts.calendar_services import DayEntry
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.core import workdays
from govshare.core.errors import PermissionDenied, ValidationFailed
from govshare.core.models import CalendarSource, CalendarYear, DayKind, SpecialDay
from govshare.core.workdays import CalendarUnknown

pytestmark = pytest.mark.django_db

D = dt.date
H, W = DayKind.HOLIDAY, DayKind.WORKDAY
# A schedule for 2027 made up for the tests (2027-01-01 is a Friday, 2027-10-01 a Friday).
DAYS_2027 = [
    DayEntry(D(2027, 1, 1), H, "元旦"),
    *(DayEntry(D(2027, 10, 1) + dt.timedelta(days=i), H, "国庆节") for i in range(7)),
    DayEntry(D(2027, 9, 26), W, "国庆节"),
    DayEntry(D(2027, 10, 9), W, "国庆节"),
]


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


# ---------------------------------------------------------------------------------------------- the service


def test_a_year_entered_by_the_administrator_makes_deadlines_reaching_it_computable(platform_admin):
    with pytest.raises(CalendarUnknown):
        workdays.add_working_days(D(2026, 12, 20), 10)
    services.save_year(platform_admin, 2027, DAYS_2027)
    # 9 working days to 12-31, then 2027-01-01 (元旦) and the weekend: the 10th is Monday 4 January.
    assert workdays.add_working_days(D(2026, 12, 20), 10) == D(2027, 1, 4)
    assert workdays.is_working_day(D(2027, 10, 9))  # 调休上班, a Saturday
    assert not workdays.is_working_day(D(2027, 10, 4))


def test_a_year_entered_without_any_special_day_is_known(platform_admin):
    services.save_year(platform_admin, 2027, [], note="测试：仅周末")
    assert workdays.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 1)


def test_entering_a_year_writes_an_audit_row_with_what_it_holds(platform_admin):
    row = services.save_year(platform_admin, 2027, DAYS_2027)
    log = AuditLog.objects.get(action="accounts.calendar.enter")
    assert (log.actor, log.object_type, log.object_id) == (platform_admin, "core.calendaryear", str(row.pk))
    assert (log.extra["year"], log.extra["holidays"], log.extra["workdays"]) == (2027, 8, 2)


def test_saving_a_year_again_replaces_all_its_days_and_the_audit_row_says_what_was_there(platform_admin):
    services.save_year(platform_admin, 2026, [DayEntry(D(2026, 10, 1), H, "国庆节")])
    assert list(SpecialDay.objects.filter(calendar_year__year=2026).values_list("date", flat=True)) == [D(2026, 10, 1)]
    year = CalendarYear.objects.get(year=2026)
    assert (year.source, year.entered_by) == (CalendarSource.ENTERED, platform_admin)
    before = AuditLog.objects.get(action="accounts.calendar.enter").extra["before"]
    assert "随包数据" in before and "放假 33 天" in before


@pytest.mark.parametrize(
    "role", [Role.CATALOG_ADMIN, Role.DEPT_REVIEWER, Role.CONSUMER, Role.SECURITY_OFFICER, Role.AUDITOR]
)
def test_no_one_but_the_platform_administrator_may_enter_a_year(department, role):
    user = testing.make_user(role, department=department)
    with pytest.raises(PermissionDenied):
        services.save_year(user, 2027, DAYS_2027)
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not AuditLog.objects.filter(action__startswith="accounts.calendar.").exists()


@pytest.mark.parametrize(
    ("day", "field"),
    [
        (DayEntry(D(2027, 10, 8), W, "国庆节"), "date"),  # a Friday: already a working day
        (DayEntry(D(2028, 1, 1), H, "元旦"), "date"),  # not in 2027
        (DayEntry(D(2027, 10, 1), H, " "), "name"),
    ],
)
def test_a_wrong_day_is_refused_and_nothing_is_saved(platform_admin, day, field):
    with pytest.raises(ValidationFailed) as refused:
        services.save_year(platform_admin, 2027, [*DAYS_2027[:1], day])
    assert [p.field for p in refused.value.problems] == [f"days[1].{field}"]
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_the_same_date_twice_is_refused(platform_admin):
    with pytest.raises(ValidationFailed):
        services.save_year(platform_admin, 2027, [DAYS_2027[0], DAYS_2027[0]])


# ---------------------------------------------------------------------------------------------- the warning


def test_in_october_the_next_year_missing_is_not_yet_announced():
    assert services.calendar_notice(D(2026, 10, 31)) is None


def test_from_1_november_the_next_year_missing_is_announced():
    notice = services.calendar_notice(D(2026, 11, 1))
    assert notice is not None and (notice.missing, notice.current_missing) == ([2027], False)


def test_a_current_year_missing_is_announced_as_urgent():
    notice = services.calendar_notice(D(2027, 3, 1))
    assert notice is not None and (notice.missing, notice.current_missing) == ([2027], True)


def test_the_warning_ends_once_the_year_is_entered(platform_admin):
    services.save_year(platform_admin, 2027, DAYS_2027)
    assert services.calendar_notice(D(2026, 11, 1)) is None


def test_the_platform_administrators_home_warns_of_a_missing_current_year(platform_admin, catalog_admin):
    # With no year at all the current year is missing whatever today's date is.
    CalendarYear.objects.all().delete()
    workdays.forget()
    page = client_for(platform_admin).get(reverse("home")).content.decode()
    assert 'id="home-calendar"' in page and "节假日安排尚未录入" in page
    assert 'id="home-calendar"' not in client_for(catalog_admin).get(reverse("home")).content.decode()


# ---------------------------------------------------------------------------------------------- the pages

PAGES = [("accounts:calendar", ()), ("accounts:calendar_year", (2027,)), ("accounts:calendar_export", (2026,))]


@pytest.mark.parametrize(("name", "args"), [*PAGES, ("accounts:calendar_import", ())])
def test_the_administrator_opens_the_calendar_pages(platform_admin, name, args):
    assert client_for(platform_admin).get(reverse(name, args=args)).status_code == 200


@pytest.mark.parametrize(
    "role", [Role.CATALOG_ADMIN, Role.DEPT_REVIEWER, Role.CONSUMER, Role.SECURITY_OFFICER, Role.AUDITOR]
)
@pytest.mark.parametrize(("name", "args"), [*PAGES, ("accounts:calendar_import", ())])
def test_the_calendar_pages_do_not_exist_for_other_roles(department, role, name, args):
    user = testing.make_user(role, department=department)
    assert client_for(user).get(reverse(name, args=args)).status_code == 404


def test_a_visitor_is_sent_to_sign_in():
    response = Client().get(reverse("accounts:calendar"))
    assert response.status_code == 302 and "login" in response["Location"]


def _form(rows: list[dict[str, str]], note: str = "") -> dict[str, str]:
    data = {"day-TOTAL_FORMS": str(len(rows)), "day-INITIAL_FORMS": "0", "note": note}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"day-{i}-{key}"] = value
    return data


NATIONAL_DAY_2027 = [
    {"name": "国庆节", "kind": "holiday", "first": "2027-10-01", "last": "2027-10-07"},
    {"name": "国庆节", "kind": "workday", "first": "2027-09-26", "last": ""},
    {"name": "国庆节", "kind": "workday", "first": "2027-10-09", "last": ""},
    {"name": "", "kind": "holiday", "first": "", "last": ""},  # a blank line is not saved
]


def test_a_schedule_is_entered_as_the_notice_reads_ranges_and_single_days(platform_admin):
    response = client_for(platform_admin).post(
        reverse("accounts:calendar_year", args=[2027]), _form(NATIONAL_DAY_2027, note="国办发明电")
    )
    assert response.status_code == 302
    days = dict(SpecialDay.objects.filter(calendar_year__year=2027).values_list("date", "kind"))
    assert len(days) == 9 and days[D(2027, 10, 7)] == H and days[D(2027, 9, 26)] == W
    assert workdays.add_working_days(D(2027, 9, 30), 1) == D(2027, 10, 8)


def test_a_wrong_line_is_shown_next_to_it_and_nothing_is_saved(platform_admin):
    rows = [*NATIONAL_DAY_2027[:1], {"name": "国庆节", "kind": "workday", "first": "2027-10-08", "last": ""}]
    page = client_for(platform_admin).post(reverse("accounts:calendar_year", args=[2027]), _form(rows))
    assert page.status_code == 200
    assert "调休上班日应为周六或周日" in page.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_another_role_cannot_post_a_schedule(department):
    user = testing.make_user(Role.SECURITY_OFFICER, department=department)
    response = client_for(user).post(reverse("accounts:calendar_year", args=[2027]), _form(NATIONAL_DAY_2027))
    assert response.status_code == 404
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_another_role_cannot_import_a_schedule(catalog_admin):
    response = client_for(catalog_admin).post(
        reverse("accounts:calendar_import"), {"year": "2027", "file": _upload(GOOD_CSV)}
    )
    assert response.status_code == 404
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_the_year_page_shows_the_shipped_schedule_as_lines_of_the_notice(platform_admin):
    page = client_for(platform_admin).get(reverse("accounts:calendar_year", args=[2026])).content.decode()
    assert 'value="2026-10-01"' in page and 'value="2026-10-07"' in page and 'value="2026-10-10"' in page


# ---------------------------------------------------------------------------------------------- import and export


def _upload(text: str, name: str = "2027.csv") -> io.BytesIO:
    upload = io.BytesIO(text.encode("utf-8-sig"))
    upload.name = name
    return upload


GOOD_CSV = "日期,类型,名称\n2027-01-01,放假,元旦\n2027-10-01,放假,国庆节\n2027-10-09,调休上班,国庆节\n"


def test_an_imported_file_becomes_the_years_schedule(platform_admin):
    response = client_for(platform_admin).post(
        reverse("accounts:calendar_import"), {"year": "2027", "file": _upload(GOOD_CSV)}
    )
    assert response.status_code == 302
    year = CalendarYear.objects.get(year=2027)
    assert year.source == CalendarSource.IMPORTED and year.special_days.count() == 3
    log = AuditLog.objects.get(action="accounts.calendar.import")
    assert log.extra["file_name"] == "2027.csv" and log.extra["holidays"] == 2


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_imported(platform_admin):
    text = (
        GOOD_CSV + "2027-13-01,放假,国庆节\n2027-10-02,休息,国庆节\n2027-10-08,调休上班,国庆节\n2028-01-01,放假,元旦\n"
    )
    page = client_for(platform_admin).post(reverse("accounts:calendar_import"), {"year": "2027", "file": _upload(text)})
    report = page.content.decode()
    assert 'id="import-report"' in report
    assert "<td>5</td><td>日期（A列）</td>" in report  # 2027-13-01
    assert "<td>6</td><td>类型（B列）</td>" in report  # 休息
    assert "<td>7</td><td>日期（A列）</td>" in report and "调休上班日应为周六或周日" in report
    assert "<td>8</td><td>日期（A列）</td>" in report and "不在 2027 年内" in report
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not AuditLog.objects.filter(action="accounts.calendar.import").exists()


def test_a_file_without_the_header_is_refused(platform_admin):
    page = client_for(platform_admin).post(
        reverse("accounts:calendar_import"), {"year": "2027", "file": _upload("2027-01-01,放假,元旦\n")}
    )
    assert "第一行应为表头" in page.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_file_that_is_not_a_table_is_refused(platform_admin):
    upload = io.BytesIO(b"%PDF-1.7 not a schedule")
    upload.name = "通知.csv"
    page = client_for(platform_admin).post(reverse("accounts:calendar_import"), {"year": "2027", "file": upload})
    assert "PDF" in page.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_an_xlsx_file_with_real_dates_is_imported(platform_admin):
    book = Workbook()
    sheet = book.active
    sheet.append(["日期", "类型", "名称"])
    sheet.append([D(2027, 10, 1), "放假", "国庆节"])
    sheet.append(["2027-10-09", "调休上班", "国庆节"])
    data = io.BytesIO()
    book.save(data)
    upload = io.BytesIO(data.getvalue())
    upload.name = "2027.xlsx"
    response = client_for(platform_admin).post(reverse("accounts:calendar_import"), {"year": "2027", "file": upload})
    assert response.status_code == 302
    assert dict(SpecialDay.objects.filter(calendar_year__year=2027).values_list("date", "kind")) == {
        D(2027, 10, 1): H,
        D(2027, 10, 9): W,
    }


def test_an_exported_year_imports_back_unchanged(platform_admin):
    client = client_for(platform_admin)
    exported = b"".join(client.get(reverse("accounts:calendar_export", args=[2026])).streaming_content)
    before = services.days_of(2026)
    upload = io.BytesIO(exported)
    upload.name = "2026.csv"
    assert client.post(reverse("accounts:calendar_import"), {"year": "2026", "file": upload}).status_code == 302
    assert services.days_of(2026) == before
    assert CalendarYear.objects.get(year=2026).source == CalendarSource.IMPORTED


def test_a_year_nobody_entered_has_no_export(platform_admin):
    assert client_for(platform_admin).get(reverse("accounts:calendar_export", args=[2027])).status_code == 404


def test_the_calendar_page_speaks_english_to_an_english_reader(platform_admin):
    client = client_for(platform_admin)
    page = client.get(reverse("accounts:calendar"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Working-day calendar" in page and "Shipped data" in page and "Years entered" in page
    assert "工作日历" not in page
