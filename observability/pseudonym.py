"""Keyed-hash pseudonyms of personal ids (users, students, emails, phones) for traces and logs.

One key per deployment makes a pseudonym stable across containers and functions, so a trace of
one student can be followed without recording who the student is. In Lambda the key is required:
the stack generates it into an SSM SecureString parameter (stack output pseudonymKeyParameter) and
passes the parameter's name in HASIVU_PSEUDONYM_KEY_PARAMETER; the key is read with decryption once
per container, never placed in the environment. HASIVU_PSEUDONYM_KEY holds the key itself for
local runs only: in Lambda it is refused, since a function's variables are readable by anyone allowed
lambda:GetFunctionConfiguration. Outside Lambda, without either, a random key per process is used.
"""

from __future__ import annotations

import functools
import hmac
import os
from collections.abc import Mapping
from typing import Any, Optional

from observability.settings import ConfigurationError, in_lambda

PARAMETER_VARIABLE = "HASIVU_PSEUDONYM_KEY_PARAMETER"
KEY_VARIABLE = "HASIVU_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 16


def require_configured(env: Mapping[str, str] = os.environ) -> None:
    """At cold start in Lambda: without a key, pseudonyms would silently change per container."""
    if not in_lambda():
        return
    if env.get(KEY_VARIABLE):
        raise ConfigurationError(
            f"{KEY_VARIABLE}: set in a Lambda's environment, where the key is readable in plain text; expected "
            f"{PARAMETER_VARIABLE} naming the SSM SecureString that holds it (stack output pseudonymKeyParameter)")
    if not env.get(PARAMETER_VARIABLE):
        raise ConfigurationError(
            f"{PARAMETER_VARIABLE}: not set; expected the name of the stack's pseudonym key parameter "
            "(stack output pseudonymKeyParameter), so pseudonyms are stable across containers")


def _checked(name: str, key: str) -> bytes:
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigurationError(f"{name}: got a key of {len(key)} characters; expected at least {MIN_KEY_LENGTH}")
    return key.encode()


def _from_parameter(name: str) -> bytes:
    from observability.aws import deadline_client

    value = deadline_client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return _checked(f"{PARAMETER_VARIABLE} ({name})", value)


@functools.cache
def deployment_key() -> bytes:
    require_configured()
    if os.getenv(PARAMETER_VARIABLE):
        return _from_parameter(os.environ[PARAMETER_VARIABLE])
    if os.getenv(KEY_VARIABLE):
        return _checked(KEY_VARIABLE, os.environ[KEY_VARIABLE])
    return os.urandom(32)


def pseudonym(identifier: Any, key: Optional[bytes] = None) -> str:
    """16 hex digits of HMAC-SHA256: stable for one key, not reversible without it."""
    return hmac.digest(key or deployment_key(), str(identifier).encode(), "sha256").hex()[:16]
