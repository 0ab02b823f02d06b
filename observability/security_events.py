"""Security events (failed logins, fraud attempts) as JSON records in the security log group,
where the stack's log metric filters count them ({ $.event = "LOGIN_FAILED" }) for the critical
alarms. Buffered per invocation and sent in one PutLogEvents call at `flush()`."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from typing import Any, Optional

import boto3

from observability.aws import RETRIES

EVENTS = ("LOGIN_FAILED", "FRAUD_ATTEMPT")


class SecurityEventLog:
    def __init__(self, log_group: Optional[str] = None, client: Any = None) -> None:
        self.log_group = log_group or os.environ["HASIVU_SECURITY_LOG_GROUP"]
        self.client = client or boto3.client("logs", config=RETRIES)
        self.stream = f"{os.getenv('AWS_LAMBDA_FUNCTION_NAME', 'local')}/{uuid.uuid4().hex}"
        self.pending: list[dict[str, Any]] = []
        self._stream_ready = False

    def record(self, event: str, context: Optional[Mapping[str, Any]] = None) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown security event {event!r}; expected one of {', '.join(EVENTS)}")
        message = json.dumps({"event": event, **(context or {})}, default=str)
        self.pending.append({"timestamp": int(time.time() * 1000), "message": message})

    def flush(self) -> int:
        if not self.pending:
            return 0
        if not self._stream_ready:
            try:
                self.client.create_log_stream(logGroupName=self.log_group, logStreamName=self.stream)
            except self.client.exceptions.ResourceAlreadyExistsException:
                pass
            self._stream_ready = True
        batch, self.pending = self.pending, []
        self.client.put_log_events(logGroupName=self.log_group, logStreamName=self.stream, logEvents=batch)
        return len(batch)
