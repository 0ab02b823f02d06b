"""EMF ingestion as CloudWatch Logs does it, for the tests that read what the library prints.

Per the embedded metric format specification (docs.aws.amazon.com/AmazonCloudWatch/latest/
monitoring/CloudWatch_Embedded_Metric_Format_Specification.html): a log event is one JSON object
(RFC 8259, so NaN or Infinity make it invalid); `_aws.CloudWatchMetrics` is an array of metric
directives, each with a Namespace, Dimensions (an array of DimensionSets: each array of keys makes
one metric per metric name, with exactly those dimensions) and Metrics (names whose values are
root members, numbers or arrays of numbers); a dimension key must name a root member holding a string.
"""

from __future__ import annotations

import json
import numbers
from typing import Any

Metric = tuple[str, str, frozenset[tuple[str, str]]]


class InvalidEmf(ValueError):
    pass


def _no_constants(token: str) -> Any:
    raise InvalidEmf(f"{token} is not JSON")


def parse_event(line: str) -> dict[str, Any]:
    record = json.loads(line, parse_constant=_no_constants)
    if not isinstance(record, dict) or "_aws" not in record:
        raise InvalidEmf("not an EMF document")
    return record


def metrics_of(record: dict[str, Any]) -> list[tuple[Metric, list[float]]]:
    """(namespace, name, dimensions) with the values, one entry per dimension set and metric."""
    found = []
    for directive in record["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            if len(dimension_set) > 30:
                raise InvalidEmf("more than 30 dimensions")
            dims = []
            for key in dimension_set:
                if not isinstance(record.get(key), str):
                    raise InvalidEmf(f"dimension {key} is not a string member of the root")
                dims.append((key, record[key]))
            for metric in directive["Metrics"]:
                value = record[metric["Name"]]
                values = value if isinstance(value, list) else [value]
                if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
                    raise InvalidEmf(f"{metric['Name']} is not a number")
                found.append(((directive["Namespace"], metric["Name"], frozenset(dims)), values))
    return found


def ingest(output: str) -> list[tuple[Metric, list[float]]]:
    """Every metric datapoint CloudWatch would extract from a function's stdout."""
    found = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            found += metrics_of(parse_event(line))
    return found


def records(output: str) -> list[dict[str, Any]]:
    return [parse_event(line) for line in output.splitlines() if line.startswith("{") and '"_aws"' in line]
