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

import dataclasses
import difflib
from collections import defaultdict
from typing import Any, Optional

from preflight.account.findings import Finding, Level
from preflight.model.stack import MetricAlarm, MetricRef

Dimensions = frozenset[tuple[str, str]]
# A value this few characters away from the alarm's (and not another alarm's target) is a typo.
TYPO_EDITS = 2
# The dimension by which AWS/Lambda publishes a function's metrics.
FUNCTION_DIMENSION = "FunctionName"
# A finding that covers many metrics or functions names this many, then counts the rest.
LISTED = 10


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


def _listing(items: list[str], limit: int = LISTED) -> str:
    """Items joined by commas, the ones past `limit` counted: `a, b, c and 4 more`."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _read_by(alarms: set[str]) -> str:
    ordered = sorted(alarms)
    return (f"read by {len(ordered)} alarm{'s' if len(ordered) != 1 else ''}: "
            + ", ".join(ordered[:3]) + (", ..." if len(ordered) > 3 else ""))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


@dataclasses.dataclass
class _Unpublished:
    """Metrics not published in two weeks for one cause, by dimension set, and the alarms that read them."""

    names: dict[str, set[str]] = dataclasses.field(default_factory=lambda: defaultdict(set))
    nearest: dict[str, str] = dataclasses.field(default_factory=dict)  # a dimension set's nearest published
    alarms: set[str] = dataclasses.field(default_factory=set)
    resources: set[str] = dataclasses.field(default_factory=set)  # what the cause is about

    def add(self, metric: MetricRef, wanted: Dimensions, alarm: str, nearest: Optional[Dimensions] = None,
            resources: frozenset[str] = frozenset()) -> None:
        group = f"{metric.namespace} {{{_text(wanted)}}}"
        self.names[group].add(metric.name)
        if nearest is not None:
            self.nearest.setdefault(group, f" (nearest published: {{{_text(nearest)}}})")
        self.alarms.add(alarm)
        self.resources |= resources

    @property
    def metrics(self) -> int:
        return sum(len(names) for names in self.names.values())

    def listed(self) -> str:
        """`AWS/RDS {DBInstanceIdentifier=db}: CPUUtilization, ReadLatency; ...`: ten metric names, then a count."""
        parts, shown = [], 0
        for group in sorted(self.names):
            names = sorted(self.names[group])[:LISTED - shown]
            if not names:
                break
            shown += len(names)
            parts.append(f"{group}: {', '.join(names)}{self.nearest.get(group, '')}")
        return "; ".join(parts) + (f" and {self.metrics - shown} more" if self.metrics > shown else "")


def check_alarm_metrics(alarms: list[MetricAlarm], catalogue: MetricCatalogue, functions: set[str],
                        not_deployed: set[str], stack_file: str) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Per alarm, each metric it reads and whether it exists; the missing ones as one finding per cause.

    `functions` are the account's Lambda functions, `not_deployed` the names of resources this stack
    creates that the account does not hold yet. A metric not published in two weeks is, in this order:
    of a resource not deployed yet (info); published under other dimensions (blocking, one finding per
    dimension set: each needs its own correction); of a function the account does not have (one warning
    listing the functions); or really missing though its resources exist (one warning)."""
    metric_alarms = alarms
    # Dimension sets some alarm of the stack reads: never offered as another alarm's typo.
    targets: dict[tuple[str, str], set[Dimensions]] = defaultdict(set)
    for alarm in metric_alarms:
        for m in alarm.metrics:
            if m.dimensions is not None:
                targets[(m.namespace, m.name)].add(frozenset(m.dimensions))
    rows: list[dict[str, Any]] = []
    elsewhere: dict[tuple[str, Dimensions, Dimensions], list[tuple[str, str]]] = defaultdict(list)
    not_yet, no_function, unpublished = _Unpublished(), _Unpublished(), _Unpublished()
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
            function = dict(wanted).get(FUNCTION_DIMENSION)
            if own := frozenset(v for _, v in wanted) & not_deployed:
                not_yet.add(metric, wanted, alarm.name, resources=own)
            elif close is not None and _is_near_miss(wanted, close):
                elsewhere[(metric.namespace, wanted, close)].append((alarm.name, metric.name))
            elif function is not None and function not in functions:
                no_function.add(metric, wanted, alarm.name, resources=frozenset({function}))
            else:
                # A function that exists is named right: another function's metrics are no hint.
                unpublished.add(metric, wanted, alarm.name, close if function is None else None)
        rows.append({"alarm": alarm.name, "metrics": row})
    findings = [_elsewhere(namespace, wanted, close, reads) for (namespace, wanted, close), reads in elsewhere.items()]
    if no_function.names:
        names = sorted(no_function.resources)
        findings.append(Finding(
            Level.WARNING, "metric", f"{_plural(len(names), 'function')} not in the account",
            f"{_listing(names)}: no such function in this account and Region, so nothing publishes their "
            f"{_plural(no_function.metrics, 'metric')} ({_read_by(no_function.alarms)})",
            f"deploy {'it' if len(names) == 1 else 'them'}, or correct the name{'s' if len(names) != 1 else ''} "
            f"under inventory.lambdaGroups in {stack_file}"))
    if unpublished.names:
        findings.append(Finding(
            Level.WARNING, "metric", f"{_plural(unpublished.metrics, 'metric')} not published",
            f"{unpublished.listed()}: none in the last two weeks, so the alarms see no data "
            f"({_read_by(unpublished.alarms)})",
            "check the name and dimensions against what the service or the runtime library publishes"))
    if not_yet.names:
        findings.append(Finding(
            Level.INFO, "metric", f"{_plural(not_yet.metrics, 'metric')} of resources this stack creates",
            f"not published yet: {_plural(len(not_yet.resources), 'resource')} of this stack not in the account "
            f"(they appear once it is deployed and runs): {not_yet.listed()}"))
    return rows, findings


def _elsewhere(namespace: str, wanted: Dimensions, close: Dimensions, reads: list[tuple[str, str]]) -> Finding:
    names = ", ".join(sorted({name for _, name in reads}))
    read_by = _read_by({alarm for alarm, _ in reads})
    return Finding(Level.BLOCKING, "metric", f"{namespace} {{{_text(wanted)}}}",
                   f"{names} never published with these dimensions in two weeks, but as {{{_text(close)}}} "
                   f"({read_by})",
                   f"make the alarms' dimensions and the publisher's agree ({{{_text(close)}}} is what "
                   "the account receives)")
