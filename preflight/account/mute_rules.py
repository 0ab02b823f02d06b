"""The account's alarm mute rules against the stack: what is muted now and next, and rules that mute
alarms the stack no longer has or have been muting for more than a day.

A rule concerns the stack when its name or a target starts with the stack's environment. The stack's
own planned rules (maintenance windows, the school calendar) may be active for days (a term break);
any other rule active for more than a day is a window someone forgot to end.
"""

from __future__ import annotations

import datetime as dt

from preflight.account.findings import Finding, Level
from preflight.account.session import Account
from preflight.maintenance.account import DeployedRule, listed_rules
from preflight.model.stack import StackModel

CHECK = "mute rules"
FORGOTTEN_AFTER = dt.timedelta(days=1)


def _active_since(rule: DeployedRule, now: dt.datetime) -> dt.datetime | None:
    """When the muting that holds at `now` began (None: not muting now)."""
    schedule = rule.schedule
    if schedule is None:
        return None
    windows = schedule.windows(now - dt.timedelta(days=16), now + dt.timedelta(minutes=1))
    return next((low for low, high in windows if low <= now < high), None)


def check_mute_rules(account: Account, model: StackModel, now: dt.datetime) -> list[Finding]:
    environment = model.settings.environment if model.settings else model.stack
    alarms = {a.name for a in model.alarms} | {c.name for c in model.composites}
    planned = {r.name for r in model.mute_rules}
    stop = f"python -m preflight maintenance --stack {model.stack} stop"
    findings = []
    for rule in listed_rules(account):
        ours = rule.name.startswith(f"{environment}-") or any(t.startswith(f"{environment}-") for t in rule.targets)
        if not ours:
            continue
        kind = "planned by this stack" if rule.name in planned else "not in the stack's config"
        since = _active_since(rule, now)
        when = f"muting since {since:%Y-%m-%d %H:%M} UTC" if since else f"{rule.status.lower()}"
        findings.append(Finding(Level.INFO, CHECK, rule.name,
                                f"{when} ({rule.expression} {rule.timezone or 'UTC'} for {rule.duration}, "
                                f"{kind}): mutes {', '.join(rule.targets) or 'nothing'}"))
        gone = [t for t in rule.targets if t not in alarms]
        if gone:
            findings.append(Finding(
                Level.WARNING, CHECK, rule.name,
                f"mutes {len(gone)} alarm(s) this stack no longer has: {', '.join(gone)} (renamed or removed: "
                "the rule mutes nothing there, and the alarms that replaced them are not muted)",
                "deploy the stack to update its planned rules" if rule.name in planned
                else f"end it ({stop}) or delete it: aws cloudwatch delete-alarm-mute-rule --alarm-mute-rule-name "
                     f"{rule.name}"))
        if since is not None and rule.name not in planned and now - since > FORGOTTEN_AFTER:
            days = (now - since).total_seconds() / 86_400
            findings.append(Finding(
                Level.WARNING, CHECK, rule.name,
                f"has muted {len(rule.targets)} alarm(s) for {days:.1f} days: their pages reach nobody",
                f"end the maintenance ({stop}) if it is over"))
    return findings
