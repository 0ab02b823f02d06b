"""The widgets of the five dashboards, from the inventory and the alarm specs.

Thresholds drawn on graphs are read from the alarm specs, so a dashboard line and the alarm it
depicts cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

from components.alarms import apigateway as api_alarms
from components.alarms import business as business_alarms
from components.alarms import datastores
from components.alarms import lambda_ as lambda_alarms
from components.alarms.spec import AlarmSpec
from components.dashboards.error_budgets import error_budgets
from components.dashboards.widgets import (
    AlarmStatus,
    Line,
    LogQuery,
    MetricGraph,
    Text,
    Threshold,
    single_value,
)
from observability.catalogue import SECURITY_NAMESPACE
from stackconfig.fleet_queries import fleet_query, group_condition
from stackconfig.model import LambdaFunction, StackSettings, Tier


class Specs:
    """Alarm specs by (service, metric key)."""

    def __init__(self, specs: Sequence[AlarmSpec]) -> None:
        self.by_key = {(s.service, s.metric_key): s for s in specs}

    def threshold(self, service: str, key: str, label: str, scale: float = 1.0) -> list[Threshold]:
        spec = self.by_key.get((service, key))
        return [Threshold(f"{label} ({spec.tier.value})", spec.threshold * scale)] if spec else []


def _rate(numerator: str, denominator: str, ns: str, dims: dict[str, str], label: str) -> list[Line]:
    return [
        Line(ns, numerator, dims, id="n", visible=False),
        Line(ns, denominator, dims, id="d", visible=False),
        Line(expression="IF(FILL(d, 0) > 0, 100 * FILL(n, 0) / FILL(d, 0), 100)", label=label, id="rate"),
    ]


def _completion(ns: str, dims: dict[str, str]) -> list[Line]:
    """As the completion alarm computes it: completed out of the orders finished at the counter."""
    return [
        Line(ns, "OrdersCompleted", dims, id="c", visible=False),
        Line(ns, "OrdersCancelled", dims, id="x", visible=False),
        Line(expression="IF(FILL(c, 0) + FILL(x, 0) > 0, 100 * FILL(c, 0) / (FILL(c, 0) + FILL(x, 0)), 100)",
             label="Completed of finished %", id="rate"),
    ]


def _satisfaction(settings: StackSettings, specs: Specs) -> list:
    """The User Satisfaction Index as the satisfaction alert computes it: Apdex of the API stage's latency."""
    api = settings.inventory.api
    if api is None:
        return []
    dims = {"ApiName": api.name, "Stage": api.stage}
    satisfied, tolerating = business_alarms.apdex_statistics(settings.thresholds.business.apdex_target_ms)
    return [single_value("User satisfaction (Apdex, last hour)", [
        Line(api_alarms.NAMESPACE, "Latency", dims, stat=satisfied, id="s", visible=False),
        Line(api_alarms.NAMESPACE, "Latency", dims, stat=tolerating, id="t", visible=False),
        Line(expression=business_alarms.apdex_expression("s", "t"), label="Apdex %", id="apdex")],
        period=3600, thresholds=specs.threshold("users", "satisfaction", "alert"))]


def executive(settings: StackSettings, specs: Specs, composite_arns: Sequence[str]) -> list:
    inv, env = settings.inventory, settings.environment
    ns, health = inv.business_namespace, inv.health_namespace
    dims = {"Environment": env}
    return [
        Text(title="Executive overview", markdown=f"# HASIVU {env}: business KPIs and platform health"),
        single_value("Revenue (24 h rolling)", [Line(ns, "Revenue", dims, label="Revenue (INR)")]),
        single_value("Payment volume (24 h)", [Line(ns, "PaymentAttempts", dims, label="Payments")]),
        single_value("Payment success rate", _rate("PaymentSuccesses", "PaymentAttempts", ns, dims, "Success %"),
                     thresholds=[Threshold("target 98.5%", 98.5)]),
        single_value("Order completion rate", _completion(ns, dims),
                     thresholds=specs.threshold("orders", "completion-rate", "alarm")),
        single_value("System health score", [Line(health, "SystemHealthScore", dims, label="Score %")],
                     period=300, stat="Minimum", thresholds=specs.threshold("platform", "health-score", "alarm")),
        single_value("Active users", [Line(ns, "ActiveUsers", dims, label="Users")], stat="Maximum"),
        *_satisfaction(settings, specs),
        single_value("Revenue at risk", [Line(health, "RevenueAtRisk", dims, label="INR/day at risk")],
                     period=300, stat="Maximum"),
        single_value("Users affected", [Line(health, "UsersAffected", dims, label="Users")], period=300,
                     stat="Maximum"),
        MetricGraph(title="Payments and orders (hourly)", width=12, period=3600, lines=[
            Line(ns, "PaymentAttempts", dims, label="Payments"), Line(ns, "OrdersCreated", dims, label="Orders")]),
        AlarmStatus(title="Composite health", alarm_arns=list(composite_arns), width=12),
        *error_budgets(settings),
    ]


