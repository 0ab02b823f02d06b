"""The diff's facts of a program run: what a reviewer's rows are made of."""

from __future__ import annotations

import pytest

from preflight.diff.facts import snapshot
from preflight.model.stack import build_model
from tests.support.stack import run


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_each_widget_row_names_one_widget(stack: str):
    """The primary and the replica each have a "CPU %" widget: a row reading only "metric: CPU %" could be
    either, and two identical rows of a changed dashboard would cancel out. A title that repeats in its
    dashboard is named with the heading of its section."""
    dashboards = snapshot(build_model(run(stack, preview=True)), [])["dashboards"]
    for name, facts in dashboards.items():
        assert len(facts["widgets"]) == len(set(facts["widgets"])), name
        assert len(facts["thresholds"]) == len(set(facts["thresholds"])), name
    if stack == "production":  # staging has no replica, and its one database's titles are its own
        database = next(facts for name, facts in dashboards.items() if "database" in name.lower())
        assert {"metric: RDS hasivu-production-db / CPU %", "metric: RDS hasivu-production-db-replica / CPU %",
                "metric: CPU %"} & set(database["widgets"]) == {"metric: RDS hasivu-production-db / CPU %",
                                                                "metric: RDS hasivu-production-db-replica / CPU %"}
