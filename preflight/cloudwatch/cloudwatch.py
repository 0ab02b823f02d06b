"""Alarms over the metric store, minute by minute: metric alarms, composite alarms, actions.

- A metric alarm is evaluated each time one of its periods closes, over its evaluation range
  (Evaluation Periods + 2 periods, the range of the user guide's examples) of completed periods;
  metrics arrive without delay. An alarm whose period is 30 minutes or longer is evaluated every
  minute over a sliding window ending at that minute: CloudWatch's default evaluation window is a sliding
  window that "advances each time the alarm is evaluated" (user guide, "Alarm evaluation window";
  API reference, `EvaluationWindow`), and for the SLOs' burn-rate windows the difference decides whether
  a page comes in minutes or half an hour later, after the incident. Shorter periods keep the period-close
  evaluation the drills were written against, a known deviation (docs/cloudwatch-model.md): the model
  may notice a breach up to a period later than CloudWatch, and misses a burst that only a window
  straddling two periods would see. Percentile alarms with `evaluateLowSampleCountPercentile: ignore`
  keep their state while the newest period has too few samples.
- Composite alarms are evaluated after the metric alarms of the same minute, members first.
- Actions: each transition into ALARM delivers one notification to each `alarmActions` topic (a page
  for that topic's tier); transitions into OK with `okActions` are recorded as OK notifications.
  An actions suppressor in ALARM holds a composite's actions; a composite entering ALARM waits
  `waitPeriod` seconds for the suppressor, and actions stay held for `extensionPeriod` seconds after
  the suppressor leaves ALARM ("Composite alarms and actions suppression" in the user guide).
- A Metrics Insights alarm (a query that returns several series) evaluates each series as a
  contributor and notifies per contributor as well as for itself: see `insights`.
- Alarm mute rules (`mutes`): a muted alarm's actions are held, and run when the mute ends if the
  alarm (or contributor) is still in the state it entered while muted.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from cloudwatch_rules.composite import Rule, composite_state, conjunctions, members, parse_rule
from preflight.cloudwatch.evaluation import ALARM, INSUFFICIENT_DATA, OK, breaches, evaluate_breaches
from preflight.cloudwatch.insights import (
    MAX_CONTRIBUTORS_IN_ALARM,
    Contributor,
    InsightsError,
    InsightsQuery,
    insights_query,
    returned_series,
)
from preflight.cloudwatch.metric_math import TIME_FUNCTIONS, BandModel, Evaluator, ExpressionSource, tokenize
from preflight.cloudwatch.mutes import MuteClock
from preflight.cloudwatch.store import MetricKey, MetricStore, low_sample_count, metric_key

EXTRA_RANGE_PERIODS = 2
# Alarms with periods at least this long are evaluated every minute over a sliding window.
SLIDING_FROM_SECONDS = 1800


class ModelError(ValueError):
    """An alarm uses something the model does not implement: reported, never guessed."""


@dataclasses.dataclass
class MetricAlarmDefinition:
    name: str
    props: dict[str, Any]
    alarm_topics: list[str]  # tier of each alarmActions topic
    ok_topics: list[str]

    @functools.cached_property
    def period(self) -> int:
        if self.props.get("period"):
            return int(self.props["period"])
        # A metric's period, or an expression's own (a Metrics Insights query carries one).
        periods = [int(q["metric"]["period"]) if q.get("metric") else int(q["period"])
                   for q in self.props.get("metricQueries") or [] if q.get("metric") or q.get("period")]
        return min(periods) if periods else 60

    @functools.cached_property
    def sliding(self) -> bool:
        """Evaluated every minute over a window ending at that minute (module docstring)."""
        return self.period >= SLIDING_FROM_SECONDS and self.insights is None

    @functools.cached_property
    def pointwise(self) -> bool:
        """Each datapoint of its metric math depends only on the inputs' datapoints of the same period: no
        FILL with REPEAT or LINEAR and no reduction of a series (MAX, MIN, SUM, AVG), which read the range."""
        expressions = " ".join(q.get("expression") or "" for q in self.props.get("metricQueries") or []).upper()
        return not any(word in expressions for word in ("REPEAT", "LINEAR", "MAX(", "MIN(", "SUM(", "AVG("))

    @functools.cached_property
    def clock_dependent(self) -> bool:
        """Metric math that reads the datapoints' timestamps (time functions, anomaly bands)."""
        expressions = " ".join(q.get("expression") or "" for q in self.props.get("metricQueries") or [])
        return bool(self.props.get("thresholdMetricId")) or any(
            f"{name}(" in expressions.upper() for name in (*TIME_FUNCTIONS, "ANOMALY_DETECTION_BAND"))

    @functools.cached_property
    def insights(self) -> Optional[InsightsQuery]:
        """The Metrics Insights query the alarm evaluates, if it has one."""
        return insights_query(self.props)

    @functools.cached_property
    def metrics(self) -> dict[str, tuple[MetricKey, str, int]]:
        """Query id (`""` for a single-metric alarm) -> (metric, statistic, period)."""
        if self.props.get("metricName"):
            return {"": single_metric(self.props)}
        return {q["id"]: (metric_key(q["metric"]["namespace"], q["metric"]["metricName"],
                                     q["metric"].get("dimensions")), _stat(q["metric"]), int(q["metric"]["period"]))
                for q in self.props.get("metricQueries") or [] if q.get("metric")}


