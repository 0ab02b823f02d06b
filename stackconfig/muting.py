"""Which pagers a maintenance window or the school calendar mutes, and for how long: the one rule behind
the program's planned windows and calendar, the command line's ad-hoc windows and the drills'.

Pagers are the only alarms with actions (components/alarms/composites.py), grouped so that muting one
mutes nothing else: by tier, by the scope of their alarms (what a window can maintain, or `platform`),
by whether their alarms assume a school day, and the long-window job alarms apart (`jobs`). A pager
carries its group in its tags, which is how the tools read it back from the registered resources.

A window of scope S mutes the pagers of S, and the job pagers of every scope (a job run fails for
whatever it depends on, and its alarm cannot tell). Each pager stays muted for the window plus the
longest its alarms may stay in ALARM after a fault ends (the fault's last period, plus the evaluated
window it stays in): an alarm whose fault ended before the window did has had that time to return to
OK, so it pages nobody (CloudWatch runs a muted alarm's actions when the mute ends
only if it is still in the state it was muted in: user guide, "How alarm mute rules work"); a fault still
present then pages once. The calendar mutes the school-day pagers the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from stackconfig.maintenance import ALL

JOBS = "jobs"
PLATFORM = "platform"
# Security alarms page on their own: an attack is never a symptom of a dependency or a release, and only
# a window of scope `all` mutes them.
SECURITY = "security"
# The monitoring's own parts (the tier topics' deliveries, the Slack forwarders, the health monitor
# function) page on their own too: their failure is never a symptom of the platform's incident, and one
# that goes unheard while the platform's pager is held leaves on-call deaf. Only a window of scope `all`
# mutes them.
MONITORING = "monitoring"
MAX_TARGETS = 100  # alarm names per mute rule (PutAlarmMuteRule MuteTargets.AlarmNames)
# The tags a pager carries (components/alarms/composites.py) and the model reads.
SCOPE_TAG = "MuteScope"
SCHOOL_DAY_TAG = "SchoolDay"
RECOVERY_TAG = "RecoveryMinutes"


@dataclasses.dataclass(frozen=True)
class Pager:
    name: str
    tier: str
    scope: str  # one of stackconfig.maintenance.SCOPES, PLATFORM, SECURITY, MONITORING or JOBS
    school_day: bool
    # How long after a fault ends its alarms may still be in ALARM (their period plus their window).
    recovery_minutes: int

    def tags(self) -> dict[str, str]:
        return {SCOPE_TAG: self.scope, SCHOOL_DAY_TAG: str(self.school_day).lower(),
                RECOVERY_TAG: str(self.recovery_minutes)}


def pager_from_tags(name: str, tier: str, tags: Mapping[str, str]) -> Pager | None:
    """A pager as its tags describe it; None for a composite that is no pager of this program."""
    try:
        return Pager(name, tier, tags[SCOPE_TAG], tags[SCHOOL_DAY_TAG] == "true", int(tags[RECOVERY_TAG]))
    except (KeyError, ValueError):
        return None


@dataclasses.dataclass(frozen=True)
class Mute:
    """One mute rule to put: `suffix` goes after the window's rule name."""

    suffix: str
    targets: tuple[str, ...]
    minutes: int


def _grouped(pagers: Iterable[Pager], minutes: int) -> list[Mute]:
    by_length: dict[int, list[str]] = {}
    for pager in pagers:
        by_length.setdefault(minutes + pager.recovery_minutes, []).append(pager.name)
    mutes = []
    for length, names in sorted(by_length.items()):
        names.sort()
        chunks = [names[i:i + MAX_TARGETS] for i in range(0, len(names), MAX_TARGETS)]
        for i, chunk in enumerate(chunks, 1):
            # One rule needs no suffix; several are told apart by how long they outlast the window.
            plus = f"-plus-{length - minutes}m" if len(by_length) > 1 else ""
            part = f"-part-{i}" if len(chunks) > 1 else ""
            mutes.append(Mute(plus + part, tuple(chunk), length))
    return mutes


def window_mutes(scope: str, pagers: Sequence[Pager], minutes: int) -> list[Mute]:
    """The rules of a window of `minutes` that maintains `scope` (or ALL)."""
    return _grouped((p for p in pagers if scope == ALL or p.scope in (scope, JOBS)), minutes)


def calendar_mutes(pagers: Sequence[Pager], minutes: int) -> list[Mute]:
    """The rules of `minutes` without school: the pagers of the alarms that assume a school day."""
    return _grouped((p for p in pagers if p.school_day), minutes)
