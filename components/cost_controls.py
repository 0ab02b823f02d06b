"""The budgets (daily and monthly, total and per service) and cost anomaly detection,
delivered to the tier topics."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Optional

import pulumi
from pulumi_aws import budgets, costexplorer, sns

from stackconfig.costs import BUDGET_SERVICES
from stackconfig.model import StackSettings, Tier


@dataclasses.dataclass(frozen=True)
class BudgetAlert:
    notification_type: str
    threshold_percent: float
    tier: Tier
    total_only: bool = False
    # AWS Budgets offers no forecast for daily budgets, so a forecasted alert is monthly only.
    monthly_only: bool = False


ALERTS = (
    BudgetAlert("ACTUAL", 80, Tier.WARNING),
    BudgetAlert("FORECASTED", 100, Tier.BUSINESS, monthly_only=True),
    # Cost data lags up to a day: by the time the actual total crosses 100 % nobody can stop it within
    # a critical page's minutes, so it goes to the people who own the budget.
    BudgetAlert("ACTUAL", 100, Tier.BUSINESS, total_only=True),
)


@dataclasses.dataclass
class CostControlsArgs:
    settings: StackSettings
    topics: Mapping[Tier, sns.Topic]


class CostControls(pulumi.ComponentResource):
    budgets: dict[str, budgets.Budget]
    # The SERVICE anomaly monitor's ARN: created here, or the account's existing one (config).
    anomaly_monitor_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CostControlsArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:CostControls", name, None, opts)
        settings, env = args.settings, args.settings.environment
        self.budgets = {}
        for period, amounts in (("daily", settings.costs.daily_budgets), ("monthly", settings.costs.monthly_budgets)):
            for service, amount in amounts.items():
                self.budgets[f"{period}-{service}"] = self._budget(args, period, service, amount)
        existing = settings.costs.existing_anomaly_monitor_arn
        if existing is not None:
            # AWS allows one SERVICE (dimensional) monitor per account: reuse the one the account has.
            self.anomaly_monitor_arn = pulumi.Output.from_input(existing)
        else:
            self.anomaly_monitor_arn = costexplorer.AnomalyMonitor(
                f"{name}-anomaly-monitor",
                name=f"{env}-hasivu-services",
                monitor_type="DIMENSIONAL",
                monitor_dimension="SERVICE",
                tags=settings.tags(Service="cost", Tier=Tier.BUSINESS.value),
                opts=pulumi.ResourceOptions(parent=self),
            ).arn
        costexplorer.AnomalySubscription(
            f"{name}-anomaly-subscription",
            name=f"{env}-hasivu-cost-anomalies",
            # SNS subscribers must be notified immediately; daily/weekly digests go to email only.
            frequency="IMMEDIATE",
            monitor_arn_lists=[self.anomaly_monitor_arn],
            subscribers=[costexplorer.AnomalySubscriptionSubscriberArgs(
                type="SNS", address=args.topics[Tier.BUSINESS].arn)],
            threshold_expression=costexplorer.AnomalySubscriptionThresholdExpressionArgs(
                dimension=costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    match_options=["GREATER_THAN_OR_EQUAL"],
                    values=[f"{settings.costs.anomaly_threshold_usd:g}"],
                )
            ),
            tags=settings.tags(Service="cost", Tier=Tier.BUSINESS.value),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"budgetNames": sorted(self.budgets), "anomalyMonitorArn": self.anomaly_monitor_arn})

    def _budget(self, args: CostControlsArgs, period: str, service: str, amount: float) -> budgets.Budget:
        env = args.settings.environment
        filter_value = BUDGET_SERVICES[service]
        filters = [budgets.BudgetCostFilterArgs(name="Service", values=[filter_value])] if filter_value else None
        notifications = [
            budgets.BudgetNotificationArgs(
                comparison_operator="GREATER_THAN",
                threshold=alert.threshold_percent,
                threshold_type="PERCENTAGE",
                notification_type=alert.notification_type,
                subscriber_sns_topic_arns=[args.topics[alert.tier].arn],
            )
            for alert in ALERTS
            if not (alert.total_only and filter_value is not None) and not (alert.monthly_only and period == "daily")
        ]
        return budgets.Budget(
            f"{env}-{period}-{service}",
            name=f"{env}-hasivu-{period}-{service}",
            budget_type="COST",
            limit_amount=f"{amount:.2f}",
            limit_unit="USD",
            time_unit=period.upper(),
            cost_filters=filters,
            notifications=notifications,
            tags=args.settings.tags(Service="cost", Tier=Tier.BUSINESS.value),
            opts=pulumi.ResourceOptions(parent=self),
        )