def _function_lines(functions: Sequence[LambdaFunction], metric: str, stat: str) -> list[Line]:
    return [Line("AWS/Lambda", metric, {"FunctionName": f.name}, stat=stat, label=f"{f.name} {stat}")
            for f in functions]


# Worst functions drawn per group and metric: the widget's size is this, whatever the group's size.
WORST_N = 10
# Named log groups a group's Logs Insights widgets read (a query reads at most 50).
LOG_GROUPS = 20


def _worst(title: str, aggregate: str, metric: str, where: str, period: int,
           thresholds: Sequence[Threshold] = ()) -> MetricGraph:
    query = fleet_query(aggregate, metric, where, WORST_N)
    return MetricGraph(title=title, width=6, period=period, stat="Sum" if aggregate == "SUM" else "Maximum",
                       thresholds=thresholds, lines=[Line(expression=query, label=f"{metric}", id="q1")])


def _group_widgets(group: str, functions: Sequence[LambdaFunction], where: str, specs: Specs, env: str,
                   scope: str) -> list:
    first = (f"fleet-{group}" if (functions[:1] and functions[0].fleet) or not functions
             else lambda_alarms.service_name(functions[0], env))
    duration_key = "duration-max" if first.startswith("fleet-") else "duration-p99"
    widgets: list = [
        Text(title=group, markdown=f"## {group} ({scope}): worst {WORST_N} functions per metric", height=1),
        _worst(f"{group}: errors, worst {WORST_N}", "SUM", "Errors", where, 60,
               specs.threshold(first, "errors", "alarm")),
        _worst(f"{group}: throttles, worst {WORST_N}", "SUM", "Throttles", where, 300,
               specs.threshold(first, "throttles", "alarm")),
        _worst(f"{group}: max duration, worst {WORST_N}", "MAX", "Duration", where, 300,
               specs.threshold(first, duration_key, "duration alarm")),
        _worst(f"{group}: concurrency, worst {WORST_N}", "MAX", "ConcurrentExecutions", where, 60),
    ]
    critical = [f for f in functions if f.tier is Tier.CRITICAL]
    if critical:
        widgets += [
            MetricGraph(title=f"{group}: critical functions, duration p50 / p99", width=8, stat="p99", lines=[
                *_function_lines(critical, "Duration", "p50"), *_function_lines(critical, "Duration", "p99")],
                thresholds=specs.threshold(first, duration_key, "p99 alarm")),
            MetricGraph(title=f"{group}: critical functions, errors", width=8, period=60,
                        lines=_function_lines(critical, "Errors", "Sum"),
                        thresholds=specs.threshold(first, "errors", "alarm")),
            MetricGraph(title=f"{group}: critical functions, throttles", width=8,
                        lines=_function_lines(critical, "Throttles", "Sum"),
                        thresholds=specs.threshold(first, "throttles", "alarm")),
        ]
    log_groups = [f"/aws/lambda/{f.name}" for f in functions][:LOG_GROUPS]
    if log_groups:
        widgets += [
            LogQuery(title=f"{group}: cold starts (Init Duration)", width=12, log_groups=log_groups,
                     query='filter @type = "REPORT" and ispresent(@initDuration) '
                           "| stats count() as coldStarts, avg(@initDuration) as avgInitMs by @log, bin(1h)"),
            LogQuery(title=f"{group}: memory used vs configured", width=12, log_groups=log_groups,
                     query='filter @type = "REPORT" | stats max(@maxMemoryUsed / 1000 / 1000) as maxUsedMB, '
                           "max(@memorySize / 1000 / 1000) as configuredMB by @log"),
        ]
    return widgets


