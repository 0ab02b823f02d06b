"""The account report: every check against the caller's account, each failure a finding, not a crash."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from preflight.account import deployed, mute_rules, preconditions
from preflight.account.findings import AccountReport, Finding, guarded
from preflight.account.metrics import MetricCatalogue, check_alarm_metrics
from preflight.account.session import Account
from preflight.model.stack import StackModel


def _api_stages(model: StackModel) -> set[tuple[str, str]]:
    """The (API, stage) pairs whose per-method metrics (a Resource dimension) some alarm reads."""
    return {(d["ApiName"], d["Stage"]) for a in model.alarms for m in a.metrics
            if m.namespace == "AWS/ApiGateway" and m.dimensions is not None
            for d in [dict(m.dimensions)] if "Resource" in d and "ApiName" in d and "Stage" in d}


def check_account(model: StackModel, account: Account, as_of: datetime | None = None) -> AccountReport:
    """The report for the program's resources against the account, as of now (or `as_of`)."""
    alarm_metrics: list[dict[str, Any]] = []

    def metrics() -> list[Finding]:
        topics = {arn.rsplit(":", 1)[-1] for arn in account.topic_arns}
        not_deployed = (model.function_names - account.function_names) | ({t.name for t in model.topics} - topics)
        rows, findings = check_alarm_metrics(model.alarms, MetricCatalogue(account.client("cloudwatch")),
                                             account.function_names, not_deployed, f"Pulumi.{model.stack}.yaml")
        alarm_metrics.extend(rows)
        return findings

    now = as_of or datetime.now(UTC)
    checks: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("functions", lambda: preconditions.check_inventory_functions(account, model)),
        ("metric", metrics),
        ("deploy", lambda: deployed.check_after_deploy(account, model, now)),
        ("sms", lambda: deployed.check_sms(account, model)),
        ("api stage", lambda: preconditions.check_api_stages(account, _api_stages(model))),
        ("anomaly monitors", lambda: preconditions.check_anomaly_monitors(account, model)),
        ("x-ray encryption", lambda: preconditions.check_xray_encryption(account, model)),
        ("log group", lambda: preconditions.check_log_groups(account, model)),
        ("unlisted function", lambda: preconditions.check_unlisted_functions(
            account, model, model.stack_file)),
        (mute_rules.CHECK, lambda: mute_rules.check_mute_rules(account, model, now)),
    ]
    findings = [f for name, check in checks for f in guarded(name, check)]
    return AccountReport(account.account_id, account.region, findings, alarm_metrics)
