"""Runs drills: the program's alarms over a simulated incident, minute by minute, then the verdicts.

Before the simulation, the days the longest alarm windows look back over hold the expected values of
the metrics they read (preflight/emulator/history.py). The simulation starts before the drill's start
with the same traffic and no faults: HISTORY_MINUTES of metrics only (the stack has been running; the
user guide: when data is missing soon after an alarm is created, "CloudWatch retrieves the most recent
data points from before the alarm was created"), then WARMUP_MINUTES in which the alarms are evaluated
and everything counts: an alarm that can never see its metric goes to ALARM and pages there (shown at
negative minutes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any, Optional

from cloudwatch_rules.mute_rules import schedule_of
from observability.slack_forwarder import CONTRIBUTORS_IN_ALARM, PROBABLE_CAUSE, contributor_label
from preflight.cloudwatch.cloudwatch import CloudWatchModel, Notification, Transition
from preflight.cloudwatch.metric_math import Evaluator, ExpressionSource
from preflight.cloudwatch.mutes import MuteClock, MuteRuleDefinition
from preflight.cloudwatch.store import MetricKey, MetricStore
from preflight.drill.drill_file import CACHE_METRICS, RDS_METRICS, TIERS, Drill, DrillError
from preflight.drill.slack_pages import slack_text
from preflight.emulator.history import put_history
from preflight.emulator.platform import Platform
from preflight.emulator.sources import Sources
from preflight.maintenance.rules import adhoc_rules
from stackconfig.maintenance import ALL
from stackconfig.traffic import ORDER_CANCELLED_SHARE, Profile, profile

HISTORY_MINUTES = 30
WARMUP_MINUTES = 30
CONDITIONS = ("env", "maintenance")
# Business metrics whose anomaly model follows a traffic flow: (flow, share of its events).
FLOW_OF_METRIC = {"OrdersCreated": ("orders", 1.0), "PaymentAttempts": ("payments", 1.0),
                  "RFIDVerificationAttempts": ("rfid", 1.0), "OrdersCompleted": ("completions", 1.0),
                  "OrdersCancelled": ("completions", ORDER_CANCELLED_SHARE), "UserLogins": ("logins", 1.0)}
# Gauges published once a minute, whose anomaly model is their level at that time.
GAUGE_OF_METRIC = {"ActiveUsers": Profile.sessions}
GAUGE_STATISTICS = ("Average", "Minimum", "Maximum")
# The forwarder's count of the contributors it does not show (slack_forwarder.contributor_lines), on its
# contributor lines only: the headline counts the symptoms it does not show the same way.
MORE = re.compile(rf"^{re.escape(CONTRIBUTORS_IN_ALARM)}.* and (\d+) more$", re.M)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One expectation of the drill file, whether it held, and what the drill measured: `measured` as
    JSON gives it (a count, an alarm and its minute, a list of names), `shown` as a person reads it."""

    expectation: str
    passed: bool
    measured: Any
    shown: str

    def as_json(self) -> dict[str, Any]:
        return {"expectation": self.expectation, "passed": self.passed, "measured": self.measured}


