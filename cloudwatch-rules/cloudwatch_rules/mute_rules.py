"""Alarm mute rules as CloudWatch reads them: the schedule (a `cron(...)` or `at(...)` expression, an
ISO 8601 duration, a time zone), the targets, and when a rule mutes.

From the API reference (PutAlarmMuteRule, and its `Schedule` data type):

- `Expression`: `cron(Minutes Hours Day-of-month Month Day-of-week)` for recurring windows, where
  `*`, `-` and `,` are supported in all fields and English names may be used for months (JAN-DEC) and
  days of the week (SUN-SAT); or `at(yyyy-MM-ddThh:mm)` for one window. 1 to 256 characters.
- `Duration`: ISO 8601, from `PT1M` to `P15D`; "the duration begins when the schedule expression time
  is reached. For recurring schedules, the duration applies to each occurrence."
- `Timezone`: an identifier like `Asia/Tokyo`; UTC when absent. It applies to the expression and to the
  start and expire dates.
- `MuteTargets.AlarmNames`: at most 100 names, each 1 to 255 characters, of alarms that exist.
- `StartDate` / `ExpireDate`: the rule mutes only from the first and until the second (after it, its
  status is EXPIRED); the Pulumi provider takes them with the seconds at `00`, and refuses them
  with an `at()` expression ("Can not set start or expire dates for At expressions").

Numbers in the day-of-week field follow standard cron (0 = Sunday ... 6 = Saturday); the reference
documents only the names, which is what this project writes. A cron expression that restricts both the
day of the month and the day of the week is refused: the reference does not say how the two combine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Optional, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cloudwatch_rules.values import is_unknown

MAX_TARGETS = 100
MAX_NAME_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 1024
MAX_EXPRESSION_LENGTH = 256
MIN_DURATION = dt.timedelta(minutes=1)
MAX_DURATION = dt.timedelta(days=15)
UTC = "UTC"
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# Standard cron numbering, 0 = Sunday; datetime.weekday() is 0 = Monday.
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class MuteRuleError(ValueError):
    """A schedule CloudWatch would not accept (or this model cannot read): the message says why."""


@dataclasses.dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: Optional[frozenset[int]]  # None: `*`
    months: frozenset[int]
    days_of_week: Optional[frozenset[int]]  # None: `*`; 0 = Sunday

    def matches_day(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        if self.days_of_month is not None and day.day not in self.days_of_month:
            return False
        return self.days_of_week is None or (day.weekday() + 1) % 7 in self.days_of_week


@dataclasses.dataclass(frozen=True)
class At:
    when: dt.datetime  # naive: wall-clock time in the schedule's time zone


Expression = Union[Cron, At]

_FIELDS = (("minutes", 0, 59, ()), ("hours", 0, 23, ()), ("day of month", 1, 31, ()), ("month", 1, 12, MONTHS),
           ("day of week", 0, 6, DAYS))


def _value(text: str, low: int, high: int, names: tuple[str, ...], field: str) -> int:
    upper = text.upper()
    if upper in names:
        return names.index(upper) + (1 if names is MONTHS else 0)
    if not text.isdigit():
        raise MuteRuleError(f"{field} {text!r} is not a number{' or a name' if names else ''}")
    value = int(text)
    if not low <= value <= high:
        raise MuteRuleError(f"{field} {value} is outside {low}-{high}")
    return value


def _field(text: str, low: int, high: int, names: tuple[str, ...], field: str) -> Optional[frozenset[int]]:
    if text == "*":
        return None
    values: set[int] = set()
    for part in text.split(","):
        first, dash, last = part.partition("-")
        start = _value(first, low, high, names, field)
        end = _value(last, low, high, names, field) if dash else start
        if end < start:
            raise MuteRuleError(f"{field} range {part!r} runs backwards")
        values.update(range(start, end + 1))
    return frozenset(values)


def parse_expression(text: str) -> Expression:
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_EXPRESSION_LENGTH:
        raise MuteRuleError(f"expression must be 1 to {MAX_EXPRESSION_LENGTH} characters")
    at = re.fullmatch(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2})\)", text)
    if at:
        try:
            return At(dt.datetime.strptime(at.group(1), "%Y-%m-%dT%H:%M"))
        except ValueError:
            raise MuteRuleError(f"{at.group(1)!r} is not a date and time") from None
    cron = re.fullmatch(r"cron\(([^()]*)\)", text)
    if not cron:
        raise MuteRuleError(f"{text!r} is neither cron(Minutes Hours Day-of-month Month Day-of-week) "
                            "nor at(yyyy-MM-ddThh:mm)")
    parts = cron.group(1).split()
    if len(parts) != len(_FIELDS):
        raise MuteRuleError(f"{text!r} has {len(parts)} fields; a mute rule's cron has 5 "
                            "(Minutes Hours Day-of-month Month Day-of-week)")
    for part in parts:
        if not re.fullmatch(r"[A-Za-z0-9*,-]+", part):
            raise MuteRuleError(f"cron field {part!r}: only numbers, names, '*', '-' and ',' are supported")
    values = [_field(p, low, high, names, f) for p, (f, low, high, names) in zip(parts, _FIELDS, strict=True)]
    minutes, hours, dom, months, dow = values
    if dom is not None and dow is not None:
        raise MuteRuleError(f"{text!r} restricts both the day of the month and the day of the week; "
                            "the API reference does not say how they combine: use one")
    return Cron(minutes if minutes is not None else frozenset(range(60)),
                hours if hours is not None else frozenset(range(24)), dom,
                months if months is not None else frozenset(range(1, 13)), dow)


_DURATION = re.compile(r"P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?)?")


def parse_duration(text: str) -> dt.timedelta:
    """`PT4H`, `P2DT12H`, `PT90M`: days, hours and minutes (the forms of the reference's examples)."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if not match or not any(match.group(k) for k in "dhm") or text.endswith("T"):
        raise MuteRuleError(f"duration {text!r} is not an ISO 8601 duration like PT4H or P2DT12H")
    duration = dt.timedelta(days=int(match.group("d") or 0), hours=int(match.group("h") or 0),
                            minutes=int(match.group("m") or 0))
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise MuteRuleError(f"duration {text!r} is outside PT1M to P15D")
    return duration


def iso_duration(minutes: int) -> str:
    """Whole minutes as the shortest ISO 8601 duration: 120 -> PT2H, 1530 -> P1DT1H30M."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    time = (f"{hours}H" if hours else "") + (f"{mins}M" if mins else "")
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


@functools.cache
def time_zone(name: Optional[str]) -> ZoneInfo:
    if name is None:
        return ZoneInfo(UTC)
    if not isinstance(name, str) or not 1 <= len(name) <= 50 or name.startswith(("/", ".")):
        raise MuteRuleError(f"time zone {name!r} is not a time zone identifier like Asia/Kolkata")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MuteRuleError(f"time zone {name!r} is not a time zone identifier like Asia/Kolkata") from None


def parse_date(text: str) -> dt.datetime:
    """A StartDate/ExpireDate as the provider takes it (RFC 3339, seconds `00`), in UTC."""
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise MuteRuleError(f"date {text!r} is not an RFC 3339 time like 2026-12-31T23:59:00Z") from None
    if when.tzinfo is None:
        raise MuteRuleError(f"date {text!r} has no offset (write Z for UTC)")
    if when.second or when.microsecond:
        raise MuteRuleError(f"date {text!r} must have its seconds at 00")
    return when.astimezone(dt.UTC)


def rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass(frozen=True)
class Schedule:
    """When a rule mutes: each occurrence of its expression for `duration`, within [start, expire)."""

    expression: Expression
    duration: dt.timedelta
    zone: ZoneInfo
    start: Optional[dt.datetime] = None  # UTC
    expire: Optional[dt.datetime] = None  # UTC

    @property
    def recurring(self) -> bool:
        return isinstance(self.expression, Cron)

    def occurrences(self, begin: dt.datetime, end: dt.datetime) -> Iterator[dt.datetime]:
        """Occurrence starts (UTC) in [begin, end), oldest first."""
        expression = self.expression
        if isinstance(expression, At):
            when = expression.when.replace(tzinfo=self.zone).astimezone(dt.UTC)
            if begin <= when < end:
                yield when
            return
        day = begin.astimezone(self.zone).date() - dt.timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            if expression.matches_day(day):
                for hour in sorted(expression.hours):
                    for minute in sorted(expression.minutes):
                        local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
                        when = local.astimezone(dt.UTC)
                        if begin <= when < end:
                            yield when
            day += dt.timedelta(days=1)

    def windows(self, begin: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """The muted intervals (UTC, merged) that overlap [begin, end)."""
        merged: list[tuple[dt.datetime, dt.datetime]] = []
        for start in self.occurrences(begin - self.duration, end):
            low, high = start, start + self.duration
            if self.start is not None:
                low = max(low, self.start)
            if self.expire is not None:
                high = min(high, self.expire)
            if high <= low:
                continue
            if merged and low <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            else:
                merged.append((low, high))
        return merged

    def active(self, when: dt.datetime) -> bool:
        return any(low <= when < high for low, high in self.windows(when, when + dt.timedelta(minutes=1)))

    def next_activation(self, after: dt.datetime, horizon: dt.timedelta = dt.timedelta(days=400)
                        ) -> Optional[dt.datetime]:
        """The start of the first muted interval that begins at or after `after` (None: none within the horizon)."""
        for low, _ in self.windows(after, after + horizon):
            if low >= after:
                return low
        return None


def schedule_of(props: Mapping[str, Any]) -> Schedule:
    """The schedule of an alarm mute rule from its props (Pulumi's camelCase, as plain data)."""
    rule = props.get("rule") or {}
    schedule = rule.get("schedule") if isinstance(rule, Mapping) else None
    if not isinstance(schedule, Mapping):
        raise MuteRuleError("rule.schedule is required (expression and duration)")
    expression = parse_expression(schedule.get("expression"))  # type: ignore[arg-type]
    duration = parse_duration(schedule.get("duration"))  # type: ignore[arg-type]
    zone = time_zone(schedule.get("timezone"))
    start, expire = props.get("startDate"), props.get("expireDate")
    if isinstance(expression, At) and (start or expire):
        raise MuteRuleError("startDate and expireDate cannot be set with an at() expression")
    start_at = parse_date(start) if start else None
    expire_at = parse_date(expire) if expire else None
    if start_at and expire_at and expire_at <= start_at:
        raise MuteRuleError("expireDate is not after startDate")
    return Schedule(expression, duration, zone, start_at, expire_at)


def targets_of(props: Mapping[str, Any]) -> list[str]:
    targets = props.get("muteTargets") or {}
    names = targets.get("alarmNames") if isinstance(targets, Mapping) else None
    return list(names) if isinstance(names, (list, tuple)) else []


def mute_rule_problems(props: Mapping[str, Any], known_alarms: Optional[Sequence[str]] = None) -> list[str]:
    """What PutAlarmMuteRule would refuse, and targets that name no alarm of `known_alarms` (when given).
    Values unknown during preview are not judged."""
    problems: list[str] = []
    name = props.get("name")
    if isinstance(name, str) and not 1 <= len(name) <= MAX_NAME_LENGTH:
        problems.append(f"name is {len(name)} characters (1 to {MAX_NAME_LENGTH})")
    description = props.get("description")
    if isinstance(description, str) and len(description) > MAX_DESCRIPTION_LENGTH:
        problems.append(f"description is over {MAX_DESCRIPTION_LENGTH} characters")
    if not any(is_unknown(v) for v in _schedule_values(props)):
        try:
            schedule_of(props)
        except MuteRuleError as error:
            problems.append(str(error))
    mute_targets = props.get("muteTargets")
    targets = mute_targets.get("alarmNames") if isinstance(mute_targets, Mapping) else None
    if is_unknown(mute_targets) or is_unknown(targets) or targets is None:
        return problems
    if len(targets) > MAX_TARGETS:
        problems.append(f"mutes {len(targets)} alarms (at most {MAX_TARGETS} a rule)")
    for target in targets:
        if is_unknown(target):
            continue
        if not isinstance(target, str) or not 1 <= len(target) <= MAX_NAME_LENGTH:
            problems.append(f"target {target!r} is not an alarm name of 1 to {MAX_NAME_LENGTH} characters")
        elif known_alarms is not None and target not in known_alarms:
            problems.append(f"target {target!r} is no alarm of this stack")
    return problems


def _schedule_values(props: Mapping[str, Any]) -> list[Any]:
    rule = props.get("rule")
    if is_unknown(rule):
        return [rule]
    schedule = rule.get("schedule") if isinstance(rule, Mapping) else None
    values = [schedule, props.get("startDate"), props.get("expireDate")]
    if isinstance(schedule, Mapping):
        values += [schedule.get(k) for k in ("expression", "duration", "timezone")]
    return values
