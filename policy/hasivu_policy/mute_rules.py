"""alarm-mute-rules: an alarm mute rule CloudWatch accepts and that mutes alarms of this stack.

PutAlarmMuteRule refuses more than 100 targets, a schedule that is neither `cron(...)` nor `at(...)`, a
duration outside PT1M-P15D, and targets that are no existing alarm; a time zone that is no identifier
mutes at hours nobody meant (cloudwatch_rules/mute_rules.py). A target must be an alarm of this stack:
a rule naming an alarm the stack renamed or removed would fail the deploy, or mute nothing.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from cloudwatch_rules.mute_rules import mute_rule_problems
from hasivu_policy.stack import ALARM, COMPOSITE, MUTE_RULE, StackIndex
from hasivu_policy.values import is_unknown


def validate_alarm_mute_rules(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    rules = index.of_type(MUTE_RULE)
    if not rules:
        return
    names = [r.props.get("alarmName" if r.type == COMPOSITE else "name") for r in index.of_type(ALARM, COMPOSITE)]
    # An alarm named only at create time could be any target: names are then not judged.
    known = None if any(is_unknown(n) or not isinstance(n, str) for n in names) else names
    for rule in rules:
        problems = mute_rule_problems(rule.props, known)
        if problems:
            report(f"{rule.label()}: " + "; ".join(problems) + ". Fix: correct the mute rule (at most 100 alarms "
                   "of this stack, a cron(...) or at(...) expression, a duration from PT1M to P15D, a time zone "
                   "like Asia/Kolkata).", rule.urn)
