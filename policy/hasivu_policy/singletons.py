"""account-singletons: what AWS allows once per account must be created once, or reused.

Cost Anomaly Detection allows one SERVICE (dimensional) monitor per account; X-Ray has one
EncryptionConfig per account and region. A stack creates at most one of each, and an anomaly
subscription watches either a monitor this stack creates or an existing monitor's ARN.
"""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, StackValidationArgs

from hasivu_policy.stack import ANOMALY_SUBSCRIPTION, StackIndex
from hasivu_policy.values import is_unknown

ANOMALY_MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
XRAY_ENCRYPTION = "aws:xray/encryptionConfig:EncryptionConfig"
MONITOR_ARN = re.compile(r"^arn:aws[a-z-]*:ce::\d{12}:anomalymonitor/[0-9a-f-]{36}$")


def validate_account_singletons(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    service_monitors = [m for m in index.of_type(ANOMALY_MONITOR)
                        if m.props.get("monitorType") == "DIMENSIONAL" and m.props.get("monitorDimension") == "SERVICE"]
    for extra in service_monitors[1:]:
        report(f"{extra.label()} is a second SERVICE anomaly monitor; AWS allows one per account. Fix: create "
               "one and reuse its ARN (costAnomaly.existingMonitorArn).", extra.urn)
    for extra in index.of_type(XRAY_ENCRYPTION)[1:]:
        report(f"{extra.label()} is a second X-Ray EncryptionConfig; there is one per account and region. Fix: "
               "let one stack own it (tracing.manageEncryption).", extra.urn)
    monitors = {m.urn for m in index.of_type(ANOMALY_MONITOR)}
    for subscription in index.of_type(ANOMALY_SUBSCRIPTION):
        from_stack = any(d.urn in monitors for d in subscription.deps("monitorArnLists"))
        arns = subscription.props.get("monitorArnLists")
        for arn in arns if isinstance(arns, list) else []:
            if is_unknown(arn) or (isinstance(arn, str) and MONITOR_ARN.match(arn)):
                continue
            if not from_stack:
                report(f"{subscription.label()} watches {arn!r}, which is neither a monitor of this stack nor an "
                       "anomaly monitor ARN. Fix: set costAnomaly.existingMonitorArn to "
                       "arn:aws:ce::<account>:anomalymonitor/<id> or let the stack create the monitor.",
                       subscription.urn)
