"""A stack that breaks each rule once; every resource is named after the rule it breaks."""

import json

import pulumi
from pulumi_aws import apigateway, budgets, cloudwatch, costexplorer, kms, lambda_, rds, sns, ssm, xray

TAGS = {"Environment": "dev", "Service": "shop", "Tier": "warning"}
WEBHOOK = "https://hooks.slack" + ".com/services/T0/B0/abcdefgh"
config = pulumi.Config()

good_key = kms.Key("good-key", enable_key_rotation=True, tags=TAGS, policy=json.dumps({"Statement": [
    {"Effect": "Allow", "Principal": {"Service": ["cloudwatch.amazonaws.com"]},
     "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*"}]}))
topic = sns.Topic("good-topic", kms_master_key_id=good_key.arn, tags=TAGS)


def alarm(name: str, **overrides) -> cloudwatch.MetricAlarm:
    args = dict(namespace="Shop", metric_name="Orders", statistic="Sum", period=60, evaluation_periods=5,
                datapoints_to_alarm=3, threshold=1, comparison_operator="GreaterThanThreshold",
                alarm_actions=[topic.arn], tags=TAGS, alarm_description="Runbook: https://runbooks.example.com")
    args.update(overrides)
    return cloudwatch.MetricAlarm(name, **args)


# alarm-coverage
lambda_.Function("coverage-orphan-fn", name="orphan-fn", role="arn:aws:iam::123456789012:role/x",
                 runtime="python3.12", handler="app.handler", code=pulumi.AssetArchive({}), tags=TAGS)
api = apigateway.RestApi("coverage-api", name="shop-api")
apigateway.Stage("coverage-stage", rest_api=api.id, stage_name="prod", deployment="dep-1")
rds.Instance("coverage-db", identifier="shop-db", instance_class="db.t4g.micro", engine="postgres",
             allocated_storage=20, username="app", manage_master_user_password=True)

# alert-encryption
sns.Topic("encryption-plain-topic", tags=TAGS)
managed = sns.Topic("encryption-managed-topic", kms_master_key_id="alias/aws/sns", tags=TAGS)
alarm("encryption-alarm-to-managed", alarm_actions=[managed.arn])
kms.Key("encryption-norotate-key", tags=TAGS)
narrow = kms.Key("encryption-narrow-key", enable_key_rotation=True, tags=TAGS, policy=json.dumps({"Statement": [
    {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "kms:Decrypt",
     "Resource": "*"}]}))
narrow_topic = sns.Topic("encryption-narrow-topic", kms_master_key_id=narrow.arn, tags=TAGS)
alarm("encryption-alarm-to-narrow", alarm_actions=[narrow_topic.arn])

logs_key = kms.Key("encryption-logs-key", enable_key_rotation=True, tags=TAGS)
cloudwatch.LogGroup("encryption-logs-group", name="/shop/security", kms_key_id=logs_key.arn, tags=TAGS)

# alarm-routing
alarm("routing-silent-alarm", alarm_actions=[])
alarm("routing-disabled-alarm", actions_enabled=False)
alarm("routing-critical-no-ok", tags={**TAGS, "Tier": "critical"})
alarm("routing-to-lambda", alarm_actions=["arn:aws:lambda:ap-south-1:123456789012:function:x"])

# deploy-time-validity
alarm("validity-bad-period", period=45)
alarm("validity-long-window", period=300, evaluation_periods=300, datapoints_to_alarm=3)
alarm("validity-datapoints", datapoints_to_alarm=9)
alarm("validity-two-returns", namespace=None, metric_name=None, statistic=None, period=None, metric_queries=[
    cloudwatch.MetricAlarmMetricQueryArgs(id="m1", return_data=True, metric=cloudwatch.MetricAlarmMetricQueryMetricArgs(
        namespace="Shop", metric_name="Orders", stat="Sum", period=60)),
    cloudwatch.MetricAlarmMetricQueryArgs(id="e1", expression="m1 * 2", return_data=True),
])
cloudwatch.CompositeAlarm("validity-bad-rule", alarm_name="bad-rule", alarm_rule='ALARM("a") OR (ALARM("b")',
                          alarm_actions=[topic.arn], tags=TAGS)
cloudwatch.Dashboard("validity-overlap-dashboard", dashboard_name="overlap", dashboard_body=json.dumps({"widgets": [
    {"type": "text", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {"markdown": "a"}},
    {"type": "text", "x": 6, "y": 3, "width": 12, "height": 6, "properties": {"markdown": "b"}},
    {"type": "text", "x": 20, "y": 9, "width": 8, "height": 6, "properties": {"markdown": "c"}},
]}))
xray.SamplingRule("validity-bad-rate", rule_name="bad-rate", priority=10, fixed_rate=1.5, reservoir_size=1,
                  service_name="*", service_type="*", host="*", http_method="*", url_path="*",
                  resource_arn="*", version=1)
budgets.Budget("validity-silent-budget", budget_type="COST", limit_amount="200", limit_unit="USD", time_unit="DAILY")

# no-plaintext-secrets
lambda_.Function("secrets-leaky-fn", name="leaky-fn", role="arn:aws:iam::123456789012:role/x",
                 runtime="python3.12", handler="app.handler", code=pulumi.AssetArchive({}), tags=TAGS,
                 environment=lambda_.FunctionEnvironmentArgs(variables={"SLACK_URL": WEBHOOK,
                                                                       "DB_PASSWORD": "hunter2hunter2"}))
