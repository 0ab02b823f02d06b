"""The production alarm catalogue, generated from the inventory."""

from __future__ import annotations

import copy

from cloudwatch_rules.composite import parse_alarm_rule
from cloudwatch_rules.limits import alarm_problems, composite_problems
from tests.support.stack import PROGRAMS, REPO, by_name, inventory_section, of_type, props, run

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
CRITICAL_GROUPS = {"payments", "auth"}


def _alarms(result) -> dict[str, dict]:
    return {props(r)["name"]: props(r) for r in of_type(result, ALARM)}


def _topic_arn(tier: str) -> str:
    return f"arn:aws:sns:ap-south-1:123456789012:production-hasivu-{tier}-alerts"


def _inventory_functions() -> dict[str, str]:
    return {
        (f if isinstance(f, str) else f["name"]): group
        for group, body in inventory_section()["lambdaGroups"].items()
        for f in body["functions"]
    }


def _pager_members(result, tier: str) -> set[str]:
    """The alarms that page `tier`: named in the rule of one of its pagers (or a part of one)."""
    composites = {props(r)["alarmName"]: props(r) for r in of_type(result, COMPOSITE)}
    members: set[str] = set()
    pending = [name for name, c in composites.items() if c.get("alarmActions") and c["tags"]["Tier"] == tier]
    while pending:
        names = parse_alarm_rule(composites[pending.pop()]["alarmRule"])
        members |= {n for n in names if n not in composites}
        pending += [n for n in names if n in composites]
    return members


def test_production_has_well_over_25_alarms_and_every_other_composite_pages():
    result = run()
    assert len(of_type(result, ALARM)) >= 25
    composites = {props(r)["alarmName"]: props(r) for r in of_type(result, COMPOSITE)}
    roll_ups_and_holds = {f"production-{k}" for k in (
        "payment-system-health", "system-health", "dependency-down", "critical-claimed", "critical-incident",
        "warning-claimed", "warning-rfid-dependency-degraded", "warning-payments-dependency-degraded",
        "warning-api-dependency-degraded", "business-claimed", "business-payments-dependency-degraded")}
    assert roll_ups_and_holds <= set(composites)
    # Every other composite pages: `<env>-<tier>-<group>-pager`, tagged with the group a window mutes.
    for name in set(composites) - roll_ups_and_holds:
        tags = composites[name]["tags"]
        assert name.startswith(f"production-{tags['Tier']}-") and name.endswith("-pager"), name
        assert composites[name]["alarmActions"] == [_topic_arn(tags["Tier"])], name
        assert tags["MuteScope"] in ("database", "redis", "api", "payments", "rfid", "security", "monitoring",
                                     "platform", "jobs"), name


def _scheduled_functions() -> set[str]:
    return {f["name"] for body in inventory_section()["lambdaGroups"].values() for f in body["functions"]
            if isinstance(f, dict) and (f.get("invocation") or body.get("invocation")) == "scheduled"}


def _low_volume_functions() -> set[str]:
    return {f["name"] for body in inventory_section()["lambdaGroups"].values() for f in body["functions"]
            if isinstance(f, dict) and (f.get("thresholds") or {}).get("lowVolumeWindowMinutes")}


def _reads_errors_of(alarm: dict, function: str) -> bool:
    metrics = [q["metric"] for q in alarm.get("metricQueries") or [] if q.get("metric")] or [alarm]
    return any(m.get("metricName") == "Errors" and m.get("namespace") == "AWS/Lambda"
               and m.get("dimensions") == {"FunctionName": function} for m in metrics)


def test_every_inventory_lambda_has_an_errors_alarm_routed_to_its_tier():
    """Per function a count of errors a minute; a scheduled job instead its last run's failed share, and a
    low-volume function its low-volume error rate alone."""
    result = run()
    alarms = _alarms(result)
    paged = {tier: _pager_members(result, tier) for tier in ("critical", "warning")}
    functions = _inventory_functions()
    scheduled = _scheduled_functions()
    low_volume = _low_volume_functions()
    assert len(functions) >= 20
    assert {"hasivu-production-payments-reconcile", "hasivu-production-menu-plan-weekly",
            "hasivu-production-notifications-daily-digest"} == scheduled
    assert {"hasivu-production-auth-register", "hasivu-production-payments-webhook"} <= low_volume
    for function, group in functions.items():
        key = "run-failed" if function in scheduled else "error-rate" if function in low_volume else "errors"
        matching = [a for a in alarms.values() if _reads_errors_of(a, function) and a["name"].endswith(f"-{key}")]
        assert len(matching) == 1, function
        assert not any(_reads_errors_of(a, function) and a["name"].endswith("-errors") for a in alarms.values()
                       if function in scheduled | low_volume)
        # The reconcile batch job is configured down to warning: a failed run waits for no user.
        tier = "critical" if group in CRITICAL_GROUPS and "reconcile" not in function else "warning"
        assert "alarmActions" not in matching[0], function
        assert matching[0]["name"] in paged[tier], function
        assert matching[0]["tags"]["Tier"] == tier


