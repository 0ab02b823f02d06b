"""Asks AWS (the `aws:lambda/getFunctions` invoke) which functions exist, for inventory discovery."""

from __future__ import annotations

from pulumi_aws import lambda_


def account_functions() -> list[str]:
    """Every function of the account and Region; the loader keeps those with the discovery prefix."""
    return list(lambda_.get_functions().function_names)
