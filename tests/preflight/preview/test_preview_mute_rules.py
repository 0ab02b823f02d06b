"""The preview shows the stack's alarm mute rules with their next activation in IST, and counts them in the
monthly cost (no charge on the CloudWatch price page)."""

from __future__ import annotations

import datetime as dt
import json

from preflight.cli import preview_parser
from preflight.model.stack import build_model
from preflight.preview.cost import estimate
from preflight.preview.main import preview_main
from preflight.preview.mute_rules import mute_rules, mute_rules_section
from tests.support.stack import run

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
SATURDAY_NIGHT = dt.datetime(2026, 7, 4, 23, 0, tzinfo=IST)


def test_each_rule_is_shown_with_its_next_activation_in_ist():
    rows = {r["name"]: r for r in mute_rules(build_model(run("production", preview=True)), SATURDAY_NIGHT)}
    weekly = rows["production-window-weekly-database-plus-10m"]
    assert weekly["nextActivation"] == "2026-07-05T02:00:00+05:30" and weekly["mutingUntil"] is None
    assert weekly["targets"] == ["production-critical-database-pager"]
    assert rows["production-holiday-2026-10-02-plus-20m"]["nextActivation"] == "2026-10-02T00:00:00+05:30"
    # The break between the terms: a daily rule from its first day.
    assert rows["production-break-2026-10-10-plus-20m"]["nextActivation"] == "2026-10-10T00:00:00+05:30"
    section = mute_rules_section(list(rows.values()))
    assert ("  production-window-weekly-database-plus-10m: cron(0 2 * * SUN) for PT2H10M, "
            "next Sun 05 Jul 2026 02:00 IST\n      mutes production-critical-database-pager") in section
    sunday = {r["name"]: r for r in mute_rules(build_model(run("production", preview=True)),
                                               SATURDAY_NIGHT + dt.timedelta(hours=4))}
    assert sunday["production-window-weekly-database-plus-10m"]["mutingUntil"] == "2026-07-05T04:10:00+05:30"


def test_the_preview_prints_them_and_puts_them_in_its_json(capsys):
    args = preview_parser().parse_args(["--stack", "production", "--no-policy"])
    assert preview_main(args, account=False, now=SATURDAY_NIGHT) == 0
    # The weekly database window's rules include one for the database SLO's ticket pager, muted until its
    # 6-hour windows have moved past the window (12 hours after it).
    assert "Alarm mute rules: 20 (maintenance windows and the school calendar; each mutes pagers)" in \
        capsys.readouterr().out
    args = preview_parser().parse_args(["--stack", "production", "--no-policy", "--json"])
    assert preview_main(args, account=False, now=SATURDAY_NIGHT) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["muteRules"]) == 20
    assert "Alarm mute rules: none" in mute_rules_section([])


def test_the_cost_counts_the_rules_at_no_charge():
    line = next(x for x in estimate(build_model(run("production", preview=True)))["lines"]
                if x["item"] == "alarm mute rules")
    assert (line["quantity"], line["unit_usd"], line["monthly_usd"]) == (20, 0.0, 0.0)
