"""The config schema, written once, as tools see it: `python -m preflight schema`, `Pulumi.yaml`'s `config:`."""

from __future__ import annotations

import contextvars
import dataclasses
import json

import jsonschema
import pytest
import yaml

from preflight.program.project_config import ProjectConfigError, apply_project_config, config_value_is
from stackconfig.errors import ConfigError
from stackconfig.health_monitor import HealthMonitorSection, HealthMonitorSettings
from stackconfig.loader import STRING_KEYS, known_regions, read_namespace, validate
from stackconfig.publish import project_config_block
from stackconfig.schema import THRESHOLD_SECTIONS, StackConfig, ThresholdsSection
from stackconfig.thresholds import SECTIONS, Thresholds
from stackconfig.types import camel
from tests.support.stack import REPO, preflight_cli

PROJECT_FILE = yaml.safe_load((REPO / "Pulumi.yaml").read_text())


def test_config_schema_flag_prints_a_schema_the_committed_stack_files_satisfy():
    result = preflight_cli("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    validator = jsonschema.Draft202012Validator(schema)
    for stack in ("production", "staging"):
        doc = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
        assert list(validator.iter_errors(doc)) == [], stack
    typo = yaml.safe_load((REPO / "Pulumi.production.yaml").read_text())
    typo["config"]["hasivu-monitoring:inventory"]["rdss"] = typo["config"]["hasivu-monitoring:inventory"].pop("rds")
    assert any("rdss" in error.message for error in validator.iter_errors(typo))
    typo["config"]["aws:regoin"] = typo["config"].pop("aws:region")
    assert any("aws:regoin" in error.message for error in validator.iter_errors(typo))


def test_pulumi_yaml_declares_the_schema_keys_with_types_and_descriptions():
    assert PROJECT_FILE["config"] == project_config_block()
    for key, spec in PROJECT_FILE["config"].items():
        assert spec["type"] in ("string", "integer", "boolean", "array", "object"), key
        assert spec["description"], key
        # Project.Validate (sdk/go/common/workspace/project.go): a default must be of the declared type.
        if "default" in spec:
            assert config_value_is(spec["type"], spec.get("items"), spec["default"]), key


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_committed_stacks_satisfy_the_declared_types_as_the_cli_checks_them(stack):
    doc = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    values = {k: v for k, v in doc["config"].items() if not (isinstance(v, dict) and "secure" in v)}
    config = {k: json.dumps(v) if isinstance(v, (dict, list)) else str(v) for k, v in values.items()}
    apply_project_config(PROJECT_FILE, stack, config, values)
    # Undeclared-in-stack keys with a default were added as the CLI merges them.
    assert json.loads(config["hasivu-monitoring:budgets"]) == {}


def test_the_cli_type_rules_are_those_of_validate_config_value():
    # sdk/go/common/workspace/project.go ValidateConfigValue: config scalars arrive as text.
    assert config_value_is("integer", None, "100") and not config_value_is("integer", None, "1.5")
    assert config_value_is("boolean", None, "true") and not config_value_is("boolean", None, "yes")
    assert config_value_is("string", None, "100") and not config_value_is("string", None, {"a": 1})
    assert config_value_is("array", {"type": "string"}, ["a"]) and not config_value_is("array", None, ["a"])
    with pytest.raises(ProjectConfigError, match="Stack 'qa' is missing configuration values 'alerting', "
                                                 "'environment' and 'inventory'"):
        apply_project_config(PROJECT_FILE, "qa", {"hasivu-monitoring:runbookBaseUrl": "https://x"}, {})


def test_every_threshold_field_is_a_config_key():
    """Adding a field to a thresholds dataclass is the whole change: the schema follows."""
    assert set(ThresholdsSection.model_fields) == set(SECTIONS.values())
    for attr, section in THRESHOLD_SECTIONS.items():
        fields = dataclasses.fields(type(getattr(Thresholds(), attr)))
        assert [section.model_fields[f.name].alias for f in fields] == [camel(f.name) for f in fields]


def test_the_health_monitor_schema_and_settings_have_the_same_fields_and_defaults():
    assert list(HealthMonitorSection.model_fields) == [f.name for f in dataclasses.fields(HealthMonitorSettings)]
    defaults = HealthMonitorSection.model_validate({})
    assert HealthMonitorSettings(**dict(defaults)) == HealthMonitorSettings()


def test_regions_come_from_botocores_endpoint_data():
    assert {"ap-south-1", "ap-south-2", "us-east-1"} <= known_regions()
    assert "ap-south-9" not in known_regions()


def test_the_program_reads_the_namespace_the_language_host_passes_in_pulumi_config(monkeypatch):
    # pulumi-language-python hands the program its config as the PULUMI_CONFIG environment variable
    # (sdk/python/cmd/pulumi-language-python/main.go); a misspelt key there is caught too.
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"hasivu-monitoring:environment": "qa",
                                                    "hasivu-monitoring:healthMonitr": "{}", "aws:region": "x"}))

    def read() -> dict:
        import pulumi

        return read_namespace(pulumi.Config("hasivu-monitoring"), "hasivu-monitoring")

    raw = contextvars.Context().run(read)
    assert raw == {"environment": "qa", "healthMonitr": {}}
    with pytest.raises(ConfigError, match="healthMonitr: unknown key; did you mean `healthMonitor`"):
        validate(raw)


def test_string_keys_are_kept_as_the_cli_text_and_are_the_schemas_string_keys(monkeypatch):
    # A string key is the CLI's text as it is (an environment named `1` stays "1"); the others are JSON.
    schema = StackConfig.model_json_schema()["properties"]
    strings = {key for key, body in schema.items()
               if body.get("type") == "string" or any(s.get("type") == "string" for s in body.get("anyOf", []))}
    assert STRING_KEYS == strings == {"environment", "runbookBaseUrl", "pagerdutyEndpoint", "slackWebhookUrl"}
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"hasivu-monitoring:environment": "1",
                                                    "hasivu-monitoring:monitoringBudgetUsd": "80"}))

    def read() -> dict:
        import pulumi

        return read_namespace(pulumi.Config("hasivu-monitoring"), "hasivu-monitoring")

    assert contextvars.Context().run(read) == {"environment": "1", "monitoringBudgetUsd": 80}


def test_every_problem_of_a_mapping_is_reported_beside_its_unknown_keys():
    raw = yaml.safe_load((REPO / "Pulumi.production.yaml").read_text())["config"]
    namespace = {key.split(":", 1)[1]: value for key, value in raw.items() if key.startswith("hasivu-monitoring:")}
    critical = namespace["alerting"]["critical"]
    critical["emial"] = critical.pop("emails")
    critical["pagerduty"] = "yes"
    critical["sms"].append("9800000003")
    namespace["inventory"]["apii"] = namespace["inventory"].pop("api")
    with pytest.raises(ConfigError) as refused:
        validate(namespace)
    lines = str(refused.value).splitlines()
    expected = [
        "config hasivu-monitoring:alerting.critical.emial: unknown key; did you mean `emails`? known keys here",
        "config hasivu-monitoring:alerting.critical.sms[2]: got '9800000003'; expected an E.164 phone number",
        "config hasivu-monitoring:alerting.critical.pagerduty: got 'yes'; expected true or false",
        "config hasivu-monitoring:inventory.apii: unknown key; did you mean `api`? known keys here",
    ]
    assert len(lines) == len(expected), lines
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), line
