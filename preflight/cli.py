"""`python -m preflight <subcommand>`: the command line, one subcommand per tool.

    preview  the offline `pulumi preview` (also what a bare `python -m preflight --stack S ...` runs)
    drill    incident drills through the CloudWatch model
    account  the preview with invokes answered from the caller's AWS account, and the account report
    history  the account's real metrics (or a saved history) through the working tree's alarms:
             pages per tier, threshold suggestions, the model's fidelity against CloudWatch
    schema   the JSON Schema of Pulumi.<stack>.yaml
    diff     what a change does to the monitoring: the program at a base commit against the working tree
    maintenance  ad-hoc maintenance windows: alarm mute rules on the stack's pagers (start, stop, status)
    report   the monthly SLA report: per SLO attainment, budget spent, bad windows (a month of the account, or a drill)

Exit status everywhere: 0 clean, 1 a finding that blocks (a mandatory policy violation, a blocking
account finding, a failed drill), 2 a usage, config, drill file or program error; diff: 3 when the change makes the
monitoring worse (see `diff --help`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, Optional

from preflight.output_paths import refused

REPO = Path(__file__).resolve().parent.parent

EXAMPLES = {
    "preview": """examples:
  python -m preflight preview --stack production               summary: resources, coverage, cost, policy
  python -m preflight preview --stack production --json        one JSON document
  python -m preflight preview --stack production --render render   an HTML picture of each dashboard
  python -m preflight preview --stack production --functions names.txt   discovery finds these functions
  python -m preflight preview --stack dev --program DIR        any other Python Pulumi program""",
    "drill": """examples:
  python -m preflight drill --stack production all                        every drill in drills/
  python -m preflight drill --stack production drills/redis-down.yaml --json
  python -m preflight drill --stack production drills/redis-down.yaml --render render
  python -m preflight drill --stack production drills/redis-down.yaml --save-history redis-down.json
  python -m preflight drill --stack production all --coverage             every alarm: quiet, fires, can fire,
                                                                          recovers; per tier: a second incident""",
    "account": """examples:
  python -m preflight account --stack production          read-only checks of the caller's account
  python -m preflight account --stack production --json   the preview document with an "account" key""",
    "history": """examples:
  python -m preflight history --stack production --aws --days 14                 the last two weeks of the account
  python -m preflight history --stack production --aws --days 14 --save h.json   ... and keep what was fetched
  python -m preflight history --stack production --from h.json --json            replay a saved history offline
  python -m preflight history --stack production --from h.json --incidents incidents.yaml
  python -m preflight drill --stack production drills/redis-down.yaml --save-history redis-down.json
  python -m preflight history --stack production --from redis-down.json          with no account: a drill's pages""",
    "schema": """examples:
  python -m preflight schema > stack-schema.json   point your editor's YAML schema setting at it""",
    "diff": """examples:
  python -m preflight diff --stack production --base main               the change against main, as text
  python -m preflight diff --stack production --base origin/main --markdown > comment.md
  python -m preflight diff --stack production --base HEAD~1 --json      one JSON document (docs/diff.md)
  python -m preflight diff --stack production --save-json main.json     save this side (run on main)
  python -m preflight diff --stack production --base-json main.json --max-cost-increase 5

exit status: 0 nothing got worse; 3 coverage lost, a drill that passed on the base fails, or the
monthly cost rises by more than --max-cost-increase; 2 a usage, config, drill file or program error""",
    "maintenance": """examples:
  python -m preflight maintenance --stack production start --for 2h --reason "RDS failover test" --scope database
  python -m preflight maintenance --stack production status          active and scheduled mute rules, IST
  python -m preflight maintenance --stack production status --json
  python -m preflight maintenance --stack production stop            ends it; says which pagers page now""",
    "report": """examples:
  python -m preflight report --stack production --aws --month 2026-11                 Markdown, to stdout
  python -m preflight report --stack production --aws --month 2026-11 --format html --out sla-2026-11.html
  python -m preflight report --stack production --aws --month 2026-11 --format json
  python -m preflight report --stack production --drill drills/database-outage-of-nine-minutes.yaml
                                                       offline: the drill's simulated metrics over its own span""",
}


