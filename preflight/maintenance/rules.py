"""The mute rules of an ad-hoc maintenance window, as `maintenance start` puts them and as a drill's
`maintenance` fault plays them: which pagers, for how long (stackconfig/muting.py), and a name that says
who started it and why."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from cloudwatch_rules.mute_rules import MAX_NAME_LENGTH, iso_duration
from stackconfig.maintenance import PLATFORM_TIME_ZONE
from stackconfig.muting import Pager, window_mutes

# Room left in a rule's name for the suffix of one of several rules ("-plus-1440m-part-2").
SUFFIX_ROOM = 24


def adhoc_prefix(environment: str) -> str:
    """What every ad-hoc rule of the stack's environment is named from (`stop` and `status` find them by it)."""
    return f"{environment}-adhoc-"


def slug(text: str, limit: int) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-") or "unnamed"


@dataclasses.dataclass(frozen=True)
class AdhocRule:
    name: str
    description: str
    expression: str
    duration: str
    targets: tuple[str, ...]
    timezone: str = PLATFORM_TIME_ZONE

    def props(self) -> dict[str, Any]:
        """As the program's rules are registered (camelCase): what `cloudwatch_rules.mute_rules` reads."""
        return {"name": self.name, "description": self.description, "muteTargets": {"alarmNames": list(self.targets)},
                "rule": {"schedule": {"expression": self.expression, "duration": self.duration,
                                      "timezone": self.timezone}}}

    def put_parameters(self) -> dict[str, Any]:
        """PutAlarmMuteRule's request."""
        return {"Name": self.name, "Description": self.description, "MuteTargets": {"AlarmNames": list(self.targets)},
                "Rule": {"Schedule": {"Expression": self.expression, "Duration": self.duration,
                                      "Timezone": self.timezone}}}


def adhoc_rules(environment: str, scope: str, start: dt.datetime, minutes: int, pagers: Sequence[Pager],
                who: str, reason: str) -> list[AdhocRule]:
    """The rules of a window from `start` (its minute) for `minutes` maintaining `scope`."""
    local = start.astimezone(ZoneInfo(PLATFORM_TIME_ZONE))
    head = f"{adhoc_prefix(environment)}{scope}-{local:%Y%m%dT%H%M}-{slug(who, 40)}-"
    base = head + slug(reason, MAX_NAME_LENGTH - SUFFIX_ROOM - len(head))
    description = f"Ad-hoc maintenance of {scope}, started by {who}: {reason}"[:1024]
    return [AdhocRule(base + mute.suffix, description, f"at({local:%Y-%m-%dT%H:%M})", iso_duration(mute.minutes),
                      mute.targets)
            for mute in window_mutes(scope, pagers, minutes)]