@dataclasses.dataclass
class DrillResult:
    drill: Drill
    transitions: list[dict[str, Any]]
    pages: dict[str, int]
    notifications: list[dict[str, Any]]  # each page: minute, tier, alarm and (per contributor) contributor
    # Each OK action that ran (the page's "resolved", e.g. PagerDuty's): minute, tier, alarm, and
    # `firstEvaluation` for one that ran on the alarm's first evaluation in warm-up (INSUFFICIENT_DATA -> OK):
    # an alarm is created in INSUFFICIENT_DATA and "any actions associated with the new state are then
    # executed" (PutCompositeAlarm / PutMetricAlarm, CloudWatch API reference).
    ok_notifications: list[dict[str, Any]]
    failures: list[str]
    store: MetricStore
    model: CloudWatchModel
    start_minute: int
    platform: Platform
    verdicts: list[Verdict] = dataclasses.field(default_factory=list)
    # The drill minute of the first fault that is the incident (not a condition such as `env`, nor a fault
    # marked `background`).
    first_fault: Optional[int] = None
    # Notifications an alarm mute rule held: minute, tier, alarm, state, rule.
    muted: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # Pagers in ALARM whose page was held by their actions suppressor (a cause's page covers them):
    # minute, alarm, by.
    held: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def first_evaluation_oks(self) -> list[str]:
        return [n["alarm"] for n in self.ok_notifications if n.get("firstEvaluation")]

    @property
    def detection_minutes(self) -> dict[str, int]:
        """Per tier, minutes from the first fault to the tier's first page at or after it."""
        if self.first_fault is None:
            return {}
        found: dict[str, int] = {}
        for page in self.notifications:
            if page["minute"] >= self.first_fault:
                found.setdefault(page["tier"], page["minute"] - self.first_fault)
        return {tier: found[tier] for tier in TIERS if tier in found}

    def as_json(self) -> dict[str, Any]:
        return {"name": self.drill.name, "passed": self.passed, "pages": self.pages,
                "notifications": self.notifications, "okNotifications": self.ok_notifications,
                "muted": self.muted, "held": self.held, "transitions": self.transitions,
                "failures": self.failures, "verdicts": [v.as_json() for v in self.verdicts],
                "detectionMinutes": self.detection_minutes}


