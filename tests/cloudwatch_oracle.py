"""What CloudWatch does with an alarm, as far as the catalogue's behaviour tests need it.

Sources (Amazon CloudWatch User Guide, awsdocs/amazon-cloudwatch-user-guide):
- doc_source/using-metric-math.md: arithmetic treats a missing value as 0 where the other operand
  has one ("Missing values in a time series are treated as 0"), division by zero drops the point;
  comparisons between two series treat the one missing value as 0; IF(condition, a, b) takes a (a
  missing a is 0) or b (a missing or omitted b drops the point) and drops points where the condition
  has none; FILL replaces missing values; HOUR / MINUTE / DAY return a non-sparse series from the
  timestamps (UTC; DAY 1 = Monday).
- doc_source/AlarmThatSendsEmail.md: M out of N, the four treatMissingData settings.
- API reference, CompositeAlarm: ActionsSuppressor, WaitPeriod ("waits for the suppressor alarm to go
  into the ALARM state ... After this time, the composite alarm performs its actions"),
  ExtensionPeriod ("waits after the suppressor alarm goes out of the ALARM state").

Never kinder than the real thing: where the guide's "missing values are treated as 0" for arithmetic
might not hold (issue 11 reports ratios going quiet), `strict=True` drops such points instead, and
the tests require the right behaviour under both readings. The full model, with evaluation ranges,
is preflight.simulation; this one evaluates the most recent N datapoints.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Optional

Series = list[Optional[float]]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>>=|<=|==|!=|&&|\|\||[-+*/()<>,]))")


def _tokens(expression: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(expression):
        if not expression[pos:].strip():
            break
        match = _TOKEN.match(expression, pos)
        if not match:
            raise ValueError(f"cannot read {expression[pos:]!r}")
        tokens.append(match.group(match.lastgroup))
        pos = match.end()
    return tokens


@dataclasses.dataclass
class MathContext:
    series: Mapping[str, Series]
    times: Sequence[datetime]
    strict: bool = False


class _Parser:
    """Precedence, loosest first: OR, AND, comparison, + -, * /, unary -."""

    def __init__(self, expression: str, context: MathContext) -> None:
        self.tokens = _tokens(expression)
        self.i = 0
        self.ctx = context

    def parse(self) -> Series | float:
        value = self._or()
        if self.i != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.i]!r}")
        return value

    def _peek(self) -> Optional[str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self, expected: Optional[str] = None) -> str:
        token = self.tokens[self.i]
        if expected is not None and token != expected:
            raise ValueError(f"expected {expected!r}, got {token!r}")
        self.i += 1
        return token

    def _binary(self, operators: dict[str, Callable[[float, float], Optional[float]]],
                operand: Callable[[], Series | float], kind: str) -> Series | float:
        left = operand()
        while self._peek() in operators:
            op = operators[self._take()]
            left = self._combine(left, operand(), op, kind)
        return left

    def _or(self) -> Series | float:
        return self._binary({"OR": _or, "||": _or}, self._and, "compare")

    def _and(self) -> Series | float:
        return self._binary({"AND": _and, "&&": _and}, self._compare, "compare")

    def _compare(self) -> Series | float:
        return self._binary(COMPARISONS, self._sum, "compare")

    def _sum(self) -> Series | float:
        return self._binary({"+": lambda a, b: a + b, "-": lambda a, b: a - b}, self._product, "arithmetic")

    def _product(self) -> Series | float:
        return self._binary({"*": lambda a, b: a * b, "/": _divide}, self._unary, "arithmetic")

    def _unary(self) -> Series | float:
        if self._peek() == "-":
            self._take()
            return self._combine(-1.0, self._unary(), lambda a, b: a * b, "arithmetic")
        return self._atom()

    def _atom(self) -> Series | float:
        token = self._take()
        if token == "(":
            value = self._or()
            self._take(")")
            return value
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return float(token)
        if self._peek() == "(":
            self._take("(")
            args = [self._or()]
            while self._peek() == ",":
                self._take(",")
                args.append(self._or())
            self._take(")")
            return self._call(token, args)
        return list(self.ctx.series[token])

    def _call(self, name: str, args: list[Series | float]) -> Series | float:
        n = len(self.ctx.times)
        if name == "FILL":
            series, value = args
            return [v if v is not None else _at(value, i) for i, v in enumerate(_as_series(series, n))]
        if name in ("HOUR", "MINUTE", "DAY"):
            pick = {"HOUR": lambda t: t.hour, "MINUTE": lambda t: t.minute, "DAY": lambda t: t.isoweekday()}[name]
            return [float(pick(t)) for t in self.ctx.times]
        if name == "IF":
            condition = _as_series(args[0], n)
            true, false = args[1], args[2] if len(args) > 2 else None
            out: Series = []
            for i, c in enumerate(condition):
                if c is None:
                    out.append(None)
                elif c != 0:
                    out.append(_at(true, i) if _at(true, i) is not None else 0.0)
                else:
                    out.append(_at(false, i) if false is not None else None)
            return out
        raise ValueError(f"function {name} is not modelled")

    def _combine(self, left: Series | float, right: Series | float,
                 op: Callable[[float, float], Optional[float]], kind: str) -> Series | float:
        if isinstance(left, float) and isinstance(right, float):
            return op(left, right)
        n = len(self.ctx.times)
        out: Series = []
        for a, b in zip(_as_series(left, n), _as_series(right, n), strict=True):
            both_series = isinstance(left, list) and isinstance(right, list)
            if a is None and b is None:
                out.append(None)
            elif (a is None or b is None) and (not both_series or (kind == "arithmetic" and self.ctx.strict)):
                out.append(None)
            else:
                out.append(op(a if a is not None else 0.0, b if b is not None else 0.0))
        return out


def _at(value: Series | float | None, i: int) -> Optional[float]:
    return value if not isinstance(value, list) else value[i]


def _as_series(value: Series | float, n: int) -> Series:
    return value if isinstance(value, list) else [value] * n


def _divide(a: float, b: float) -> Optional[float]:
    return None if b == 0 else a / b


def _or(a: float, b: float) -> float:
    return float(bool(a) or bool(b))


def _and(a: float, b: float) -> float:
    return float(bool(a) and bool(b))


COMPARISONS: dict[str, Callable[[float, float], Optional[float]]] = {
    ">=": lambda a, b: float(a >= b), "<=": lambda a, b: float(a <= b), ">": lambda a, b: float(a > b),
    "<": lambda a, b: float(a < b), "==": lambda a, b: float(a == b), "!=": lambda a, b: float(a != b),
}


def alarm_series(alarm: Mapping, metrics: Mapping[str, Series], times: Sequence[datetime],
                 strict: bool = False) -> Series:
    """The series an alarm compares with its threshold: its metric, or its returned expression.
    `metrics` maps query ids (or "metric" for a single-metric alarm) to per-period values."""
    queries = alarm.get("metricQueries")
    if not queries:
        return list(metrics["metric"])
    series: dict[str, Series] = {q["id"]: list(metrics[q["id"]]) for q in queries if q.get("metric")}
    context = MathContext(series, times, strict)
    returned = [q for q in queries if q.get("returnData") and q["id"] != alarm.get("thresholdMetricId")]
    for q in queries:
        if q.get("expression") and "ANOMALY_DETECTION_BAND" not in q["expression"]:
            value = _Parser(q["expression"], context).parse()
            series[q["id"]] = _as_series(value, len(times))
    [result] = returned
    return series[result["id"]]


def breaching(alarm: Mapping, value: float) -> bool:
    threshold = alarm["threshold"]
    return {
        "GreaterThanThreshold": value > threshold, "GreaterThanOrEqualToThreshold": value >= threshold,
        "LessThanThreshold": value < threshold, "LessThanOrEqualToThreshold": value <= threshold,
    }[alarm["comparisonOperator"]]


def state(alarm: Mapping, series: Series, previous: str = "OK") -> str:
    """The alarm's state after evaluating the last N datapoints (oldest first)."""
    n, m = alarm["evaluationPeriods"], alarm.get("datapointsToAlarm", alarm["evaluationPeriods"])
    window = series[-n:]
    existing = [v for v in window if v is not None]
    missing = alarm.get("treatMissingData", "missing")
    if len(existing) < len(window):
        if missing == "ignore" and not existing:
            return previous
        if missing in ("missing", "ignore"):
            if not existing:
                return "INSUFFICIENT_DATA"
            return "ALARM" if sum(breaching(alarm, v) for v in existing) >= min(m, len(existing)) else "OK"
    count = sum(breaching(alarm, v) if v is not None else missing == "breaching" for v in window)
    return "ALARM" if count >= m else "OK"


