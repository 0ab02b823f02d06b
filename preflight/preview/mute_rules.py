"""The alarm mute rules the program registers, and when each mutes next, in IST (the platform's time
zone, which the rules name)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from preflight.model.stack import StackModel
from stackconfig.maintenance import PLATFORM_TIME_ZONE

IST = ZoneInfo(PLATFORM_TIME_ZONE)


def mute_rules(model: StackModel, now: dt.datetime) -> list[dict[str, Any]]:
    rows = []
    for rule in sorted(model.mute_rules, key=lambda r: r.name):
        schedule = rule.schedule
        active = schedule.windows(now, now + dt.timedelta(minutes=1)) if schedule else []
        upcoming = schedule.next_activation(now) if schedule else None
        rows.append({
            "name": rule.name, "expression": rule.expression, "duration": rule.duration, "timezone": rule.timezone,
            "targets": list(rule.targets), "description": rule.description,
            "mutingUntil": active[0][1].astimezone(IST).isoformat() if active else None,
            "nextActivation": upcoming.astimezone(IST).isoformat() if upcoming else None,
        })
    return rows


def _ist(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).strftime("%a %d %b %Y %H:%M IST")


def mute_rules_section(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "Alarm mute rules: none (no maintenance windows or school calendar in the stack config)"
    lines = [f"Alarm mute rules: {len(rows)} (maintenance windows and the school calendar; each mutes pagers)"]
    for row in rows:
        when = [f"muting until {_ist(row['mutingUntil'])}"] if row["mutingUntil"] else []
        when.append(f"next {_ist(row['nextActivation'])}" if row["nextActivation"] else "no activation ahead")
        lines.append(f"  {row['name']}: {row['expression']} for {row['duration']}, {'; '.join(when)}")
        lines.append(f"      mutes {', '.join(row['targets'])}")
    return "\n".join(lines)
