"""`python -m preflight <subcommand>`: the command line, one subcommand per tool.

    preview  the offline `pulumi preview` (also what a bare `python -m preflight --stack S ...` runs)
    drill    incident drills through the CloudWatch model
    account  the preview with invokes answered from the caller's AWS account, and the account report
    schema   the JSON Schema of Pulumi.<stack>.yaml

Exit status everywhere: 0 clean, 1 a finding that blocks (a mandatory policy violation, a blocking
account finding, a failed drill), 2 a usage, config, drill file or program error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

EXAMPLES = {
    "preview": """examples:
  python -m preflight preview --stack production               summary: resources, coverage, cost, policy
  python -m preflight preview --stack production --json        one JSON document
  python -m preflight preview --stack production --render out  an HTML picture of each dashboard
  python -m preflight preview --stack production --functions names.txt   discovery finds these functions
  python -m preflight preview --stack dev --program DIR        any other Python Pulumi program""",
    "drill": """examples:
  python -m preflight drill --stack production all                        every drill in drills/
  python -m preflight drill --stack production drills/redis-down.yaml --json
  python -m preflight drill --stack production drills/redis-down.yaml --render out
  python -m preflight drill --stack production all --coverage             every alarm: quiet, fires, can fire,
                                                                          recovers; per tier: a second incident""",
    "account": """examples:
  python -m preflight account --stack production          read-only checks of the caller's account
  python -m preflight account --stack production --json   the preview document with an "account" key""",
    "schema": """examples:
  python -m preflight schema > stack-schema.json   point your editor's YAML schema setting at it""",
}


def _parser(name: str, description: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog=f"python -m preflight {name}", description=description,
                                   epilog=EXAMPLES[name], formatter_class=argparse.RawDescriptionHelpFormatter)


def _stack(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--program", type=Path, default=REPO, help="Pulumi program directory (default: this repo)")


def _program_options(parser: argparse.ArgumentParser) -> None:
    _stack(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the summary")
    parser.add_argument("--policy-pack", type=Path, default=REPO / "policy", help="policy pack directory")
    parser.add_argument("--policy-config", type=Path, default=None,
                        help="policy config JSON (default: policy/config/<stack>.json when it exists)")
    parser.add_argument("--no-policy", action="store_true", help="skip the policy pack")
    parser.add_argument("--render", type=Path, metavar="DIR",
                        help="write one HTML page per dashboard (and index.html) to DIR")


def preview_parser() -> argparse.ArgumentParser:
    parser = _parser("preview", "The offline `pulumi preview`: the program under Pulumi's mock runtime in preview "
                                "fidelity, the policy pack hosted as the CLI hosts it, coverage and cost.")
    _program_options(parser)
    parser.add_argument("--update", action="store_true", help="update fidelity: computed outputs filled with fakes")
    parser.add_argument("--functions", type=Path, metavar="FILE",
                        help="offline discovery: the account's Lambda function names, one a line "
                             "(default: discovery finds none)")
    return parser


def account_parser() -> argparse.ArgumentParser:
    parser = _parser("account", "The preview with the program's invokes answered from the caller's AWS account "
                                "(read-only), and the account report: what only the live account can tell.")
    _program_options(parser)
    return parser


def drill_parser() -> argparse.ArgumentParser:
    parser = _parser("drill", "Incident drills: the stack's alarms played through the CloudWatch model with the "
                              "platform emulator's traffic and faults, a verdict per expectation.")
    _stack(parser)
    parser.add_argument("target", metavar="PATH|all", help="a drill file, a folder of them, or all (drills/)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the text report")
    parser.add_argument("--render", type=Path, metavar="DIR", help="draw the dashboards with each drill's series")
    parser.add_argument("--coverage", action="store_true",
                        help="after the drills, the coverage of the stack's alarms and pagers (docs/drills.md)")
    # Not an option of drills: taken only to say where a drill names its account's functions instead.
    parser.add_argument("--functions", type=Path, help=argparse.SUPPRESS)
    return parser


def schema_parser() -> argparse.ArgumentParser:
    return _parser("schema", "Prints the JSON Schema of this project's Pulumi.<stack>.yaml.")


def run_preview(argv: list[str]) -> int:
    from preflight.preview.main import preview_main

    return preview_main(preview_parser().parse_args(argv), account=False)


def run_account(argv: list[str]) -> int:
    from preflight.preview.main import preview_main

    args = account_parser().parse_args(argv)
    args.update, args.functions = False, None
    return preview_main(args, account=True)


def run_drill(argv: list[str]) -> int:
    from preflight.drill.cli import drill_main

    args = drill_parser().parse_args(argv)
    if args.functions is not None:
        print("preflight: --functions is not read by drill: a drill names its account's functions in "
              "account.functions: {prefix, count} (see docs/drills.md)", file=sys.stderr)
        return 2
    return drill_main(args.stack, args.program, args.target, args.json, args.render, args.coverage)


def run_schema(argv: list[str]) -> int:
    from preflight.preview.report import write_json
    from stackconfig.publish import stack_file_schema

    schema_parser().parse_args(argv)
    write_json(stack_file_schema(), sys.stdout)
    return 0


SUBCOMMANDS: dict[str, Callable[[list[str]], int]] = {
    "preview": run_preview, "drill": run_drill, "account": run_account, "schema": run_schema,
}


def main(argv: list[str]) -> int:
    if argv and argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]](argv[1:])
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("\n`python -m preflight <subcommand> --help` shows each one's options and examples.")
        return 0
    if argv and not argv[0].startswith("-"):
        print(f"python -m preflight: unknown subcommand {argv[0]!r}; expected one of {', '.join(SUBCOMMANDS)}",
              file=sys.stderr)
        return 2
    return run_preview(argv)
