"""Two Lambdas and one Metrics Insights fleet alarm whose WHERE clause leaves one of them out."""

import pulumi
from pulumi_aws import cloudwatch, lambda_

for name in ("covered-fn", "excluded-fn"):
    lambda_.Function(name, name=name, role="arn:aws:iam::123456789012:role/x", runtime="python3.12",
                     handler="h.handler", code=pulumi.AssetArchive({}))

cloudwatch.MetricAlarm(
    "fleet-errors", name="fleet-errors", comparison_operator="GreaterThanThreshold", threshold=1,
    evaluation_periods=5, datapoints_to_alarm=3, treat_missing_data="notBreaching",
    alarm_actions=["arn:aws:sns:ap-south-1:123456789012:alerts"],
    metric_queries=[cloudwatch.MetricAlarmMetricQueryArgs(
        id="q1", return_data=True, period=60, label="Errors per function",
        expression='SELECT SUM(Errors) FROM SCHEMA("AWS/Lambda", FunctionName) '
                   "WHERE FunctionName != 'excluded-fn' GROUP BY FunctionName ORDER BY SUM() DESC LIMIT 500",
    )],
)
