"""no-plaintext-secrets: no webhook URL or credential readable in plaintext resource config.

A policy sees secret inputs decrypted, so the rule judges where a value ends up: Lambda
environment variables, tags, descriptions and dashboard bodies are readable by anyone with
read access, while a SecureString parameter, a Secrets Manager version, or a subscription
endpoint registered with `additionalSecretOutputs=["endpoint"]` keep it encrypted.
"""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs

from hasivu_policy.values import plain, strings_in

CREDENTIALS = (
    ("Slack webhook URL", re.compile(r"https://hooks\.slack\.com/(services|workflows)/\S+")),
    ("PagerDuty integration URL", re.compile(r"https://events\.(eu\.)?pagerduty\.com/(integration|v2)/\S*")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("Razorpay key", re.compile(r"\brzp_(live|test)_[A-Za-z0-9]{8,}")),
    ("URL with a password", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.I)),
)
SECRET_NAMED = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|WEBHOOK|PRIVATE_KEY)", re.I)
REFERENCE = re.compile(r"^(arn:aws:(secretsmanager|ssm|kms):|/|\{\{resolve:|[A-Za-z0-9_./-]*(_ARN|_NAME|_PARAMETER)$)")


def _kept_encrypted(args: ResourceValidationArgs, path: str) -> bool:
    props = plain(args.props)
    if args.resource_type == "aws:ssm/parameter:Parameter":
        return path == "value" and props.get("type") == "SecureString"
    if args.resource_type == "aws:secretsmanager/secretVersion:SecretVersion":
        return path == "secretString"
    if args.resource_type == "aws:sns/topicSubscription:TopicSubscription":
        return path == "endpoint" and "endpoint" in (args.opts.additional_secret_outputs or [])
    return False


def validate_no_plaintext_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = plain(args.props)
    for path, value in strings_in(props):
        for what, pattern in CREDENTIALS:
            if pattern.search(value) and not _kept_encrypted(args, path):
                hint = ("register the subscription with additional_secret_outputs=['endpoint']"
                        if args.resource_type == "aws:sns/topicSubscription:TopicSubscription"
                        else "keep it in an SSM SecureString parameter or Secrets Manager and pass its name")
                report(f"a {what} is in plaintext at `{path}` (value not shown). Fix: {hint}.")
                break
    if args.resource_type == "aws:lambda/function:Function":
        variables = ((props.get("environment") or {}).get("variables") or {}) if isinstance(
            props.get("environment"), dict) else {}
        for name, value in variables.items() if isinstance(variables, dict) else []:
            if SECRET_NAMED.search(name) and isinstance(value, str) and value and not REFERENCE.match(value) \
                    and not REFERENCE.match(name):
                report(f"environment variable {name} holds a literal secret-looking value (not shown); "
                       "Lambda configuration is readable in plaintext. Fix: store it in SSM SecureString or "
                       f"Secrets Manager and pass {name}_PARAMETER / {name}_ARN instead.")