@dataclasses.dataclass
class CompositeDefinition:
    name: str
    rule_text: str
    alarm_topics: list[str]
    ok_topics: list[str]
    suppressor: Optional[str] = None
    wait_seconds: int = 0
    extension_seconds: int = 0
    description: str = ""
    rule: Rule = dataclasses.field(init=False)
    members: set[str] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.rule = parse_rule(self.rule_text)
        self.members = members(self.rule)


def paged_together(composites: Sequence[CompositeDefinition]) -> set[tuple[str, ...]]:
    """The alarms that page only while all of them are in ALARM (an SLO's burn-rate pair): the AND
    terms of the composites' rules."""
    return {term for c in composites for term in conjunctions(c.rule)}


def subject(alarm: str, contributor: Optional[str]) -> str:
    """An alarm, or one contributor of a Metrics Insights alarm: `alarm [FunctionName=x]`."""
    return alarm if contributor is None else f"{alarm} [{contributor}]"


@dataclasses.dataclass(frozen=True)
class HeldPage:
    """A composite that entered ALARM while its actions suppressor was in ALARM: its actions were held
    (once per time in ALARM), so its page is the suppressor's cause's."""

    minute: int
    alarm: str
    suppressor: str


@dataclasses.dataclass
class Notification:
    minute: int
    alarm: str
    tier: str
    state: str
    # A contributor-level notification of a Metrics Insights alarm names its series.
    contributor: Optional[str] = None
    # A composite's page: the metric alarms in ALARM beneath it when it was sent, each with its
    # contributors in ALARM (what DescribeAlarmContributors lists), like `alarm [FunctionName=x]`.
    members_in_alarm: tuple[str, ...] = ()
    # A composite's page: its own members in ALARM (the notification's TriggeringChildren), and the
    # attributes of every Metrics Insights alarm's contributors in ALARM at that minute, by alarm.
    triggering: tuple[str, ...] = ()
    contributors_in_alarm: Mapping[str, tuple[Mapping[str, str], ...]] = dataclasses.field(default_factory=dict)
    # A composite's page: every metric alarm in ALARM when it was sent (what DescribeAlarms lists
    # with StateValue ALARM), with the minute it entered ALARM.
    alarms_in_alarm: Mapping[str, int] = dataclasses.field(default_factory=dict)
    # A notification an alarm mute rule held: the rule.
    muted_by: Optional[str] = None

    @property
    def subject(self) -> str:
        return subject(self.alarm, self.contributor)


