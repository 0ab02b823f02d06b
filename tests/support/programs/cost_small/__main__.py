"""A stack small enough to price by hand (see tests/components/test_cost_controls.py)."""

import json

import pulumi
from pulumi_aws import budgets, cloudwatch, kms, sns, xray

key = kms.Key("key", enable_key_rotation=True)
topic = sns.Topic("topic", kms_master_key_id=key.arn)
for i in range(2):
    sns.TopicSubscription(f"email-{i}", topic=topic.arn, protocol="email", endpoint=f"ops{i}@example.com")
common = dict(evaluation_periods=3, datapoints_to_alarm=2, comparison_operator="GreaterThanThreshold",
              alarm_actions=[topic.arn])
cloudwatch.MetricAlarm("single", namespace="Shop", metric_name="Orders", statistic="Sum", period=60, threshold=1,
                       **common)
cloudwatch.MetricAlarm("math", threshold=5, metric_queries=[
    cloudwatch.MetricAlarmMetricQueryArgs(id="m1", metric=cloudwatch.MetricAlarmMetricQueryMetricArgs(
        namespace="Shop", metric_name="Payments", stat="Sum", period=300)),
    cloudwatch.MetricAlarmMetricQueryArgs(id="m2", metric=cloudwatch.MetricAlarmMetricQueryMetricArgs(
        namespace="AWS/Lambda", metric_name="Invocations", stat="Sum", period=300)),
    cloudwatch.MetricAlarmMetricQueryArgs(id="e1", expression="m1 / m2", return_data=True),
], **common)
cloudwatch.MetricAlarm("fast", namespace="AWS/Lambda", metric_name="Errors", statistic="Sum", period=10,
                       threshold=1, **common)
cloudwatch.MetricAlarm("anomaly", threshold_metric_id="ad1", evaluation_periods=3, datapoints_to_alarm=3,
                       comparison_operator="LessThanLowerThreshold", alarm_actions=[topic.arn], metric_queries=[
    cloudwatch.MetricAlarmMetricQueryArgs(id="m1", return_data=True, metric=cloudwatch.MetricAlarmMetricQueryMetricArgs(
        namespace="Shop", metric_name="Orders", stat="Sum", period=300)),
    cloudwatch.MetricAlarmMetricQueryArgs(id="ad1", expression="ANOMALY_DETECTION_BAND(m1, 2)", return_data=True),
])
cloudwatch.CompositeAlarm("composite", alarm_name="composite", alarm_rule='ALARM("single")',
                          alarm_actions=[topic.arn])
for i in range(4):
    cloudwatch.Dashboard(f"d{i}", dashboard_name=f"d{i}", dashboard_body=json.dumps({"widgets": []}))
budgets.Budget("budget", budget_type="COST", limit_amount="10", limit_unit="USD", time_unit="MONTHLY",
               notifications=[budgets.BudgetNotificationArgs(
                   comparison_operator="GREATER_THAN", threshold=80, threshold_type="PERCENTAGE",
                   notification_type="ACTUAL", subscriber_sns_topic_arns=[topic.arn])])
xray.SamplingRule("rule", rule_name="shop", priority=10, fixed_rate=0.1, reservoir_size=0, service_name="*",
                  service_type="*", host="*", http_method="*", url_path="*", resource_arn="*", version=1)
pulumi.export("costAssumptions", {
    "xrayMonthlyRequests": {"shop": 1_000_000},
    "costExplorerRequestsPerMonth": 1460,
    "alertsPerTopicPerMonth": 100,
    "monitoringBudgetUsd": 20,
})
