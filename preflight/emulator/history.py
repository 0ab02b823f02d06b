"""What the platform's metrics held in the days before a drill: the fault-free expectation of its traffic.

A drill simulates only its last hour before the start in full (preflight/drill/runner.py). An SLO's
burn-rate windows look back up to three days, and on a running stack those days are full of normal
traffic: without them a long window holds a drill's first few requests, and one failure among them
reads as a budget on fire. So for the metrics the longest windows read, the days before the simulated
hour are filled with their expected values, a 10-minute batch at a time:

- the API stage's Count, 5XXError (none: errors come from faults) and Latency (each API function's
  usual duration plus API Gateway's own 15 ms);
- payment attempts and errors, card verifications and successes, at their normal shares;
- the health monitor's DependencyHealthy, 1 for each dependency it checks around the clock.

Other metrics get no history, as before. Cold starts and the slow tail of durations are left out, so the
latency history is all good: a latency SLO's long windows start the drill with no budget spent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Optional

from preflight.cloudwatch.cloudwatch import MetricAlarmDefinition
from preflight.cloudwatch.store import MetricKey, MetricStore, Samples
from preflight.emulator.platform import Platform
from stackconfig.slos import CHECKED_AROUND_THE_CLOCK
from stackconfig.traffic import (
    PAYMENT_ERROR_SHARE,
    RFID_FAILED_SHARE,
    Profile,
)

BATCH_MINUTES = 10
API_OVERHEAD_MS = 15
# Metrics that already hold the simulated hour need history only for windows longer than that.
SIMULATED_MINUTES = 60
# Business metric -> (traffic flow, share of its events).
BUSINESS_FLOWS = {
    "PaymentAttempts": ("payments", 1.0),
    "PaymentErrors": ("payments", PAYMENT_ERROR_SHARE),
    "RFIDVerificationAttempts": ("rfid", 1.0),
    "RFIDVerificationSuccess": ("rfid", 1 - RFID_FAILED_SHARE),
}


def _expected(key: MetricKey, platform: Platform, profile: Profile, when: dt.datetime) -> Optional[Samples]:
    """One minute's samples of `key` on a normal day at `when`, or None for a metric without a model."""
    namespace, name, dims = key
    dimensions = dict(dims)
    rates = profile.rates(when)
    if namespace == "AWS/ApiGateway" and dimensions == {"ApiName": platform.api_name, "Stage": platform.api_stage}:
        roles = [platform.role(fn) for fn in platform.functions if fn != platform.health_function]
        served = [(role, rates.get(role.flow or "", 0.0) * role.per_event) for role in roles if role.api]
        requests = sum(n for _, n in served)
        return {"Count": [(1.0, requests)], "5XXError": [(0.0, requests)],
                "Latency": [(role.base_ms + API_OVERHEAD_MS, n) for role, n in served if n > 0]}.get(name)
    if namespace == platform.business_namespace and name in BUSINESS_FLOWS:
        flow, share = BUSINESS_FLOWS[name]
        return [(1.0, rates.get(flow, 0.0) * share)]
    if namespace == platform.health_namespace and name == "DependencyHealthy" and \
            dimensions.get("Dependency") in CHECKED_AROUND_THE_CLOCK and platform.health_schedule_minutes:
        return [(1.0, 1 / platform.health_schedule_minutes)]
    return None


def put_history(store: MetricStore, platform: Platform, profile: Profile, alarms: Sequence[MetricAlarmDefinition],
                before_minute: int) -> None:
    """Fills the days before `before_minute` for each modelled metric an alarm reads over a window that
    reaches back past the simulated hour, as far as the longest such window."""
    reach: dict[MetricKey, int] = {}
    for alarm in alarms:
        window = alarm.period // 60 * int(alarm.props.get("evaluationPeriods") or 1)
        if window <= SIMULATED_MINUTES:
            continue
        for key, _, _ in alarm.metrics.values():
            reach[key] = max(reach.get(key, 0), window)
    for key, minutes in reach.items():
        start = before_minute - (minutes // BATCH_MINUTES + 1) * BATCH_MINUTES
        for batch in range(start, before_minute, BATCH_MINUTES):
            when = dt.datetime.fromtimestamp((batch + BATCH_MINUTES // 2) * 60, dt.UTC)
            samples = _expected(key, platform, profile, when)
            if samples is None:
                break
            store.put_samples(key, batch, [(value, count * BATCH_MINUTES) for value, count in samples if count > 0])