@dataclasses.dataclass
class Transition:
    minute: int
    alarm: str
    from_state: str
    to_state: str
    contributor: Optional[str] = None
    # The alarm's StateReason where the model words it (Metrics Insights alarms).
    reason: Optional[str] = None


def _stat(spec: dict[str, Any]) -> str:
    return spec.get("extendedStatistic") or spec.get("statistic") or spec.get("stat") or "Average"


def single_metric(props: dict[str, Any]) -> tuple[MetricKey, str, int]:
    return (metric_key(props["namespace"], props["metricName"], props.get("dimensions")), _stat(props),
            int(props["period"]))


def query_sources(alarm: MetricAlarmDefinition) -> dict[str, Any]:
    """Query id -> what it stands for in a band: each metric query, each expression over exactly one
    metric (e.g. FILL(m1, 0)), which is modelled by that metric's band, and each expression over several
    metric queries and nothing else, as an `ExpressionSource` (a band trained on the expression itself)."""
    metrics = alarm.metrics
    sources: dict[str, Any] = dict(metrics)
    for q in alarm.props.get("metricQueries") or []:
        expression = q.get("expression")
        if not expression:
            continue
        used = {t for t in tokenize(expression) if t in metrics}
        if len({metrics[t] for t in used}) == 1:
            sources[q["id"]] = metrics[used.pop()]
        elif used and not any(t in sources and t not in metrics for t in tokenize(expression)):
            sources[q["id"]] = ExpressionSource(expression, tuple((t, metrics[t]) for t in sorted(used)),
                                                alarm.period)
    return sources


def math_series(alarm: MetricAlarmDefinition, computed: dict[str, list], end_minute: int, length: int,
                band_model: Optional[BandModel] = None, strict_arithmetic: bool = False) -> tuple[list, Optional[list]]:
    """(values, band or None) of a metric-math alarm, from its metric queries' datapoints in `computed`
    (query id -> one value per period of the range ending at `end_minute`, oldest first)."""
    props = alarm.props
    queries = props["metricQueries"]
    evaluator = Evaluator(computed, length, band_model, query_sources(alarm), end_minute, alarm.period,
                          strict_arithmetic)
    pending = [q for q in queries if q.get("expression")]
    while pending:
        progressed = False
        for q in list(pending):
            try:
                value = evaluator.evaluate(q["expression"])
            except ValueError as error:
                if "unknown id" not in str(error):
                    raise
                continue
            computed[q["id"]] = value if isinstance(value, list) else [value] * length
            pending.remove(q)
            progressed = True
        if not progressed:
            raise ValueError(f"alarm {alarm.name}: metric queries reference unknown ids")
    band_id = props.get("thresholdMetricId")
    returned = [q["id"] for q in queries if q.get("returnData") and q["id"] != band_id]
    if len(returned) != 1:
        raise ValueError(f"alarm {alarm.name}: {len(returned)} queries return data, expected exactly one")
    return computed[returned[0]], (computed[band_id] if band_id else None)


