"""`python -m preflight --stack production [--program DIR] [--json] [--aws]`: offline `pulumi preview`.
`--drill PATH|all` runs incident drills against the stack's alarms instead (see preflight/simulation).

Exit status: 0 clean, 1 a mandatory policy violation (or, with --aws, a blocking account finding; or a
failed drill), 2 a usage, config, drill file or program error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pulumi

from preflight.analyzer import PolicyError, run_and_analyze
from preflight.cost import cost_section, estimate
from preflight.coverage import coverage_section
from preflight.engine import InvokeHandler, ProgramFailed, functions_invoke, run_program
from preflight.function_list import read_function_names
from preflight.render import render
from preflight.report import discovery_section, document, violations_section, write_json, write_summary
from preflight.sms import sms_advisory, sms_section
from preflight.stack_files import ProgramError, StackFiles, load_stack_files
from stackconfig.publish import stack_file_schema

if TYPE_CHECKING:
    from preflight.account import Account

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m preflight", description=__doc__)
    parser.add_argument("--stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--config-schema", action="store_true",
                        help="print the JSON Schema of this project's Pulumi.<stack>.yaml and exit")
    parser.add_argument("--program", type=Path, default=REPO, help="Pulumi program directory (default: this repo)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the summary")
    parser.add_argument("--update", action="store_true", help="update fidelity: computed outputs filled with fakes")
    parser.add_argument("--policy-pack", type=Path, default=REPO / "policy", help="policy pack directory")
    parser.add_argument("--policy-config", type=Path, default=None,
                        help="policy config JSON (default: policy/config/<stack>.json when it exists)")
    parser.add_argument("--no-policy", action="store_true", help="skip the policy pack")
    parser.add_argument("--render", type=Path, metavar="DIR",
                        help="write one HTML page per dashboard (and index.html) to DIR")
    parser.add_argument("--functions", type=Path, metavar="FILE",
                        help="offline discovery: the account's Lambda function names, one a line "
                             "(default: discovery finds none)")
    parser.add_argument("--drill", metavar="PATH|all",
                        help="run incident drills (a drill file, a folder of them, or all = drills/) "
                             "against the stack's alarms instead of the preview report")
    parser.add_argument("--aws", action="store_true",
                        help="answer invokes from the caller's AWS account (read-only) and add the account report")
    args = parser.parse_args(argv)
    if not args.config_schema and not args.stack:
        parser.error("the following arguments are required: --stack")
    return args


def policy_config_path(args: argparse.Namespace) -> Path | None:
    if args.policy_config is not None:
        return args.policy_config
    default = args.policy_pack / "config" / f"{args.stack}.json"
    return default if default.is_file() else None


def connect_account(files: StackFiles) -> Account:
    """The caller's account for --aws (boto3 is loaded only then); no credentials is a usage error."""
    from preflight.account import AccountError, connect

    try:
        return connect(files)
    except AccountError as error:
        raise ProgramError(str(error)) from None


class ListedFunctions:
    """`aws:lambda/getFunctions` answered from a file of function names; remembers whether the program asked."""

    def __init__(self, path: Path, region: str) -> None:
        self.path = path
        self.asked = False
        answers = functions_invoke(read_function_names(path, region), region)
        self.handlers: dict[str, InvokeHandler] = {token: self._recorded(answer) for token, answer in answers.items()}

    def _recorded(self, answer: InvokeHandler) -> InvokeHandler:
        def handler(args: dict) -> dict:
            self.asked = True
            return answer(args)

        return handler

    def note(self) -> str | None:
        if self.asked:
            return None
        return (f"preflight: note: --functions {self.path} was not used: the program never asked for the account's "
                "functions (the stack has no inventory.discovery)")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.config_schema:
        write_json(stack_file_schema(), sys.stdout)
        return 0
    if args.drill is not None:
        from preflight.simulation.cli import drill_main

        if args.functions is not None:
            print("preflight: --functions is not read with --drill: a drill names its account's functions in "
                  "account.functions: {prefix, count} (see Incident drills)", file=sys.stderr)
            return 2

        return drill_main(args.stack, args.program, args.drill, args.json, args.render)
    try:
        files = load_stack_files(args.program, args.stack)
        account = connect_account(files) if args.aws else None
        invokes = account.invokes() if account else None
        listed = None
        if args.functions is not None:
            listed = ListedFunctions(args.functions, files.config.get("aws:region", "ap-south-1"))
            invokes = {**(invokes or {}), **listed.handlers}
        config_path = policy_config_path(args)
        if args.no_policy:
            run, violations = run_program(files, preview=not args.update, invokes=invokes), []
        else:
            run, violations = run_and_analyze(files, not args.update, args.policy_pack.resolve(), config_path, invokes)
    except (ProgramError, PolicyError) as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    except ProgramFailed as failed:
        if isinstance(failed.cause, pulumi.RunError):
            # A config error names every problem of the stack file, one line each.
            for line in str(failed.cause).splitlines():
                print(f"preflight: {line}", file=sys.stderr)
        else:
            print(f"preflight: the program failed: {type(failed.cause).__name__}: {failed.cause}", file=sys.stderr)
        return 2
    if listed is not None and (note := listed.note()):
        print(note, file=sys.stderr)
    if not args.no_policy and config_path is None:
        print(f"preflight: note: no {args.policy_pack / 'config' / (args.stack + '.json')}: the policy pack runs "
              "with its defaults (pass --policy-config FILE, as --policy-pack-config for the CLI)", file=sys.stderr)
    cost = estimate(run)
    discovery = run.outputs.get("discovery") if isinstance(run.outputs.get("discovery"), dict) else None
    if args.render is not None:
        pages = render(run.registrations, args.render, run.files.stack)
        print(f"preflight: rendered {len(pages)} dashboards to {args.render / 'index.html'}", file=sys.stderr)
    sms = sms_advisory(run.registrations, run.files.config.get("aws:region", "<region>"))
    report = None
    if account is not None:
        from preflight.account import check_account

        report = check_account(run, account)
    if args.json:
        doc = document(run, [v.as_json() for v in violations], cost)
        doc["smsSandbox"] = sms
        if discovery is not None:
            doc["discovery"] = discovery
        write_json({**doc, "account": report.as_json()} if report else doc, sys.stdout)
    else:
        sections = [coverage_section(run.registrations), cost_section(cost)]
        if discovery is not None:
            sections.append(discovery_section(discovery))
        if sms is not None:
            sections.append(sms_section(sms))
        if not args.no_policy:
            sections.append(violations_section(violations))
        source = f"invokes answered by account {account.account_id}" if account else "offline"
        write_summary(run, sections + ([report.section()] if report else []), sys.stdout, source)
    blocking = any(v.level == "mandatory" for v in violations) or (report is not None and report.blocking > 0)
    return 1 if blocking else 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more can be shown; not a preflight failure to trace.
        status = 1
    # Everything is written and the pack and feeder have ended; freeing a large program's object
    # graph one object at a time would only add seconds (2 s at 1,000 functions) before the exit.
    os._exit(status)
