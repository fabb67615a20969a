"""The working-day calendar pages (工作日历), the platform administrator's only (404 for everyone else): the known
years, a year's schedule entered as the State Council's notice reads (国庆节 10-01 … 10-07 放假; 09-20 调休上班),
its export, and an import of a file in the export's columns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import formset_factory
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govshare.accounts import calendar_services as services
from govshare.accounts.acting import acting_user
from govshare.accounts.calendar_files import HEADERS, MAX_BYTES, export_lines, parse_schedule
from govshare.accounts.models import User
from govshare.core.errors import DomainError, ValidationFailed
from govshare.core.models import CalendarSource, DayKind

BLANK_ROWS_NEW = 16  # a notice has 7 festivals, most with one or two adjusted working days
BLANK_ROWS_MORE = 4
LONGEST_SPAN = 31  # days one line may cover: the longest holiday ever was 春节 2020 (extended), 10 days


def _keeper(request: HttpRequest) -> User:
    user = acting_user(request)
    if not services.may_keep_calendar(user):
        raise Http404(_("页面不存在"))
    return user


class SpanForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=services.NAME_LENGTH, required=False)
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        choices=[(DayKind.HOLIDAY, gettext_lazy("放假")), (DayKind.WORKDAY, gettext_lazy("调休上班"))],
        initial=DayKind.HOLIDAY,
        required=False,
    )
    first = forms.DateField(
        label=gettext_lazy("起始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    last = forms.DateField(
        label=gettext_lazy("截止日期（一天时可不填）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if not first and (last or data.get("name")):
            self.add_error("first", _("请填写起始日期"))
        if first and last and last < first:
            self.add_error("last", _("截止日期不能早于起始日期"))
        if first and last and (last - first).days >= LONGEST_SPAN:
            self.add_error("last", _("一行最多 %(n)s 天") % {"n": LONGEST_SPAN})
        return data

    def entries(self) -> list[services.DayEntry]:
        data = self.cleaned_data
        first: dt.date | None = data.get("first")
        if first is None:
            return []
        last: dt.date = data.get("last") or first
        kind = data.get("kind") or DayKind.HOLIDAY
        return [
            services.DayEntry(first + dt.timedelta(days=i), kind, data.get("name") or "")
            for i in range((last - first).days + 1)
        ]


SpanFormSet = formset_factory(SpanForm, extra=0, max_num=services.MOST_DAYS, validate_max=True)


class NoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("说明"),
        max_length=services.NOTE_LENGTH,
        required=False,
        help_text=gettext_lazy("如：国办发明电〔2026〕X号，2026年11月X日发布"),
    )


class NewYearForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年份"), min_value=services.FIRST_YEAR, max_value=services.LAST_YEAR)


class ImportForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年份"), min_value=services.FIRST_YEAR, max_value=services.LAST_YEAR)
    file = forms.FileField(label=gettext_lazy("文件（.csv 或 .xlsx）"))
    note = forms.CharField(label=gettext_lazy("说明"), max_length=services.NOTE_LENGTH, required=False)


def _next_year(today: dt.date) -> int:
    missing = services.calendar_notice(today)
    return missing.missing[0] if missing is not None else today.year + 1


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    _keeper(request)
    today = timezone.localdate()
    new_year = NewYearForm(request.GET or None, initial={"year": _next_year(today)})
    if request.GET and new_year.is_valid():
        return redirect("accounts:calendar_year", year=new_year.cleaned_data["year"])
    context = {
        "years": list(services.years()),
        "notice": services.calendar_notice(today),
        "new_year": new_year,
        "import_form": ImportForm(initial={"year": _next_year(today)}),
    }
    return render(request, "accounts/calendar/list.html", context)


@login_required
def calendar_year(request: HttpRequest, year: int) -> HttpResponse:
    user = _keeper(request)
    if services.year_problem(year) is not None:
        raise Http404(_("页面不存在"))
    stored = services.years().filter(year=year).first()
    days = services.days_of(year) if stored is not None else []
    if request.method == "POST":
        formset = SpanFormSet(request.POST, prefix="day")
        note_form = NoteForm(request.POST)
        if formset.is_valid() and note_form.is_valid():
            entries: list[services.DayEntry] = []
            owner: list[int] = []  # the form row of each day, to put a problem next to its line
            for number, form in enumerate(formset.forms):
                for entry in form.entries():
                    entries.append(entry)
                    owner.append(number)
            try:
                services.save_year(user, year, entries, note=note_form.cleaned_data["note"])
            except ValidationFailed as exc:
                for problem in exc.problems:
                    _place(problem.field, problem.message, formset, note_form, owner)
            except DomainError as exc:
                note_form.add_error(None, exc.text)
            else:
                messages.success(request, _("已保存 %(year)s 年的节假日安排") % {"year": year})
                return redirect("accounts:calendar")
    else:
        spans = services.spans(days)
        initial = [{"name": s.name, "kind": s.kind, "first": s.first, "last": s.last} for s in spans]
        formset = SpanFormSet(prefix="day", initial=initial + [{}] * (BLANK_ROWS_NEW if not spans else BLANK_ROWS_MORE))
        note_form = NoteForm(initial={"note": stored.note if stored is not None else ""})
    context = {
        "year": year,
        "stored": stored,
        "source_label": _(stored.get_source_display()) if stored is not None else "",
        "formset": formset,
        "note_form": note_form,
    }
    return render(request, "accounts/calendar/year.html", context)


def _place(field: str, message: str, formset: Any, note_form: NoteForm, owner: list[int]) -> None:
    """Put a service's problem next to the line of the form it is about (`days[3].date` → the line of day 3)."""
    if field.startswith("days[") and "]" in field:
        index = int(field[5 : field.index("]")])
        name = field.rsplit(".", 1)[-1]
        form = formset.forms[owner[index]]
        form.add_error({"date": "first"}.get(name, name) if name in ("date", "kind", "name") else None, message)
    elif field == "note":
        note_form.add_error("note", message)
    else:
        note_form.add_error(None, message)


@login_required
def calendar_export(request: HttpRequest, year: int) -> StreamingHttpResponse:
    _keeper(request)
    if not services.years().filter(year=year).exists():
        raise Http404(_("该年份的节假日安排尚未录入"))
    lines = export_lines(services.days_of(year))
    response = StreamingHttpResponse((line.encode("utf-8") for line in lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=f"节假日安排-{year}.csv")
    return response


@login_required
def calendar_import(request: HttpRequest) -> HttpResponse:
    user = _keeper(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        year = form.cleaned_data["year"]
        upload = form.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            form.add_error("file", _("文件超过 256 KB，不是一年的节假日安排"))
        else:
            parsed = parse_schedule(upload, year)
            problems = parsed.problems
            if not problems:
                try:
                    services.save_year(
                        user,
                        year,
                        parsed.days,
                        note=form.cleaned_data["note"],
                        source=CalendarSource.IMPORTED,
                        file_name=upload.name or "",
                    )
                except DomainError as exc:
                    form.add_error(None, exc.text if not exc.problems else str(exc))
                else:
                    messages.success(
                        request,
                        _("已导入 %(year)s 年的节假日安排（%(n)s 天）") % {"year": year, "n": len(parsed.days)},
                    )
                    return redirect("accounts:calendar")
    context = {"form": form, "problems": problems, "max_reported": 1000, "headers": HEADERS}
    return render(request, "accounts/calendar/import.html", context)
