"""A model of CloudWatch, generic (nothing of one platform in it): the metric store, EMF ingestion,
Logs metric filters, metric math, Metrics Insights queries, metric and composite alarm evaluation,
and actions (notifications per topic)."""

from preflight.cloudwatch.evaluation import evaluate_alarm

__all__ = ["evaluate_alarm"]