def test_alarm_names_descriptions_tags_and_ok_actions():
    alarms = _alarms(run())
    errors = alarms["production-payments-create-order-errors"]
    assert "Impact:" in errors["alarmDescription"]
    assert "Runbook: https://runbooks.hasivu.com/monitoring/lambda#payments" in errors["alarmDescription"]
    for alarm in alarms.values():
        assert alarm["name"].startswith("production-")
        assert {"Environment", "Service", "Tier"} <= set(alarm["tags"])
        assert alarm["actionsEnabled"] is True
        assert alarm["datapointsToAlarm"] <= alarm["evaluationPeriods"]
    for composite in (props(r) for r in of_type(run(), COMPOSITE)):
        if composite["tags"]["Tier"] == "critical" and composite.get("alarmActions"):
            assert composite["okActions"] == composite["alarmActions"], composite["alarmName"]


def test_required_thresholds_and_routing():
    result = run()
    alarms = _alarms(result)
    critical, warning, business = (_pager_members(result, t) for t in ("critical", "warning", "business"))
    payment_errors = alarms["production-payments-payment-errors"]
    assert (payment_errors["threshold"], payment_errors["period"], payment_errors["statistic"]) == (10, 300, "Sum")
    assert "production-payments-payment-errors" in critical
    api_5xx = alarms["production-api-5xx-rate"]
    assert api_5xx["threshold"] == 5 and "production-api-5xx-rate" in critical
    assert alarms["production-api-latency-p99"]["threshold"] == 5000
    assert alarms["production-db-cpu"]["threshold"] == 80
    assert "production-db-cpu" in warning
    assert alarms["production-platform-health-score"]["threshold"] == 80
    assert "production-database-connectivity" in critical
    assert "production-payments-failure-rate" in business
    assert alarms["production-orders-completion-rate"]["threshold"] == 95
    # The rfid-verification SLO's burn-rate pairs take the place of the verification-rate alarm.
    assert "production-rfid-verification-rate" not in alarms
    assert alarms["production-slo-rfid-verification-burn-1h-14.4x"]["threshold"] == 92.8
    # p99 duration: the 10 s duration cap, or 80% of a shorter timeout.
    assert alarms["production-payments-create-order-duration-p99"]["threshold"] == 10_000
    assert alarms["production-auth-login-duration-p99"]["threshold"] == 8_000
    assert alarms["production-auth-login-duration-p99"]["extendedStatistic"] == "p99"
    for path in ("auth-login", "payments-orders", "orders", "rfid-verify"):
        queries = alarms[f"production-api-{path}-latency-p99"]["metricQueries"]
        assert all(q["metric"]["dimensions"]["Resource"].startswith("/") for q in queries if q.get("metric"))


def test_metric_math_and_anomaly_detection_alarms():
    alarms = _alarms(run())
    failure_rate = alarms["production-payments-failure-rate"]
    [returned] = [q for q in failure_rate["metricQueries"] if q.get("returnData")]
    assert returned["expression"] == "IF(FILL(m2, 0) >= 100, 100 * FILL(m1, 0) / FILL(m2, 0), 0)"
    error_rate = alarms["production-payments-verify-error-rate"]
    assert "FILL(m2, 0) >= 20" in next(q["expression"] for q in error_rate["metricQueries"] if q.get("expression"))
    anomaly = alarms["production-orders-volume-anomaly"]
    assert anomaly["thresholdMetricId"] == "ad1"
    assert anomaly["comparisonOperator"] == "LessThanLowerThreshold"
    assert "threshold" not in anomaly


def test_security_events_come_from_log_metric_filters():
    result = run()
    filters = {props(r)["metricTransformation"]["name"]: props(r) for r in of_type(
        result, "aws:cloudwatch/logMetricFilter:LogMetricFilter")}
    assert set(filters) == {"FailedLogins", "FraudAttempts"}
    assert filters["FailedLogins"]["logGroupName"] == "/hasivu/production/security-events"
    alarms = _alarms(result)
    fraud = alarms["production-security-fraud-attempts"]
    assert fraud["metricName"] == "FraudAttempts" and fraud["namespace"] == "HASIVU/Security"
    # Failed logins against all attempts: the filter's failures and the runtime library's successful logins.
    failed = alarms["production-security-failed-logins"]
    read = {(q["metric"]["namespace"], q["metric"]["metricName"]) for q in failed["metricQueries"] if q.get("metric")}
    assert read == {("HASIVU/Security", "FailedLogins"), ("HASIVU/Business", "UserLogins")}
    for alarm in (fraud, failed):
        assert alarm["name"] in _pager_members(result, "critical")


