"""alert-encryption: every SNS topic is encrypted; a topic that CloudWatch, Budgets or Cost
Anomaly Detection publish to uses a customer-managed key those services may use; a log group
encrypted with a key of this stack has a key CloudWatch Logs may use; keys rotate."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from hasivu_policy.stack import AWS_MANAGED_SNS_KEY, KEY, TOPIC, StackIndex, allows, key_policy_grants
from hasivu_policy.values import is_unknown

NEEDED_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
# What CloudWatch Logs needs of a log group's key (CloudWatch Logs user guide, encrypt-log-data-kms).
LOGS_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def _aws_managed(key_id: object) -> bool:
    return isinstance(key_id, str) and (key_id == AWS_MANAGED_SNS_KEY or key_id.endswith(":" + AWS_MANAGED_SNS_KEY))


def validate_alert_encryption(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    for topic in index.of_type(TOPIC):
        key_id = topic.props.get("kmsMasterKeyId")
        key = index.key_of(topic)
        if key_id is None and key is None:
            report(f"{topic.label()} is not encrypted. Fix: set kmsMasterKeyId to a customer-managed "
                   "aws:kms/key:Key (an AlarmTier component does this).", topic.urn)
            continue
        publishers = index.publishers_of(topic)
        if not publishers:
            continue
        who = ", ".join(sorted(publishers))
        if _aws_managed(key_id):
            report(f"{topic.label()} receives from {who} but is encrypted with {AWS_MANAGED_SNS_KEY}, whose "
                   "policy those services cannot use: deliveries are dropped silently. Fix: encrypt it with a "
                   "customer-managed key granting them kms:GenerateDataKey* and kms:Decrypt.", topic.urn)
            continue
        if key is None:
            if is_unknown(key_id):
                report(f"{topic.label()} receives from {who}; its key is unknown in preview and does not come "
                       "from an aws:kms/key:Key in this stack, so it cannot be shown to be customer-managed. "
                       "Fix: create the key in this stack and pass key.arn.", topic.urn)
            continue
        grants = key_policy_grants(key.props.get("policy"))
        if key.props.get("policy") is None:
            report(f"{key.label()} encrypts {topic.label()} but has the default key policy, which does not let "
                   f"{who} use it. Fix: add a statement granting them kms:GenerateDataKey* and kms:Decrypt.",
                   key.urn)
        elif grants or not is_unknown(key.props.get("policy")):
            for service in sorted(publishers):
                missing = [a for a in NEEDED_ACTIONS if not allows(grants.get(service, set()), a)]
                if missing:
                    report(f"{key.label()} encrypts {topic.label()} but its policy does not let {service} "
                           f"use {', '.join(missing)}. Fix: grant {service} kms:GenerateDataKey* and "
                           "kms:Decrypt in the key policy.", key.urn)
    for group in index.of_type(LOG_GROUP):
        keys = [index.by_urn[d.urn] for d in group.deps("kmsKeyId") if d.urn in index.by_urn]
        key = next((k for k in keys if k.type == KEY), None)
        if key is None or is_unknown(key.props.get("policy")):
            continue
        grants = key_policy_grants(key.props.get("policy"))
        logs = [s for s in grants if s.startswith("logs.") and s.endswith(".amazonaws.com")]
        if not any(all(allows(grants[s], a) for a in LOGS_ACTIONS) for s in logs):
            report(f"{key.label()} encrypts {group.label()} but its policy does not let CloudWatch Logs "
                   "(logs.<region>.amazonaws.com) use it: creating the log group fails with AccessDenied. Fix: "
                   "grant it kms:Encrypt*, kms:Decrypt*, kms:GenerateDataKey* conditioned on "
                   "kms:EncryptionContext:aws:logs:arn.", key.urn)
    for key in index.of_type(KEY):
        spec = key.props.get("customerMasterKeySpec") or key.props.get("keySpec") or "SYMMETRIC_DEFAULT"
        if spec == "SYMMETRIC_DEFAULT" and key.props.get("enableKeyRotation") is not True:
            report(f"{key.label()} does not rotate. Fix: set enableKeyRotation=True.", key.urn)
