"""The monthly AWS bill of the monitoring a program registers, from `prices.json`.

Counts come from the model of the registered resources; what a program cannot register (traffic, API calls
made at run time, metrics published without an alarm) comes from its `costAssumptions` output.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

from preflight.model.stack import StackModel
from preflight.program.props import COMPUTED

PRICES_FILE = Path(__file__).with_name("prices.json")
SECONDS_PER_MONTH = 30 * 24 * 3600
# An invocation that arrives without a sampling decision (a schedule, an SNS delivery) is traced at Lambda's
# default rate, the first request each second, then 5 % (https://docs.aws.amazon.com/lambda/latest/dg/
# services-xray.html). pulumi-aws's tracingConfig says Lambda may instead ask X-Ray for a decision under
# the account's rules, which would record fewer: the estimate takes the larger.
LAMBDA_RESERVOIR = 1
LAMBDA_FIXED_RATE = 0.05


@dataclasses.dataclass(frozen=True)
class CostLine:
    item: str
    quantity: float
    unit_usd: float
    monthly_usd: float
    note: str

    def as_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "monthly_usd": round(self.monthly_usd, 4)}


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


def _props(model: StackModel, type_: str) -> list[dict[str, Any]]:
    return [r.props for r in model.of_type(type_)]


def _alarm_metrics(props: dict[str, Any]) -> tuple[list[dict[str, Any]], list[float]]:
    """(metrics the alarm reads, their periods)."""
    if props.get("metricQueries"):
        metrics = [q["metric"] for q in props["metricQueries"] if q.get("metric")]
        return metrics, [m.get("period", 60) for m in metrics]
    metric = {"namespace": props.get("namespace"), "metricName": props.get("metricName"),
              "dimensions": props.get("dimensions") or {}}
    return [metric], [props.get("period", 60)]


def _fleet_group(props: dict[str, Any], fleet_functions: dict[str, Any]) -> str | None:
    """The fleet group whose Metrics Insights alarm this is (tagged Resource=<group>), if any."""
    queries = props.get("metricQueries") or []
    if not any(str(q.get("expression", "")).lstrip().upper().startswith("SELECT ") for q in queries):
        return None
    group = (props.get("tags") or {}).get("Resource")
    return group if group in fleet_functions else None


def _custom_metric_key(metric: dict[str, Any]) -> tuple[str, str, str] | None:
    namespace = metric.get("namespace")
    if not isinstance(namespace, str) or namespace.startswith("AWS/") or namespace == COMPUTED:
        return None
    dims = json.dumps(metric.get("dimensions") or {}, sort_keys=True)
    return namespace, str(metric.get("metricName")), dims


def traces_per_month(rate: float, reservoir: int, requests: int) -> float:
    """The reservoir traces up to `reservoir` requests a second; the rate samples the rest.
    Traffic is taken as spread evenly over the month."""
    reserved = min(requests, reservoir * SECONDS_PER_MONTH)
    return reserved + (requests - reserved) * rate


def _price(usd: float) -> str:
    """A unit price as written on a price page: $0.0000006, not $6e-07."""
    return f"{usd:.7f}".rstrip("0").rstrip(".") if usd else "0"


def _traced_own_invocations(model: StackModel, alerts_per_topic: float) -> list[int]:
    """Monthly invocations of the monitoring's own functions with active tracing: the health monitor on its
    schedule, a Slack forwarder once per alert of its tier."""
    active = {r.label() for r in model.of_type("aws:lambda/function:Function")
              if (r.props.get("tracingConfig") or {}).get("mode") == "Active"}
    invocations = []
    for function in model.functions:
        if function.name not in active:
            continue
        if function.role == "health-monitor" and model.health_schedule_minutes:
            invocations.append(SECONDS_PER_MONTH // 60 // model.health_schedule_minutes)
        elif function.forwards_tier:
            invocations.append(int(alerts_per_topic))
    return invocations


def estimate(model: StackModel, prices: dict[str, Any] | None = None) -> dict[str, Any]:
    p = (prices or load_prices())["prices"]
    assumptions = model.output("costAssumptions")
    assumptions = assumptions if isinstance(assumptions, dict) else {}
    lines: list[CostLine] = []

    def line(item: str, quantity: float, unit: float, note: str) -> None:
        lines.append(CostLine(item, quantity, unit, quantity * unit, note))

    standard = high_res = anomaly = insights = insights_alarms = 0
    fleet_functions = assumptions.get("fleetFunctions") or {}
    custom: set[tuple[str, str, str]] = set()
    for props in _props(model, "aws:cloudwatch/metricAlarm:MetricAlarm"):
        group = _fleet_group(props, fleet_functions)
        if group is not None:
            insights_alarms += 1
            insights += int(fleet_functions[group])
            continue
        metrics, periods = _alarm_metrics(props)
        custom.update(k for k in map(_custom_metric_key, metrics) if k)
        if props.get("thresholdMetricId"):
            anomaly += 1
        elif any(isinstance(period, (int, float)) and period < 60 for period in periods):
            high_res += len(metrics)
        else:
            standard += len(metrics)
    line("alarm metrics, standard resolution", standard, p["alarm_metric_standard"]["usd"], "per metric an alarm reads")
    line("alarm metrics, high resolution", high_res, p["alarm_metric_high_resolution"]["usd"], "period under 60 s")
    line("Metrics Insights alarm metrics", insights, p["alarm_metric_metrics_insights"]["usd"],
         f"{insights_alarms} fleet alarms, each billed per function its query analyzes")
    line("anomaly detection alarms", anomaly * p["anomaly_alarm_metrics"]["count"], p["alarm_metric_standard"]["usd"],
         f"{anomaly} alarms, billed as {p['anomaly_alarm_metrics']['count']} metrics each")
    line("composite alarms", len(_props(model, "aws:cloudwatch/compositeAlarm:CompositeAlarm")),
         p["composite_alarm"]["usd"], "")
    dashboards = len(_props(model, "aws:cloudwatch/dashboard:Dashboard"))
    free = p["free_dashboards"]["count"]
    line("dashboards", max(0, dashboards - free), p["dashboard"]["usd"], f"{dashboards} dashboards, {free} free")
    for props in _props(model, "aws:cloudwatch/logMetricFilter:LogMetricFilter"):
        t = props.get("metricTransformation") or {}
        custom.add((str(t.get("namespace")), str(t.get("name")), json.dumps(t.get("dimensions") or {}, sort_keys=True)))
    for extra in assumptions.get("customMetrics") or []:
        namespace, name, dims = extra
        custom.add((namespace, name, json.dumps(dims, sort_keys=True)))
    line("custom metrics", len(custom), p["custom_metric"]["usd"],
         "distinct namespace/name/dimensions read by alarms, filters or published by the runtime library")
    requests = assumptions.get("xrayMonthlyRequests") or {}
    traces = 0.0
    for props in _props(model, "aws:xray/samplingRule:SamplingRule"):
        traces += traces_per_month(float(props.get("fixedRate", 0)), int(props.get("reservoirSize", 0)),
                                   int(requests.get(props.get("ruleName"), 0)))
    alerts = float(assumptions.get("alertsPerTopicPerMonth") or 0)
    traces += sum(traces_per_month(LAMBDA_FIXED_RATE, LAMBDA_RESERVOIR, invocations)
                  for invocations in _traced_own_invocations(model, alerts))
    line("X-Ray traces recorded (millions)", traces / 1e6, p["xray_traces_recorded"]["usd"],
         "sampling rules applied to the expected API requests per rule; the monitoring's own functions "
         "at Lambda's default rate")
    line("Cost Explorer API requests", float(assumptions.get("costExplorerRequestsPerMonth") or 0),
         p["cost_explorer_request"]["usd"], "made by the runtime library's cost monitor")
    line("budgets", len(_props(model, "aws:budgets/budget:Budget")), p["budget"]["usd"], "no budget actions")
    line("alarm mute rules", len(model.mute_rules), p["alarm_mute_rule"]["usd"],
         "maintenance windows and school calendar; no charge on the CloudWatch price page")
    keys = _props(model, "aws:kms/key:Key")
    rotating = sum(1 for props in keys if props.get("enableKeyRotation"))
    line("KMS customer-managed keys", len(keys), p["kms_key"]["usd"],
         f"{rotating} rotate yearly: each of a key's first two rotations adds ${p['kms_key']['usd']:g} a month"
         if rotating else "")
    protocols = Counter(props.get("protocol") for props in _props(model, "aws:sns/topicSubscription:TopicSubscription"))
    for protocol in ("email", "sms", "https", "lambda"):
        if protocols.get(protocol):
            line(f"SNS {protocol} deliveries", protocols[protocol] * alerts, p[f"sns_{protocol}"]["usd"],
                 f"{protocols[protocol]} subscription{'s' if protocols[protocol] != 1 else ''} x {alerts:g} "
                 "alerts a month")
    total = sum(x.monthly_usd for x in lines)
    budget = assumptions.get("monitoringBudgetUsd")
    return {
        "monthly_usd": round(total, 2),
        "lines": [x.as_json() for x in lines],
        "budget_usd": budget,
        "over_budget": isinstance(budget, (int, float)) and total > budget,
    }


def cost_section(cost: dict[str, Any]) -> str:
    lines = [f"Monthly cost of this monitoring: ${cost['monthly_usd']:.2f}"]
    for x in cost["lines"]:
        if x["quantity"]:
            lines.append(f"  ${x['monthly_usd']:9.2f}  {x['item']}: {x['quantity']:g} x ${_price(x['unit_usd'])}"
                         + (f"  ({x['note']})" if x["note"] else ""))
    if cost.get("over_budget"):
        lines.append(f"WARNING: over the monitoring budget of ${cost['budget_usd']:.2f} a month")
    elif cost.get("budget_usd") is not None:
        lines.append(f"Within the monitoring budget of ${cost['budget_usd']:.2f} a month")
    return "\n".join(lines)
