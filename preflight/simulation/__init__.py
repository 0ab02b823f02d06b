"""A model of CloudWatch for incident drills: metric store, EMF ingestion, metric math, metric and
composite alarm evaluation, and actions (pages per tier topic)."""

from preflight.simulation.evaluation import evaluate_alarm

__all__ = ["evaluate_alarm"]
