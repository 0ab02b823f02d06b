"""Security events (failed logins, fraud attempts) as JSON records in the security log group,
where the stack's log metric filters count them ({ $.event = "LOGIN_FAILED" }) for the critical
alarms. Buffered per invocation and sent in one PutLogEvents call at `flush()`.

The event name is the library's field: caller context cannot rename it. Personal values (a key
naming an email, phone, name...; or a value that looks like an email or phone number) are stored
as keyed-hash pseudonyms (`<key>Pseudonym`), so repeated attempts on one account still correlate.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from typing import Any, Optional

import boto3

from observability import boundary
from observability.aws import RETRIES
from observability.pseudonym import pseudonym
from observability.settings import ConfigurationError

EVENTS = ("LOGIN_FAILED", "FRAUD_ATTEMPT")
MAX_CONTEXT_KEYS = 20


def safe_context(context: Optional[Mapping[str, Any]], key: Optional[bytes] = None) -> dict[str, Any]:
    safe: dict[str, Any] = {}
    for name, value in list((context or {}).items())[:MAX_CONTEXT_KEYS]:
        name = str(name)[:40]
        # Scalars only: a nested object could carry personal data under keys nobody checks.
        if name == "event" or not isinstance(value, (bool, int, float, str)):
            continue
        text = value
        if boundary.PERSONAL_KEY.search(name) or (isinstance(text, str) and boundary.PERSONAL_VALUE.search(text)):
            safe[f"{name}Pseudonym"] = pseudonym(str(text).strip().lower(), key)
        else:
            safe[name] = text[:boundary.CONTEXT_VALUE_MAX_CHARS] if isinstance(text, str) else text
    return safe


class SecurityEventLog:
    def __init__(self, log_group: Optional[str] = None, client: Any = None,
                 pseudonym_key: Optional[bytes] = None) -> None:
        self.log_group = log_group or os.getenv("HASIVU_SECURITY_LOG_GROUP", "")
        if not self.log_group:
            raise ConfigurationError("HASIVU_SECURITY_LOG_GROUP: not set; expected the security log group's name "
                                     "(/hasivu/<environment>/security-events), which the stack's metric filters read")
        self.client = client or boto3.client("logs", config=RETRIES)
        self.stream = f"{os.getenv('AWS_LAMBDA_FUNCTION_NAME', 'local')}/{uuid.uuid4().hex}"
        self.pending: list[dict[str, Any]] = []
        self._stream_ready = False
        self._key = pseudonym_key

    def record(self, event: str, context: Optional[Mapping[str, Any]] = None) -> None:
        if event not in EVENTS:
            raise ValueError(f"event: got {event!r}; expected one of {', '.join(EVENTS)}")
        message = json.dumps({**safe_context(context, self._key), "event": event})
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
