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
    # unless every other cause in ALARM is one the page's scope does not use.
    following: tuple[str, ...] = ()

    def variable(self) -> str:
        """The value of PAGE_CAUSES that `page_causes` reads back: compact JSON (Lambda allows 4 KB
        of environment variables in all)."""
        return json.dumps({"alarmNamePrefix": self.alarm_name_prefix, "causes": dict(self.causes),
                           **({"unlisted": list(self.unlisted)} if self.unlisted else {}),
                           **({"unrelated": {k: list(v) for k, v in self.unrelated.items()}} if self.unrelated
                              else {}),
                           **({"following": list(self.following)} if self.following else {})}, separators=(",", ":"))

    def explains(self, cause: str, page: str) -> bool:
        """Whether `cause` may explain the page of pager `page` (`<prefix><tier>-<scope>...-pager`)."""
        scoped = page.removeprefix(self.alarm_name_prefix).partition("-")[2]
        return not any(scoped.startswith(f"{scope}-") for scope in self.unrelated.get(cause, ()))


def page_causes(environment: Mapping[str, str]) -> Optional[PageCauses]:
    """PAGE_CAUSES from a Lambda environment; None without it or when it is not the program's form
    (the page then goes out without the headline)."""
    try:
        value = json.loads(environment[PAGE_CAUSES])
        prefix, causes, unlisted = value["alarmNamePrefix"], value["causes"], value.get("unlisted", [])
        unrelated, following = value.get("unrelated", {}), value.get("following", [])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if not isinstance(prefix, str) or not prefix or not isinstance(causes, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in causes.items()) or not isinstance(
            unlisted, list) or not all(isinstance(u, str) and u for u in unlisted) or not isinstance(
            unrelated, dict) or not all(isinstance(k, str) and isinstance(v, list) and all(
                isinstance(s, str) and s for s in v) for k, v in unrelated.items()) or not isinstance(
            following, list) or not all(isinstance(f, str) for f in following):
        return None
    return PageCauses(prefix, causes, tuple(unlisted), {k: tuple(v) for k, v in unrelated.items()},
                      tuple(following))
