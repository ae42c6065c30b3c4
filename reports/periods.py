"""Report months (YYYY-MM) and their deadlines, in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

QUARTER_END_MONTHS = (3, 6, 9, 12)


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @classmethod
    def parse(cls, value: str) -> Period:
        try:
            year, month = value.split("-")
            period = cls(int(year), int(month))
        except ValueError:
            raise ValueError(f"报表月份格式应为 YYYY-MM：{value!r}") from None
        if not (1 <= period.month <= 12 and 2000 <= period.year <= 2100):
            raise ValueError(f"报表月份不存在：{value!r}")
        return period

    def previous(self) -> Period:
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)

    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)

    @property
    def is_quarter_end(self) -> bool:
        return self.month in QUARTER_END_MONTHS

    @property
    def report_type(self) -> str:
        return "quarterly" if self.is_quarter_end else "monthly"

    @property
    def report_type_name(self) -> str:
        return "季度指标" if self.is_quarter_end else "月度指标"

    @property
    def deadline(self) -> dt.date:
        following = self.next()
        return dt.date(following.year, following.month, settings.REPORT_DEADLINE_DAY)


def local_today() -> dt.date:
    return timezone.localdate()


def current_report_month(today: dt.date | None = None) -> Period:
    """The calendar month before today: on 2020-06-10 it is 2020-05."""
    today = today or local_today()
    return Period(today.year, today.month).previous()
