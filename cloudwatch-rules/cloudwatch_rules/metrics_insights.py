"""CloudWatch Metrics Insights queries, parsed as CloudWatch reads them, for the rules that judge them.

Grammar from the CloudWatch user guide, "Metrics Insights query components and syntax"
(cloudwatch-metrics-insights-querylanguage.html):
  SELECT FUNCTION(metricName) FROM namespace | SCHEMA(namespace[, labelKey ...])
  [WHERE labelKey OPERATOR 'labelValue' [AND|OR ...]] [GROUP BY labelKey[, ...]]
  [ORDER BY FUNCTION() [DESC|ASC]] [LIMIT number]
FUNCTION is AVG, COUNT, MAX, MIN or SUM; keywords are case-insensitive, identifiers are not. This
parser accepts the subset with `=`/`!=` comparisons joined by AND or OR (AND binding tighter)
and refuses what it cannot read, so a rule never credits a query it does not understand.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Optional

FUNCTIONS = ("AVG", "COUNT", "MAX", "MIN", "SUM")
# Metrics Insights quotas (cloudwatch-metrics-insights-limits.html): a query returns at most 500
# series and matches at most 10,000 metrics.
MAX_SERIES = 500
MAX_METRICS = 10_000

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<quoted>\"(?:[^\"\\]|\\.)*\")|(?P<op>!=|<>|=|\(|\)|,)"
    r"|(?P<number>\d+)|(?P<word>[A-Za-z_][A-Za-z0-9_.:/-]*))"
)


class QueryError(ValueError):
    """Not a Metrics Insights query this parser can read (the message says where)."""


@dataclasses.dataclass(frozen=True)
class Comparison:
    key: str
    equal: bool
    value: str


@dataclasses.dataclass(frozen=True)
class InsightsQuery:
    aggregate: str
    metric: str
    namespace: str
    # The exact dimension set SCHEMA(...) names; None: FROM a bare namespace (any dimensions).
    schema: Optional[frozenset[str]]
    # Disjunctive normal form: OR of ANDs of comparisons; () means no WHERE (everything).
    where: tuple[tuple[Comparison, ...], ...]
    group_by: tuple[str, ...]
    order: Optional[str]
    limit: Optional[int]
    # The function ORDER BY sorts the series by (it may differ from SELECT's).
    order_function: Optional[str] = None

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether a metric with these dimension values passes the WHERE clause."""
        if not self.where:
            return True
        return any(all((labels.get(c.key) == c.value) == c.equal for c in conjunction)
                   for conjunction in self.where)

    def returns_worst(self) -> bool:
        """Highest first: with ORDER BY ... DESC the series returned (at most LIMIT, and 500) are the worst."""
        return self.order == "DESC"


def is_insights_query(expression: object) -> bool:
    return isinstance(expression, str) and expression.lstrip()[:7].upper() == "SELECT "


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip():
                raise QueryError(f"cannot read {text[position:position + 20]!r}")
            break
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _unquote(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value[1:-1])


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def keyword(self, *words: str) -> bool:
        kind, value = self.peek()
        if kind == "word" and value.upper() == words[0]:
            for word in words:
                kind, value = self.peek()
                if kind != "word" or value.upper() != word:
                    raise QueryError(f"expected {' '.join(words)}")
                self.i += 1
            return True
        return False

    def expect(self, kind: str, value: Optional[str] = None) -> str:
        actual_kind, actual = self.peek()
        if actual_kind != kind or (value is not None and actual != value):
            raise QueryError(f"expected {value or kind}, got {actual or 'the end'!r}")
        self.i += 1
        return actual

    def name(self) -> str:
        kind, value = self.peek()
        if kind == "quoted":
            self.i += 1
            return _unquote(value)
        return self.expect("word")


def parse(text: str) -> InsightsQuery:
    p = _Parser(text)
    if not p.keyword("SELECT"):
        raise QueryError("does not start with SELECT")
    aggregate = p.expect("word").upper()
    if aggregate not in FUNCTIONS:
        raise QueryError(f"function {aggregate} is not one of {', '.join(FUNCTIONS)}")
    p.expect("op", "(")
    metric = p.name()
    p.expect("op", ")")
    if not p.keyword("FROM"):
        raise QueryError("expected FROM")
    schema: Optional[frozenset[str]] = None
    if p.peek()[0] == "word" and p.peek()[1].upper() == "SCHEMA":
        p.i += 1
        p.expect("op", "(")
        namespace = p.name()
        keys = []
        while p.peek() == ("op", ","):
            p.i += 1
            keys.append(p.name())
        p.expect("op", ")")
        schema = frozenset(keys)
    else:
        namespace = p.name()
    where: list[tuple[Comparison, ...]] = []
    if p.keyword("WHERE"):
        conjunction: list[Comparison] = []
        while True:
            key = p.name()
            op = p.expect("op")
            if op not in ("=", "!=", "<>"):
                raise QueryError(f"operator {op!r} is not = or !=")
            conjunction.append(Comparison(key, op == "=", _unquote(p.expect("string"))))
            if p.keyword("AND"):
                continue
            if p.keyword("OR"):
                where.append(tuple(conjunction))
                conjunction = []
                continue
            break
        where.append(tuple(conjunction))
    group_by: list[str] = []
    if p.keyword("GROUP", "BY"):
        group_by.append(p.name())
        while p.peek() == ("op", ","):
            p.i += 1
            group_by.append(p.name())
    order = order_function = None
    if p.keyword("ORDER", "BY"):
        order_function = p.expect("word").upper()
        if order_function not in FUNCTIONS:
            raise QueryError("ORDER BY takes one of the functions")
        p.expect("op", "(")
        p.expect("op", ")")
        order = "ASC"
        if p.peek()[0] == "word" and p.peek()[1].upper() in ("ASC", "DESC"):
            order = p.expect("word").upper()
    limit = None
    if p.keyword("LIMIT"):
        limit = int(p.expect("number"))
    if p.peek()[0] != "end":
        raise QueryError(f"unexpected {p.peek()[1]!r}")
    return InsightsQuery(aggregate, metric, namespace, schema, tuple(where), tuple(group_by), order, limit,
                         order_function)