class CloudWatchModel:
    def __init__(self, store: MetricStore, alarms: Sequence[MetricAlarmDefinition],
                 composites: Sequence[CompositeDefinition], band_model: Optional[BandModel] = None,
                 mutes: Optional[MuteClock] = None) -> None:
        self.store, self.band_model, self.mutes = store, band_model, mutes
        # CloudWatch evaluates each alarm on its own; the model goes through them in name order so that
        # transitions of one minute are listed the same on every run, whatever order the program
        # registered them in (composites: members first, otherwise by name too).
        self.alarms = sorted(alarms, key=lambda a: a.name)
        self.composites = self._members_first(sorted(composites, key=lambda c: c.name))
        self._composite_by_name = {c.name: c for c in self.composites}
        self.states: dict[str, str] = {a.name: INSUFFICIENT_DATA for a in [*self.alarms, *self.composites]}
        self.transitions: list[Transition] = []
        # Metric alarm -> the minute of its last transition into ALARM.
        self._entered_alarm: dict[str, int] = {}
        self.pages: list[Notification] = []
        self.ok_notifications: list[Notification] = []
        self.held_pages: list[HeldPage] = []
        self._held: dict[str, dict[str, Optional[int]]] = {}
        self._ranges: dict[str, tuple[int, dict[str, list]]] = {}
        self._changed: set[str] = set()
        self._last_range: dict[str, tuple] = {}
        self._math_memo: dict[str, tuple[Any, tuple[list, Optional[list]]]] = {}
        self._evaluated: set[str] = set()
        # Metrics Insights alarms: contributor -> ALARM or OK.
        self.contributors: dict[str, dict[Contributor, str]] = {}
        self._reasons: dict[str, str] = {}
        # Notifications a mute rule held, and the actions waiting for their mute to end:
        # (alarm, contributor) -> (state entered while muted, topics of that state).
        self.muted: list[Notification] = []
        self._pending: dict[tuple[str, Optional[str]], tuple[str, list[str]]] = {}
        self._minute = 0

    def __getstate__(self) -> dict:
        """The model as a drill played in another process hands it back: its states, transitions and
        notifications. The band model stays behind: it is a closure over the drill's traffic profile."""
        return {**self.__dict__, "band_model": None}

    @staticmethod
    def _members_first(composites: Sequence[CompositeDefinition]) -> list[CompositeDefinition]:
        by_name = {c.name: c for c in composites}
        ordered: list[CompositeDefinition] = []

        def visit(c: CompositeDefinition, path: tuple[str, ...]) -> None:
            if c in ordered or c.name in path:
                return
            for member in sorted(members(c.rule)):
                if member in by_name:
                    visit(by_name[member], (*path, c.name))
            ordered.append(c)

        for c in composites:
            visit(c, ())
        return ordered

    # -- metric alarms ---------------------------------------------------------------------------

    def series(self, alarm: MetricAlarmDefinition, end_minute: int) -> tuple[list, Optional[list]]:
        """(values, band or None) per period of the evaluation range, oldest first. A sliding window's range
        is read newest first: when its newest Evaluation Periods datapoints are all real, they alone decide
        (`evaluation.evaluate_breaches`), so the older ones are not computed."""
        periods = int(alarm.props["evaluationPeriods"])
        if alarm.sliding and alarm.pointwise:
            values, band = newest = self._series(alarm, end_minute, periods)
            if None not in values and (band is None or None not in band):
                return newest
        return self._series(alarm, end_minute, periods + EXTRA_RANGE_PERIODS)

    def _series(self, alarm: MetricAlarmDefinition, end_minute: int, length: int) -> tuple[list, Optional[list]]:
        computed = self._datapoints(alarm, end_minute, length)
        if "" in computed:
            return computed[""], None
        # Metric math is a pure function of its inputs unless it reads the clock (time functions,
        # anomaly bands): the same inputs as last time give the same result.
        memo_key = None if alarm.clock_dependent else tuple(tuple(v) for v in computed.values())
        if memo_key is not None and self._math_memo.get(alarm.name, (None,))[0] == memo_key:
            return self._math_memo[alarm.name][1]
        result = math_series(alarm, computed, end_minute, length, self.band_model)
        if memo_key is not None:
            self._math_memo[alarm.name] = (memo_key, result)
        return result

    def _datapoints(self, alarm: MetricAlarmDefinition, end_minute: int, length: int) -> dict[str, list]:
        """Each metric query's datapoints over the range; the previous range shifted by one period
        when the alarm was evaluated one period ago (closed periods never change)."""
        step = alarm.period // 60
        previous = self._ranges.get(alarm.name)
        if alarm.sliding:
            ends = [end_minute - (length - 1 - i) * step for i in range(length)]
            return {query_id: [self.store.sliding(key, stat, e, metric_period // 60) for e in ends]
                    for query_id, (key, stat, metric_period) in alarm.metrics.items()}
        if previous is not None and previous[0] == end_minute - step:
            ranges = {query_id: [*values[1:], self.store.datapoint(key, stat, end_minute, metric_period)]
                      for (query_id, (key, stat, metric_period)), values
                      in zip(alarm.metrics.items(), previous[1].values(), strict=True)}
        else:
            ends = [end_minute - (length - 1 - i) * step for i in range(length)]
            ranges = {query_id: [self.store.datapoint(key, stat, e, metric_period) for e in ends]
                      for query_id, (key, stat, metric_period) in alarm.metrics.items()}
        self._ranges[alarm.name] = (end_minute, ranges)
        return dict(ranges)

    def _evaluate_metric_alarm(self, alarm: MetricAlarmDefinition, end_minute: int) -> str:
        try:
            values, band = self.series(alarm, end_minute)
        except ValueError as error:
            raise ModelError(f"alarm {alarm.name}: the drill model cannot evaluate it: {error}") from None
        props = alarm.props
        previous = self.states[alarm.name]
        stat = props.get("extendedStatistic")
        if stat and props.get("evaluateLowSampleCountPercentile") == "ignore":
            key, _, period = single_metric(props)
            if low_sample_count(self.store.samples(key, end_minute - period // 60, period // 60), stat):
                return previous
        # The same range as last time gives the same state (the previous state is that result).
        seen = (tuple(values), None if band is None else tuple(band))
        if self._last_range.get(alarm.name) == seen:
            return previous
        self._last_range[alarm.name] = seen
        flags = []
        for i, value in enumerate(values):
            if value is None or (band is not None and band[i] is None):
                flags.append(None)
            else:
                flags.append(breaches(props, value, band[i] if band is not None else None))
        return evaluate_breaches(props, flags, previous)

    def _evaluate_insights_alarm(self, alarm: MetricAlarmDefinition, query: InsightsQuery, end_minute: int,
                                 offset: int) -> str:
        """Each returned series as a contributor (see `insights`); contributor transitions and their
        notifications are recorded here, the alarm's own state is returned."""
        props = alarm.props
        step = alarm.period // 60
        length = int(props["evaluationPeriods"]) + EXTRA_RANGE_PERIODS
        ends = [end_minute - (length - 1 - i) * step for i in range(length)]
        try:
            series = returned_series(query, self.store, ends, alarm.period)
        except InsightsError as error:
            raise ModelError(f"alarm {alarm.name}: the drill model cannot evaluate it: {error}") from None
        states = self.contributors.setdefault(alarm.name, {})
        if series.keys() - states.keys():
            # "a time series only exists when data is present": a new contributor starts in OK. They
            # are kept (and evaluated, and their transitions listed) in the order of their names.
            states = self.contributors[alarm.name] = dict(sorted({**dict.fromkeys(series, OK), **states}.items(),
                                                                 key=lambda item: item[0].name))
        in_alarm = sum(1 for s in states.values() if s == ALARM)
        evaluated_to_alarm = 0
        for contributor, previous in list(states.items()):
            values = series.get(contributor) or [None] * length
            flags = [None if v is None else breaches(props, v) for v in values]
            new = evaluate_breaches(props, flags, previous)
            if new == INSUFFICIENT_DATA:
                new = previous
            evaluated_to_alarm += new == ALARM
            if new == previous:
                continue
            if new == ALARM:
                if in_alarm >= MAX_CONTRIBUTORS_IN_ALARM:
                    continue  # "will limit the number of contributors in ALARM to 100"
                in_alarm += 1
            else:
                in_alarm -= 1
            states[contributor] = new
            name = contributor.name
            self.transitions.append(Transition(offset, alarm.name, previous, new, contributor=name))
            self._act(alarm.name, new, offset, alarm.alarm_topics if new == ALARM else alarm.ok_topics, name)
        returned = len(series)
        self._reasons[alarm.name] = (f"{MAX_CONTRIBUTORS_IN_ALARM}+ time series evaluated to ALARM"
                                     if evaluated_to_alarm > MAX_CONTRIBUTORS_IN_ALARM
                                     else f"{evaluated_to_alarm} out of {returned} time series evaluated to ALARM")
        if in_alarm:
            return ALARM
        if returned:
            return OK
        return evaluate_breaches(props, [None] * length, self.states[alarm.name])

    # -- the minute ------------------------------------------------------------------------------

    def tick(self, now_minute: int, offset: int) -> None:
        """Evaluates everything whose period closed at `now_minute`; `offset` is the drill minute."""
        self._minute = now_minute
        self._release(offset)
        self._changed = set()
        for alarm in self.alarms:
            if alarm.sliding or now_minute % max(alarm.period // 60, 1) == 0:
                try:
                    query = alarm.insights
                except InsightsError as error:
                    raise ModelError(f"alarm {alarm.name}: the drill model cannot evaluate it: {error}") from None
                state = (self._evaluate_metric_alarm(alarm, now_minute) if query is None
                         else self._evaluate_insights_alarm(alarm, query, now_minute, offset))
                self._set(alarm.name, state, offset, alarm.alarm_topics, alarm.ok_topics)
        self._tick_composites(offset)

    def tick_states(self, states: Mapping[str, str], offset: int) -> None:
        """A minute in which the metric alarms are in the given states (OK where none is given)
        instead of being evaluated from metrics: composites, suppressors, mutes and actions as in `tick`
        (the minute is `offset`). For questions about routing alone (which pages does an incident's set
        of alarms send)."""
        unknown = set(states) - {a.name for a in self.alarms}
        if unknown:
            raise ValueError(f"no metric alarm named {', '.join(sorted(unknown))}")
        self._minute = offset
        self._release(offset)
        self._changed = set()
        for alarm in self.alarms:
            self._set(alarm.name, states.get(alarm.name, OK), offset, alarm.alarm_topics, alarm.ok_topics)
        self._tick_composites(offset)

    def _tick_composites(self, offset: int) -> None:
        suppressed = []
        for composite in self.composites:
            before = self.states[composite.name]
            # A rule only changes its value when a member changed state (members are evaluated first).
            if composite.name in self._evaluated and not (composite.members & self._changed):
                new = before
            else:
                new = composite_state(composite.rule, self.states)
                self._evaluated.add(composite.name)
            self._set(composite.name, new, offset, [] if composite.suppressor else composite.alarm_topics,
                      composite.ok_topics)
            if composite.suppressor and composite.wait_seconds == 0:
                # No wait: the actions go unless the suppressor is in ALARM already.
                self._suppression(composite, before, new, offset)
            elif composite.suppressor:
                suppressed.append((composite, before, new))
        # A composite that waits for its suppressor is judged against the suppressors' states of this
        # minute, whatever order they were evaluated in: one that went into ALARM with it holds it from then.
        for composite, before, new in suppressed:
            self._suppression(composite, before, new, offset)

    def _set(self, name: str, new: str, offset: int, alarm_topics: list[str], ok_topics: list[str]) -> None:
        old = self.states[name]
        if new == old:
            return
        self.states[name] = new
        if new == ALARM:
            self._entered_alarm[name] = offset
        self._changed.add(name)
        self.transitions.append(Transition(offset, name, old, new, reason=self._reasons.get(name)))
        if new in (ALARM, OK):
            self._act(name, new, offset, alarm_topics if new == ALARM else ok_topics)

    # -- actions ---------------------------------------------------------------------------------

    def _act(self, name: str, state: str, offset: int, topics: list[str], contributor: Optional[str] = None) -> None:
        """The actions of `name` (or one of its contributors) entering `state`: sent, or held by a mute rule."""
        if not topics:
            return
        rule = self.mutes.muted_by(name, self._minute) if self.mutes else None
        if rule is None:
            self._send(name, state, offset, topics, contributor)
            return
        self._pending[(name, contributor)] = (state, list(topics))
        self.muted.extend(Notification(offset, name, tier, state, contributor, muted_by=rule) for tier in topics)

    def _send(self, name: str, state: str, offset: int, topics: list[str], contributor: Optional[str]) -> None:
        if state == ALARM:
            self.pages.extend(self._page(offset, name, tier) if contributor is None
                              else Notification(offset, name, tier, ALARM, contributor) for tier in topics)
        else:
            self.ok_notifications.extend(Notification(offset, name, tier, state, contributor) for tier in topics)

    def _release(self, offset: int) -> None:
        """Actions held by a mute that has ended run now if their alarm is still in the state they were for."""
        if not self._pending or self.mutes is None:
            return
        for (name, contributor), (state, topics) in sorted(self._pending.items(), key=lambda item: item[0][0]):
            if self.mutes.muted_by(name, self._minute) is not None:
                continue
            del self._pending[(name, contributor)]
            if self._state_of(name, contributor) == state:
                self._send(name, state, offset, topics, contributor)

    def _state_of(self, name: str, contributor: Optional[str]) -> Optional[str]:
        if contributor is None:
            return self.states.get(name)
        return next((s for c, s in self.contributors.get(name, {}).items() if c.name == contributor), None)

    def _page(self, offset: int, name: str, tier: str) -> Notification:
        """An ALARM notification of a metric alarm or composite, with what the composite's page can name."""
        composite = self._composite_by_name.get(name)
        if composite is None:
            return Notification(offset, name, tier, ALARM)
        in_alarm = {alarm: tuple(dict(c.labels) for c, state in contributors.items() if state == ALARM)
                    for alarm, contributors in self.contributors.items()}
        return Notification(offset, name, tier, ALARM, members_in_alarm=self._members_in_alarm(name),
                            triggering=tuple(sorted(m for m in composite.members if self.states.get(m) == ALARM)),
                            contributors_in_alarm={alarm: found for alarm, found in in_alarm.items() if found},
                            alarms_in_alarm={a.name: self._entered_alarm[a.name] for a in self.alarms
                                             if self.states[a.name] == ALARM})

    def _members_in_alarm(self, name: str) -> tuple[str, ...]:
        """The metric alarms in ALARM beneath a composite (through nested composites), a Metrics
        Insights alarm with its contributors in ALARM; () for a metric alarm."""
        composite = self._composite_by_name.get(name)
        if composite is None:
            return ()
        found: list[str] = []
        for member in sorted(composite.members):
            if member in self._composite_by_name:
                found += [m for m in self._members_in_alarm(member) if m not in found]
            elif self.states.get(member) == ALARM:
                named = sorted(c.name for c, state in self.contributors.get(member, {}).items() if state == ALARM)
                found.append(f"{member} [{'; '.join(named)}]" if named else member)
        return tuple(found)

    def _suppression(self, composite: CompositeDefinition, before: str, now: str, offset: int) -> None:
        name = composite.name
        suppressor_in_alarm = self.states.get(composite.suppressor or "") == ALARM
        if now != ALARM:
            self._held.pop(name, None)
            return
        if before != ALARM:
            self._held[name] = {"fire_at": offset + composite.wait_seconds // 60, "left_at": None,
                                "suppressed": 1 if suppressor_in_alarm else 0}
        held = self._held.get(name)
        if held is None:
            return
        if suppressor_in_alarm:
            if not held["suppressed"] or before != ALARM:
                self.held_pages.append(HeldPage(offset, name, composite.suppressor or ""))
            held["suppressed"], held["left_at"] = 1, None
            return
        if held["suppressed"]:
            if held["left_at"] is None:
                held["left_at"] = offset
            if offset < held["left_at"] + composite.extension_seconds // 60:
                return
        elif offset < (held["fire_at"] or 0):
            return
        self._act(name, ALARM, offset, composite.alarm_topics)
        self._held.pop(name)
