"""One CloudWatch dashboard as a component, and the five the platform has."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Optional

import pulumi
from pulumi_aws import cloudwatch

from components.alarms.catalogue import AlarmCatalogue
from components.dashboards import boards
from components.dashboards.layout import layout
from components.dashboards.widgets import Widget
from stackconfig.model import StackSettings

DASHBOARD_NAMES = ("Executive-Overview", "Lambda-Performance", "API-Gateway", "Database-Performance",
                   "Business-Metrics")


@dataclasses.dataclass
class DashboardArgs:
    dashboard_name: str
    # The widgets, given the account id (alarm widgets name alarms by ARN).
    widgets: Callable[[str], Sequence[Widget]]
    region: str
    account_id: pulumi.Input[str]


class Dashboard(pulumi.ComponentResource):
    dashboard: cloudwatch.Dashboard

    def __init__(self, name: str, args: DashboardArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:Dashboard", name, None, opts)
        body = pulumi.Output.from_input(args.account_id).apply(
            lambda account: json.dumps({"widgets": layout(args.widgets(account), args.region)}))
        self.dashboard = cloudwatch.Dashboard(
            f"{name}-dashboard", dashboard_name=args.dashboard_name, dashboard_body=body,
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"dashboardName": args.dashboard_name})


def console_url(region: str, name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={name}"


def build_dashboards(
    settings: StackSettings, alarms: AlarmCatalogue, account_id: pulumi.Input[str]
) -> dict[str, Dashboard]:
    specs = boards.Specs(alarms.specs)
    region, env = settings.region, settings.environment

    def composite_arns(account: str) -> list[str]:
        """The status roll-ups an executive reads: payments, and the whole platform (every critical pager).
        The pagers by scope and the holds between them are the on-call's, on the console's alarm list."""
        return [f"arn:aws:cloudwatch:{region}:{account}:alarm:{env}-{key}"
                for key in ("payment-system-health", "system-health") if key in alarms.composites]

    builders: dict[str, Callable[[str], Sequence[Widget]]] = {
        "Executive-Overview": lambda account: boards.executive(settings, specs, composite_arns(account)),
        "Lambda-Performance": lambda _: boards.lambda_performance(settings, specs),
        "API-Gateway": lambda _: boards.api_gateway(settings, specs),
        "Database-Performance": lambda _: boards.database(settings, specs),
        "Business-Metrics": lambda _: boards.business(settings, specs),
    }
    return {
        suffix: Dashboard(
            f"dashboard-{suffix.lower()}",
            DashboardArgs(f"{env}-HASIVU-{suffix}", builders[suffix], region, account_id),
        )
        for suffix in DASHBOARD_NAMES
    }
