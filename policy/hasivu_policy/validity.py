"""deploy-time-validity: what AWS rejects at `pulumi up` although `pulumi preview` passes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from cloudwatch_rules.limits import alarm_problems, composite_problems, dashboard_problems
from hasivu_policy.stack import ALARM, BUDGET, COMPOSITE, DASHBOARD
from hasivu_policy.values import is_unknown, plain

SAMPLING_RULE = "aws:xray/samplingRule:SamplingRule"


def sampling_problems(props: dict[str, Any]) -> list[str]:
    problems = []
    rate = props.get("fixedRate")
    if not is_unknown(rate) and (not isinstance(rate, (int, float)) or not 0 <= rate <= 1):
        problems.append(f"fixedRate {rate!r} is not a fraction in [0, 1]")
    reservoir = props.get("reservoirSize")
    if not is_unknown(reservoir) and (not isinstance(reservoir, (int, float)) or reservoir < 0):
        problems.append(f"reservoirSize {reservoir!r} is not a whole number >= 0")
    priority = props.get("priority")
    if not is_unknown(priority) and (not isinstance(priority, (int, float)) or not 1 <= priority <= 9999):
        problems.append(f"priority {priority!r} is not between 1 and 9999")
    return problems


MAX_BUDGET_NOTIFICATIONS = 10
MAX_EMAIL_SUBSCRIBERS = 10


def budget_problems(props: dict[str, Any]) -> list[str]:
    notifications = props.get("notifications")
    if is_unknown(notifications):
        return []
    if not notifications:
        return ["has no notification: it would be exceeded silently"]
    problems = []
    if len(notifications) > MAX_BUDGET_NOTIFICATIONS:
        problems.append(f"{len(notifications)} notifications (at most {MAX_BUDGET_NOTIFICATIONS})")
    for i, n in enumerate(notifications):
        if not isinstance(n, dict):
            continue
        topics = n.get("subscriberSnsTopicArns") or []
        emails = n.get("subscriberEmailAddresses") or []
        if is_unknown(topics) or is_unknown(emails):
            continue
        if not topics and not emails:
            problems.append(f"notification {i} has no subscriber")
        if len(topics) > 1 or len(emails) > MAX_EMAIL_SUBSCRIBERS:
            problems.append(f"notification {i} has more than one SNS or {MAX_EMAIL_SUBSCRIBERS} email subscribers")
        if n.get("notificationType") == "FORECASTED" and props.get("timeUnit") == "DAILY":
            problems.append(f"notification {i} is FORECASTED on a DAILY budget, which AWS Budgets does not forecast")
    return problems


CHECKS: dict[str, tuple[str, Callable[[dict[str, Any]], list[str]]]] = {
    ALARM: ("CloudWatch rejects this alarm", alarm_problems),
    COMPOSITE: ("CloudWatch rejects this composite alarm", composite_problems),
    DASHBOARD: ("CloudWatch rejects this dashboard", lambda p: dashboard_problems(p.get("dashboardBody"))),
    SAMPLING_RULE: ("X-Ray rejects this sampling rule", sampling_problems),
    BUDGET: ("This budget alerts no one", budget_problems),
}


def validate_deploy_time_validity(args: ResourceValidationArgs, report: ReportViolation) -> None:
    check = CHECKS.get(args.resource_type)
    if check is None:
        return
    what, problems_of = check
    problems = problems_of(plain(args.props))
    if problems:
        report(f"{what} at deploy time: " + "; ".join(problems) + ". Fix: correct the values named above.")
