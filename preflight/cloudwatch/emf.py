"""EMF ingestion as CloudWatch Logs does it.

Source: "Specification: Embedded metric format" (docs.aws.amazon.com/AmazonCloudWatch/latest/
monitoring/CloudWatch_Embedded_Metric_Format_Specification.html): a log event is one JSON object
(RFC 8259, so NaN or Infinity make it invalid); `_aws.CloudWatchMetrics` is an array of metric
directives, each with a Namespace, Dimensions (an array of DimensionSets, at most 30 keys each:
"Every DimensionSet used creates a new metric") and Metrics (names whose values are root members,
a number or an array of numbers, each element a sample); a dimension key MUST name a root member
holding a string. A document that breaks a MUST is not turned into metrics at all: `strict=True`
raises InvalidEmf instead, for tests that require the library to print only valid documents.
"""

from __future__ import annotations

import json
from typing import Any

from preflight.cloudwatch.store import MetricKey, MetricStore, metric_key

MAX_DIMENSIONS = 30


class InvalidEmf(ValueError):
    pass


def _no_constants(token: str) -> Any:
    raise InvalidEmf(f"{token} is not JSON")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_document(line: str) -> dict[str, Any]:
    """One log line as an EMF document."""
    try:
        document = json.loads(line, parse_constant=_no_constants)
    except json.JSONDecodeError as error:
        raise InvalidEmf(f"not JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("_aws"), dict):
        raise InvalidEmf("not an EMF document: no _aws object")
    return document


def extract(document: dict[str, Any]) -> list[tuple[MetricKey, list[float]]]:
    """Every metric one EMF document creates, with its samples."""
    directives = document["_aws"].get("CloudWatchMetrics")
    if not isinstance(directives, list):
        raise InvalidEmf("_aws.CloudWatchMetrics is not an array")
    metrics = []
    for directive in directives:
        namespace = directive.get("Namespace") if isinstance(directive, dict) else None
        dimension_sets = directive.get("Dimensions") if isinstance(directive, dict) else None
        definitions = directive.get("Metrics") if isinstance(directive, dict) else None
        if not isinstance(namespace, str) or not isinstance(dimension_sets, list) or not isinstance(definitions, list):
            raise InvalidEmf("a metric directive needs a Namespace string and Dimensions and Metrics arrays")
        for dimension_set in dimension_sets:
            if not isinstance(dimension_set, list) or len(dimension_set) > MAX_DIMENSIONS:
                raise InvalidEmf(f"a DimensionSet is an array of at most {MAX_DIMENSIONS} keys")
            values = {k: document.get(k) for k in dimension_set}
            for key, value in values.items():
                if not isinstance(value, str):
                    raise InvalidEmf(f"dimension {key} is not a string member of the root")
            for definition in definitions:
                name = definition.get("Name") if isinstance(definition, dict) else None
                target = document.get(name) if isinstance(name, str) else None
                samples = target if isinstance(target, list) else [target]
                if not samples or not all(_is_number(s) for s in samples):
                    raise InvalidEmf(f"metric {name} is not a number or an array of numbers")
                metrics.append((metric_key(namespace, name, values), [float(s) for s in samples]))
    return metrics


def units(document: dict[str, Any]) -> dict[MetricKey, str]:
    """The `Unit` each metric of a (valid) document declares; a metric without one has none."""
    declared = {}
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            values = {k: document[k] for k in dimension_set}
            for definition in directive["Metrics"]:
                if isinstance(definition.get("Unit"), str):
                    declared[metric_key(directive["Namespace"], definition["Name"], values)] = definition["Unit"]
    return declared


def metric_units(text: str) -> dict[MetricKey, str]:
    """The units the valid EMF documents in a Lambda's log output declare."""
    return {key: unit for document, _ in _read(text, False) for key, unit in units(document).items()}


def _candidates(text: str) -> list[str]:
    """Log output of a Lambda: the lines that are JSON objects mentioning `_aws`."""
    return [line for line in (raw.strip() for raw in text.splitlines()) if line.startswith("{") and '"_aws"' in line]


def _read(text: str, strict: bool) -> list[tuple[dict[str, Any], list[tuple[MetricKey, list[float]]]]]:
    read = []
    for line in _candidates(text):
        try:
            document = parse_document(line)
            read.append((document, extract(document)))
        except InvalidEmf:
            if strict:
                raise
    return read


def documents(text: str, strict: bool = False) -> list[dict[str, Any]]:
    """The valid EMF documents in a Lambda's log output; an invalid one is dropped, or raises when strict."""
    return [document for document, _ in _read(text, strict)]


def metrics_in(text: str, strict: bool = False) -> list[tuple[MetricKey, list[float]]]:
    """Every metric CloudWatch would extract from a Lambda's log output, with its samples."""
    return [metric for _, metrics in _read(text, strict) for metric in metrics]


def ingest(store: MetricStore, metrics: list[tuple[MetricKey, list[float]]], minute: int, repeat: float = 1) -> None:
    for key, samples in metrics:
        for sample in samples:
            store.put(key, minute, sample, repeat)


def ingest_log_lines(store: MetricStore, text: str, minute: int, repeat: float = 1) -> int:
    """Ingests every EMF document in a Lambda's log output (as `repeat` identical records each);
    returns how many metrics they created."""
    read = _read(text, False)
    metrics = [metric for _, extracted in read for metric in extracted]
    ingest(store, metrics, minute, repeat)
    for document, _ in read:
        for key, unit in units(document).items():
            store.set_unit(key, unit)
    return len(metrics)
