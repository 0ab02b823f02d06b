"""Turns registered inputs (protobuf Struct with Pulumi's sentinels) into readable JSON values."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

SECRET_SIG_KEY = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig
COMPUTED = "<computed>"
SECRET = "[secret]"  # noqa: S105 - the placeholder shown instead of a secret


def readable(value: Any) -> Any:
    if isinstance(value, str) and value == rpc.UNKNOWN:
        return COMPUTED
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return SECRET
        return {k: readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [readable(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def struct_to_props(struct: struct_pb2.Struct) -> dict[str, Any]:
    return readable(json_format.MessageToDict(struct))
