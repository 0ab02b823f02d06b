"""Metric math over aligned time series, as "Using metric math" describes it.

Between two series, a value missing from one where the other has a datapoint counts as 0 ("Missing
values in a time series are treated as 0"; comparisons treat "the missing value in the other time
series as 0"); a division by zero drops the datapoint; a series with a scalar keeps its gaps.
Comparisons and logical operators give 1 or 0. IF(cond, a, b) per datapoint of the condition: a (0
where a has no datapoint) or b (dropped where b has none or is omitted); no condition point, no point.
`Evaluator(strict_arithmetic=True)` reads the page less kindly: arithmetic between two series drops a
timestamp one of them lacks instead of counting it as 0, so the alarm tests can prove the catalogue's
ratios hold under either reading (a ratio must not go quiet when a series has no datapoint).
FILL(m, value | REPEAT | LINEAR) fills the missing datapoints of the query's range.
ANOMALY_DETECTION_BAND(m, k) asks the band model for (lower, upper) per datapoint, of a metric or of an
expression (`ExpressionSource`). MINUTE, HOUR, DAY,
DATE, MONTH, YEAR and EPOCH give each datapoint's timestamp (every period of the range, UTC).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any, Optional, Union


@dataclasses.dataclass(frozen=True)
class ExpressionSource:
    """The input of ANOMALY_DETECTION_BAND when it is an expression over several metrics: the detector is
    trained on the expression's own series (API reference, MetricMathAnomalyDetector: "the CloudWatch math
    expression that provides the time series the anomaly detector uses as input"). `inputs` names the
    source of each metric query the expression reads."""

    expression: str
    inputs: tuple[tuple[str, Any], ...]
    period: int


Series = list[Optional[Any]]
Value = Union[float, Series]
BandModel = Callable[[Any, float, int], tuple[float, float]]

TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|&&|\|\||[-+*/^(),<>!]))")

BINARY = {
    "+": operator.add, "-": operator.sub, "*": operator.mul,
    "/": lambda a, b: None if b == 0 else a / b,
    "^": lambda a, b: a ** b,
    "<": lambda a, b: float(a < b), "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b), ">=": lambda a, b: float(a >= b),
    "==": lambda a, b: float(a == b), "!=": lambda a, b: float(a != b),
    "AND": lambda a, b: float(bool(a) and bool(b)), "OR": lambda a, b: float(bool(a) or bool(b)),
}
ARITHMETIC = frozenset("+-*/^")
ALIASES = {"&&": "AND", "||": "OR"}
PRECEDENCE = {"OR": 1, "AND": 2, "<": 3, "<=": 3, ">": 3, ">=": 3, "==": 3, "!=": 3,
              "+": 4, "-": 4, "*": 5, "/": 5, "^": 6}


# "These functions take the period and range of the time series and return a new non-sparse time
# series where each value is based on its timestamp" (UTC); DAY is 1 (Monday) to 7 (Sunday).
TIME_FUNCTIONS: dict[str, Callable[[dt.datetime], float]] = {
    "MINUTE": lambda t: float(t.minute), "HOUR": lambda t: float(t.hour), "DAY": lambda t: float(t.isoweekday()),
    "DATE": lambda t: float(t.day), "MONTH": lambda t: float(t.month), "YEAR": lambda t: float(t.year),
    "EPOCH": lambda t: t.timestamp(),
}


class MathError(ValueError):
    pass


@functools.cache
def tokenize(expression: str) -> tuple[str, ...]:
    tokens, position = [], 0
    while position < len(expression):
        match = TOKEN.match(expression, position)
        if not match or match.end() == position:
            if expression[position:].strip() == "":
                break
            raise MathError(f"cannot read {expression[position:]!r} in {expression!r}")
        symbol = match.group(1) or match.group(2) or match.group(3)
        tokens.append(ALIASES.get(symbol, symbol.upper() if symbol.upper() in ("AND", "OR", "NOT") else symbol))
        position = match.end()
    return tuple(tokens)


def _combine(fn: Callable[[Any, Any], Any], a: Value, b: Value, length: int, drop_gaps: bool = False) -> Value:
    if not isinstance(a, list) and not isinstance(b, list):
        return fn(a, b)
    if not isinstance(a, list) or not isinstance(b, list):
        # A series with a scalar: a timestamp without a datapoint stays without one.
        left = a if isinstance(a, list) else [a] * length
        right = b if isinstance(b, list) else [b] * length
        return [None if x is None or y is None else fn(x, y) for x, y in zip(left, right, strict=True)]
    # Two series: "Missing values in a time series are treated as 0" (arithmetic), and a comparison
    # "treats the missing value in the other time series as 0"; a timestamp neither has stays missing.
    if drop_gaps:
        return [None if x is None or y is None else fn(x, y) for x, y in zip(a, b, strict=True)]
    return [None if x is None and y is None else fn(0.0 if x is None else x, 0.0 if y is None else y)
            for x, y in zip(a, b, strict=True)]


Node = tuple


class _Parser:
    """Expression text -> a small tree of tuples: (num, v), (id, name), (word, w), (bin, op, a, b),
    (neg, a), (not, a), (call, NAME, [args])."""

    def __init__(self, expression: str) -> None:
        self.tokens, self.position, self.text = tokenize(expression), 0, expression

    def parse(self) -> Node:
        node = self._expression(0)
        if self.position != len(self.tokens):
            raise MathError(f"unexpected {self.tokens[self.position]!r} in {self.text!r}")
        return node

    def _peek(self) -> Optional[str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, expected: Optional[str] = None) -> str:
        symbol = self._peek()
        if symbol is None or (expected is not None and symbol != expected):
            raise MathError(f"expected {expected or 'more'} in {self.text!r}")
        self.position += 1
        return symbol

    def _expression(self, min_precedence: int) -> Node:
        left = self._unary()
        while (symbol := self._peek()) in PRECEDENCE and PRECEDENCE[symbol] > min_precedence:
            self._take()
            # ^ is right-associative; everything else left-associative.
            right = self._expression(PRECEDENCE[symbol] - (1 if symbol == "^" else 0))
            left = ("bin", symbol, left, right)
        return left

    def _unary(self) -> Node:
        symbol = self._peek()
        if symbol == "-":
            self._take()
            return ("neg", self._unary())
        if symbol in ("!", "NOT"):
            self._take()
            return ("not", self._unary())
        return self._primary()

    def _primary(self) -> Node:
        symbol = self._take()
        if symbol == "(":
            node = self._expression(0)
            self._take(")")
            return node
        if re.fullmatch(r"\d+(?:\.\d*)?|\.\d+", symbol):
            return ("num", float(symbol))
        if self._peek() == "(":
            self._take("(")
            args = [] if self._peek() == ")" else self._arguments()
            self._take(")")
            return ("call", symbol.upper(), args)
        if symbol in ("REPEAT", "LINEAR"):
            return ("word", symbol)
        return ("id", symbol)

    def _arguments(self) -> list[Node]:
        args = [self._expression(0)]
        while self._peek() == ",":
            self._take(",")
            args.append(self._expression(0))
        return args


@functools.cache
def parse(expression: str) -> Node:
    return _Parser(expression).parse()


class Evaluator:
    """Evaluates expressions against the already computed series of the other queries."""

    def __init__(self, series: dict[str, Series], length: int, band_model: Optional[BandModel] = None,
                 source_of: Optional[dict[str, Any]] = None, end_minute: int = 0, period: int = 60,
                 strict_arithmetic: bool = False) -> None:
        self.series, self.length, self.band_model = series, length, band_model
        self.source_of, self.end_minute, self.period = source_of or {}, end_minute, period
        self.strict_arithmetic = strict_arithmetic
        self.text = ""

    def evaluate(self, expression: str) -> Value:
        self.text = expression
        return self._value(parse(expression))

    def _value(self, node: Node) -> Any:
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "id":
            if node[1] not in self.series:
                raise MathError(f"unknown id {node[1]!r} in {self.text!r}")
            return list(self.series[node[1]])
        if kind == "word":
            return node[1]
        if kind == "bin":
            return _combine(BINARY[node[1]], self._value(node[2]), self._value(node[3]), self.length,
                            self.strict_arithmetic and node[1] in ARITHMETIC)
        if kind == "neg":
            return _combine(operator.mul, -1.0, self._value(node[1]), self.length)
        if kind == "not":
            return _combine(lambda a, _: float(not a), self._value(node[1]), 0.0, self.length)
        return self._function(node[1], node[2])

    def _function(self, name: str, args: Sequence[Node]) -> Value:
        if name == "ANOMALY_DETECTION_BAND" and len(args) in (1, 2):
            deviations = float(self._value(args[1])) if len(args) == 2 else 2.0
            return self._band(args[0], deviations)
        values = [self._value(a) for a in args]
        if name == "IF" and len(values) in (2, 3):
            condition = values[0]
            other = values[2] if len(values) == 3 else None
            if not isinstance(condition, list):
                return values[1] if condition else other
            # Per datapoint of the condition: a missing trueValue point is 0, a missing (or omitted)
            # falseValue point drops the datapoint, and so does a missing condition point.
            pick = []
            for i, c in enumerate(condition):
                branch = values[1] if c else other
                value = branch[i] if isinstance(branch, list) else branch
                pick.append(None if c is None else (0.0 if value is None and c else value))
            return pick
        if name == "FILL" and len(values) == 2:
            return self._fill(values[0], values[1])
        if name in TIME_FUNCTIONS and len(values) == 1:
            return [TIME_FUNCTIONS[name](stamp) for stamp in self._timestamps()]
        if name in ("MAX", "MIN", "SUM", "AVG", "ABS"):
            return self._reduce(name, values)
        raise MathError(f"unsupported function {name}({len(values)} arguments) in {self.text!r}")

    def _fill(self, series: Value, how: Any) -> Value:
        if not isinstance(series, list):
            return series
        if how == "REPEAT":
            filled, last = [], None
            for v in series:
                last = v if v is not None else last
                filled.append(last)
            return filled
        if how == "LINEAR":
            known = [(i, v) for i, v in enumerate(series) if v is not None]
            filled = list(series)
            for (i, a), (j, b) in itertools.pairwise(known):
                for k in range(i + 1, j):
                    filled[k] = a + (b - a) * (k - i) / (j - i)
            return filled
        return [how if v is None else v for v in series] if not isinstance(how, list) else [
            h if v is None else v for v, h in zip(series, how, strict=True)]

    def _timestamps(self) -> list[dt.datetime]:
        """Each datapoint's timestamp: the start of its period, UTC."""
        minutes = self.period // 60
        first_start = self.end_minute - self.length * minutes
        return [dt.datetime.fromtimestamp((first_start + i * minutes) * 60, dt.UTC) for i in range(self.length)]

    def _band(self, metric: Node, deviations: float) -> Value:
        if self.band_model is None or metric[0] != "id" or metric[1] not in self.source_of:
            raise MathError(f"ANOMALY_DETECTION_BAND needs a metric id and a band model in {self.text!r}")
        source = self.source_of[metric[1]]
        minutes = self.period // 60
        first_end = self.end_minute - (self.length - 1) * minutes
        return [self.band_model(source, deviations, first_end + i * minutes) for i in range(self.length)]

    def _reduce(self, name: str, values: Sequence[Value]) -> Value:
        if name == "ABS" and len(values) == 1:
            return _combine(lambda a, _: abs(a), values[0], 0.0, self.length)
        if len(values) == 1 and isinstance(values[0], list):
            real = [v for v in values[0] if v is not None]
            if not real:
                return None  # type: ignore[return-value]
            return {"MAX": max, "MIN": min, "SUM": sum, "AVG": lambda r: sum(r) / len(r)}[name](real)
        raise MathError(f"unsupported use of {name} in {self.text!r}")
