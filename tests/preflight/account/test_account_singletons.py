"""Account-wide things made explicit in config: the Cost Anomaly Detection principal and SERVICE
monitor, X-Ray's EncryptionConfig, and the security events log group the metric filters read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pulumi_aws

from components.iam_documents import ALERT_PUBLISHERS
from preflight.preview.analyzer import analyze
from preflight.program.engine import run_program
from preflight.program.props import struct_to_props
from tests.support.stack import REPO, by_name, inventory_section, of_type, props, run, stack_files

MONITOR_ARN = "arn:aws:ce::123456789012:anomalymonitor/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
ANOMALY_MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription"


def props_of_state(registration) -> dict:
    return struct_to_props(registration.state)


def test_cost_anomaly_detection_publishes_as_costalerts():
    # pulumi-aws's AnomalySubscription docs, "SNS Example" (sdk/python/pulumi_aws/costexplorer/
    # anomaly_subscription.py, from the Terraform provider's ce_anomaly_subscription docs): the topic
    # policy grants SNS:Publish to the service principal costalerts.amazonaws.com.
    source = Path(pulumi_aws.__file__).parent.joinpath("costexplorer", "anomaly_subscription.py").read_text()
    example = source[source.index("### SNS Example"):]
    [principal] = set(re.findall(r'"identifiers": \["([a-z.]+\.amazonaws\.com)"\]', example[:2000]))
    assert principal == "costalerts.amazonaws.com"
    assert principal in ALERT_PUBLISHERS
    business = run(stack="production")
    key_policy = json.loads(props(by_name(business, "alerts-key"))["policy"])
    topic_policy = json.loads(props(by_name(business, "business-alerts-topic-policy"))["policy"])
    for policy in (key_policy, topic_policy):
        services = {s for st in policy["Statement"] for s in (st["Principal"].get("Service") or [])}
        assert principal in services and "costalert.amazonaws.com" not in services


def test_the_service_monitor_is_created_by_default_and_exported_for_other_stacks():
    result = run()
    [monitor] = of_type(result, ANOMALY_MONITOR)
    assert props(monitor)["monitorDimension"] == "SERVICE"
    [subscription] = of_type(result, SUBSCRIPTION)
    assert subscription.property_dependencies["monitorArnLists"] == [monitor.urn]
    assert result.outputs["costAnomalyMonitorArn"] == props_of_state(monitor)["arn"]


def test_an_existing_monitor_is_reused_and_passes_the_policy_pack():
    files = stack_files(set_={"costAnomaly": {"thresholdUsd": 50, "existingMonitorArn": MONITOR_ARN}})
    result = run_program(files, preview=True)
    assert of_type(result, ANOMALY_MONITOR) == []
    [subscription] = of_type(result, SUBSCRIPTION)
    assert props(subscription)["monitorArnLists"] == [MONITOR_ARN]
    found = analyze(result, REPO / "policy", REPO / "policy" / "config" / "production.json")
    assert [v for v in found if v.level == "mandatory"] == []


def test_xray_encryption_is_owned_by_production_only():
    assert len(of_type(run("production"), "aws:xray/encryptionConfig:EncryptionConfig")) == 1
    staging = run("staging")
    assert of_type(staging, "aws:xray/encryptionConfig:EncryptionConfig") == []
    assert not [r for r in of_type(staging, "aws:kms/key:Key") if r.name.startswith("tracing")]


def test_the_security_log_group_is_created_encrypted_and_the_filters_wait_for_it():
    result = run()
    [group] = [g for g in of_type(result, "aws:cloudwatch/logGroup:LogGroup") if "security" in g.urn]
    group_props = props(group)
    assert (group_props["name"], group_props["retentionInDays"]) == ("/hasivu/production/security-events", 365)
    [key_urn] = group.property_dependencies["kmsKeyId"]
    key = next(r for r in result.registrations if r.urn == key_urn)
    assert props(key)["enableKeyRotation"] is True
    # CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS": the regional
    # logs principal, bound to the log group by kms:EncryptionContext:aws:logs:arn.
    [grant] = [s for s in json.loads(props(key)["policy"])["Statement"]
               if s.get("Principal", {}).get("Service") == "logs.ap-south-1.amazonaws.com"]
    assert {"kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"} <= set(grant["Action"])
    assert grant["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == (
        "arn:aws:logs:ap-south-1:123456789012:log-group:/hasivu/production/security-events")
    filters = of_type(result, "aws:cloudwatch/logMetricFilter:LogMetricFilter")
    assert len(filters) == 2
    for metric_filter in filters:
        assert metric_filter.property_dependencies["logGroupName"] == [group.urn]
        assert props(metric_filter)["logGroupName"] == "/hasivu/production/security-events"


def test_an_existing_security_log_group_is_only_read():
    inventory = {**inventory_section(), "securityLogGroup": {"name": "/platform/security", "create": False}}
    result = run(set_={"inventory": inventory})
    assert not [g for g in of_type(result, "aws:cloudwatch/logGroup:LogGroup") if "security" in g.urn]
    for metric_filter in of_type(result, "aws:cloudwatch/logMetricFilter:LogMetricFilter"):
        assert props(metric_filter)["logGroupName"] == "/platform/security"
        assert not metric_filter.property_dependencies.get("logGroupName")


def test_a_bare_log_group_name_still_reads_and_means_created():
    inventory = {**inventory_section(), "securityLogGroup": "/hasivu/production/security-events"}
    [group] = [g for g in of_type(run(set_={"inventory": inventory}), "aws:cloudwatch/logGroup:LogGroup")
               if "security" in g.urn]
    assert props(group)["retentionInDays"] == 365
