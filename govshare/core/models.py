"""Reference data kept in the metadata database: the working-day calendar (govshare.core.workdays).

A year is known only when it has a `CalendarYear` row: a year whose schedule has no special day at all is still
told apart from a year nobody has entered. Rows are written by the platform administrator's calendar services
(govshare.accounts.calendar_services, with audit rows) and, for the years the shipped data file knows, by
`govshare.core.workdays.load_shipped_years` after every migrate."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CalendarSource(models.TextChoices):
    SHIPPED = "shipped", "随包数据"
    ENTERED = "entered", "管理员录入"
    IMPORTED = "imported", "导入"


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", "放假"
    WORKDAY = "workday", "调休上班"


class CalendarYear(models.Model):
    """One year of the State Council's holiday schedule (国务院办公厅关于部分节假日安排的通知)."""

    year = models.PositiveSmallIntegerField("年份", unique=True)
    source = models.CharField("来源", max_length=16, choices=CalendarSource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_at = models.DateTimeField("录入时间")
    # The calendar cached in each process is compared with (count, latest updated_at) of these rows.
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_index=True)
    note = models.CharField("说明", max_length=500, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = "工作日历年度"
        verbose_name_plural = "工作日历年度"

    def __str__(self) -> str:
        return f"{self.year} 年节假日安排"


class SpecialDay(models.Model):
    """A day of the year that is not what its weekday says: a holiday (放假) or an adjusted working day (调休上班)."""

    calendar_year = models.ForeignKey(
        CalendarYear, verbose_name="年度", on_delete=models.CASCADE, related_name="special_days"
    )
    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=16, choices=DayKind.choices)
    name = models.CharField("名称", max_length=100)

    class Meta:
        ordering = ["date"]
        verbose_name = "节假日或调休日"
        verbose_name_plural = "节假日与调休日"

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}"