def test_composites_reference_alarms_that_exist_and_only_pagers_notify():
    result = run()
    names = set(_alarms(result))
    composites = {props(r)["alarmName"]: props(r) for r in of_type(result, COMPOSITE)}
    known = names | set(composites)
    for name, composite in composites.items():
        referenced = parse_alarm_rule(composite["alarmRule"])
        assert referenced and set(referenced) <= known
        assert composite_problems(composite) == []
        if name.endswith("-pager"):
            assert composite["alarmActions"] == [_topic_arn(composite["tags"]["Tier"])]
            # Only the causes every flow depends on, attacks, the monitoring's own parts and the readers'
            # heartbeats, which no dependency silences, page unheld (components/alarms/composites.py).
            if name not in ("production-critical-database-pager", "production-critical-redis-pager",
                            "production-critical-security-pager", "production-critical-monitoring-pager",
                            "production-warning-rfid-school-day-pager"):
                assert composite["actionsSuppressor"]["alarm"] in known, name
        else:
            assert not composite.get("alarmActions")
    payment = parse_alarm_rule(composites["production-payment-system-health"]["alarmRule"])
    # Warning-tier payment signals page warning, not critical through the roll-up.
    assert "production-payments-payment-errors" in payment
    assert "production-payments-verification-failures" not in payment
    system = parse_alarm_rule(composites["production-system-health"]["alarmRule"])
    assert "production-payment-system-health" in system
    # System-wide health covers every component: each critical pager (the cache's too), so a critical page
    # anywhere shows on the executive dashboard and holds the warning and business pages.
    critical = {n for n, c in composites.items() if n.endswith("-pager") and c["tags"]["Tier"] == "critical"}
    assert "production-critical-redis-pager" in critical and critical <= set(system)


def test_every_alarm_satisfies_cloudwatchs_own_rules():
    for stack in ("production", "staging"):
        for name, alarm in _alarms(run(stack)).items():
            assert alarm_problems(alarm) == [], name


def test_overrides_change_exactly_the_overridden_alarm():
    base = _alarms(run())
    inventory = copy.deepcopy(inventory_section())
    rfid = inventory["lambdaGroups"]["rfid"]["functions"]
    rfid[0] = {"name": rfid[0], "thresholds": {"errorsPerMinute": 2}}
    changed = _alarms(run(set_={"inventory": inventory}))
    differing = sorted(n for n in base if base[n] != changed[n])
    assert differing == ["production-rfid-verify-card-errors"]
    assert changed["production-rfid-verify-card-errors"]["threshold"] == 2

    per_5min = _alarms(run(set_={"thresholds": {"business": {"paymentErrorsPer5min": 20, "ordersMinPer5min": 3}}}))
    assert per_5min["production-payments-payment-errors"]["threshold"] == 20
    assert "< 3, 1, 0)" in next(q["expression"] for q in per_5min["production-orders-ordering-stopped"]["metricQueries"]
                               if q.get("expression"))

    stack_wide = _alarms(run(set_={"thresholds": {"rds": {"cpuPercent": 70}, "account": {"concurrencyLimit": 1000}}}))
    differing = sorted(n for n in base if base[n] != stack_wide[n])
    assert differing == ["production-db-cpu", "production-db-replica-cpu"]


def test_adding_one_function_adds_its_alarms_and_nothing_else():
    base = _alarms(run())
    inventory = copy.deepcopy(inventory_section())
    inventory["lambdaGroups"]["menu"]["functions"].append("hasivu-production-menu-allergens")
    grown = _alarms(run(set_={"inventory": inventory}))
    added = sorted(set(grown) - set(base))
    assert added == [f"production-menu-allergens-{k}" for k in ("duration-p99", "error-rate", "errors", "throttles")]
    assert all(grown[n] == base[n] for n in base if "system-health" not in n)


def test_discovered_functions_are_merged_and_alarmed():
    discovered = ["hasivu-staging-payments-verify", "hasivu-staging-reports-export", "other-team-fn"]
    result = run("staging", invokes={
        "aws:lambda/getFunctions:getFunctions": lambda _: {"functionNames": discovered, "functionArns": [], "id": "x"}
    })
    alarms = _alarms(result)
    assert "staging-reports-export-errors" in alarms
    warning_pager = next(props(r) for r in of_type(result, COMPOSITE)
                         if props(r)["alarmName"] == "staging-warning-platform-pager")
    assert "staging-reports-export-errors" in parse_alarm_rule(warning_pager["alarmRule"])
    assert not any("other-team" in n for n in alarms)
    # Already configured: not duplicated.
    assert sum(1 for n in alarms if n == "staging-payments-verify-errors") == 1


