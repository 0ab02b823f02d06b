"""What the account check found: each finding has a level, what it is about and a one-line fix."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError

from preflight.account.calls import CallFailed


class Level(enum.StrEnum):
    BLOCKING = "blocking"  # the deploy fails, or pages / alarms silently go nowhere
    WARNING = "warning"  # monitoring works less well than the stack file says
    INFO = "info"  # state worth knowing, nothing to fix


@dataclasses.dataclass(frozen=True)
class Finding:
    level: Level
    check: str
    subject: str
    message: str
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        return {"level": self.level.value, "check": self.check, "subject": self.subject,
                "message": self.message, "fix": self.fix}


@dataclasses.dataclass
class AccountReport:
    account_id: str
    region: str
    findings: list[Finding]
    # Per alarm: each metric it reads and whether the account has published it (JSON only).
    alarm_metrics: list[dict[str, Any]]

    @property
    def blocking(self) -> int:
        return sum(f.level is Level.BLOCKING for f in self.findings)

    def count(self, level: Level) -> int:
        return sum(f.level is level for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "region": self.region,
            "blocking": self.blocking,
            "findings": [f.as_json() for f in self.ordered()],
            "alarmMetrics": self.alarm_metrics,
        }

    def ordered(self) -> list[Finding]:
        rank = {Level.BLOCKING: 0, Level.WARNING: 1, Level.INFO: 2}
        return sorted(self.findings, key=lambda f: (rank[f.level], f.check, f.subject))

    def section(self) -> str:
        seen = sum(all(m["exists"] for m in a["metrics"]) for a in self.alarm_metrics)
        lines = [
            f"Account report (account {self.account_id}, {self.region}): {self.count(Level.BLOCKING)} blocking, "
            f"{self.count(Level.WARNING)} warning, {self.count(Level.INFO)} info",
            f"  alarms whose every metric was published in the last two weeks: {seen} of {len(self.alarm_metrics)}",
        ]
        for f in self.ordered():
            lines.append(f"  [{f.level.upper()}] {f.check}: {f.subject}: {f.message}")
            if f.fix:
                lines.append(f"      fix: {f.fix}")
        return "\n".join(lines)


def guarded(name: str, check: Callable[[], list[Finding]]) -> list[Finding]:
    """A check the account cannot answer (denied, unsupported, unreachable) is reported, never raised:
    one line naming the call, its HTTP status and AWS error code (calls.CallFailed), never a response body."""
    try:
        return check()
    except CallFailed as error:
        return [Finding(Level.WARNING, name, "not checked", str(error),
                        "grant the actions of the account check's policy (docs/account.md) to the caller"
                        if error.denied else "")]
    except BotoCoreError as error:
        # Raised outside any call (a request botocore refuses to build): botocore's own one-line text.
        return [Finding(Level.WARNING, name, "not checked", f"{type(error).__name__}: {error}")]
