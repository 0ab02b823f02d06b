"""The Metrics Insights queries that select a function group, and CloudWatch's limit on them.

Built here, from the inventory alone, so an over-long fleet query is a config error before any
resource is registered; the alarm and dashboard builders use the same text.
"""

from __future__ import annotations

from stackconfig.errors import PROJECT, ConfigError, Problems
from stackconfig.model import FleetGroup, Inventory

SCHEMA = 'SCHEMA("AWS/Lambda", FunctionName)'
MAX_SERIES = 500
# PutMetricAlarm: MetricDataQuery.Expression is at most 2,048 characters.
MAX_EXPRESSION = 2048
# "Metrics Insights quotas" (cloudwatch-metrics-insights-limits.html): a query matches at most
# 10,000 metrics; over SCHEMA("AWS/Lambda", FunctionName) that is one metric per function.
MAX_METRICS = 10_000


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "\\'") + "'"


def excluded_by_catch_all(group: str, inventory: Inventory) -> list[str]:
    """What the catch-all leaves out by name: functions other groups list or discovery put in them,
    and this stack's own Lambdas; each has alarms of its own."""
    names = [fn.name for fn in inventory.functions if fn.group != group]
    listed = set(names)
    return names + [name for name in inventory.own_functions if name not in listed]


def group_condition(group: str, inventory: Inventory, catch_all: bool = False) -> str:
    """Listed group: its functions by name. Catch-all: every function that no other group covers.

    Only `=`, `!=`, AND and OR: the operators the query syntax documents
    (cloudwatch-metrics-insights-querylanguage.html)."""
    if not catch_all:
        names = [fn.name for fn in inventory.functions if fn.group == group]
        return " OR ".join(f"FunctionName = {_quoted(n)}" for n in names)
    return " AND ".join(f"FunctionName != {_quoted(n)}" for n in excluded_by_catch_all(group, inventory))


def fleet_members(group: FleetGroup, inventory: Inventory) -> int:
    """The known functions a fleet group's query matches (one metric each): its listed or discovered
    functions; for the catch-all also every other function discovery saw in the account, of this
    stack or another, that its WHERE clause does not leave out."""
    members = {fn.name for fn in inventory.functions if fn.group == group.name}
    if group.catch_all:
        excluded = set(excluded_by_catch_all(group.name, inventory))
        members.update(name for name in inventory.account_functions if name not in excluded)
    return len(members)


def fleet_query(aggregate: str, metric: str, where: str, limit: int = MAX_SERIES) -> str:
    """Worst first, so the series a query may return (at most 500) are the ones that matter."""
    condition = f" WHERE {where}" if where else ""
    # A CloudWatch query, not SQL run anywhere; the names in `where` are quoted by _quoted.
    return (f"SELECT {aggregate}({metric}) FROM {SCHEMA}{condition} GROUP BY FunctionName "  # noqa: S608
            f"ORDER BY {aggregate}() DESC LIMIT {limit}")


# The longest query text a fleet alarm puts around its WHERE clause.
_LONGEST_FRAME = len(fleet_query("SUM", "Throttles", "x")) - 1


def check_fleet_queries(inventory: Inventory) -> None:
    """Each fleet group's alarm query fits CloudWatch's expression limit and its metrics limit."""
    problems = Problems()
    for group in inventory.fleet_groups:
        key = f"inventory.lambdaGroups.{group.name}"
        length = _LONGEST_FRAME + len(group_condition(group.name, inventory, group.catch_all))
        if length > MAX_EXPRESSION:
            problems.add(ConfigError(key, length, "", _too_long(group, inventory, key, length)))
        members = fleet_members(group, inventory)
        if members > MAX_METRICS:
            problems.add(ConfigError(key, members, "", (
                f"config {PROJECT}:{key}: fleet group {group.name}'s query matches {members:,} known functions, one "
                f"metric each; a Metrics Insights query matches at most {MAX_METRICS:,} metrics (CloudWatch "
                "quotas): split the group, so that no fleet query selects more than that")))
    problems.raise_any()


def _too_long(group: FleetGroup, inventory: Inventory, key: str, length: int) -> str:
    limit = f"CloudWatch allows at most {MAX_EXPRESSION:,} characters in an alarm expression"
    if group.catch_all:
        names = excluded_by_catch_all(group.name, inventory)
        discovered = [fn for fn in inventory.functions if fn.discovered and fn.group != group.name]
        cause = f", {len(discovered):,} of them discovered into group {discovered[0].group}" if discovered else ""
        fix = (f"set inventory.discovery.group: {group.name} so that discovered functions join the fleet"
               if discovered else "alarm fewer functions one by one")
        return (f"config {PROJECT}:{key}: the catch-all fleet query of group {group.name} leaves out by name the "
                f"{len(names):,} functions alarmed one by one{cause}: {length:,} characters; {limit}: {fix}")
    members = [fn for fn in inventory.functions if fn.group == group.name]
    discovered = sum(fn.discovered for fn in members)
    cause = f" ({discovered:,} of them discovered)" if discovered else ""
    return (f"config {PROJECT}:{key}.functions: the fleet query of group {group.name} selects its {len(members):,} "
            f"functions{cause} by name: {length:,} characters; {limit}: list fewer functions, or list none to make "
            f"{group.name} the catch-all fleet, which covers every function no other group lists")
