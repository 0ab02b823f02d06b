"""`--functions FILE`, the offline answer to discovery: names checked as Lambda checks them, ARNs
taken as their names, what discovery left out counted, and a file the program never asks for said so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from preflight.cli import main as preflight_main
from preflight.program.function_list import function_name
from tests.support.stack import REPO


@pytest.fixture
def fleet_program(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copy(REPO / "drills" / "fleet" / "Pulumi.fleet-drill.yaml", tmp_path)
    return tmp_path


# The Lambda API's FunctionName rule (botocore lambda service-2.json: `[a-zA-Z0-9-_]+`, a bare name at
# most 64 characters) and its FunctionArn pattern (a version or alias qualifier allowed).
@pytest.mark.parametrize("line, name", [
    ("hasivu-fleet-menu_list-1", "hasivu-fleet-menu_list-1"),
    ("x" * 64, "x" * 64),
    ("arn:aws:lambda:ap-south-1:123456789012:function:hasivu-fleet-a", "hasivu-fleet-a"),
    ("arn:aws:lambda:ap-south-1:123456789012:function:hasivu-fleet-a:live", "hasivu-fleet-a"),
    ("a,b", None), ("menu list", None), ("x" * 65, None), ("hasivu.fleet", None),
    ("123456789012:function:hasivu-fleet-a", None), ("arn:aws:s3:::bucket", None),
])
def test_a_line_is_a_function_name_or_arn_as_lambda_defines_them(line, name):
    assert function_name(line) == name


@pytest.mark.parametrize("text, fragment", [
    ("", "no function names in the file"),
    ("\n  \n", "no function names in the file"),
    ("hasivu-fleet-a\nhasivu-fleet-b,hasivu-fleet-c\n", "line 2: got 'hasivu-fleet-b,hasivu-fleet-c'; expected one "
                                                        "Lambda function name a line (1-64 letters, digits, hyphens"),
    ("hasivu fleet a\n", "line 1: got 'hasivu fleet a'"),
    # ListFunctions (getFunctions) lists the stack's own Region only: another Region's ARN is a mistake.
    ("arn:aws:lambda:us-east-1:123456789012:function:hasivu-fleet-a\n",
     "line 1: got a function of Region 'us-east-1'; expected functions of the stack's Region 'ap-south-1'"),
])
def test_a_file_lambda_would_not_take_is_one_line_and_exit_2(fleet_program, tmp_path, capsys, text, fragment):
    listing = tmp_path / "functions.txt"
    listing.write_text(text)
    status = preflight_main(["--program", str(fleet_program), "--stack", "fleet-drill", "--functions", str(listing)])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith(f"preflight: --functions {listing}") and fragment in line


def test_names_outside_the_prefix_are_counted_and_arns_taken_as_names(fleet_program, tmp_path, capsys):
    listing = tmp_path / "functions.txt"
    # The stack's own Slack forwarder is listed too: alarmed by the stack, never a fleet contributor.
    listing.write_text("hasivu-fleet-a\narn:aws:lambda:ap-south-1:123456789012:function:hasivu-fleet-b:live\n"
                       "billing-export\nreports-nightly\nfleet-drill-hasivu-warning-slack-forwarder\n")
    args = ["--program", str(fleet_program), "--stack", "fleet-drill", "--functions", str(listing), "--no-policy"]
    assert preflight_main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["discovery"] == {"functionPrefix": "hasivu-fleet-", "group": "fleet", "accountFunctions": 5,
                                "joinedGroup": 2, "stackOwn": 1, "outsidePrefix": 2, "outsidePrefixCoveredBy": "fleet"}
    assert preflight_main(args) == 0
    assert ("Discovery (prefix hasivu-fleet-): 5 functions in the account, 2 joined group fleet, 1 this stack's own "
            "(alarmed by it), 2 outside the prefix (contributors of the catch-all fleet group fleet") in \
        capsys.readouterr().out


def test_a_functions_file_on_a_stack_without_discovery_is_noted(tmp_path, capsys):
    listing = tmp_path / "functions.txt"
    listing.write_text("hasivu-production-menu-list\n")
    assert preflight_main(["--stack", "production", "--functions", str(listing), "--no-policy"]) == 0
    _, err = capsys.readouterr()
    assert (f"preflight: note: --functions {listing} was not used: the program never asked for the account's "
            "functions (the stack has no inventory.discovery)") in err.splitlines()


def test_a_byte_order_mark_is_not_part_of_the_first_name(fleet_program, tmp_path, capsys):
    listing = tmp_path / "functions.txt"
    listing.write_bytes("hasivu-fleet-a\r\nhasivu-fleet-b\r\n".encode("utf-8-sig"))
    args = ["--program", str(fleet_program), "--stack", "fleet-drill", "--functions", str(listing), "--no-policy"]
    assert preflight_main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["discovery"]["joinedGroup"] == 2


def test_functions_with_a_drill_is_one_line_and_exit_2(tmp_path, capsys):
    listing = tmp_path / "functions.txt"
    listing.write_text("hasivu-fleet-a\n")
    drill = str(REPO / "drills" / "fleet" / "one-failing-function-among-300.yaml")
    assert preflight_main(["drill", "--stack", "production", drill, "--functions", str(listing)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == ("preflight: --functions is not read by drill: a drill names its account's "
                                 "functions in account.functions: {prefix, count} (see docs/drills.md)\n")
