"""Planned maintenance windows (`maintenance`) and the school calendar (`schoolCalendar`).

Both become alarm mute rules on the pagers (components/alarms/mute_rules.py): a window mutes the pagers
of what it maintains, the calendar mutes the pagers of the alarms that assume a school day. Times are in
the platform's time zone, IST, which the mute rules name so that CloudWatch reads them the same way.
`MaintenanceSection` / `SchoolCalendarSection` are the config schema; `maintenance_settings` turns the
validated sections into `MaintenanceSettings`, checking what spans several keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, Field, StrictStr, model_validator

from stackconfig.errors import ConfigError
from stackconfig.types import Section, fail, one_of, text

PLATFORM_TIME_ZONE = "Asia/Kolkata"
# What a window can maintain: each is a group of pagers (stackconfig/muting.py); `all` is every pager.
SCOPES = ("database", "redis", "api", "payments", "rfid")
ALL = "all"
# Monday first, as thresholds.business.schoolDaysPerWeek counts the school days.
DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
# CloudWatch mutes for at most 15 days; a window's job alarms stay muted up to two days longer
# (stackconfig/muting.py: a daily job's period and window, lowVolumeWindowMinutes <= 1440, are added).
MAX_WINDOW_MINUTES = 13 * 1440
_DURATION = re.compile(r"(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")


def parse_minutes(value: str) -> Optional[int]:
    """`2h`, `90m`, `1h30m`, `2d` -> minutes; None when it is not such a duration."""
    match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return days * 1440 + hours * 60 + minutes


def _checked(test: Any, expected: str, extra: dict[str, Any]) -> Any:
    def check(value: Any) -> Any:
        if not test(value):
            raise fail(expected)
        return value

    check.expected = expected  # type: ignore[attr-defined] - read back when the key is missing
    return Annotated[StrictStr, AfterValidator(check), Field(description=expected, json_schema_extra=extra)]


def _is_date(value: str) -> bool:
    try:
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)) and dt.date.fromisoformat(value) is not None
    except ValueError:
        return False


Slug = text(r"^[a-z0-9][a-z0-9-]{0,39}$", "a name of lower-case letters, digits and '-', at most 40, "
                                          "like weekly-database")
Reason = text(r"^\S[^\n]{0,199}$", "a reason of 1 to 200 characters on one line (it goes into the mute rule)")
Clock = text(r"^([01]\d|2[0-3]):[0-5]\d$", "a time of day in IST like 02:00")
Day = one_of(DAYS, f"a day of the week: {', '.join(DAYS)}")
Scope = one_of((*SCOPES, ALL), f"what the window maintains: one of {', '.join((*SCOPES, ALL))}")
DateText = _checked(_is_date, "a date like 2026-10-02 (quote it or not)", {"pattern": r"^\d{4}-\d{2}-\d{2}$"})
Duration = _checked(lambda v: (parse_minutes(v) or 0) in range(1, MAX_WINDOW_MINUTES + 1),
                    "a duration like 2h, 90m or 1h30m, from 1m to 13d", {"pattern": r"^(\d+d)?(\d+h)?(\d+m)?$"})


class WindowSection(Section):
    name: Slug = Field(description="the window's name (in its mute rule's name)")
    scope: Scope = Field(description="what it maintains: its pagers are muted, nothing else's")  # type: ignore[valid-type]
    reason: Reason = Field(description="why: the mute rule's description, shown in the console")
    days: Optional[tuple[Day, ...]] = Field(  # type: ignore[valid-type]
        None, description="recurring: the days of the week it starts on (IST), like [SUN]")
    date: Optional[DateText] = Field(None, description="one-time: the date it starts on (IST)")  # type: ignore[valid-type]
    start: Clock = Field(description="when it starts (IST), like 02:00")
    duration: Duration = Field(description="how long, like 2h")  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _recurring_or_one_time(self) -> WindowSection:
        if self.days is not None and self.date is not None:
            raise fail("either days (a recurring window) or date (a one-time window), not both", at="date")
        if self.days is None and self.date is None:
            raise fail("either days (a recurring window) or date (a one-time window)", at="date")
        if self.days is not None and not self.days:
            raise fail("at least one day of the week, like [SUN]", at="days")
        return self


class MaintenanceSection(Section):
    windows: tuple[WindowSection, ...] = Field(
        (), description="planned windows: name, scope, reason, days or date, start (IST), duration")


class TermSection(Section):
    name: Slug = Field(description="the term's name")
    start: DateText = Field(description="its first school day")  # type: ignore[valid-type]
    end: DateText = Field(description="its last school day")  # type: ignore[valid-type]


class HolidaySection(Section):
    date: Optional[DateText] = Field(None, description="a one-day holiday")  # type: ignore[valid-type]
    from_: Optional[DateText] = Field(None, description="the first day of a holiday of several days")  # type: ignore[valid-type]
    to: Optional[DateText] = Field(None, description="its last day")  # type: ignore[valid-type]
    reason: Reason = Field(description="why the schools are closed")

    @model_validator(mode="after")
    def _one_day_or_a_range(self) -> HolidaySection:
        if self.date is not None and (self.from_ is not None or self.to is not None):
            raise fail("either date (one day) or from and to (several days)", at="from")
        if self.date is None and (self.from_ is None or self.to is None):
            raise fail("a date, or from and to", at="date" if self.from_ is None and self.to is None
                       else "to" if self.to is None else "from")
        return self


class SchoolCalendarSection(Section):
    weekends: Optional[tuple[Day, ...]] = Field(  # type: ignore[valid-type]
        None, description="days without school every week (default: the days after "
                          "thresholds.business.schoolDaysPerWeek)")
    terms: tuple[TermSection, ...] = Field((), description="terms: name, start, end; the breaks between them are "
                                                           "muted like holidays")
    holidays: tuple[HolidaySection, ...] = Field((), description="holidays: date, or from and to; and a reason")


@dataclasses.dataclass(frozen=True)
class MaintenanceWindow:
    name: str
    scope: str  # one of SCOPES, or ALL
    reason: str
    start: dt.time  # IST
    minutes: int
    days: tuple[str, ...] = ()  # recurring
    date: Optional[dt.date] = None  # one-time

    @property
    def expression(self) -> str:
        """The mute rule's schedule expression (in IST, which the rule names as its time zone)."""
        if self.date is not None:
            return f"at({self.date.isoformat()}T{self.start:%H:%M})"
        return f"cron({self.start.minute} {self.start.hour} * * {','.join(self.days)})"


