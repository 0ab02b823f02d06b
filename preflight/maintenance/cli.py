"""`python -m preflight maintenance --stack S start --for 2h --reason TEXT [--scope S] | stop | status [--json]`.

An ad-hoc maintenance window is a set of alarm mute rules on the stack's pagers (which ones, and for
how long, is stackconfig/muting.py's rule, the same as for planned windows): `start` puts them from this
minute, `stop` ends them, `status` lists the account's active and scheduled rules and what they mute.
The pagers come from the program run offline, as the preview runs it; the rules go to the caller's account.

Exit status: 0 done, 2 a usage, program or account error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, TextIO
from zoneinfo import ZoneInfo

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from cloudwatch_rules.mute_rules import iso_duration, parse_duration
from preflight.account.session import Account, AccountError, connect
from preflight.maintenance.account import DeployedRule, delete_rule, listed_rules, pagers_in_alarm, put_rule
from preflight.maintenance.rules import AdhocRule, adhoc_prefix, adhoc_rules
from preflight.model.stack import StackModel, build_model
from preflight.program.engine import ProgramFailed, run_program
from preflight.program.stack_files import ProgramError, load_stack_files
from stackconfig.maintenance import ALL, MAX_WINDOW_MINUTES, PLATFORM_TIME_ZONE, SCOPES, parse_minutes
from stackconfig.muting import JOBS, Pager

IST = ZoneInfo(PLATFORM_TIME_ZONE)


class UsageError(Exception):
    """A bad argument: one line, exit 2."""


def _ist(when: Optional[dt.datetime]) -> str:
    return "never" if when is None else when.astimezone(IST).strftime("%a %d %b %H:%M IST")


def who(account: Account) -> str:
    """The caller: a role session's name (`assumed-role/<role>/<session>`) or a user's name."""
    return account.caller_arn.rsplit("/", 1)[-1] or account.user_id


def _model(stack: str, program: Path) -> StackModel:
    model = build_model(run_program(load_stack_files(program, stack), preview=True))
    if model.settings is None or not model.pagers:
        raise ProgramError(f"stack {stack}: the program registers no pagers to mute (expected this project's program)")
    return model


def start(account: Account, model: StackModel, scope: str, minutes: int, reason: str, now: dt.datetime,
          out: TextIO) -> list[AdhocRule]:
    assert model.settings is not None
    rules = adhoc_rules(model.settings.environment, scope, now, minutes, model.pagers, who(account), reason)
    for rule in rules:
        put_rule(account, rule.put_parameters())
    begin = now.replace(second=0, microsecond=0)
    out.write(f"Maintenance of {scope} started by {who(account)}: {reason}\n"
              f"  window {_ist(begin)} to {_ist(begin + dt.timedelta(minutes=minutes))}; muted (each pager until its "
              "alarms have had time to clear after the window):\n")
    for rule in rules:
        until = begin + parse_duration(rule.duration)
        out.write(f"    until {_ist(until)}: {', '.join(rule.targets)}\n")
    out.write(f"  rules: {', '.join(r.name for r in rules)}\n"
              f"  end it early: python -m preflight maintenance --stack {model.stack} stop\n")
    return rules


def _windows(rules: Sequence[DeployedRule], environment: str, name: Optional[str]) -> list[DeployedRule]:
    """The stack's ad-hoc rules, of the window `name` (a rule name or its start) when given."""
    adhoc = [r for r in rules if r.name.startswith(adhoc_prefix(environment))]
    if name is None:
        return adhoc
    chosen = [r for r in adhoc if r.name.startswith(name)]
    if not chosen:
        raise UsageError(f"--name {name}: no active or scheduled ad-hoc rule of this stack starts with it "
                         f"(there are: {', '.join(r.name for r in adhoc) or 'none'})")
    return chosen


def stop(account: Account, model: StackModel, name: Optional[str], now: dt.datetime, out: TextIO) -> int:
    """Ends the ad-hoc windows: their rules are deleted, except that job pagers stay muted for as long as
    their alarms need to clear from now (their rules are shortened to that)."""
    assert model.settings is not None
    rules = _windows(listed_rules(account), model.settings.environment, name)
    if not rules:
        out.write(f"No active or scheduled ad-hoc maintenance for stack {model.stack}: nothing to stop.\n")
        return 0
    pagers = {p.name: p for p in model.pagers}
    unmuted: list[str] = []
    begin = now.replace(second=0, microsecond=0)
    for rule in rules:
        jobs = [pagers[t] for t in rule.targets if t in pagers and pagers[t].scope == JOBS]
        if jobs and len(jobs) == len(rule.targets) and rule.status == "ACTIVE":
            put_rule(account, _shortened(rule, jobs, begin))
            recovery = max(p.recovery_minutes for p in jobs)
            out.write(f"Shortened {rule.name}: its job pagers stay muted until "
                      f"{_ist(begin + dt.timedelta(minutes=recovery))} (their alarms' time to clear)\n")
            continue
        delete_rule(account, rule.name)
        unmuted += rule.targets
        out.write(f"Deleted {rule.name}\n")
    _report_alarms(account, unmuted, out)
    return 0


