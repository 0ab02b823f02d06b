"""What the program tells the Slack forwarder about a page's probable causes: the PAGE_CAUSES variable.

Apart from the forwarder's handler so that the program, which writes the variable, reads this without
importing boto3; the forwarder's archive holds both modules (components/slack_forwarder.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Optional

PAGE_CAUSES = "HASIVU_PAGE_CAUSES"


@dataclasses.dataclass(frozen=True)
class PageCauses:
    """What the program tells the forwarder (PAGE_CAUSES): whose alarms it reads, and which of them
    are causes, as `alarm name -> label` in the order a page lists them; an empty label marks an alarm
    that only holds pages, which a page does not list."""

    alarm_name_prefix: str
    causes: Mapping[str, str]
    # Name prefixes of alarms a page never lists as symptoms: an SLO's burn-rate windows say only that a
    # budget burns, and the page's own members already name a pair that pages.
    unlisted: tuple[str, ...] = ()
    # Cause -> the scopes whose pages it does not explain, their flows not using its dependency (a Razorpay
    # outage explains no database warning): the page of a pager of such a scope does not name it.
    unrelated: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # Causes that a failing dependency brings about too (the health score, the monitor's silence): named
    # unless every other cause in ALARM is one the page's scope does not use, and beside such a leading
    # cause they explain no symptom (the alarms in ALARM lower the health score, not the other way round).
    following: tuple[str, ...] = ()
    # Scope -> the name stems of its alarms, for the scopes in `unrelated`: an alarm whose name (less the
    # prefix) starts with a stem and "-" is of the scope of the longest such stem, so that a page does not
    # list it as following from a cause that does not explain its scope. Another scope's alarms that a
    # stem would take are listed under their own scope, with the longer stem.
    scopes: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    def variable(self) -> str:
        """The value of PAGE_CAUSES that `page_causes` reads back: compact JSON (Lambda allows 4 KB
        of environment variables in all)."""
        return json.dumps({"alarmNamePrefix": self.alarm_name_prefix, "causes": dict(self.causes),
                           **({"unlisted": list(self.unlisted)} if self.unlisted else {}),
                           **({"unrelated": {k: list(v) for k, v in self.unrelated.items()}} if self.unrelated
                              else {}),
                           **({"following": list(self.following)} if self.following else {}),
                           **({"scopes": {k: list(v) for k, v in self.scopes.items()}} if self.scopes else {})},
                          separators=(",", ":"))

    def explains(self, cause: str, page: str) -> bool:
        """Whether `cause` may explain the page of pager `page` (`<prefix><tier>-<scope>...-pager`)."""
        scoped = page.removeprefix(self.alarm_name_prefix).partition("-")[2]
        return not any(scoped.startswith(f"{scope}-") for scope in self.unrelated.get(cause, ()))

    def explains_alarm(self, cause: str, alarm: str) -> bool:
        """Whether `cause` may explain alarm `alarm` in ALARM: it does unless the alarm is of a scope whose
        flows do not use the cause's dependency."""
        return self.scope_of(alarm) not in self.unrelated.get(cause, ())

    def scope_of(self, alarm: str) -> Optional[str]:
        """The scope of the longest stem that alarm `alarm`'s name starts with; None when none does."""
        name = alarm.removeprefix(self.alarm_name_prefix)
        found = [(len(stem), scope) for scope, stems in self.scopes.items() for stem in stems
                 if name.startswith(f"{stem}-")]
        return max(found)[1] if found else None


def page_causes(environment: Mapping[str, str]) -> Optional[PageCauses]:
    """PAGE_CAUSES from a Lambda environment; None without it or when it is not the program's form
    (the page then goes out without the headline)."""
    try:
        value = json.loads(environment[PAGE_CAUSES])
        prefix, causes, unlisted = value["alarmNamePrefix"], value["causes"], value.get("unlisted", [])
        unrelated, following, scopes = value.get("unrelated", {}), value.get("following", []), value.get("scopes", {})
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    valid = (isinstance(prefix, str) and bool(prefix) and isinstance(causes, dict)
             and all(isinstance(k, str) and isinstance(v, str) for k, v in causes.items())
             and _names(unlisted) and isinstance(following, list) and all(isinstance(f, str) for f in following)
             and _names_by_key(unrelated) and _names_by_key(scopes))
    if not valid:
        return None
    return PageCauses(prefix, causes, tuple(unlisted), {k: tuple(v) for k, v in unrelated.items()},
                      tuple(following), {k: tuple(v) for k, v in scopes.items()})


def _names(value: object) -> bool:
    """Whether `value` is a list of non-empty strings."""
    return isinstance(value, list) and all(isinstance(s, str) and s for s in value)


def _names_by_key(value: object) -> bool:
    """Whether `value` is an object of lists of non-empty strings, as `unrelated` and `scopes` are."""
    return isinstance(value, dict) and all(isinstance(k, str) and _names(v) for k, v in value.items())
