"""`python -m preflight history --stack S (--aws --days N | --from FILE) [--save FILE] [--incidents FILE] [--json]`.

Exit status: 0 the report was made, 2 a usage, history file, incidents file, account or program error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Optional

from botocore.exceptions import BotoCoreError

from preflight.account.calls import CallFailed
from preflight.account.session import AccountError
from preflight.cloudwatch.cloudwatch import ModelError
from preflight.emulator.platform import cloudwatch_definitions
from preflight.history import history_file
from preflight.history.fidelity import fidelity
from preflight.history.figures import figures
from preflight.history.history_file import History, HistoryError
from preflight.history.incidents import critical_incidents, incident_json, read_incidents
from preflight.history.replay import replay
from preflight.history.report import Report, document, write_text
from preflight.history.threshold_keys import threshold_keys
from preflight.history.tuning import tune
from preflight.model.stack import StackModel, build_model
from preflight.program.engine import ProgramFailed, run_program
from preflight.program.stack_files import ProgramError, StackFiles, load_stack_files


def _program(args: argparse.Namespace) -> tuple[StackFiles, StackModel]:
    files = load_stack_files(args.program, args.stack)
    return files, build_model(run_program(files, preview=True))


def _history(args: argparse.Namespace, files: StackFiles, model: StackModel) -> tuple[History, Optional[dict]]:
    if args.from_file is not None:
        history = history_file.read(args.from_file)
        if history.stack != model.stack:
            raise HistoryError(f"{args.from_file}: stack: expected {model.stack} (--stack), the stack whose alarms "
                               f"replay it (got {history.stack!r})")
        return history, None
    from preflight.account.session import connect
    from preflight.history.account_fetch import fetch_history  # boto3 clients: only with --aws

    fetched = fetch_history(connect(files), model, dt.timedelta(days=args.days))
    return fetched.history, fetched.summary()


def history_report(files: StackFiles, model: StackModel, history: History, incidents_file: Optional[Path],
                   flapping: int, fetch: Optional[dict[str, Any]] = None) -> Report:
    """The replay of `history` with the model's alarms, and everything the report says about it."""
    alarms, composites = cloudwatch_definitions(model)
    replayed = replay(history, alarms, composites)
    found = figures(replayed, flapping)
    if incidents_file is not None:
        incidents, where = read_incidents(incidents_file, history), f"from {incidents_file}"
    else:
        incidents, where = critical_incidents(replayed)
    keys, no_keys = threshold_keys(files, model)
    suggestions, far = tune(replayed, found, incidents, keys)
    return Report(history, found, len(alarms), len(composites), flapping, fetch=fetch,
                  incidents={"from": where, "windows": [incident_json(i) for i in incidents]},
                  suggestions={name: s.as_json() for name, s in suggestions.items()}, far=far,
                  notes=[no_keys] if no_keys else [], fidelity=fidelity(replayed))


def history_main(args: argparse.Namespace) -> int:
    try:
        files, model = _program(args)
        history, fetch = _history(args, files, model)
        if args.save is not None:
            history_file.save(history, args.save)
        report = history_report(files, model, history, args.incidents, args.flapping, fetch)
    except (ProgramError, HistoryError, ModelError, AccountError, CallFailed) as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    except BotoCoreError as error:  # a request botocore refuses to build, outside any call
        print(f"preflight: account: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # --save
        print(f"preflight: --save {args.save}: cannot write it: {error.strerror or error}", file=sys.stderr)
        return 2
    except ProgramFailed as failed:
        return failed.refuse()
    if args.json:
        json.dump(document(report), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        write_text(report, sys.stdout)
    return 0
