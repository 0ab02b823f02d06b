"""Can an alarm fire at all under the traffic the emulator plays? Read from its definition and the
baseline drills' metrics, without a fault:

- a volume guard (`IF(FILL(m, 0) >= N, ...)`, the sum `FILL(a, 0) + FILL(b, 0) >= N`) must be met in
  M of N consecutive periods (the alarm's datapoints to alarm of its evaluation periods) of some
  baseline;
- a failure count (`Errors > 5` a minute, 3 of 5) must be reachable by the traffic it counts failures
  of: if every invocation failed, would there be enough? A failure count never exceeds the events it
  is a failure of (BOUNDED_BY: same namespace and dimensions). A guard on such a count (the low-volume
  error rate's `FILL(errors, 0) >= 3`) is read against the same bound.

Counts of what attackers do (failed logins, fraud attempts: FROM_OUTSIDE) have no such bound, and a
guard on them (an attack is at least 20 failed logins in 5 minutes) is not read against the parents'
traffic. Latencies, gauges and silence alarms have no volume to check; the drills show whether they
fire."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Optional

from preflight.cloudwatch.cloudwatch import MetricAlarmDefinition
from preflight.cloudwatch.store import MetricKey
from preflight.drill.runner import DrillResult

# failure count -> the count of the events it is a failure of.
BOUNDED_BY = {
    "Errors": "Invocations", "Throttles": "Invocations", "5XXError": "Count", "4XXError": "Count",
    "PaymentErrors": "PaymentAttempts", "PaymentFailures": "PaymentAttempts",
    "AsyncEventsDropped": "AsyncEventsReceived", "DeadLetterErrors": "AsyncEventsReceived",
}
FROM_OUTSIDE = ("FailedLogins", "FraudAttempts")
FILLED = r"FILL\(\s*\w+\s*,\s*0\s*\)"
# A guard: a sum of filled queries compared with a constant, as the whole operand of IF, AND or OR.
GUARD = re.compile(rf"(?:^|(?<=[(,])|(?<=AND )|(?<=OR ))\s*((?:{FILLED}\s*\+\s*)*{FILLED})\s*(>=|>)\s*(\d+(?:\.\d*)?)")
COMPARE = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b}
GREATER = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">="}


@dataclasses.dataclass(frozen=True)
class Check:
    """One volume the alarm needs: `what` (read by a person), `needed`, and the busiest the baselines reach."""

    what: str
    operator: str
    needed: float
    busiest: Optional[float]  # None: no baseline holds that many periods
    drill: str

    @property
    def reachable(self) -> bool:
        return self.busiest is not None and COMPARE[self.operator](self.busiest, self.needed)


@dataclasses.dataclass(frozen=True)
class _Term:
    ids: tuple[str, ...]
    operator: str
    needed: float


def _label(key: MetricKey) -> str:
    namespace, name, dims = key
    return f"{namespace} {name} {{{', '.join(f'{k}={v}' for k, v in sorted(dims))}}}"


def _source(definition: MetricAlarmDefinition, query_id: str) -> tuple[MetricKey, str, int, bool]:
    """A query's metric, or the count that bounds it when it counts failures (True)."""
    (namespace, name, dims), stat, period = definition.metrics[query_id]
    if stat == "Sum" and name in BOUNDED_BY:
        return (namespace, BOUNDED_BY[name], dims), "Sum", period, True
    return (namespace, name, dims), stat, period, False


def _terms(definition: MetricAlarmDefinition) -> list[_Term]:
    terms = []
    for query in definition.props.get("metricQueries") or []:
        for match in GUARD.finditer(query.get("expression") or ""):
            ids = tuple(re.findall(r"FILL\(\s*(\w+)", match.group(1)))
            if all(i in definition.metrics for i in ids) and not any(
                    definition.metrics[i][0][1] in FROM_OUTSIDE for i in ids):
                terms.append(_Term(ids, match.group(2), float(match.group(3))))
    return terms


def _windows(result: DrillResult, step: int) -> list[int]:
    first, last = result.start_minute + 1, result.start_minute + result.drill.minutes
    return [end for end in range(first, last + 1) if end % step == 0]


def _busiest(values: Sequence[float], m: int, n: int) -> Optional[float]:
    """The largest value that M of some N consecutive periods all reach; None with fewer than M periods."""
    if len(values) < m:
        return None
    n = min(n, len(values))
    return max(sorted(values[i:i + n], reverse=True)[m - 1] for i in range(len(values) - n + 1))


def can_fire(definition: MetricAlarmDefinition, baselines: Sequence[DrillResult]) -> list[Check]:
    """The volumes the alarm needs and the busiest each reaches in a baseline; [] when nothing bounds it."""
    props = definition.props
    n = int(props["evaluationPeriods"])
    m = int(props.get("datapointsToAlarm") or n)
    step = max(definition.period // 60, 1)
    wanted: list[tuple[str, str, float, list[tuple[MetricKey, str, int]]]] = []
    for term in _terms(definition):
        sources = [_source(definition, i) for i in term.ids]
        bounded = " (every event a failure)" if any(s[3] for s in sources) else ""
        what = (f"volume guard {' + '.join(f'FILL({i}, 0)' for i in term.ids)} {term.operator} {term.needed:g} "
                f"({' + '.join(_label(s[0]) for s in sources)}{bounded})")
        wanted.append((what, term.operator, term.needed, [s[:3] for s in sources]))
    if props.get("metricName") and props.get("comparisonOperator") in GREATER:
        key, stat, period, bounded = _source(definition, "")
        if bounded:
            wanted.append((f"threshold {GREATER[props['comparisonOperator']]} {float(props['threshold']):g} "
                           f"({_label(definition.metrics[''][0])}, at most {_label(key)})",
                           GREATER[props["comparisonOperator"]], float(props["threshold"]), [(key, stat, period)]))
    checks = []
    for what, operator, needed, sources in wanted:
        best: Optional[float] = None
        where = ""
        for result in baselines:
            ends = _windows(result, step)
            values = [sum(result.store.datapoint(key, stat, end, period) or 0.0 for key, stat, period in sources)
                      for end in ends]
            value = _busiest(values, m, n)
            if value is not None and (best is None or value > best):
                best, where = value, result.drill.name
        checks.append(Check(f"{what} in {m} of {n} periods of {definition.period // 60} min", operator, needed,
                            best, where))
    return checks


def unreachable(checks: Sequence[Check]) -> Optional[str]:
    """A person's sentence for the first volume the traffic never reaches, if any."""
    for check in checks:
        if check.busiest is None:
            return f"{check.what}: no baseline drill holds that many periods"
        if not check.reachable:
            return (f"{check.what}: the busiest such periods reach {check.busiest:g} ({check.drill}), "
                    f"needs {check.operator} {check.needed:g}")
    return None
