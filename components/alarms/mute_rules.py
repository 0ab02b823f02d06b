"""Planned maintenance windows and the school calendar as CloudWatch alarm mute rules on the pagers.

Which pagers each rule mutes, and for how long, is stackconfig/muting.py's rule; here the windows and
days become schedules in IST (the rules name the time zone, so CloudWatch reads them in IST too). A
closure longer than one `at()` rule can mute (15 days) is a daily rule between a start and an expire
date. Mute rules cost nothing on the CloudWatch price page; see docs/maintenance.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Optional
from zoneinfo import ZoneInfo

import pulumi
from pulumi_aws import cloudwatch

from cloudwatch_rules.mute_rules import MAX_DURATION, iso_duration, rfc3339
from stackconfig.maintenance import PLATFORM_TIME_ZONE, Closure, MaintenanceWindow
from stackconfig.model import StackSettings
from stackconfig.muting import Mute, Pager, calendar_mutes, window_mutes

DAY_MINUTES = 1440


@dataclasses.dataclass
class MuteRulesArgs:
    settings: StackSettings
    pagers: Sequence[Pager]
    # Pager composites by alarm name: a rule may only name alarms that exist.
    composites: Mapping[str, cloudwatch.CompositeAlarm]


class MuteRules(pulumi.ComponentResource):
    rules: dict[str, cloudwatch.AlarmMuteRule]

    def __init__(self, name: str, args: MuteRulesArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:MuteRules", name, None, opts)
        self.args = args
        self.rules = {}
        env = args.settings.environment
        maintenance = args.settings.maintenance
        for window in maintenance.windows:
            self._window(f"{env}-window-{window.name}", window)
        calendar = maintenance.calendar
        if calendar is not None:
            if calendar.weekends:
                days = ",".join(day for day in ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
                                if day in calendar.weekends)
                for mute in calendar_mutes(args.pagers, DAY_MINUTES):
                    self._rule(f"{env}-weekends{mute.suffix}", "Weekend: no school, the school-day alarms do not "
                               "page.", f"cron(0 0 * * {days})", mute)
            for closure in calendar.closures:
                self._closure(f"{env}-{closure.kind}-{closure.first.isoformat()}", closure)
        self.register_outputs({"muteRuleNames": sorted(self.rules)})

    def _window(self, base: str, window: MaintenanceWindow) -> None:
        what = "everything" if window.scope == "all" else f"the {window.scope} pagers and the job pagers"
        when = f"on {', '.join(window.days)}" if window.days else f"on {window.date}"
        for mute in window_mutes(window.scope, self.args.pagers, window.minutes):
            self._rule(base + mute.suffix, f"{window.reason} (planned maintenance {when} at {window.start:%H:%M} IST "
                       f"for {window.minutes} minutes; mutes {what}).", window.expression, mute)

    def _closure(self, base: str, closure: Closure) -> None:
        reason = f"{closure.reason}: no school {closure.first} to {closure.last}, the school-day alarms do not page."
        whole = closure.days * DAY_MINUTES
        for mute in calendar_mutes(self.args.pagers, whole):
            if mute.minutes <= MAX_DURATION.total_seconds() // 60:
                self._rule(base + mute.suffix, reason, f"at({closure.first.isoformat()}T00:00)", mute)
                continue
            # Too long for one occurrence: a day's mute every day, from the first day to the day after the last.
            daily = dataclasses.replace(mute, minutes=DAY_MINUTES + mute.minutes - whole)
            zone = ZoneInfo(PLATFORM_TIME_ZONE)
            first = dt.datetime.combine(closure.first, dt.time(), zone)
            after = dt.datetime.combine(closure.last + dt.timedelta(days=1), dt.time(), zone)
            self._rule(base + mute.suffix, reason, "cron(0 0 * * *)", daily, rfc3339(first), rfc3339(after))

    def _rule(self, name: str, description: str, expression: str, mute: Mute, start: Optional[str] = None,
              expire: Optional[str] = None) -> None:
        settings = self.args.settings
        self.rules[name] = cloudwatch.AlarmMuteRule(
            name,
            name=name,
            description=description[:1024],
            rule=cloudwatch.AlarmMuteRuleRuleArgs(schedule=cloudwatch.AlarmMuteRuleRuleScheduleArgs(
                expression=expression, duration=iso_duration(mute.minutes), timezone=PLATFORM_TIME_ZONE)),
            mute_targets=cloudwatch.AlarmMuteRuleMuteTargetsArgs(alarm_names=list(mute.targets)),
            start_date=start,
            expire_date=expire,
            tags=settings.tags(Service="maintenance", Resource="mute-rule"),
            # PutAlarmMuteRule: "the alarm names must match existing alarms".
            opts=pulumi.ResourceOptions(parent=self, depends_on=[
                self.args.composites[t] for t in mute.targets if t in self.args.composites]),
        )
