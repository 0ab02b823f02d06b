"""alarm-routing: every alarm notifies someone through SNS, itself or through a composite alarm that
does; nothing is switched off in production; critical alarms that page also say when they recover."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from cloudwatch_rules.composite import RuleError, parse_alarm_rule
from hasivu_policy.stack import ALARM, COMPOSITE, Resource, StackIndex
from hasivu_policy.values import is_unknown


def _reaches_sns(index: StackIndex, alarm: Resource, prop: str) -> bool:
    values = alarm.props.get(prop)
    if index.alarm_topics(alarm, prop):
        return True
    return isinstance(values, list) and any(isinstance(v, str) and v.startswith("arn:aws:sns:") for v in values)


def is_critical(index: StackIndex, alarm: Resource, tag_key: str, tag_value: str) -> bool:
    tags = alarm.props.get("tags")
    if isinstance(tags, dict) and tags.get(tag_key) == tag_value:
        return True
    for topic in index.alarm_topics(alarm):
        topic_tags = topic.props.get("tags")
        name = topic.props.get("name")
        if (isinstance(topic_tags, dict) and topic_tags.get(tag_key) == tag_value) or (
            isinstance(name, str) and tag_value in name
        ):
            return True
    return False


def routed_through_composites(index: StackIndex) -> set[str]:
    """Names of the alarms that notify through a composite: named in the rule, or as the actions
    suppressor, of a composite that reaches SNS, directly or through another such composite."""
    composites = {c.props.get("alarmName"): c for c in index.of_type(COMPOSITE)}
    frontier = [c for c in composites.values() if _reaches_sns(index, c, "alarmActions")]
    routed: set[str] = set()
    while frontier:
        composite = frontier.pop()
        rule = composite.props.get("alarmRule")
        try:
            names = parse_alarm_rule(rule) if isinstance(rule, str) else []
        except RuleError:
            names = []
        suppressor = composite.props.get("actionsSuppressor")
        if isinstance(suppressor, dict) and isinstance(suppressor.get("alarm"), str):
            names.append(suppressor["alarm"])
        for name in names:
            if name not in routed:
                routed.add(name)
                if name in composites:
                    frontier.append(composites[name])
    return routed


def validate_alarm_routing(args: StackValidationArgs, report: ReportViolation) -> None:
    config = dict(args.get_config())
    tag_key = config.get("criticalTagKey", "Tier")
    tag_value = config.get("criticalTagValue", "critical")
    index = StackIndex(args.resources)
    paged_through = routed_through_composites(index)
    for alarm in index.of_type(ALARM, COMPOSITE):
        actions = alarm.props.get("alarmActions")
        name = alarm.props.get("alarmName" if alarm.type == COMPOSITE else "name")
        silent = not is_unknown(actions) and not actions
        if silent:
            # An alarm that pages through a composite is fine: the composite's actions are checked.
            if name not in paged_through:
                report(f"{alarm.label()} has no alarm actions and no composite alarm that notifies names it: "
                       "it would change state and tell no one. Fix: route it to a tier topic or a tier's pager.",
                       alarm.urn)
        elif not _reaches_sns(index, alarm, "alarmActions"):
            report(f"{alarm.label()} has alarm actions that reach no SNS topic. Fix: use a tier topic ARN.",
                   alarm.urn)
        if alarm.props.get("actionsEnabled") is False and not config.get("allowDisabledActions", False):
            report(f"{alarm.label()} has actionsEnabled=false. Fix: enable actions; mute the pagers with an alarm "
                   "mute rule during maintenance instead (a maintenance window).", alarm.urn)
        if not silent and is_critical(index, alarm, tag_key, tag_value):
            ok = alarm.props.get("okActions")
            if not is_unknown(ok) and not ok:
                report(f"{alarm.label()} is critical but has no OK actions: whoever was paged never hears it "
                       "recovered. Fix: set okActions to the same tier topic.", alarm.urn)
