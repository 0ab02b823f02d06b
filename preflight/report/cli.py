"""`python -m preflight report --stack S (--aws --month YYYY-MM | --drill FILE) [--format md|html|json] [--out FILE]`.

Exit status: 0 the report was made, 2 a usage, month, drill file, account or program error (one line).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any, Optional

from botocore.exceptions import BotoCoreError

from preflight.account.calls import CallFailed
from preflight.account.session import AccountError
from preflight.drill.drill_file import DrillError
from preflight.model.stack import StackModel, build_model
from preflight.preview.slos import slos
from preflight.program.engine import ProgramFailed, run_program
from preflight.program.stack_files import ProgramError, load_stack_files
from preflight.report.data import ReportData, from_account, from_drill
from preflight.report.measure import SloFigures, measure
from preflight.report.window import ReportError, month_window


def _measured(model: StackModel, data: ReportData) -> list[SloFigures]:
    monitor = model.function("health-monitor")
    environment = dict(monitor.environment) if monitor else {}
    return [measure(data.store, slo, data.window, environment) for slo in slos(model)]


def _no_slos(model: StackModel) -> ReportError:
    return ReportError(f"stack {model.stack} measures no SLO (hasivu-monitoring:slos, docs/slos.md): "
                       "nothing to report")


def build(args: argparse.Namespace, session: Any = None,
          now: Optional[dt.datetime] = None) -> tuple[StackModel, ReportData, list[SloFigures]]:
    """`session` and `now` stand in for the caller's credentials and the clock (tests)."""
    if args.drill is not None:
        model, data = from_drill(args.drill, args.stack, args.program)
        if not slos(model):
            raise _no_slos(model)
    else:
        now = now or dt.datetime.now(dt.UTC)
        window = month_window(args.month, now)  # a bad month fails before the program runs
        files = load_stack_files(args.program, args.stack)
        model = build_model(run_program(files, preview=True))
        if not slos(model):
            raise _no_slos(model)
        data = from_account(files, model, slos(model), window, now, session)
    return model, data, _measured(model, data)


def rendered(fmt: str, model: StackModel, data: ReportData, figures: list[SloFigures]) -> str:
    from preflight.report.html import html
    from preflight.report.render import document, markdown

    if fmt == "json":
        return json.dumps(document(model.stack, data, figures), indent=2) + "\n"
    if fmt == "html":
        return html(model.stack, data, figures)
    return markdown(document(model.stack, data, figures))


def report_main(args: argparse.Namespace) -> int:
    try:
        model, data, figures = build(args)
        text = rendered(args.format, model, data, figures)
    except (ProgramError, ReportError, DrillError, AccountError, CallFailed) as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    except BotoCoreError as error:  # a request botocore refuses to build, outside any call
        print(f"preflight: account: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    except ProgramFailed as failed:
        return failed.refuse()
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.write_text(text)
    except OSError as error:
        print(f"preflight: --out {args.out}: cannot write it: {error.strerror or error}", file=sys.stderr)
        return 2
    print(f"preflight: wrote {args.out}", file=sys.stderr)
    return 0