def lambda_performance(settings: StackSettings, specs: Specs) -> list:
    """Per group, the worst functions by Metrics Insights queries (constant size) and the critical
    functions by name."""
    env, inventory = settings.environment, settings.inventory
    widgets: list = [Text(title="Lambda performance", markdown=f"# Lambda performance ({env}), per function group")]
    fleets = {g.name: g for g in inventory.fleet_groups}
    groups = inventory.groups()
    for name in [*groups, *[g for g in fleets if g not in groups]]:
        functions = groups.get(name, ())
        catch_all = name in fleets and fleets[name].catch_all
        where = group_condition(name, inventory, catch_all)
        scope = "every function no other group lists" if catch_all else f"{len(functions)} functions"
        widgets += _group_widgets(name, functions, where, specs, env, scope)
    account = specs.threshold("lambda-account", "concurrent-executions", "80% of account limit")
    widgets.append(MetricGraph(title="Account concurrency", width=24, period=60, stat="Maximum", thresholds=account,
                               lines=[Line("AWS/Lambda", "ConcurrentExecutions", {}, label="Concurrent executions")]))
    return widgets


def api_gateway(settings: StackSettings, specs: Specs) -> list:
    api = settings.inventory.api
    if api is None:
        return [Text(title="API Gateway", markdown="# No API in the inventory")]
    dims = {"ApiName": api.name, "Stage": api.stage}
    ns = "AWS/ApiGateway"
    widgets: list = [
        Text(title="API Gateway", markdown=f"# API {api.name} / {api.stage}"),
        MetricGraph(title="Requests", width=8, lines=[Line(ns, "Count", dims, label="Requests")]),
        MetricGraph(title="Latency p50 / p99", width=8, stat="p99", lines=[
            Line(ns, "Latency", dims, stat="p50", label="p50"), Line(ns, "Latency", dims, stat="p99", label="p99")],
            thresholds=specs.threshold("api", "latency-p99", "p99 alarm")),
        MetricGraph(title="4XX / 5XX rate", width=8, stat="Average", lines=[
            Line(ns, "4XXError", dims, stat="Average", label="4XX"), Line(ns, "5XXError", dims, stat="Average",
                                                                          label="5XX")],
            # The alarms are in percent of requests; this graph plots the share.
            thresholds=specs.threshold("api", "5xx-rate", "5XX alarm", 1 / 100) + specs.threshold(
                "api", "4xx-rate", "4XX alarm", 1 / 100)),
        MetricGraph(title="Cache hits / misses", width=12, lines=[
            Line(ns, "CacheHitCount", dims, label="Hits"), Line(ns, "CacheMissCount", dims, label="Misses")]),
        MetricGraph(title="Integration latency p99", width=12, stat="p99",
                    lines=[Line(ns, "IntegrationLatency", dims, stat="p99", label="Integration p99")]),
    ]
    for endpoint in api.critical_endpoints:
        edims = {**dims, "Resource": endpoint.path, "Method": endpoint.method}
        service = api_alarms.endpoint_service(endpoint.path)
        widgets.append(MetricGraph(
            title=f"{endpoint.method} {endpoint.path}", width=6, stat="p99",
            lines=[Line(ns, "Latency", edims, stat="p99", label="p99"), Line(ns, "Count", edims, stat="Sum",
                                                                             label="Requests")],
            thresholds=specs.threshold(service, "latency-p99", "p99 alarm")))
    return widgets


