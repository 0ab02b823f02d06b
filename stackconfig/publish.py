"""The schema published for tools: the stack file's JSON Schema and `Pulumi.yaml`'s `config:` block.

Both come from `stackconfig.schema`, so a key is declared once.
"""

from __future__ import annotations

from typing import Any

from stackconfig.errors import PROJECT
from stackconfig.loader import aws_provider_keys, known_regions
from stackconfig.schema import SECRET_KEYS, StackConfig

# Keys not declared in Pulumi.yaml: the CLI demands a value or default for every declared key of the
# project's namespace (pkg/workspace/config.go), and these have none that means "absent" -
# an unset secret, no health monitor, no budget for the monitoring, no school calendar - nor a Pulumi
# type for numbers.
UNDECLARED = (*SECRET_KEYS, "healthMonitor", "monitoringBudgetUsd", "schoolCalendar")


def project_config_block() -> dict[str, Any]:
    """Declarations for `Pulumi.yaml`: Pulumi's project schema has string, integer, boolean, array, object."""
    schema = StackConfig.model_json_schema(by_alias=True)
    required = set(schema.get("required", []))
    block: dict[str, Any] = {}
    for key, prop in schema["properties"].items():
        if key in UNDECLARED:
            continue
        is_string = prop.get("type") == "string"
        entry: dict[str, Any] = {"type": "string" if is_string else "object", "description": prop["description"]}
        if key not in required:
            entry["default"] = {}
        block[key] = entry
    return block


def stack_file_schema() -> dict[str, Any]:
    """A JSON Schema of `Pulumi.<stack>.yaml` for editors: the project's keys, `aws:region`, secrets."""
    schema = StackConfig.model_json_schema(by_alias=True)
    secure = {"type": "object", "properties": {"secure": {"type": "string"}}, "required": ["secure"],
              "additionalProperties": False, "description": "ciphertext written by `pulumi config set --secret`"}
    properties: dict[str, Any] = {}
    for key, prop in schema["properties"].items():
        properties[f"{PROJECT}:{key}"] = secure if key in SECRET_KEYS else prop
    for key in sorted(aws_provider_keys()):
        properties[f"aws:{key}"] = {"description": "an AWS provider setting"}
    properties["aws:region"] = {"type": "string", "enum": sorted(known_regions()),
                                "description": "AWS region (botocore's endpoint data)"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Pulumi.<stack>.yaml of {PROJECT}",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": properties,
                "required": [f"{PROJECT}:{k}" for k in schema.get("required", [])],
                # Other providers' namespaces (pulumi:*, ...) are theirs to check.
                "patternProperties": {rf"^(?!{PROJECT}:|aws:)[A-Za-z0-9_.-]+:.+$": {}},
                "additionalProperties": False,
            },
            "encryptionsalt": {"type": "string", "pattern": "^v1:", "description": "passphrase secrets provider"},
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
        },
        "additionalProperties": False,
        "$defs": schema.get("$defs", {}),
    }
