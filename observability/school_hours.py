"""When the RFID readers are expected on: school hours (IST) on school days, the school calendar's
closures left out. Outside them the readers are switched off, and the health monitor does not judge them.

The stack hands the schedule to the health monitor as `HASIVU_SCHOOL_HOURS`, JSON such as
`{"start": "07:30", "end": "15:00", "days": 6, "closed": [["2026-11-07", "2026-11-10"]]}`:
school from `start` to `end` on the first `days` days of the week (Monday first), except the `closed`
date ranges (first and last day, both included).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from observability.settings import ConfigurationError

VARIABLE = "HASIVU_SCHOOL_HOURS"
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
EXPECTED = ('JSON {"start": "HH:MM", "end": "HH:MM", "days": 1-7, "closed": [["YYYY-MM-DD", "YYYY-MM-DD"], ...]} '
            "with start before end")


@dataclasses.dataclass(frozen=True)
class SchoolHours:
    start: dt.time  # IST
    end: dt.time  # IST
    days_per_week: int  # the first days of the week, Monday first
    closed: tuple[tuple[dt.date, dt.date], ...] = ()

    def includes(self, when: dt.datetime) -> bool:
        local = when.astimezone(IST)
        day = local.date()
        return (local.weekday() < self.days_per_week and self.start <= local.time() < self.end
                and not any(first <= day <= last for first, last in self.closed))

    def as_variable(self) -> str:
        return json.dumps({
            "start": f"{self.start:%H:%M}", "end": f"{self.end:%H:%M}", "days": self.days_per_week,
            "closed": [[first.isoformat(), last.isoformat()] for first, last in self.closed],
        }, separators=(",", ":"))

    @classmethod
    def from_variable(cls, text: str) -> SchoolHours:
        """The schedule from `HASIVU_SCHOOL_HOURS`; anything else raises ConfigurationError (one line)."""
        try:
            value: Any = json.loads(text)
            hours = cls(dt.time.fromisoformat(value["start"]), dt.time.fromisoformat(value["end"]),
                        int(value["days"]), tuple(_range(pair) for pair in value.get("closed", ())))
        except (ValueError, TypeError, KeyError, AttributeError):
            raise ConfigurationError(f"{VARIABLE}: got {text!r}; expected {EXPECTED}") from None
        if not (hours.start < hours.end and 1 <= hours.days_per_week <= 7
                and all(first <= last for first, last in hours.closed)):
            raise ConfigurationError(f"{VARIABLE}: got {text!r}; expected {EXPECTED}")
        return hours


def _range(pair: Sequence[str]) -> tuple[dt.date, dt.date]:
    first, last = pair
    return dt.date.fromisoformat(first), dt.date.fromisoformat(last)