def database(settings: StackSettings, specs: Specs) -> list:
    env, inv = settings.environment, settings.inventory
    widgets: list = [Text(title="Database", markdown=f"# Database and cache ({env})")]
    for instance in inv.rds:
        dims = {"DBInstanceIdentifier": instance.instance_id}
        service = datastores.short_id(instance.instance_id, env)
        widgets += [
            Text(title=instance.instance_id, markdown=f"## RDS {instance.instance_id}", height=1),
            MetricGraph(title="CPU %", width=6, stat="Average", lines=[Line("AWS/RDS", "CPUUtilization", dims)],
                        thresholds=specs.threshold(service, "cpu", "alarm")),
            MetricGraph(title="Connections", width=6, stat="Maximum",
                        lines=[Line("AWS/RDS", "DatabaseConnections", dims)],
                        thresholds=specs.threshold(service, "connections", "pool alarm")),
            MetricGraph(title="Freeable memory (MiB)", width=6, stat="Average", lines=[
                Line("AWS/RDS", "FreeableMemory", dims, id="m", visible=False),
                Line(expression="m / 1048576", label="MiB", id="mib")],
                thresholds=specs.threshold(service, "freeable-memory", "alarm", 1 / 1048576)),
            MetricGraph(title="Read / write IOPS", width=6, stat="Average", lines=[
                Line("AWS/RDS", "ReadIOPS", dims, label="read"), Line("AWS/RDS", "WriteIOPS", dims, label="write")]),
            MetricGraph(title="Read / write latency (ms)", width=12, stat="Average", lines=[
                Line("AWS/RDS", "ReadLatency", dims, id="r", visible=False),
                Line("AWS/RDS", "WriteLatency", dims, id="w", visible=False),
                Line(expression="r * 1000", label="read ms", id="rms"),
                Line(expression="w * 1000", label="write ms", id="wms")],
                thresholds=[Threshold("healthy query < 100 ms", 100),
                            *specs.threshold(service, "read-latency", "read alarm", 1000)]),
            LogQuery(title="Slow queries (> 2 s)", width=12,
                     log_groups=[f"/aws/rds/instance/{instance.instance_id}/postgresql"],
                     query='filter @message like /duration: / | parse @message "duration: * ms" as ms '
                           "| filter ms > 2000 | sort ms desc | limit 20"),
        ]
    if inv.redis:
        widgets.append(Text(title="Redis", markdown=f"## Redis {inv.redis.replication_group_id}", height=1))
        for node in inv.redis.node_ids:
            dims = {"CacheClusterId": node}
            service = datastores.short_id(node, env)
            widgets += [
                MetricGraph(title=f"{node} engine CPU %", width=8, stat="Average",
                            lines=[Line("AWS/ElastiCache", "EngineCPUUtilization", dims)],
                            thresholds=specs.threshold(service, "engine-cpu", "alarm")),
                MetricGraph(title=f"{node} memory %", width=8, stat="Average",
                            lines=[Line("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", dims)],
                            thresholds=specs.threshold(service, "memory", "alarm")),
                MetricGraph(title=f"{node} hit rate %", width=8, lines=[
                    Line("AWS/ElastiCache", "CacheHits", dims, id="h", visible=False),
                    Line("AWS/ElastiCache", "CacheMisses", dims, id="m", visible=False),
                    Line(expression="IF(h + m > 0, 100 * h / (h + m), 100)", label="Hit rate %", id="rate")]),
            ]
    return widgets


def business(settings: StackSettings, specs: Specs) -> list:
    env, ns = settings.environment, settings.inventory.business_namespace
    dims = {"Environment": env}
    return [
        Text(title="Business metrics", markdown=f"# Business operations ({env})"),
        MetricGraph(title="Payments: successes / failures", width=12, lines=[
            Line(ns, "PaymentSuccesses", dims, label="Successes"), Line(ns, "PaymentFailures", dims, label="Failures"),
            Line(ns, "PaymentErrors", dims, label="Errors")],
            thresholds=specs.threshold("payments", "payment-errors", "errors alarm")),
        MetricGraph(title="Payment failure rate %", width=12,
                    lines=_rate("PaymentFailures", "PaymentAttempts", ns, dims, "Failure %"),
                    thresholds=specs.threshold("payments", "failure-rate", "alarm")),
        MetricGraph(title="Order lifecycle", width=12, period=900, lines=[
            Line(ns, "OrdersCreated", dims, label="Created"), Line(ns, "OrdersCompleted", dims, label="Completed"),
            Line(ns, "OrdersCancelled", dims, label="Cancelled")]),
        MetricGraph(title="RFID verification rate %", width=12,
                    lines=_rate("RFIDVerificationSuccess", "RFIDVerificationAttempts", ns, dims, "Verified %"),
                    thresholds=specs.threshold("rfid", "verification-rate", "alarm")),
        MetricGraph(title="User engagement", width=12, stat="Maximum", period=3600, lines=[
            Line(ns, "ActiveUsers", dims, stat="Maximum", label="Active users"),
            Line(ns, "UserLogins", dims, stat="Sum", label="Logins")]),
        MetricGraph(title="Security events", width=12, lines=[
            Line(SECURITY_NAMESPACE, "FailedLogins", {}, label="Failed logins"),
            Line(SECURITY_NAMESPACE, "FraudAttempts", {}, label="Fraud attempts")]),
        # As the failed-login alarm computes it: failed out of all attempts (failed + successful).
        MetricGraph(title="Failed logins % of attempts", width=12, lines=[
            Line(SECURITY_NAMESPACE, "FailedLogins", {}, id="f", visible=False),
            Line(ns, "UserLogins", dims, id="s", visible=False),
            Line(expression="IF(FILL(f, 0) > 0, 100 * FILL(f, 0) / (FILL(f, 0) + FILL(s, 0)), 0)",
                 label="Failed %", id="rate")],
            thresholds=specs.threshold("security", "failed-logins", "alarm")),
    ]
