"""What every boto3 call of the library shares: retry policies, per-container clients and the end
of a metric window."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

# Standard-mode retries with backoff; short timeouts so a slow AWS API cannot hang a Lambda.
RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=2, read_timeout=10)
# On a deadline (health checks, reading a secret at cold start): at most 2 attempts in total
# (botocore's `total_max_attempts` counts the first request) and short timeouts, so a hung AWS
# endpoint costs at most 2 x (1 s + 2 s) before the caller turns it into a result.
ON_DEADLINE = Config(retries={"total_max_attempts": 2, "mode": "standard"}, connect_timeout=1, read_timeout=2)


@functools.cache
def deadline_client(service: str) -> Any:
    """One client per service per container (creating one costs ~50 ms of a cold start)."""
    return boto3.client(service, config=ON_DEADLINE)


def metric_window_end() -> datetime:
    """A minute ahead of now, so a datapoint stamped this very second falls inside the window."""
    return datetime.now(UTC) + timedelta(minutes=1)