def test_the_projects_own_lambdas_are_alarmed_by_the_same_catalogue():
    result = run()
    forwarder = by_name(result, "warning-alerts-slack-lambda-function")
    errors = by_name(result, "production-warning-slack-forwarder-error-rate")
    read = [q["metric"] for q in props(errors)["metricQueries"] if "metric" in q]
    dims = {"FunctionName": props(forwarder)["name"]}
    assert [(m["metricName"], m["dimensions"]) for m in read] == [("Errors", dims), ("Invocations", dims)]
    assert errors.property_dependencies["metricQueries"] == [forwarder.urn]
    # Run a few times a minute at most, they are judged on the errors of the last hour and have no count
    # of errors a minute, which they could never reach.
    assert [q["metric"]["period"] for q in props(errors)["metricQueries"] if "metric" in q] == [3600, 3600]
    names = {r.name for r in result.registrations}
    assert not {"production-warning-slack-forwarder-errors", "production-health-monitor-errors"} & names
    assert "production-health-monitor-error-rate" in names


def test_preflight_coverage_table_shows_every_inventory_resource_and_gaps():
    from preflight.model.stack import build_model
    from preflight.preview.coverage import coverage, coverage_section

    result = run(preview=True)
    table = coverage(build_model(result))
    counted = set(_inventory_functions()) - _scheduled_functions() - _low_volume_functions()
    for function in _inventory_functions():
        kinds = {"Errors%", "Throttles", "Duration"} | ({"Errors"} if function in counted else set())
        assert kinds <= table[f"lambda {function}"], function
    assert "Errors" not in table["lambda hasivu-production-payments-reconcile"]
    assert {"CPUUtilization", "FreeStorageSpace"} <= table["rds hasivu-production-db"]
    assert "5XXError%" in table["api hasivu-production-api prod"]
    assert "Latency%" in table["api hasivu-production-api prod /rfid/verify POST"]
    # The forwarder's name is known in preview because it is set explicitly; its alarm covers it.
    assert "Errors%" in table["lambda production-hasivu-warning-slack-forwarder"]
    assert coverage_section(build_model(result)).endswith("Lambda functions without an Errors alarm: none")


def test_coverage_table_shows_a_lambda_without_alarms_as_a_gap():
    from preflight.model.stack import build_model
    from preflight.preview.coverage import coverage_section
    from preflight.program.engine import run_program
    from tests.support.stack import stack_files

    files = stack_files("dev", directory=PROGRAMS / "unalarmed")
    section = coverage_section(build_model(run_program(files)))
    assert "Lambda functions without an Errors alarm: lambda orphan-fn" in section


def test_the_stacks_lambda_thresholds_apply_to_every_function_without_its_own():
    """`thresholds.lambda.errorsPerMinute: 10` in the staging file moves every function's errors alarm
    to 10; a function's own `thresholds` still override it key by key."""
    import yaml

    from preflight.model.stack import build_model

    staging = yaml.safe_load((REPO / "Pulumi.staging.yaml").read_text())["config"]
    wanted = staging["hasivu-monitoring:thresholds"]["lambda"]["errorsPerMinute"]
    model = build_model(run("staging", preview=True))
    functions = model.settings.inventory.functions
    assert functions and all(fn.thresholds.errors_per_minute == wanted for fn in functions)
    errors = {a.name: a.props["threshold"] for a in model.alarms if a.name.endswith("-errors") and a.kind == "static"
              and any(m.name == "Errors" and m.namespace == "AWS/Lambda" for m in a.metrics)}
    own = {f"staging-{fn.name.removeprefix('hasivu-staging-')}-errors" for fn in functions}
    assert own <= set(errors) and {errors[name] for name in own} == {wanted}
    inventory = inventory_section("staging")
    group = next(iter(inventory["lambdaGroups"]))
    first = inventory["lambdaGroups"][group]["functions"][0]
    name = first if isinstance(first, str) else first["name"]
    inventory["lambdaGroups"][group]["functions"][0] = {"name": name, "thresholds": {"errorsPerMinute": 3}}
    overridden = build_model(run("staging", preview=True, set_={"inventory": inventory}))
    by_function = {fn.name: fn.thresholds for fn in overridden.settings.inventory.functions}
    assert by_function[name].errors_per_minute == 3
    assert by_function[name].error_rate_percent == next(
        fn.thresholds.error_rate_percent for fn in functions if fn.name == name)


def test_a_stack_without_the_rfid_verification_slo_keeps_the_verification_rate_alarm_and_its_threshold():
    alarms = _alarms(run(set_={"slos": {"rfidVerification": {"enabled": False}},
                               "thresholds": {"business": {"rfidVerificationPercent": 98}}}))
    assert alarms["production-rfid-verification-rate"]["threshold"] == 98
    assert not [name for name in alarms if name.startswith("production-slo-rfid-verification-")]
