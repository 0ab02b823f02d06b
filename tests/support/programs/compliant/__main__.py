"""A platform stack that follows every rule, with auto-named resources whose names, ids and ARNs
are unknown in preview: the policies must decide from dependencies."""

import json

import pulumi
from pulumi_aws import apigateway, budgets, cloudwatch, costexplorer, kms, lambda_, rds, sns, xray

PUBLISHERS = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com"]
TAGS = {"Environment": "dev", "Service": "shop", "Tier": "critical"}
config = pulumi.Config()

key = kms.Key("alerts-key", enable_key_rotation=True, tags=TAGS, policy=json.dumps({
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": PUBLISHERS}, "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
         "Resource": "*"},
    ],
}))
topic = sns.Topic("alerts", kms_master_key_id=key.arn, tags=TAGS)
sns.TopicSubscription("pagerduty", topic=topic.arn, protocol="https", endpoint=config.require_secret(
    "pagerdutyEndpoint"), opts=pulumi.ResourceOptions(additional_secret_outputs=["endpoint"]))

DB_SECRET = "arn:aws:secretsmanager:ap-south-1:123456789012:secret:db"
worker = lambda_.Function("worker", role="arn:aws:iam::123456789012:role/worker", runtime="python3.12",
                          handler="app.handler", code=pulumi.AssetArchive({}), tags=TAGS,
                          environment=lambda_.FunctionEnvironmentArgs(variables={"DB_SECRET_ARN": DB_SECRET}))
api = apigateway.RestApi("api")
stage = apigateway.Stage("prod", rest_api=api.id, stage_name="prod", deployment="dep-1")
db = rds.Instance("db", instance_class="db.t4g.micro", engine="postgres", allocated_storage=20,
                  username="app", manage_master_user_password=True)


def alarm(name: str, namespace: str, metric: str, dimensions: dict, threshold: float, comparison: str,
          stat: str = "Sum") -> cloudwatch.MetricAlarm:
    return cloudwatch.MetricAlarm(
        name, namespace=namespace, metric_name=metric, dimensions=dimensions, statistic=stat, period=60,
        evaluation_periods=5, datapoints_to_alarm=3, threshold=threshold, comparison_operator=comparison,
        alarm_actions=[topic.arn], ok_actions=[topic.arn], tags=TAGS,
        alarm_description=f"{name} broke. Runbook: https://runbooks.example.com/{name}",
    )


errors = alarm("worker-errors", "AWS/Lambda", "Errors", {"FunctionName": worker.name}, 1, "GreaterThanThreshold")
api_5xx = alarm("api-5xx", "AWS/ApiGateway", "5XXError", {"ApiName": api.name, "Stage": stage.stage_name}, 0.05,
                "GreaterThanThreshold", "Average")
alarm("db-cpu", "AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": db.identifier}, 80, "GreaterThanThreshold",
      "Average")
alarm("db-storage", "AWS/RDS", "FreeStorageSpace", {"DBInstanceIdentifier": db.identifier}, 1e10,
      "LessThanThreshold", "Minimum")
cloudwatch.MetricAlarm(
    "worker-error-rate", evaluation_periods=3, datapoints_to_alarm=2, threshold=5,
    comparison_operator="GreaterThanThreshold", alarm_actions=[topic.arn], ok_actions=[topic.arn], tags=TAGS,
    alarm_description="Error rate. Runbook: https://runbooks.example.com/rate",
    metric_queries=[
        cloudwatch.MetricAlarmMetricQueryArgs(id="m1", metric=cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace="AWS/Lambda", metric_name="Errors", dimensions={"FunctionName": worker.name}, stat="Sum",
            period=300)),
        cloudwatch.MetricAlarmMetricQueryArgs(id="m2", metric=cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace="AWS/Lambda", metric_name="Invocations", dimensions={"FunctionName": worker.name},
            stat="Sum", period=300)),
        cloudwatch.MetricAlarmMetricQueryArgs(id="e1", expression="100 * m1 / m2", return_data=True),
    ],
)
cloudwatch.CompositeAlarm(
    "shop-health", alarm_name="shop-health", tags=TAGS, alarm_actions=[topic.arn], ok_actions=[topic.arn],
    alarm_description="Shop unhealthy. Runbook: https://runbooks.example.com/shop",
    alarm_rule=pulumi.Output.all(errors.name, api_5xx.name).apply(lambda n: f'ALARM("{n[0]}") OR ALARM("{n[1]}")'),
)
cloudwatch.Dashboard("shop", dashboard_name="shop", dashboard_body=json.dumps({"widgets": [
    {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
     "properties": {"metrics": [["AWS/Lambda", "Errors"]], "region": "ap-south-1"}},
    {"type": "text", "x": 12, "y": 0, "width": 12, "height": 6, "properties": {"markdown": "# Shop"}},
]}))
xray.SamplingRule("health", rule_name="health", priority=10, fixed_rate=0.01, reservoir_size=1,
                  service_name="*", service_type="*", host="*", http_method="*", url_path="/health*",
                  resource_arn="*", version=1)
budgets.Budget("daily", budget_type="COST", limit_amount="200", limit_unit="USD", time_unit="DAILY",
               notifications=[budgets.BudgetNotificationArgs(
                   comparison_operator="GREATER_THAN", threshold=80, threshold_type="PERCENTAGE",
                   notification_type="ACTUAL", subscriber_sns_topic_arns=[topic.arn])])

# Cost Anomaly Detection publishing to the tier topic, watching the account's existing SERVICE monitor.
costexplorer.AnomalySubscription(
    "anomalies", name="anomalies", frequency="IMMEDIATE", tags=TAGS,
    monitor_arn_lists=["arn:aws:ce::123456789012:anomalymonitor/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"],
    subscribers=[costexplorer.AnomalySubscriptionSubscriberArgs(type="SNS", address=topic.arn)],
    threshold_expression=costexplorer.AnomalySubscriptionThresholdExpressionArgs(
        dimension=costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
            key="ANOMALY_TOTAL_IMPACT_ABSOLUTE", match_options=["GREATER_THAN_OR_EQUAL"], values=["50"])))
# The weekly database window mutes the pager, in IST.
cloudwatch.AlarmMuteRule(
    "weekly-window", name="weekly-window", description="Database patching",
    mute_targets=cloudwatch.AlarmMuteRuleMuteTargetsArgs(alarm_names=["shop-health"]),
    rule=cloudwatch.AlarmMuteRuleRuleArgs(schedule=cloudwatch.AlarmMuteRuleRuleScheduleArgs(
        expression="cron(0 2 * * SUN)", duration="PT2H", timezone="Asia/Kolkata")))
