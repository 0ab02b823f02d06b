"""One EMF record through Powertools, with exactly the dimension sets the caller names.

Powertools adds a `service` dimension to every record when POWERTOOLS_SERVICE_NAME is set (or a
service is passed). CloudWatch makes one metric per dimension set, so `[Environment, service]` is a
different metric from the `[Environment]` the alarms read; passing an empty service here keeps
Powertools from adding it, whatever the function's environment says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

NO_SERVICE_DIMENSION = ""


def emit(namespace: str, dimension_sets: Sequence[Mapping[str, str]],
         values: Mapping[str, tuple[float, MetricUnit]], properties: Mapping[str, Any]) -> None:
    """Prints one record: every metric in `values` under every set of `dimension_sets`; the
    properties are plain fields (searchable in Logs Insights, no metric charge)."""
    record = EphemeralMetrics(namespace=namespace, service=NO_SERVICE_DIMENSION)
    first, *others = dimension_sets
    for name, value in first.items():
        record.add_dimension(name=name, value=value)
    for extra in others:
        record.add_dimensions(**extra)
    for name, (value, unit) in values.items():
        record.add_metric(name=name, unit=unit, value=value)
    for key, value in properties.items():
        if value is not None:
            record.add_metadata(key=key, value=value)
    record.flush_metrics()
