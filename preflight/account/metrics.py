"""Does each alarm's metric exist in the account, with exactly its dimensions?

A CloudWatch metric is namespace + name + the exact dimension set: an alarm on {FunctionName=x}
never sees datapoints published as {FunctionName=x, service=y}. ListMetrics returns the metrics
that received data in the past two weeks (its only recency filter, RecentlyActive=PT3H, narrows
that to three hours, which would miss hourly and daily metrics, so it is not used); its Dimensions
filter also matches metrics with *more* dimensions, so the exact comparison is done here. One
paginated ListMetrics per namespace, cached, answers every alarm on that namespace.
(AWS docs: CloudWatch API Reference, ListMetrics.)
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from typing import Any, Optional

from preflight.account.findings import Finding, Level
from preflight.model.stack import MetricAlarm

Dimensions = frozenset[tuple[str, str]]
# A value this few characters away from the alarm's (and not another alarm's target) is a typo.
TYPO_EDITS = 2


class MetricCatalogue:
    """The account's metrics, one ListMetrics listing per namespace."""

    def __init__(self, cloudwatch: Any) -> None:
        self.cloudwatch = cloudwatch
        self._namespaces: dict[str, dict[str, set[Dimensions]]] = {}

    def dimension_sets(self, namespace: str, name: str) -> set[Dimensions]:
        if namespace not in self._namespaces:
            listing: dict[str, set[Dimensions]] = defaultdict(set)
            for page in self.cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace):
                for metric in page["Metrics"]:
                    dims = frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
                    listing[metric["MetricName"]].add(dims)
            self._namespaces[namespace] = listing
        return self._namespaces[namespace].get(name, set())


def _text(dims: Dimensions) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(dims))


def edits(value: str, other: str) -> int:
    """Characters inserted, deleted or replaced to turn one string into the other (difflib's opcodes)."""
    return sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in
               difflib.SequenceMatcher(None, value, other, autojunk=False).get_opcodes() if op != "equal")


def is_typo(value: str, other: str) -> bool:
    return edits(value, other) <= TYPO_EDITS


def _is_near_miss(wanted: Dimensions, found: Dimensions) -> bool:
    """The same data under other dimensions: one set contains the other, or one value is a typo."""
    if wanted < found or found < wanted:
        return True
    wanted_keys, found_keys = {k for k, _ in wanted}, {k for k, _ in found}
    differing = wanted - found
    if wanted_keys != found_keys or len(differing) != 1:
        return False
    (key, value), = differing
    other = dict(found)[key]
    return is_typo(value, other)


def nearest(wanted: Dimensions, candidates: set[Dimensions]) -> Optional[Dimensions]:
    if not candidates:
        return None
    return max(sorted(candidates, key=_text),
               key=lambda c: difflib.SequenceMatcher(None, _text(wanted), _text(c)).ratio())


def check_alarm_metrics(alarms: list[MetricAlarm], catalogue: MetricCatalogue,
                        ) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Per alarm, each metric it reads and whether it exists; one finding per dimension set that is missing
    (a function that never ran is one finding, not one per alarm on it)."""
    metric_alarms = alarms
    # Dimension sets some alarm of the stack reads: never offered as another alarm's typo.
    targets: dict[tuple[str, str], set[Dimensions]] = defaultdict(set)
    for alarm in metric_alarms:
        for m in alarm.metrics:
            if m.dimensions is not None:
                targets[(m.namespace, m.name)].add(frozenset(m.dimensions))
    rows: list[dict[str, Any]] = []
    missing: dict[tuple[str, Dimensions, Optional[Dimensions]], list[tuple[str, str]]] = defaultdict(list)
    not_yet: set[str] = set()
    for alarm in metric_alarms:
        row = []
        for metric in alarm.metrics:
            if metric.dimensions is None:
                row.append({"namespace": metric.namespace, "metricName": metric.name, "dimensions": None,
                            "exists": None, "nearest": None})
                continue
            wanted = frozenset(metric.dimensions)
            published = catalogue.dimension_sets(metric.namespace, metric.name)
            exists = wanted in published
            others = {c for c in published if c not in targets[(metric.namespace, metric.name)]}
            close = nearest(wanted, others) if not exists else None
            row.append({"namespace": metric.namespace, "metricName": metric.name, "dimensions": dict(wanted),
                        "exists": exists, "nearest": dict(close) if close is not None else None})
            if exists:
                continue
            if metric.of_stack_resource:
                not_yet.add(metric.label())
            else:
                missing[(metric.namespace, wanted, close)].append((alarm.name, metric.name))
        rows.append({"alarm": alarm.name, "metrics": row})
    findings = [_missing(namespace, wanted, close, reads) for (namespace, wanted, close), reads in missing.items()]
    if not_yet:
        findings.append(Finding(Level.INFO, "metric", f"{len(not_yet)} metrics of resources this stack creates",
                                "not published yet (they appear once the stack is deployed and runs)"))
    return rows, findings


def _missing(namespace: str, wanted: Dimensions, close: Optional[Dimensions],
             reads: list[tuple[str, str]]) -> Finding:
    names = ", ".join(sorted({name for _, name in reads}))
    alarms = sorted({alarm for alarm, _ in reads})
    read_by = (f"read by {len(alarms)} alarm{'s' if len(alarms) != 1 else ''}: "
               + ", ".join(alarms[:3]) + (", ..." if len(alarms) > 3 else ""))
    subject = f"{namespace} {{{_text(wanted)}}}"
    if close is not None and _is_near_miss(wanted, close):
        return Finding(Level.BLOCKING, "metric", subject,
                       f"{names} never published with these dimensions in two weeks, but as {{{_text(close)}}} "
                       f"({read_by})",
                       f"make the alarms' dimensions and the publisher's agree ({{{_text(close)}}} is what "
                       "the account receives)")
    hint = f"; nearest published: {{{_text(close)}}}" if close is not None else ""
    return Finding(Level.WARNING, "metric", subject,
                   f"{names} not published in the last two weeks: the alarms see no data{hint} ({read_by})",
                   "check the name and dimensions against what the service or the runtime library publishes")
