"""The account report: every check against the caller's account, each failure a finding, not a crash."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from preflight.account import deployed, preconditions
from preflight.account.findings import AccountReport, Finding, Level
from preflight.account.metrics import MetricCatalogue, check_alarm_metrics
from preflight.account.session import Account
from preflight.account.stack_view import StackView, stack_view
from preflight.engine import ProgramRun


def _api_stages(view: StackView) -> set[tuple[str, str]]:
    """The (API, stage) pairs whose per-method metrics (a Resource dimension) some alarm reads."""
    return {(d["ApiName"], d["Stage"]) for a in view.alarms for m in a.metrics
            if m.namespace == "AWS/ApiGateway" and m.dimensions is not None
            for d in [dict(m.dimensions)] if "Resource" in d and "ApiName" in d and "Stage" in d}


def _guarded(name: str, check: Callable[[], list[Finding]]) -> list[Finding]:
    """A check the account cannot answer (denied, unsupported, unreachable) is reported, never raised."""
    try:
        return check()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        operation = error.operation_name
        return [Finding(Level.WARNING, name, "not checked", f"{operation} failed: {code}",
                        "grant the actions of the account check's policy (README) to the caller"
                        if "AccessDenied" in code or "Unauthorized" in code else "")]
    except (BotoCoreError, ResponseParserError) as error:
        return [Finding(Level.WARNING, name, "not checked", str(error))]


def check_account(run: ProgramRun, account: Account, as_of: datetime | None = None) -> AccountReport:
    """The report for the program's resources against the account, as of now (or `as_of`)."""
    view = stack_view(run)
    alarm_metrics: list[dict[str, Any]] = []

    def metrics() -> list[Finding]:
        rows, findings = check_alarm_metrics(view.alarms, MetricCatalogue(account.client("cloudwatch")))
        alarm_metrics.extend(rows)
        return findings

    now = as_of or datetime.now(UTC)
    state: dict[str, Any] = {}

    def after_deploy() -> list[Finding]:
        alarms = deployed.deployed_alarms(account, view)
        if not alarms:
            return [Finding(Level.INFO, "deploy", view.stack,
                            "none of the stack's alarms exist in the account yet: after-deploy checks skipped")]
        state["alarms"], state["topics"] = alarms, deployed.topic_arns(account)
        return (deployed.check_alarm_states(alarms, now)
                + deployed.check_alarm_actions(account, alarms, state["topics"]))

    checks: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("metric", metrics),
        ("deploy", after_deploy),
        ("subscriptions", lambda: deployed.check_subscriptions(account, view, state["topics"])
         if "topics" in state else []),
        ("delivery", lambda: deployed.check_delivery_failures(account, view, state["topics"], now)
         if "topics" in state else []),
        ("sms", lambda: deployed.check_sms(account, view)),
        ("api stage", lambda: preconditions.check_api_stages(account, _api_stages(view))),
        ("anomaly monitors", lambda: preconditions.check_anomaly_monitors(account, view)),
        ("x-ray encryption", lambda: preconditions.check_xray_encryption(account, view)),
        ("log group", lambda: preconditions.check_log_groups(account, view)),
        ("unlisted function", lambda: preconditions.check_unlisted_functions(
            account, view, run.files.directory / f"Pulumi.{run.files.stack}.yaml")),
    ]
    findings = [f for name, check in checks for f in _guarded(name, check)]
    return AccountReport(account.account_id, account.region, findings, alarm_metrics)
