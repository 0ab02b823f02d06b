"""`python -m preflight`: the documented command line, in preview fidelity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.stack import PROGRAMS, REPO, program_copy
from tests.support.stack import preflight_cli as preflight


@pytest.mark.slow
def test_production_json_lists_tier_resources_with_computed_values_and_hidden_secrets():
    result = preflight("--stack", "production", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["project"] == "hasivu-monitoring"
    assert doc["stack"] == "production"
    assert set(doc) >= {"resources", "violations", "cost"}
    by_name = {r["name"]: r for r in doc["resources"]}
    for tier in ("critical", "warning", "business"):
        topic = by_name[f"{tier}-alerts-topic"]
        assert topic["type"] == "aws:sns/topic:Topic"
        # The key's ARN is computed by AWS at create time: unknown in preview, as in `pulumi preview`.
        assert topic["props"]["kmsMasterKeyId"] == "<computed>"
        assert topic["parent"] == by_name[f"{tier}-alerts"]["urn"]
        assert set(topic) == {"urn", "type", "name", "parent", "props"}
    assert by_name["critical-alerts-pagerduty"]["props"]["endpoint"] == "[secret]"
    assert by_name["warning-alerts-slack-webhook"]["props"]["value"] == "[secret]"
    assert "hooks.slack.com" not in result.stdout
    # The critical tier's SMS numbers, with the way out of the SNS SMS sandbox (tests/components/test_sms_paging.py).
    assert doc["smsSandbox"]["subscriptions"] == 2
    assert doc["smsSandbox"]["topics"] == {"production-hasivu-critical-alerts": 2}
    assert "get-sms-sandbox-account-status --region ap-south-1" in doc["smsSandbox"]["steps"][0]


@pytest.mark.slow
def test_production_summary_groups_resources_by_component_then_outputs():
    result = preflight("--stack", "production")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Preflight of hasivu-monitoring / production (preview fidelity, offline)" in out
    assert "hasivu:monitoring:AlarmTier critical-alerts" in out
    assert out.index("hasivu:monitoring:AlarmTier") < out.index("\nOutputs\n")
    assert "criticalTopicArn: <computed>" in out
    assert ("SMS paging: 2 SMS subscriptions on production-hasivu-critical-alerts (2); a new AWS account is in "
            "the SNS SMS sandbox") in out
    assert "TRAI DLT portal" in out
    # The cost assumptions output runs to kilobytes: cut in the summary, whole in --json.
    [line] = [line for line in out.splitlines() if line.startswith("    costAssumptions: ")]
    assert line.endswith("characters; --json shows it whole)") and len(line) < 1100
    # policy/config/production.json exists: no note about the pack's defaults.
    assert "runs with its defaults" not in result.stderr


def test_a_stack_without_a_policy_config_file_says_the_pack_runs_with_its_defaults():
    result = preflight("--stack", "dev", "--program", str(PROGRAMS / "two_topics"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == (f"preflight: note: no {REPO / 'policy' / 'config' / 'dev.json'}: the policy pack "
                             "runs with its defaults (pass --policy-config FILE, as --policy-pack-config for the "
                             "CLI)\n")


def test_another_program_directory_runs_the_same_way():
    result = preflight("--stack", "dev", "--program", str(PROGRAMS / "two_topics"), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["project"] == "two-topics"
    topic = next(r for r in doc["resources"] if r["type"] == "aws:sns/topic:Topic")
    assert topic["props"]["name"] == "demo-alerts"
    assert topic["props"]["kmsMasterKeyId"] == "<computed>"
    assert topic["props"]["tags"] == {"Token": "[secret]"}
    assert topic["urn"] == "urn:pulumi:dev::two-topics::aws:sns/topic:Topic::topic"
    assert doc["outputs"] == {"topicArn": "<computed>", "prefix": "demo"}


def test_update_fidelity_fills_computed_outputs():
    result = preflight("--stack", "dev", "--program", str(PROGRAMS / "two_topics"), "--json", "--update")
    assert result.returncode == 0, result.stderr
    topic = next(r for r in json.loads(result.stdout)["resources"] if r["type"] == "aws:sns/topic:Topic")
    assert topic["props"]["kmsMasterKeyId"].startswith("arn:aws:kms:")


def test_usage_errors_exit_2_with_a_message():
    missing_stack = preflight("--stack", "qa")
    assert missing_stack.returncode == 2
    assert "no stack 'qa': Pulumi.qa.yaml not found" in missing_stack.stderr
    assert missing_stack.stderr.rstrip().endswith("; stacks here: production, staging")
    not_a_program = preflight("--stack", "dev", "--program", str(PROGRAMS))
    assert not_a_program.returncode == 2
    assert "no Pulumi.yaml" in not_a_program.stderr
    assert "Traceback" not in missing_stack.stderr + not_a_program.stderr


@pytest.mark.parametrize(("args", "flag", "problem"), [
    (["preview", "--stack", "production", "--render", "{file}"], "--render {file}", "Not a directory"),
    (["drill", "--stack", "production", "drills/quiet-night.yaml", "--render", "{file}/pictures"],
     "--render {file}/pictures", "Not a directory"),
    (["diff", "--stack", "production", "--save-json", "{tmp}/missing/base.json"],
     "--save-json {tmp}/missing/base.json", "No such file or directory"),
    (["history", "--stack", "production", "--from", "{file}", "--save", "{tmp}"], "--save {tmp}", "Is a directory"),
    (["report", "--stack", "production", "--drill", "drills/quiet-night.yaml", "--out", "{file}/sla.md"],
     "--out {file}/sla.md", "Not a directory"),
    (["account", "--stack", "production", "--render", "{file}/pictures"], "--render {file}/pictures",
     "Not a directory"),
    (["drill", "--stack", "production", "drills/quiet-night.yaml", "--save-history", "{tmp}/missing/x.json"],
     "--save-history {tmp}/missing/x.json", "No such file or directory (one drill writes a file)"),
])
def test_an_output_path_that_cannot_be_written_is_one_line_before_any_work(args, flag, problem, tmp_path):
    """The drill suite of `diff --save-json` takes minutes, and `--render` and `report --out` wrote after the
    whole run: a path neither can write is refused first, in one line naming the flag, the path and why, with exit 2."""
    file = tmp_path / "a-file"
    file.write_text("")
    given = {"file": str(file), "tmp": str(tmp_path)}
    result = preflight(*[a.format(**given) for a in args])
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"preflight: {flag.format(**given)}: cannot write it: {problem}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def _misspelt_program(tmp_path) -> Path:
    """A copy of the program whose stack file misspells `tracing`."""
    return program_copy(tmp_path / "program", [("hasivu-monitoring:tracing:", "hasivu-monitoring:tracin:")])


@pytest.mark.parametrize("command", [
    ["preview"], ["drill", "drills/quiet-night.yaml"], ["report", "--drill", "drills/quiet-night.yaml"],
    ["maintenance", "status"], ["history", "--from", "unused.json"], ["diff", "--save-json", "{tmp}/side.json"],
])
def test_a_config_mistake_reads_the_same_in_every_subcommand(command, tmp_path):
    """A misspelt key is the stack file's mistake, not the program's: every subcommand that runs the
    program says it as the preview does, one line, exit 2."""
    program = _misspelt_program(tmp_path)
    args = [a.format(tmp=tmp_path) for a in command[1:]]
    result = preflight(command[0], "--stack", "production", "--program", str(program), *args)
    assert (result.returncode, result.stdout) == (2, "")
    [line] = result.stderr.splitlines()
    assert line.startswith("preflight: config hasivu-monitoring:tracin: unknown key; did you mean `tracing`?"), line


def test_save_history_of_several_drills_into_a_file_says_they_need_a_folder(tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("quiet-night.yaml", "redis-down.yaml"):
        (folder / name).write_text((REPO / "drills" / name).read_text())
    result = preflight("drill", "--stack", "production", str(folder), "--save-history", str(REPO / "README.md"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"preflight: --save-history {REPO / 'README.md'}: cannot write it: Not a directory "
                             "(2 drills write a folder of <drill>.json)\n")


@pytest.mark.parametrize("command", [["preview"], ["drill", "drills/quiet-night.yaml"]])
def test_a_run_that_fails_leaves_no_empty_output_folder(command, tmp_path):
    """The folder `--render` names is checked before the work but created only when there is something to
    draw: a config mistake leaves nothing behind."""
    program = _misspelt_program(tmp_path)
    out = tmp_path / "pictures" / "nested"
    result = preflight(command[0], "--stack", "production", "--program", str(program), *command[1:],
                       "--render", str(out))
    assert result.returncode == 2 and "tracin" in result.stderr, result.stderr
    assert not (tmp_path / "pictures").exists()


@pytest.mark.parametrize(("flags", "expected"), [
    (["--policy-pack", "{tmp}"], "preflight: {tmp}: no PulumiPolicy.yaml (expected a policy pack directory)"),
    (["--policy-config", "{tmp}/absent.json"], "preflight: policy config {tmp}/absent.json: No such file or directory"),
])
def test_the_account_check_says_a_bad_flag_before_asking_the_account(flags, expected, tmp_path):
    """A pack that cannot start is said before any credentials are looked for: the account's calls (or
    its missing credentials) never hide a mistake in the command line."""
    result = preflight("account", "--stack", "production", *[f.format(tmp=tmp_path) for f in flags])
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [expected.format(tmp=tmp_path)]


@pytest.mark.parametrize(("args", "expected"), [
    (["preview", "--stack", "production", "--jsn"],
     "python -m preflight preview: unrecognized arguments: --jsn; see `python -m preflight preview --help`"),
    (["diff", "--stack", "production", "--base", "main", "--max-cost-increase", "abc"],
     "python -m preflight diff: argument --max-cost-increase: got 'abc'; expected an amount in USD a month, 0 or "
     "more (e.g. 5); see `python -m preflight diff --help`"),
    (["maintenance", "--stack", "production", "start", "--for", "1h"],
     "python -m preflight maintenance start: the following arguments are required: --reason; "
     "see `python -m preflight maintenance start --help`"),
])
def test_a_usage_mistake_is_one_line_naming_the_help(args, expected):
    result = preflight(*args)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", expected + "\n")


def test_a_bare_command_lists_the_subcommands():
    result = preflight()
    assert (result.returncode, result.stdout) == (2, "")
    assert "    drill    incident drills through the CloudWatch model" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("python -m preflight: expected a subcommand, or --stack S")


def test_a_drills_target_that_is_no_drill_names_the_flag():
    result = preflight("diff", "--stack", "production", "--save-json", "unused.json", "--drills", "no-such-drill")
    assert (result.returncode, result.stderr) == (
        2, "preflight: --drills no-such-drill: expected a drill file, a folder of drill files, or all\n")