def _shortened(rule: DeployedRule, jobs: Sequence[Pager], now: dt.datetime) -> dict[str, Any]:
    shortened = AdhocRule(rule.name, rule.description, f"at({now.astimezone(IST):%Y-%m-%dT%H:%M})",
                          iso_duration(max(p.recovery_minutes for p in jobs)), rule.targets)
    return shortened.put_parameters()


def _report_alarms(account: Account, unmuted: Sequence[str], out: TextIO) -> None:
    """DeleteAlarmMuteRule: "any alarms that are currently being muted by that rule are immediately unmuted.
    If those alarms are in an ALARM state, their configured actions will trigger." """
    in_alarm = pagers_in_alarm(account, unmuted)
    if not in_alarm:
        out.write("No unmuted pager is in ALARM: nothing pages now.\n")
        return
    out.write("In ALARM, paging now:\n")
    for alarm in in_alarm:
        held = alarm.get("ActionsSuppressedBy")
        note = f" (held: {alarm.get('ActionsSuppressedReason') or held})" if held else ""
        out.write(f"  {alarm['AlarmName']}{note}: {alarm.get('StateReason', '')}\n")


def status(account: Account, model: StackModel, now: dt.datetime, as_json: bool, out: TextIO) -> int:
    assert model.settings is not None
    environment = model.settings.environment
    rows = []
    for rule in listed_rules(account):
        schedule = rule.schedule
        windows = schedule.windows(now, now + dt.timedelta(minutes=1)) if schedule else []
        rows.append({
            "name": rule.name, "status": rule.status, "muteType": rule.mute_type, "expression": rule.expression,
            "duration": rule.duration, "timezone": rule.timezone, "targets": list(rule.targets),
            "ofThisStack": rule.name.startswith(f"{environment}-"),
            "activeUntil": windows[0][1].isoformat() if windows else None,
            "nextActivation": (n.isoformat() if schedule and (n := schedule.next_activation(now)) else None),
            "description": rule.description,
        })
    if as_json:
        json.dump({"accountId": account.account_id, "region": account.region, "rules": rows}, out, indent=2)
        out.write("\n")
        return 0
    out.write(f"Alarm mute rules, active and scheduled, in account {account.account_id} {account.region}: "
              f"{len(rows)}\n")
    for row in rows:
        until = row["activeUntil"] and f"muting until {_ist(dt.datetime.fromisoformat(row['activeUntil']))}"
        upcoming = row["nextActivation"] and f"next {_ist(dt.datetime.fromisoformat(row['nextActivation']))}"
        when = "; ".join(w for w in (until, upcoming) if w) or "no activation ahead"
        mark = "" if row["ofThisStack"] else "  [not this stack's]"
        out.write(f"  {row['status']:<9} {row['name']}{mark}\n"
                  f"            {row['expression']} {row['timezone'] or 'UTC'} for {row['duration']}: {when}\n"
                  f"            mutes {', '.join(row['targets']) or 'nothing'}\n")
    return 0


def maintenance_main(args: argparse.Namespace, session: Optional[boto3.Session] = None,
                     now: Optional[dt.datetime] = None, out: TextIO = sys.stdout) -> int:
    now = now or dt.datetime.now(dt.UTC)
    try:
        minutes = 0
        if args.action == "start":
            minutes = parse_minutes(args.duration) or 0
            if not 1 <= minutes <= MAX_WINDOW_MINUTES:
                raise UsageError(f"--for {args.duration}: expected a duration like 2h, 90m or 1h30m, from 1m to 13d")
            if not args.reason.strip():
                raise UsageError("--reason: expected why (it goes into the rule's name and description)")
        files = load_stack_files(args.program, args.stack)
        model = _model(args.stack, args.program)
        account = connect(files, session)
        if args.action == "start":
            start(account, model, args.scope, minutes, args.reason.strip(), now, out)
            return 0
        if args.action == "stop":
            return stop(account, model, args.name, now, out)
        return status(account, model, now, args.json, out)
    except (UsageError, ProgramError, AccountError) as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    except ProgramFailed as failed:
        return failed.refuse()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        hint = (" (grant the maintenance policy: python -m preflight.maintenance.policy)"
                if "AccessDenied" in code or "Unauthorized" in code else "")
        print(f"preflight: {error.operation_name} failed: {code}: "
              f"{error.response.get('Error', {}).get('Message', '')}{hint}", file=sys.stderr)
        return 2
    except BotoCoreError as error:
        print(f"preflight: the account cannot be reached: {error}", file=sys.stderr)
        return 2


SCOPE_CHOICES = (*SCOPES, ALL)
