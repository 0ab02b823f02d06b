"""Asks AWS (the `aws:lambda/getFunctions` invoke) which functions exist, for inventory discovery."""

from __future__ import annotations

from pulumi_aws import lambda_


def discover_functions(prefix: str) -> list[str]:
    return [name for name in lambda_.get_functions().function_names if name.startswith(prefix)]