def band_model(prof: Profile, platform: Platform):
    """ANOMALY_DETECTION_BAND, approximated deterministically: the model CloudWatch trains on two
    weeks of history is taken as the fault-free expectation of the drill's traffic profile at that
    time of day (the centre), with a standard deviation of sqrt(centre) + 10% of the centre (Poisson
    noise plus day-to-day variation). A band on an expression over several metrics is centred on the
    expression of their expectations (no band where the expression has no value there). Metrics
    without a modelled flow get an unbounded band."""

    def centre(source: tuple[MetricKey, str, int], end_minute: int) -> Optional[float]:
        (namespace, name, _), stat, period = source
        minutes = range(end_minute - period // 60, end_minute)
        if namespace != platform.business_namespace:
            return None
        if name in FLOW_OF_METRIC and stat == "Sum":
            flow, share = FLOW_OF_METRIC[name]
            return share * sum(prof.rates(dt.datetime.fromtimestamp(m * 60, dt.UTC))[flow] for m in minutes)
        if name in GAUGE_OF_METRIC and stat in GAUGE_STATISTICS:
            level = GAUGE_OF_METRIC[name]
            return sum(level(prof, dt.datetime.fromtimestamp(m * 60, dt.UTC)) for m in minutes) / len(minutes)
        return None

    def expression_centre(source: ExpressionSource, end_minute: int) -> tuple[bool, Optional[float]]:
        """(every input modelled, the expression's value over their expectations)."""
        inputs = {query_id: centre(metric, end_minute) for query_id, metric in source.inputs}
        if any(value is None for value in inputs.values()):
            return False, None
        value = Evaluator({k: [v] for k, v in inputs.items()}, 1, end_minute=end_minute,
                          period=source.period).evaluate(source.expression)
        return True, value[0] if isinstance(value, list) else value

    def band(source: Any, deviations: float, end_minute: int) -> Optional[tuple[float, float]]:
        if isinstance(source, ExpressionSource):
            modelled, expected = expression_centre(source, end_minute)
            if not modelled:
                return -math.inf, math.inf
            if expected is None:
                return None
        else:
            expected = centre(source, end_minute)
            if expected is None:
                return -math.inf, math.inf
        spread = deviations * (math.sqrt(max(expected, 0.0)) + 0.1 * abs(expected))
        return expected - spread, expected + spread

    return band


def check_targets(drill: Drill, platform: Platform) -> None:
    """Targets that name things of the stack must exist in it."""
    for i, f in enumerate(drill.faults):
        where = f"{drill.path}: faults[{i}]"
        if f.kind.startswith("function-") or f.kind == "env":
            known = set(platform.functions) | (platform.groups() if f.kind != "env" else set())
            if f.target not in known:
                what = "a function name" if f.kind == "env" else "a function name or inventory group"
                raise DrillError(f"{where}.target: expected {what} of the stack (got {f.target!r})")
        if f.kind == "datastore-metrics":
            kinds = {**dict.fromkeys(platform.rds_instances, RDS_METRICS),
                     **dict.fromkeys(platform.redis_nodes, CACHE_METRICS)}
            if f.target not in kinds:
                raise DrillError(f"{where}.target: expected an RDS instance or cache node of the stack, one of "
                                 f"{', '.join(kinds)} (got {f.target!r})")
            foreign = sorted(set(f.metrics or {}) - set(kinds[f.target]))
            if foreign:
                raise DrillError(f"{where}.set: expected metrics {f.target} publishes ({', '.join(kinds[f.target])}); "
                                 f"got {', '.join(foreign)}")
        if f.kind == "reader-silent" and f.target not in platform.reader_ids:
            raise DrillError(f"{where}.target: expected a reader id of the stack, one of "
                             f"{', '.join(platform.reader_ids)} (got {f.target!r})")
        if f.endpoint and f.endpoint not in {e.path for e in platform.endpoints}:
            raise DrillError(f"{where}.endpoint: expected a critical endpoint of the stack, one of "
                             f"{', '.join(e.path for e in platform.endpoints)} (got {f.endpoint!r})")
    names = [a.name for a in platform.alarms] + [c.name for c in platform.composites]
    globs = [(f"expect.fires[{i}].alarm", g) for i, (g, _) in enumerate(drill.expect.fires)]
    globs += [(f"expect.silent[{i}]", g) for i, g in enumerate(drill.expect.silent)]
    globs += [(f"expect.clears[{i}].alarm", g) for i, (g, _) in enumerate(drill.expect.clears)]
    globs += [("expect.pageCause", drill.expect.page_cause)] if drill.expect.page_cause else []
    for key, glob in globs:
        if not fnmatch.filter(names, glob):
            raise DrillError(f"{drill.path}: {key}: expected an alarm-name glob that matches an alarm of the stack "
                             f"(got {glob!r}){_another_stacks(glob, names, platform.environment)}")
    for key, listed in (("contributors", drill.expect.contributors), ("pageNames", drill.expect.page_names)):
        for i, contributor in enumerate(listed or []):
            dimension, _, value = contributor.partition("=")
            if dimension == "FunctionName" and value not in platform.functions:
                raise DrillError(f"{drill.path}: expect.{key}[{i}]: expected FunctionName=<a function of the "
                                 f"drill's stack and account> (got {contributor!r})")


def _another_stacks(glob: str, names: list[str], environment: str) -> str:
    """What to say when a glob names another stack's alarms: every alarm name starts with its stack's
    environment, so a drill written for one stack names nothing of another."""
    if glob.startswith(f"{environment}-"):
        return ""
    # An environment may hold dashes itself (fleet-drill): try each dash as the end of the other stack's.
    dashes = [i for i, c in enumerate(glob) if c == "-" and "*" not in glob[:i]]
    written_for = next((glob[:i] for i in dashes if fnmatch.filter(names, f"{environment}{glob[i:]}")), None)
    if written_for is None:
        return ""
    return (f": it names stack {written_for}'s alarms, and stack {environment}'s start with {environment}-; "
            f"play the drill with --stack {written_for}, or give it a stack file (`stack:`) of its own")


def drill_mutes(drill: Drill, platform: Platform, start_minute: int) -> MuteClock:
    """The stack's mute rules (planned windows, the calendar), and each `maintenance` fault's rules as
    `python -m preflight maintenance start` would put them at that minute."""
    rules = list(platform.mute_rules)
    for i, fault in enumerate(drill.faults):
        if fault.kind != "maintenance":
            continue
        start = dt.datetime.fromtimestamp((start_minute + fault.at) * 60, dt.UTC)
        for rule in adhoc_rules(platform.environment, fault.target or ALL, start, fault.duration, platform.pagers,
                                "drill", f"{drill.name} faults[{i}]"):
            rules.append(MuteRuleDefinition(rule.name, schedule_of(rule.props()), frozenset(rule.targets)))
    return MuteClock(rules, start_minute - WARMUP_MINUTES - HISTORY_MINUTES, start_minute + drill.minutes + 1)


def run_drill(drill: Drill, platform: Platform) -> DrillResult:
    check_targets(drill, platform)
    store = MetricStore()
    start_minute = int(drill.start.timestamp()) // 60
    prof = profile(drill.traffic, platform.active_users, platform.daily_revenue_inr)
    model = CloudWatchModel(store, platform.alarms, platform.composites, band_model(prof, platform),
                            drill_mutes(drill, platform, start_minute))
    _play(drill, platform, store, prof, model)
    return _verdict(drill, store, model, start_minute, platform)


def play_metrics(drill: Drill, platform: Platform) -> MetricStore:
    """The metrics the drill's platform publishes, with no alarm evaluated: what a report reads, at a
    third of a drill's cost (no page, so no Slack forwarder runs)."""
    check_targets(drill, platform)
    store = MetricStore()
    _play(drill, platform, store, profile(drill.traffic, platform.active_users, platform.daily_revenue_inr), None)
    return store


def _play(drill: Drill, platform: Platform, store: MetricStore, prof: Profile,
          model: Optional[CloudWatchModel]) -> None:
    start_minute = int(drill.start.timestamp()) // 60
    sources = Sources(platform, prof, store, drill.seed)
    # The days before a school night were school days.
    before = prof if drill.traffic != "school-night" else profile("school-day", platform.active_users,
                                                                   platform.daily_revenue_inr)
    put_history(store, platform, before, platform.alarms, start_minute - WARMUP_MINUTES - HISTORY_MINUTES)
    try:
        with sources.boundary():
            for offset in range(-WARMUP_MINUTES - HISTORY_MINUTES, drill.minutes):
                minute = start_minute + offset
                active = [f for f in drill.faults if offset >= 0 and f.active(offset)]
                sources.minute(minute, dt.datetime.fromtimestamp(minute * 60, dt.UTC), active)
                if model is not None and offset >= -WARMUP_MINUTES:
                    pages, oks = len(model.pages), len(model.ok_notifications)
                    model.tick(minute + 1, offset + 1)
                    sent = model.pages[pages:] + model.ok_notifications[oks:]
                    sources.notified(minute + 1, Counter(n.tier for n in sent))
    finally:
        sources.environments.restore()


def _slack_texts(model: CloudWatchModel, platform: Platform, start_minute: int) -> dict[int, str]:
    """Index in model.pages -> the Slack text of each composite's page to a tier with a Slack forwarder."""
    slack_tiers = set(platform.forwarders.values())
    composites = {c.name: c for c in platform.composites}
    texts = {}
    for i, page in enumerate(model.pages):
        if page.tier in slack_tiers and page.alarm in composites:
            # The notification carries the composite's own transition time, also when a suppressor's
            # wait period sent it later.
            changed = max(t.minute for t in model.transitions
                          if t.alarm == page.alarm and t.to_state == "ALARM" and t.minute <= page.minute)
            texts[i] = slack_text(page, composites[page.alarm], start_minute + changed, platform.region,
                                  start_minute, platform.forwarder_environments.get(page.tier, {}))
    return texts


def _label(attributes: Iterable[tuple[str, str]]) -> str:
    """A contributor as the forwarder names it (`contributor_label`: its attributes sorted by key)."""
    return contributor_label({"ContributorAttributes": dict(attributes)})


def _page_names(page: Notification, text: str, expected: set[str], known: set[str]) -> tuple[str, list[str]]:
    """`pageNames` against one Slack page: the contributors in ALARM the page reports, those its text
    names and those behind "and K more" (the forwarder shows CONTRIBUTORS_SHOWN per alarm, in the
    order DescribeAlarmContributors answers, which AWS does not document). The page passes when the
    text names only expected contributors, names or counts every one of them, and the answer it was
    written from (each triggering child's contributors in ALARM) is exactly the expected set. Returns
    what the page names, and the failure (none when it passes)."""
    named = _named(text, known)
    hidden = sum(int(k) for k in MORE.findall(text))
    reported = {_label(attributes.items()) for child in page.triggering
                for attributes in page.contributors_in_alarm.get(child, ())}
    shown = (", ".join(sorted(named)) or "no contributor") + (f" and {hidden} more" if hidden else "")
    behind = f" (in ALARM: {', '.join(sorted(reported))})" if hidden else ""
    said = f"the Slack page of {page.alarm} at minute {page.minute} names {shown}{behind}"
    if named <= expected and len(named) + hidden == len(expected) and reported == expected:
        return said, []
    wanted = f"exactly {', '.join(sorted(expected))}" if expected else "no contributor"
    return said, [f"pageNames: {said}, expected {wanted}"]


def _named(text: str, known: set[str]) -> set[str]:
    """The contributors a text names, each as a whole token (`...-13` is not named by `...-137`)."""
    return {c for c in known if re.search(rf"(?<![\w.-]){re.escape(c)}(?![\w.-])", text)}


def _first_alarm(text: str, alarms: Iterable[str], environment: str) -> Optional[str]:
    """The alarm a Slack page names first as its probable cause: in a first line that gives a
    probable cause, the alarm named first, by its name or by its name without the `<environment>-`
    prefix (how the headline names what is not a cause), each as a whole token."""
    line = text.splitlines()[0] if text else ""
    if not line.startswith(PROBABLE_CAUSE):
        return None
    found = []
    for alarm in alarms:
        for shown in {alarm, alarm.removeprefix(f"{environment}-")}:
            match = re.search(rf"(?<![\w.-]){re.escape(shown)}(?![\w.-])", line)
            if match:
                found.append((match.start(), alarm))
    return min(found)[1] if found else None


def _bounds(low: Optional[int], high: Optional[int]) -> str:
    if low == high:
        return f"exactly {low}"
    if high is None:
        return f"at least {low or 0}"
    return f"at most {high}" if not low else f"between {low} and {high}"


def _verdict(drill: Drill, store: MetricStore, model: CloudWatchModel, start_minute: int,
             platform: Platform) -> DrillResult:
    pages = {tier: sum(1 for p in model.pages if p.tier == tier) for tier in TIERS}
    failures: list[str] = []
    verdicts: list[Verdict] = []

    def judge(expectation: str, failed: list[str], measured: Any, shown: str) -> None:
        failures.extend(failed)
        verdicts.append(Verdict(expectation, not failed, measured, shown))

    for tier, (low, high) in drill.expect.pages.items():
        who = ", ".join(f"{p.subject} at {p.minute}" for p in model.pages if p.tier == tier) or "none"
        failed = []
        if (low is not None and pages[tier] < low) or (high is not None and pages[tier] > high):
            most = "any number" if high is None else high
            wanted = f"exactly {low}" if low == high else f"between {low or 0} and {most}"
            failed = [f"{tier} pages: expected {wanted}, got {pages[tier]} ({who})"]
        at = ", ".join(f"{p.subject} at minute {p.minute}" for p in model.pages if p.tier == tier)
        judge(f"{tier} pages {_bounds(low, high)}", failed, pages[tier],
              f"got {pages[tier]}" + (f" ({at})" if at else ""))
    # `env` and `maintenance` are conditions the drill runs under, not the incident being measured.
    first_fault: Optional[int] = min((f.at for f in drill.faults if f.kind not in CONDITIONS and not f.background),
                                     default=None)
    into_alarm = [t for t in model.transitions if t.to_state == "ALARM"]
    for tier, expected_minutes in drill.expect.pages_at.items():
        paged = [p.minute for p in model.pages if p.tier == tier]
        who = ", ".join(f"{p.subject} at {p.minute}" for p in model.pages if p.tier == tier) or "none"
        shown = f"got {paged} ({who})"
        failed = [] if paged == expected_minutes else [f"{tier} pages at minutes {expected_minutes}: {shown}"]
        judge(f"{tier} pages at minutes {expected_minutes}", failed, paged, shown)
    for glob, within in drill.expect.fires:
        if first_fault is None:
            message = "the drill has no fault to measure from"
            judge(f"fires {glob} within {within} min of the first fault", [f"fires {glob}: {message}"], None, message)
            continue
        hits = [t for t in into_alarm if fnmatch.fnmatch(t.alarm, glob) and first_fault <= t.minute]
        measured = ({"alarm": hits[0].alarm, "minute": hits[0].minute, "detectionMinutes": hits[0].minute - first_fault}
                    if hits else None)
        failed = []
        if not hits or hits[0].minute - first_fault > within:
            seen = f"first at minute {hits[0].minute} ({hits[0].alarm})" if hits else "never"
            failed = [f"fires {glob}: expected ALARM within {within} minutes of minute {first_fault}, {seen}"]
        shown = (f"{hits[0].alarm} in ALARM at minute {hits[0].minute}, {hits[0].minute - first_fault} min after "
                 "the fault" if hits else "never in ALARM after the fault")
        judge(f"fires {glob} within {within} min of the first fault (minute {first_fault})", failed, measured, shown)
    for tier, within in drill.expect.detection.items():
        first = next((p for p in model.pages if p.tier == tier and first_fault is not None
                      and p.minute >= first_fault), None)
        took = None if first is None or first_fault is None else first.minute - first_fault
        failed = [] if took is not None and took <= within else [
            f"{tier} detection: expected a page within {within} minutes of the first fault, "
            + ("never paged" if took is None else f"first at minute {first.minute}, {took} min after it")]
        shown = ("never paged" if first is None
                 else f"{first.subject} at minute {first.minute}, {took} min after the fault")
        judge(f"{tier} detection within {within} min of the first fault", failed, took, shown)
    for glob, by in drill.expect.clears:
        fired = sorted({t.alarm for t in into_alarm if fnmatch.fnmatch(t.alarm, glob) and t.contributor is None})
        held = []
        for alarm in fired:
            moves = [t for t in model.transitions if t.alarm == alarm and t.contributor is None]
            late = [t.minute for t in moves if t.minute > by and t.to_state == "ALARM"]
            state_at_by = next((t.to_state for t in reversed(moves) if t.minute <= by), None)
            if late or state_at_by == "ALARM":
                held.append(f"{alarm} ({'in ALARM at minute ' + str(by) if state_at_by == 'ALARM' else ''}"
                            f"{'; ' if late and state_at_by == 'ALARM' else ''}"
                            f"{'into ALARM at minute ' + str(late[0]) if late else ''})")
        cleared = [a for a in fired if not any(h.startswith(a + " ") for h in held)]
        failed = [f"clears {glob}: never in ALARM, nothing to clear"] if not fired else (
            [f"clears {glob} by minute {by}: {', '.join(held)}"] if held else [])
        shown = ("never in ALARM" if not fired else
                 "; ".join([*(f"{a} out of ALARM from minute {by} on" for a in cleared), *held]))
        judge(f"clears {glob} by minute {by}", failed, cleared, shown)
    for glob in drill.expect.silent:
        loud = sorted({t.alarm for t in into_alarm if fnmatch.fnmatch(t.alarm, glob)})
        judge(f"silent {glob}", [f"silent {glob}: in ALARM: {', '.join(loud)}"] if loud else [], loud,
              f"in ALARM: {', '.join(loud)}" if loud else "never in ALARM")
    if drill.expect.contributors is not None:
        named = sorted({t.contributor for t in into_alarm if t.contributor is not None})
        wanted = ", ".join(sorted(drill.expect.contributors)) or "none"
        failed = []
        if set(named) != set(drill.expect.contributors):
            failed = [f"contributors in ALARM: expected exactly {', '.join(sorted(drill.expect.contributors))}"
                      f", got {', '.join(named) or 'none'}"]
        judge(f"contributors in ALARM exactly {wanted}", failed, named, f"got {', '.join(named) or 'none'}")
    slack = _slack_texts(model, platform, start_minute)
    if drill.expect.page_names is not None:
        expected = set(drill.expect.page_names)
        known = {_label(c.labels) for contributors in model.contributors.values() for c in contributors} | expected
        failed, said = [], []
        if not slack:
            failed.append(f"pageNames: no page reached a tier with a Slack forwarder (tiers with one: "
                          f"{', '.join(sorted(set(platform.forwarders.values()))) or 'none'})")
        for i, text in slack.items():
            page_said, page_failed = _page_names(model.pages[i], text, expected, known)
            said.append(page_said)
            failed += page_failed
        judge(f"each Slack page names exactly {', '.join(sorted(expected)) or 'no contributor'}", failed,
              said, "; ".join(said) or "no page reached a tier with a Slack forwarder")
    if drill.expect.page_cause is not None:
        glob = drill.expect.page_cause
        alarms = [a.name for a in platform.alarms]
        led = {i: _first_alarm(text, alarms, platform.environment) for i, text in slack.items()}
        said = [f"the Slack page of {model.pages[i].alarm} at minute {model.pages[i].minute} names "
                + (f"{first} first" if first else "no probable cause") for i, first in led.items()]
        failed = [f"pageCause: {line}, expected {glob}" for line, first in zip(said, led.values(), strict=True)
                  if first is None or not fnmatch.fnmatch(first, glob)]
        if not slack:
            failed.append(f"pageCause: no page reached a tier with a Slack forwarder (tiers with one: "
                          f"{', '.join(sorted(set(platform.forwarders.values()))) or 'none'})")
        judge(f"each Slack page names {glob} first", failed, said,
              "; ".join(said) or "no page reached a tier with a Slack forwarder")
    transitions = [_transition(t) for t in model.transitions]
    notifications = [{"minute": p.minute, "tier": p.tier, "alarm": p.alarm,
                      **({"contributor": p.contributor} if p.contributor else {}),
                      **({"membersInAlarm": list(p.members_in_alarm)} if p.members_in_alarm else {}),
                      **({"slack": slack[i]} if i in slack else {})}
                     for i, p in enumerate(model.pages)]
    first = {(t.minute, t.alarm) for t in model.transitions
             if t.minute <= 0 and t.from_state == "INSUFFICIENT_DATA" and t.contributor is None}
    muted = [{"minute": n.minute, "tier": n.tier, "alarm": n.alarm, "state": n.state, "rule": n.muted_by,
              **({"contributor": n.contributor} if n.contributor else {})} for n in model.muted]
    oks = [{"minute": n.minute, "tier": n.tier, "alarm": n.alarm,
            **({"contributor": n.contributor} if n.contributor else {}),
            **({"firstEvaluation": True} if n.contributor is None and (n.minute, n.alarm) in first else {})}
           for n in model.ok_notifications]
    held = [{"minute": h.minute, "alarm": h.alarm, "by": h.suppressor} for h in model.held_pages]
    return DrillResult(drill, transitions, pages, notifications, oks,
                       failures, store, model, start_minute, platform, verdicts, first_fault, muted, held)


def _transition(t: Transition) -> dict[str, Any]:
    """A transition as the drill output shows it; a contributor's names it, a Metrics Insights alarm's
    own carries its StateReason."""
    shown: dict[str, Any] = {"minute": t.minute, "alarm": t.alarm, "from": t.from_state, "to": t.to_state}
    if t.contributor is not None:
        shown["contributor"] = t.contributor
    if t.reason is not None:
        shown["reason"] = t.reason
    return shown