sns.TopicSubscription("secrets-pagerduty-plain", topic=topic.arn, protocol="https",
                      endpoint=config.require_secret("pagerdutyEndpoint").apply(
                          lambda _: "https://events.pagerduty.com/integration/0123456789abcdef/enqueue"))
ssm.Parameter("secrets-plain-parameter", type="String", value=WEBHOOK)

# account-singletons
for which in ("first", "second"):
    costexplorer.AnomalyMonitor(f"singletons-{which}-monitor", name=f"{which}-services", monitor_type="DIMENSIONAL",
                                monitor_dimension="SERVICE", tags=TAGS)
    xray.EncryptionConfig(f"singletons-{which}-encryption", type="NONE")
costexplorer.AnomalySubscription(
    "singletons-bad-subscription", name="bad", frequency="DAILY", tags=TAGS,
    monitor_arn_lists=["arn:aws:ce::123456789012:anomalysubscription/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"],
    subscribers=[costexplorer.AnomalySubscriptionSubscriberArgs(type="EMAIL", address="ops@example.com")],
    threshold_expression=costexplorer.AnomalySubscriptionThresholdExpressionArgs(
        dimension=costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
            key="ANOMALY_TOTAL_IMPACT_ABSOLUTE", match_options=["GREATER_THAN_OR_EQUAL"], values=["50"])))

# sms-not-alone (and the stack's sms-sandbox advice)
sms_only = sns.Topic("sms-only-topic", kms_master_key_id=good_key.arn, tags=TAGS)
sns.TopicSubscription("sms-only-pager", topic=sms_only.arn, protocol="sms", endpoint="+919800000009")

# advisory: required-tags, runbook-links, monitoring-cost
alarm("tags-untagged-alarm", tags={"Environment": "dev"})
alarm("runbook-missing", tags={**TAGS, "Tier": "critical"}, ok_actions=[topic.arn], alarm_description="no link")
alarm("cost-high-resolution", period=10, evaluation_periods=6, datapoints_to_alarm=3)
alarm("cost-unbounded-dimension", dimensions={"UserId": "u-1"})
xray.SamplingRule("cost-health-sampling", rule_name="health-checks", priority=20, fixed_rate=0.5,
                  reservoir_size=1, service_name="*", service_type="*", host="*", http_method="*",
                  url_path="/health", resource_arn="*", version=1)
for i in range(5):
    cloudwatch.Dashboard(f"cost-dashboard-{i}", dashboard_name=f"d{i}", dashboard_body=json.dumps({"widgets": []}))

# Decided from dependencies in preview: auto-named functions (names unknown until created).
decoy = lambda_.Function("coverage-decoy-fn", role="arn:aws:iam::123456789012:role/x", runtime="python3.12",
                         handler="app.handler", code=pulumi.AssetArchive({}), tags=TAGS)
alarm("coverage-decoy-errors", namespace="AWS/Lambda", metric_name="Errors", dimensions={"FunctionName": decoy.name})
lambda_.Function("coverage-auto-fn", role="arn:aws:iam::123456789012:role/x", runtime="python3.12",
                 handler="app.handler", code=pulumi.AssetArchive({}), tags=TAGS)
# A key id unknown in preview that no key in this stack produced: cannot be shown to be customer-managed.
external_key = apigateway.RestApi("encryption-elsewhere").id.apply(
    lambda _: "arn:aws:kms:ap-south-1:123456789012:key/external")
unknown_key_topic = sns.Topic("encryption-unknown-key-topic", kms_master_key_id=external_key, tags=TAGS)
alarm("encryption-alarm-to-unknown-key", alarm_actions=[unknown_key_topic.arn])
budgets.Budget("validity-daily-forecast", budget_type="COST", limit_amount="20", limit_unit="USD", time_unit="DAILY",
               notifications=[budgets.BudgetNotificationArgs(
                   comparison_operator="GREATER_THAN", threshold=100, threshold_type="PERCENTAGE",
                   notification_type="FORECASTED", subscriber_sns_topic_arns=[topic.arn])])

# alarm-mute-rules


def mute(name: str, expression: str = "cron(0 2 * * SUN)", duration: str = "PT2H", timezone: str = "Asia/Kolkata",
         targets: tuple[str, ...] = ("tags-untagged-alarm",)) -> None:
    cloudwatch.AlarmMuteRule(name, name=name, mute_targets=cloudwatch.AlarmMuteRuleMuteTargetsArgs(
        alarm_names=list(targets)), rule=cloudwatch.AlarmMuteRuleRuleArgs(
        schedule=cloudwatch.AlarmMuteRuleRuleScheduleArgs(expression=expression, duration=duration,
                                                          timezone=timezone)))


mute("mute-too-many", targets=tuple(f"alarm-{i}" for i in range(101)))
mute("mute-eventbridge-cron", expression="cron(0 2 ? * SUN *)")
mute("mute-sixteen-days", duration="P16D")
mute("mute-no-time-zone", timezone="India Standard Time")
mute("mute-removed-alarm", targets=("shop-old-pager",))
