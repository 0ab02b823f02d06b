"""The Metrics Insights queries that select a function group, and CloudWatch's limit on them.

Built here, from the inventory alone, so an over-long fleet query is a config error before any
resource is registered; the alarm and dashboard builders use the same text.
"""

from __future__ import annotations

from stackconfig.errors import ConfigError
from stackconfig.model import Inventory

SCHEMA = 'SCHEMA("AWS/Lambda", FunctionName)'
MAX_SERIES = 500
# PutMetricAlarm: MetricDataQuery.Expression is at most 2,048 characters.
MAX_EXPRESSION = 2048


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "\\'") + "'"


def group_condition(group: str, inventory: Inventory, catch_all: bool = False) -> str:
    """Listed group: its functions by name. Catch-all: every function that no other group covers.

    Only `=`, `!=`, AND and OR: the operators the query syntax documents
    (cloudwatch-metrics-insights-querylanguage.html)."""
    if not catch_all:
        names = [fn.name for fn in inventory.functions if fn.group == group]
        return " OR ".join(f"FunctionName = {_quoted(n)}" for n in names)
    others = [fn.name for fn in inventory.functions if fn.group != group]
    return " AND ".join(f"FunctionName != {_quoted(n)}" for n in others)


def fleet_query(aggregate: str, metric: str, where: str, limit: int = MAX_SERIES) -> str:
    """Worst first, so the series a query may return (at most 500) are the ones that matter."""
    condition = f" WHERE {where}" if where else ""
    # A CloudWatch query, not SQL run anywhere; the names in `where` are quoted by _quoted.
    return (f"SELECT {aggregate}({metric}) FROM {SCHEMA}{condition} GROUP BY FunctionName "  # noqa: S608
            f"ORDER BY {aggregate}() DESC LIMIT {limit}")


# The longest query text a fleet alarm puts around its WHERE clause.
_LONGEST_FRAME = len(fleet_query("SUM", "Throttles", "x")) - 1


def check_fleet_queries(inventory: Inventory) -> None:
    """Each fleet group's alarm query fits CloudWatch's expression limit."""
    for group in inventory.fleet_groups:
        length = _LONGEST_FRAME + len(group_condition(group.name, inventory, group.catch_all))
        if length > MAX_EXPRESSION:
            what = "functions listed in other groups" if group.catch_all else "functions"
            raise ConfigError(
                f"inventory.lambdaGroups.{group.name}.functions", f"{length} characters of query",
                f"a fleet query of at most {MAX_EXPRESSION} characters (CloudWatch's limit): fewer {what}, or "
                "a fleet group without functions, which covers every function no other group lists")