@dataclasses.dataclass(frozen=True)
class Closure:
    """Days without school (IST): a holiday, or the break between two terms."""

    kind: str  # holiday | break
    first: dt.date
    last: dt.date
    reason: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclasses.dataclass(frozen=True)
class SchoolCalendar:
    weekends: tuple[str, ...]
    closures: tuple[Closure, ...] = ()


@dataclasses.dataclass(frozen=True)
class MaintenanceSettings:
    windows: tuple[MaintenanceWindow, ...] = ()
    calendar: Optional[SchoolCalendar] = None  # None: the stack has no school calendar


def _window(section: WindowSection) -> MaintenanceWindow:
    return MaintenanceWindow(
        name=section.name, scope=section.scope, reason=section.reason,
        start=dt.time.fromisoformat(section.start), minutes=parse_minutes(section.duration) or 0,
        days=tuple(d for d in DAYS if d in (section.days or ())),
        date=dt.date.fromisoformat(section.date) if section.date else None,
    )


def _weekends(section: SchoolCalendarSection, school_days_per_week: int) -> tuple[str, ...]:
    """The days after the first `school_days_per_week`: the school-day alarms skip exactly those."""
    derived = DAYS[school_days_per_week:]
    if section.weekends is not None and set(section.weekends) != set(derived):
        raise ConfigError("schoolCalendar.weekends", list(section.weekends),
                          f"{list(derived)}: the days after the first thresholds.business.schoolDaysPerWeek "
                          f"({school_days_per_week}) days of the week, which the school-day alarms skip "
                          "(change schoolDaysPerWeek to change the weekend)")
    return derived


def _breaks(terms: tuple[TermSection, ...]) -> list[Closure]:
    spans = []
    for i, term in enumerate(terms):
        start, end = dt.date.fromisoformat(term.start), dt.date.fromisoformat(term.end)
        if end < start:
            raise ConfigError(f"schoolCalendar.terms[{i}].end", term.end, f"a date on or after its start {term.start}")
        if spans and start <= spans[-1][2]:
            raise ConfigError(f"schoolCalendar.terms[{i}].start", term.start,
                              f"a date after the end of {spans[-1][0]} ({spans[-1][2]}): terms in order, apart")
        spans.append((term.name, start, end))
    return [Closure("break", before[2] + dt.timedelta(days=1), after[1] - dt.timedelta(days=1),
                    f"break between {before[0]} and {after[0]}")
            for before, after in itertools.pairwise(spans) if (after[1] - before[2]).days > 1]


def _holiday(i: int, section: HolidaySection) -> Closure:
    first = dt.date.fromisoformat(section.date or section.from_ or "")
    last = dt.date.fromisoformat(section.date or section.to or "")
    if last < first:
        raise ConfigError(f"schoolCalendar.holidays[{i}].to", section.to, f"a date on or after from ({section.from_})")
    return Closure("holiday", first, last, section.reason)


def maintenance_settings(maintenance: Optional[MaintenanceSection], calendar: Optional[SchoolCalendarSection],
                         school_days_per_week: int) -> MaintenanceSettings:
    windows = tuple(_window(w) for w in (maintenance.windows if maintenance else ()))
    seen: dict[str, int] = {}
    for i, window in enumerate(windows):
        if window.name in seen:
            raise ConfigError(f"maintenance.windows[{i}].name", window.name,
                              f"a name no other window has (windows[{seen[window.name]}] has it)")
        seen[window.name] = i
    if calendar is None:
        return MaintenanceSettings(windows)
    closures = [_holiday(i, h) for i, h in enumerate(calendar.holidays)] + _breaks(calendar.terms)
    starts: dict[tuple[str, dt.date], Closure] = {}
    for closure in closures:
        if (closure.kind, closure.first) in starts:
            raise ConfigError("schoolCalendar.holidays", closure.first.isoformat(),
                              "one holiday starting on each date")
        starts[(closure.kind, closure.first)] = closure
    return MaintenanceSettings(windows, SchoolCalendar(_weekends(calendar, school_days_per_week),
                                                       tuple(sorted(closures, key=lambda c: c.first))))