class OneLineParser(argparse.ArgumentParser):
    """A usage mistake is one line, as every other mistake here, with where to read more; not the whole
    usage block before it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}; see `{self.prog} --help`\n")


def _parser(name: str, description: str) -> argparse.ArgumentParser:
    return OneLineParser(prog=f"python -m preflight {name}", description=description,
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
    parser.add_argument("--save-history", type=Path, metavar="OUT",
                        help="write each drill's series in the history format (`history --from` reads it): "
                             "OUT is a file for one drill, a folder for several")
    parser.add_argument("--coverage", action="store_true",
                        help="after the drills, the coverage of the stack's alarms and pagers (docs/drills.md)")
    # Not an option of drills: taken only to say where a drill names its account's functions instead.
    parser.add_argument("--functions", type=Path, help=argparse.SUPPRESS)
    return parser


def history_parser() -> argparse.ArgumentParser:
    parser = _parser("history", "Replays the stack's metrics over a past window through the CloudWatch model with "
                                "the alarms as they are in the working tree: time in ALARM, transitions, pages per "
                                "tier and at night, threshold suggestions outside the incidents, and how often the "
                                "model's transitions match the account's alarm history (docs/history.md).")
    _stack(parser)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--aws", action="store_true", help="fetch the history from the caller's account (read-only)")
    where.add_argument("--from", dest="from_file", type=Path, metavar="FILE",
                       help="replay a saved history (written by --save or by drill --save-history)")
    parser.add_argument("--days", type=int, metavar="N", help="with --aws: the last N days (1 to 455)")
    parser.add_argument("--save", type=Path, metavar="FILE", help="write the history that was replayed to FILE")
    parser.add_argument("--incidents", type=Path, metavar="FILE",
                        help="the incidents of the window (YAML; default: when a critical alarm was in ALARM)")
    parser.add_argument("--flapping", type=int, default=6, metavar="N",
                        help="an alarm with more than N transitions in a day flaps (default 6)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the text report")
    return parser


def maintenance_parser() -> argparse.ArgumentParser:
    from preflight.maintenance.cli import SCOPE_CHOICES

    parser = _parser("maintenance", "Ad-hoc maintenance windows: alarm mute rules on the stack's pagers, put in "
                                    "and removed from the caller's AWS account (docs/maintenance.md).")
    _stack(parser)
    actions = parser.add_subparsers(dest="action", required=True, metavar="start|stop|status")
    start = actions.add_parser("start", help="mute the pagers of what is maintained, from now")
    start.add_argument("--for", dest="duration", required=True, metavar="DURATION", help="like 2h, 90m, 1h30m")
    start.add_argument("--reason", required=True, help="why: it goes into the rules' names and descriptions")
    start.add_argument("--scope", choices=SCOPE_CHOICES, default="all", help="what is maintained (default all)")
    stop = actions.add_parser("stop", help="end the stack's ad-hoc windows; say which pagers page now")
    stop.add_argument("--name", help="only the window whose rules start with this name")
    status = actions.add_parser("status", help="the account's active and scheduled mute rules")
    status.add_argument("--json", action="store_true", help="print one JSON document")
    return parser


def report_parser() -> argparse.ArgumentParser:
    parser = _parser("report", "The monthly SLA report: per SLO of the stack, its target, attainment, error budget "
                               "spent and bad windows, and for the dependency SLOs the revenue at risk and users "
                               "affected as the health report counts them (docs/report.md).")
    _stack(parser)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--aws", action="store_true", help="read the month from the caller's account (read-only)")
    where.add_argument("--drill", type=Path, metavar="FILE", help="offline: a drill's simulated metrics, over its span")
    parser.add_argument("--month", metavar="YYYY-MM", help="with --aws: the calendar month (UTC)")
    parser.add_argument("--format", choices=("md", "html", "json"), default="md", help="default md (Markdown)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the report to FILE instead of stdout")
    return parser


def schema_parser() -> argparse.ArgumentParser:
    return _parser("schema", "Prints the JSON Schema of this project's Pulumi.<stack>.yaml.")


def _usd(text: str) -> float:
    try:
        amount = float(text)
    except ValueError:
        amount = -1.0
    if not amount >= 0:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected an amount in USD a month, 0 or more (e.g. 5)")
    return amount


def _chars(text: str) -> int:
    if not text.isdigit() or not 2_000 <= int(text) <= 65_535:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a number of characters from 2000 to 65535")
    return int(text)


def diff_parser() -> argparse.ArgumentParser:
    parser = _parser("diff", "What a change does to the monitoring, in a reviewer's terms: alarms added, removed, "
                             "renamed and changed, coverage, paging per tier, monthly cost, policy verdicts, drill "
                             "verdicts, dashboards, other resources and access. The program runs at the base commit "
                             "(a temporary git worktree) and in the working tree; both sides are judged by the "
                             "working tree's preflight, policy pack and drills.")
    _stack(parser)
    base = parser.add_mutually_exclusive_group()
    base.add_argument("--base", metavar="REF", help="the base commit (branch, tag or commit of --program's repository)")
    base.add_argument("--base-json", type=Path, metavar="FILE", help="a side saved by --save-json instead of --base")
    parser.add_argument("--save-json", type=Path, metavar="FILE",
                        help="write this side (its facts and every drill's verdict) to FILE, to diff against later")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the diff as one JSON document")
    output.add_argument("--markdown", action="store_true", help="print the pull-request comment (GitHub Markdown)")
    parser.add_argument("--max-cost-increase", type=_usd, metavar="USD",
                        help="exit 3 when the monthly cost rises by more than this")
    parser.add_argument("--markdown-limit", type=_chars, default=65_535, metavar="CHARS",
                        help="cap the Markdown below this many characters (default 65535: GitHub's comment limit)")
    parser.add_argument("--drills", default="all", metavar="PATH|all|none",
                        help="the drills run on both sides (default all: drills/)")
    parser.add_argument("--policy-pack", type=Path, default=REPO / "policy",
                        help="policy pack directory, with its config/<stack>.json (default: this repo's)")
    return parser


def _cannot_write(outputs: dict[str, tuple[Optional[Path], bool]]) -> bool:
    """Says the first output path that cannot be written (`output_paths.refused`), before any work."""
    problem = refused(outputs)
    if problem is not None:
        print(f"preflight: {problem}", file=sys.stderr)
    return problem is not None


def run_diff(argv: list[str]) -> int:
    from preflight.diff.main import diff_main

    parser = diff_parser()
    args = parser.parse_args(argv)
    if args.base is None and args.base_json is None and args.save_json is None:
        parser.error("one of --base REF, --base-json FILE or --save-json FILE is required")
    if _cannot_write({"--save-json": (args.save_json, False)}):
        return 2
    return diff_main(args)


def run_preview(argv: list[str]) -> int:
    from preflight.preview.main import preview_main

    args = preview_parser().parse_args(argv)
    if _cannot_write({"--render": (args.render, True)}):
        return 2
    return preview_main(args, account=False)


def run_account(argv: list[str]) -> int:
    from preflight.preview.main import preview_main

    args = account_parser().parse_args(argv)
    args.update, args.functions = False, None
    if _cannot_write({"--render": (args.render, True)}):
        return 2
    return preview_main(args, account=True)


def run_drill(argv: list[str]) -> int:
    from preflight.drill.cli import drill_main

    args = drill_parser().parse_args(argv)
    if args.functions is not None:
        print("preflight: --functions is not read by drill: a drill names its account's functions in "
              "account.functions: {prefix, count} (see docs/drills.md)", file=sys.stderr)
        return 2
    if _cannot_write({"--render": (args.render, True)}):
        return 2
    return drill_main(args.stack, args.program, args.target, args.json, args.render, args.save_history,
                      args.coverage)


def run_history(argv: list[str]) -> int:
    from preflight.history.cli import history_main

    parser = history_parser()
    args = parser.parse_args(argv)
    if args.aws and args.days is None:
        parser.error("--aws needs --days N")
    if args.days is not None and not (args.aws and 1 <= args.days <= 455):
        parser.error("--days N goes with --aws, N from 1 to 455 (CloudWatch keeps hourly data 455 days)")
    if args.flapping < 1:
        parser.error(f"--flapping N: expected a number of transitions a day >= 1 (got {args.flapping})")
    if _cannot_write({"--save": (args.save, False)}):
        return 2
    return history_main(args)


def run_schema(argv: list[str]) -> int:
    from preflight.preview.report import write_json
    from stackconfig.publish import stack_file_schema

    schema_parser().parse_args(argv)
    write_json(stack_file_schema(), sys.stdout)
    return 0


def run_report(argv: list[str]) -> int:
    from preflight.report.cli import report_main

    parser = report_parser()
    args = parser.parse_args(argv)
    if args.aws and args.month is None:
        parser.error("--aws needs --month YYYY-MM")
    if args.drill is not None and args.month is not None:
        parser.error("--month goes with --aws; a drill's report covers the drill's own span")
    if _cannot_write({"--out": (args.out, False)}):
        return 2
    return report_main(args)


def run_maintenance(argv: list[str]) -> int:
    from preflight.maintenance.cli import maintenance_main

    # argparse reads a value that starts with "-" and is no plain number as a flag: `--for -1h` would be
    # "expected one argument" instead of the duration's own message.
    joined: list[str] = []
    for arg in argv:
        if joined and joined[-1] == "--for" and arg.startswith("-"):
            joined[-1] = f"--for={arg}"
        else:
            joined.append(arg)
    return maintenance_main(maintenance_parser().parse_args(joined))


SUBCOMMANDS: dict[str, Callable[[list[str]], int]] = {
    "preview": run_preview, "drill": run_drill, "account": run_account, "history": run_history,
    "schema": run_schema, "diff": run_diff, "maintenance": run_maintenance,
    "report": run_report,
}


def main(argv: list[str]) -> int:
    if not argv:
        print(f"{__doc__.strip()}\n\npython -m preflight: expected a subcommand, or --stack S for the preview; "
              "`python -m preflight <subcommand> --help` shows each one's options and examples", file=sys.stderr)
        return 2
    if argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]](argv[1:])
    if argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("\n`python -m preflight <subcommand> --help` shows each one's options and examples.")
        return 0
    if not argv[0].startswith("-"):
        print(f"python -m preflight: unknown subcommand {argv[0]!r}; expected one of {', '.join(SUBCOMMANDS)}",
              file=sys.stderr)
        return 2
    return run_preview(argv)
