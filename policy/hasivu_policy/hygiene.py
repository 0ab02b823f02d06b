"""Advisory hygiene: required tags on monitoring resources; runbook links on critical alarms."""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs

from hasivu_policy.values import is_unknown, plain

DEFAULT_TAGGED_TYPES = [
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm",
    "aws:sns/topic:Topic",
    "aws:kms/key:Key",
    "aws:lambda/function:Function",
]
DEFAULT_REQUIRED_TAGS = ["Environment", "Service", "Tier"]


def validate_required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    config = dict(args.get_config())
    if args.resource_type not in (config.get("resourceTypes") or DEFAULT_TAGGED_TYPES):
        return
    tags = plain(args.props).get("tags")
    if is_unknown(tags):
        return
    missing = [t for t in (config.get("requiredTags") or DEFAULT_REQUIRED_TAGS) if t not in (tags or {})]
    if missing:
        report(f"missing tags {', '.join(missing)}. Fix: tag it (AlarmFactory and the components do).")


def validate_runbook_links(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in ("aws:cloudwatch/metricAlarm:MetricAlarm",
                                  "aws:cloudwatch/compositeAlarm:CompositeAlarm"):
        return
    config = dict(args.get_config())
    props = plain(args.props)
    tags = props.get("tags") if isinstance(props.get("tags"), dict) else {}
    if tags.get(config.get("criticalTagKey", "Tier")) != config.get("criticalTagValue", "critical"):
        return
    description = props.get("alarmDescription")
    if is_unknown(description):
        return
    if not re.search(config.get("runbookPattern", r"https://\S+"), description or ""):
        report("critical alarm without a runbook link in its description. Fix: end the description with "
               "'Runbook: https://...' (AlarmFactory adds runbookBaseUrl + anchor).")
