"""EMF ingestion as CloudWatch Logs does it.

Source: "Specification: Embedded metric format" (docs.aws.amazon.com/AmazonCloudWatch/latest/
monitoring/CloudWatch_Embedded_Metric_Format_Specification.html): each DimensionSet listed in a
MetricDirective's `Dimensions` creates its own metric ("Every DimensionSet used creates a new metric"),
dimension values are the root members named by the set and MUST be strings, a metric's target is a
number or an array of numbers (each element a sample), and a document that breaks a MUST is not
turned into metrics.
"""

from __future__ import annotations

import json
from typing import Any

from preflight.simulation.store import MetricKey, MetricStore, metric_key


def _directives(document: Any) -> list[dict[str, Any]]:
    aws = document.get("_aws") if isinstance(document, dict) else None
    directives = aws.get("CloudWatchMetrics") if isinstance(aws, dict) else None
    if not isinstance(directives, list):
        return []
    return [d for d in directives if isinstance(d, dict)]


def extract(document: dict[str, Any]) -> list[tuple[MetricKey, list[float]]]:
    """Every metric one EMF document creates, with its samples."""
    metrics = []
    for directive in _directives(document):
        namespace = directive.get("Namespace")
        dimension_sets = directive.get("Dimensions")
        if not isinstance(namespace, str) or not isinstance(dimension_sets, list):
            continue
        for dimension_set in dimension_sets:
            values = {k: document.get(k) for k in dimension_set}
            if not all(isinstance(v, str) for v in values.values()):
                continue
            for definition in directive.get("Metrics", []):
                target = document.get(definition.get("Name")) if isinstance(definition, dict) else None
                samples = target if isinstance(target, list) else [target]
                if not samples or not all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in samples):
                    continue
                metrics.append((metric_key(namespace, definition["Name"], values), [float(s) for s in samples]))
    return metrics


def documents(text: str) -> list[dict[str, Any]]:
    """Log output of a Lambda: the lines that are JSON objects with `_aws` are EMF documents."""
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(document, dict):
            found.append(document)
    return found


def ingest(store: MetricStore, metrics: list[tuple[MetricKey, list[float]]], minute: int, repeat: float = 1) -> None:
    for key, samples in metrics:
        for sample in samples:
            store.put(key, minute, sample, repeat)


def ingest_log_lines(store: MetricStore, text: str, minute: int, repeat: float = 1) -> int:
    """Ingests every EMF document in a Lambda's log output (as `repeat` identical records each);
    returns how many metrics they created."""
    metrics = [m for document in documents(text) for m in extract(document)]
    ingest(store, metrics, minute, repeat)
    return len(metrics)
