"""What every boto3 call of the library shares: retry policy and the end of a metric window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from botocore.config import Config

# Standard-mode retries with backoff; short timeouts so a slow AWS API cannot hang a Lambda.
RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=2, read_timeout=10)


def metric_window_end() -> datetime:
    """A minute ahead of now, so a datapoint stamped this very second falls inside the window."""
    return datetime.now(UTC) + timedelta(minutes=1)
