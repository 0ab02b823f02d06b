"""Keyed-hash pseudonyms of personal ids (users, students, emails, phones) for traces and logs.

One key per deployment makes a pseudonym stable across containers and functions, so a trace of
one student can be followed without recording who the student is. In Lambda the key is required:
the stack creates it as a Secrets Manager secret and passes its ARN in
HASIVU_PSEUDONYM_KEY_SECRET_ARN (read once per container); HASIVU_PSEUDONYM_KEY holds the key
itself for local runs. Outside Lambda, without either, a random key per process is used.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any, Optional

from observability.settings import ConfigurationError, in_lambda

SECRET_ARN_VARIABLE = "HASIVU_PSEUDONYM_KEY_SECRET_ARN"  # noqa: S105 - a variable name, not a secret
KEY_VARIABLE = "HASIVU_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 16


def require_configured(env: Mapping[str, str] = os.environ) -> None:
    """At cold start in Lambda: without a key, pseudonyms would silently change per container."""
    if in_lambda() and not env.get(SECRET_ARN_VARIABLE) and not env.get(KEY_VARIABLE):
        raise ConfigurationError(
            f"{SECRET_ARN_VARIABLE}: not set; expected the ARN of the stack's pseudonym key secret "
            "(stack output pseudonymKeySecretArn), so pseudonyms are stable across containers")


def _checked(name: str, key: str) -> bytes:
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigurationError(f"{name}: got a key of {len(key)} characters; expected at least {MIN_KEY_LENGTH}")
    return key.encode()


def _from_secret(arn: str) -> bytes:
    from observability.aws import deadline_client

    value = deadline_client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    try:
        # The stack stores {"key": "..."}; a plain string secret is accepted too.
        parsed = json.loads(value)
        value = parsed["key"] if isinstance(parsed, dict) else value
    except (ValueError, KeyError):
        pass
    return _checked(f"{SECRET_ARN_VARIABLE} ({arn.rsplit(':', 1)[-1]})", str(value))


@functools.cache
def deployment_key() -> bytes:
    require_configured()
    if os.getenv(SECRET_ARN_VARIABLE):
        return _from_secret(os.environ[SECRET_ARN_VARIABLE])
    if os.getenv(KEY_VARIABLE):
        return _checked(KEY_VARIABLE, os.environ[KEY_VARIABLE])
    return os.urandom(32)


def pseudonym(identifier: Any, key: Optional[bytes] = None) -> str:
    """16 hex digits of HMAC-SHA256: stable for one key, not reversible without it."""
    digest = hmac.new(key or deployment_key(), str(identifier).encode(), hashlib.sha256).hexdigest()
    return digest[:16]
