"""The preview tool: the program run as `pulumi preview` would, the pack's verdicts, and the reports
(coverage, cost, SMS advisory, discovery; with an account, the account check)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from preflight.model.stack import build_model
from preflight.pictures.dashboards import render
from preflight.preview.analyzer import PolicyError, check_pack, run_with_analysis
from preflight.preview.cost import cost_section, estimate
from preflight.preview.coverage import coverage_section
from preflight.preview.mute_rules import mute_rules, mute_rules_section
from preflight.preview.report import discovery_section, document, violations_section, write_json, write_summary
from preflight.preview.slos import slo_section, slos
from preflight.preview.sms import sms_advisory, sms_section
from preflight.program.engine import InvokeHandler, ProgramFailed, functions_invoke, run_program
from preflight.program.function_list import read_function_names
from preflight.program.stack_files import ProgramError, StackFiles, load_stack_files

if TYPE_CHECKING:
    from preflight.account import Account


def policy_config_path(args: argparse.Namespace) -> Path | None:
    if args.policy_config is not None:
        return args.policy_config
    default = args.policy_pack / "config" / f"{args.stack}.json"
    return default if default.is_file() else None


def connect_account(files: StackFiles) -> Account:
    """The caller's account (boto3 is loaded only then); no credentials is a usage error."""
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


def preview_main(args: argparse.Namespace, account: bool, now: dt.datetime | None = None) -> int:
    """The preview (with `account`, the account check too); `args` as `preflight.cli` parses them; `now`
    is when the mute rules' next activations are counted from."""
    try:
        files = load_stack_files(args.program, args.stack)
        config_path = policy_config_path(args)
        if not args.no_policy:
            check_pack(args.policy_pack, config_path)  # before the account is asked anything
        connected = connect_account(files) if account else None
        invokes = connected.invokes() if connected else None
        listed = None
        if args.functions is not None:
            listed = ListedFunctions(args.functions, files.config.get("aws:region", "ap-south-1"))
            invokes = {**(invokes or {}), **listed.handlers}
        if args.no_policy:
            run, verdicts = run_program(files, preview=not args.update, invokes=invokes), None
        else:
            run, verdicts = run_with_analysis(files, not args.update, args.policy_pack.resolve(), config_path,
                                              invokes)
    except (ProgramError, PolicyError) as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    except ProgramFailed as failed:
        return failed.refuse()
    # Built while the pack answers AnalyzeStack (it needs no verdict), on the first core.
    model = build_model(run)
    cost = estimate(model)
    try:
        violations = verdicts.result() if verdicts is not None else []
    except PolicyError as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    if listed is not None and (note := listed.note()):
        print(note, file=sys.stderr)
    if not args.no_policy and config_path is None:
        print(f"preflight: note: no {args.policy_pack / 'config' / (args.stack + '.json')}: the policy pack runs "
              "with its defaults (pass --policy-config FILE, as --policy-pack-config for the CLI)", file=sys.stderr)
    discovery = model.output("discovery") if isinstance(model.output("discovery"), dict) else None
    if args.render is not None:
        pages = render(model, args.render, model.stack)
        print(f"preflight: rendered {len(pages)} dashboards to {args.render / 'index.html'}", file=sys.stderr)
    sms = sms_advisory(model)
    mutes = mute_rules(model, now or dt.datetime.now(dt.UTC))
    report = None
    if connected is not None:
        from preflight.account import check_account

        report = check_account(model, connected)
    if args.json:
        doc = document(model, [v.as_json() for v in violations], cost)
        doc["smsSandbox"] = sms
        doc["muteRules"] = mutes
        doc["slos"] = slos(model)
        if discovery is not None:
            doc["discovery"] = discovery
        write_json({**doc, "account": report.as_json()} if report else doc, sys.stdout)
    else:
        sections = [coverage_section(model), cost_section(cost), slo_section(model), mute_rules_section(mutes)]
        if discovery is not None:
            sections.append(discovery_section(discovery))
        if sms is not None:
            sections.append(sms_section(sms))
        if not args.no_policy:
            sections.append(violations_section(violations))
        source = f"invokes answered by account {connected.account_id}" if connected else "offline"
        write_summary(model, sections + ([report.section()] if report else []), sys.stdout, source)
    blocking = any(v.level == "mandatory" for v in violations) or (report is not None and report.blocking > 0)
    return 1 if blocking else 0
