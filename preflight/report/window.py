"""The window an SLA report covers and the period its metrics are read at.

Months are calendar months in UTC: CloudWatch keeps data older than 63 days only as hourly aggregates on
UTC hours, from which a month in IST (UTC+05:30) could not be cut. The period is the finest CloudWatch
still holds for the month's first minute (MetricStat, CloudWatch API reference: a start time between 15
and 63 days ago needs a multiple of 300 seconds, one more than 63 days ago a multiple of 3600; one-hour
data is kept 455 days), using the history fetch's retention table so the two cannot disagree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from preflight.history.account_fetch import SETTLING, floor, retention

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
PERIODS = (60, 300, 3600)


class ReportError(ValueError):
    """A report that cannot be made: one line, exit 2."""


@dataclasses.dataclass(frozen=True)
class Window:
    label: str  # "2026-11", or "drill <name>"
    start: dt.datetime  # UTC, inclusive
    end: dt.datetime  # UTC, exclusive: the month's end, or now for a month in progress
    budget_minutes: int  # the minutes whose error budget the report spends: the month's, or the drill's
    period: int  # seconds: what the metrics are read at
    in_progress: bool = False

    @property
    def start_minute(self) -> int:
        return int(self.start.timestamp()) // 60

    @property
    def end_minute(self) -> int:
        return int(self.end.timestamp()) // 60


def month_bounds(text: str) -> tuple[dt.datetime, dt.datetime]:
    found = MONTH.match(text)
    if not found:
        raise ReportError(f"--month: got {text!r}; expected a calendar month as YYYY-MM, like 2026-11")
    year, month = int(found.group(1)), int(found.group(2))
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


def month_window(text: str, now: dt.datetime) -> Window:
    """The month `text` as CloudWatch can still answer for it at `now`."""
    start, month_end = month_bounds(text)
    if start > now:
        raise ReportError(f"--month {text}: that month has not begun (it is {now:%Y-%m-%d %H:%M} UTC)")
    age = now - start
    period = next((p for p in PERIODS if age <= retention(p)), None)
    if period is None:
        raise ReportError(f"--month {text}: CloudWatch keeps metrics {retention(PERIODS[-1]).days} days "
                          f"(hourly data); that month began {age.days} days ago")
    # The newest minutes are still arriving, as for the history fetch.
    end = min(month_end, floor(now - SETTLING, period))
    if end <= start:
        raise ReportError(f"--month {text}: the month began less than {SETTLING.seconds // 60} minutes ago; "
                          "nothing to report yet")
    minutes = int((month_end - start).total_seconds()) // 60
    return Window(text, start, end, minutes, period, in_progress=end < month_end)