def states_over_time(alarm: Mapping, series: Series) -> list[str]:
    """The state after each period, evaluating a sliding window."""
    return [state(alarm, series[: i + 1]) for i in range(len(series))]


# ---- composite alarms and pages -------------------------------------------------------------

_RULE = re.compile(r'\s*(?:(?P<p>[()])|(?P<op>AND|OR|NOT)\b|(?P<c>TRUE|FALSE)\b'
                   r'|(?P<fn>ALARM|OK|INSUFFICIENT_DATA)\("(?P<n>[^"]+)"\))')


def rule_holds(rule: str, states: Mapping[str, str]) -> bool:
    """The composite alarm rule grammar: ALARM/OK/INSUFFICIENT_DATA("name"), AND, OR, NOT, ()."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(rule) and rule[pos:].strip():
        match = _RULE.match(rule, pos)
        assert match, rule[pos:]
        kind = match.lastgroup if match.lastgroup != "n" else "fn"
        if kind == "fn":
            tokens.append(("state", f'{match.group("fn")}|{match.group("n")}'))
        else:
            tokens.append((kind, match.group(kind)))
        pos = match.end()
    i = 0

    def expression() -> bool:
        nonlocal i
        value = term()
        while i < len(tokens) and tokens[i][0] == "op" and tokens[i][1] in ("AND", "OR"):
            op = tokens[i][1]
            i += 1
            right = term()
            value = (value and right) if op == "AND" else (value or right)
        return value

    def term() -> bool:
        nonlocal i
        kind, value = tokens[i]
        i += 1
        if (kind, value) == ("op", "NOT"):
            return not term()
        if (kind, value) == ("p", "("):
            inner = expression()
            i += 1
            return inner
        if kind == "c":
            return value == "TRUE"
        wanted, name = value.split("|")
        return states.get(name, "INSUFFICIENT_DATA") == wanted

    return expression()


def pages(composites: Sequence[Mapping], member_states: Sequence[Mapping[str, str]],
          topic_tier: Callable[[str], str], direct: Mapping[str, Sequence[str]] = ()) -> dict[str, int]:
    """ALARM notifications per tier when the metric alarms go through `member_states` (one mapping of
    alarm name -> state per minute). Composites are evaluated in dependency order each minute; a
    composite with alarm actions pages on entering ALARM unless its suppressor holds it: in ALARM,
    within the wait period (while the suppressor has not been in ALARM since), or within the
    extension period after the suppressor left ALARM; a held page is sent when the hold ends if the
    composite is still in ALARM. Metric alarms with actions (`direct`: name -> alarmActions) page on
    entering ALARM, whatever composite they are in."""
    counts: dict[str, int] = {}
    previous: dict[str, str] = {}
    pending: dict[str, int] = {}
    left_alarm_at: dict[str, int] = {}
    for minute, members in enumerate(member_states):
        states = dict(members)
        for composite in composites:
            states[composite["alarmName"]] = "ALARM" if rule_holds(composite["alarmRule"], states) else "OK"
        for name, value in previous.items():
            if value == "ALARM" and states.get(name) != "ALARM":
                left_alarm_at[name] = minute
        for name, actions in dict(direct).items():
            if states.get(name) == "ALARM" and previous.get(name) != "ALARM":
                for arn in actions:
                    counts[topic_tier(arn)] = counts.get(topic_tier(arn), 0) + 1
        for composite in composites:
            name = composite["alarmName"]
            if not composite.get("alarmActions"):
                continue
            if states[name] != "ALARM":
                pending.pop(name, None)
                continue
            if previous.get(name) != "ALARM":
                pending[name] = minute
            if name not in pending:
                continue
            suppressor = composite.get("actionsSuppressor") or {}
            holder = suppressor.get("alarm")
            held = False
            if holder:
                since = pending[name]
                wait = suppressor["waitPeriod"] // 60
                extension = suppressor["extensionPeriod"] // 60
                suppressor_alarmed = states.get(holder) == "ALARM"
                waiting = minute < since + wait
                extending = holder in left_alarm_at and minute < left_alarm_at[holder] + extension
                held = suppressor_alarmed or waiting or extending
            if not held:
                for arn in composite["alarmActions"]:
                    tier = topic_tier(arn)
                    counts[tier] = counts.get(tier, 0) + 1
                pending.pop(name)
        previous = states
    return counts
