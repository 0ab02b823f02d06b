"""Typed, validated stack configuration: the one place where Pulumi config becomes Python values."""

from stackconfig.errors import ConfigError
from stackconfig.loader import load_settings
from stackconfig.model import (
    ApiConfig,
    CriticalEndpoint,
    Inventory,
    LambdaFunction,
    RdsInstance,
    RedisConfig,
    StackSettings,
    Tier,
    TierContacts,
)

__all__ = [
    "ApiConfig",
    "ConfigError",
    "CriticalEndpoint",
    "Inventory",
    "LambdaFunction",
    "RdsInstance",
    "RedisConfig",
    "StackSettings",
    "Tier",
    "TierContacts",
    "load_settings",
]
