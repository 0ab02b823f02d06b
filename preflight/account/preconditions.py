"""Before `pulumi up`: account state the stack depends on or collides with."""

from __future__ import annotations

from itertools import takewhile
from pathlib import Path
from typing import Any

from preflight.account.calls import CallFailed
from preflight.account.findings import Finding, Level
from preflight.account.metrics import edits, is_typo
from preflight.account.session import Account
from preflight.model.stack import OwnedResource, StackModel


def _owned(actual: dict[str, str], resource: OwnedResource) -> bool:
    """Ours when it carries every tag this stack gives it (Project, Environment, ...)."""
    return bool(resource.tags) and all(actual.get(k) == v for k, v in resource.tags.items())


# The account and Region are the stack's when they hold at least this share of the functions its
# inventory lists; fewer means a wrong account or Region (or a platform not deployed there yet), and
# every alarm on the missing functions would watch nothing.
HELD_SHARE = 0.5


def listed_groups(model: StackModel) -> dict[str, list[str]]:
    """The functions the stack file lists by name, by group (discovered ones left out): the file's words."""
    groups: dict[str, list[str]] = {}
    for fn in model.settings.inventory.functions if model.settings else ():
        if not fn.discovered:
            groups.setdefault(fn.group, []).append(fn.name)
    return groups


def check_inventory_functions(account: Account, model: StackModel) -> list[Finding]:
    """Blocking when the account and Region hold fewer than half of the inventory's listed functions."""
    listed = {name for names in listed_groups(model).values() for name in names}
    held = len(listed & account.function_names)
    if not listed or held >= HELD_SHARE * len(listed):
        return []
    return [Finding(
        Level.BLOCKING, "functions", "inventory.lambdaGroups",
        f"account {account.account_id} in {account.region} holds {held} of the stack's {len(listed)} functions: "
        "wrong account or Region? Their alarms would never see data",
        f"the credentials in use are {account.caller_arn}: use the platform account's (AWS_PROFILE) and check "
        f"aws:region in {model.stack_file.name}, or deploy the platform's functions there first")]


def check_api_stages(account: Account, api_stages: set[tuple[str, str]]) -> list[Finding]:
    """Per-method API Gateway metrics exist only with detailed metrics on the stage (`*/*` metricsEnabled)."""
    if not api_stages:
        return []
    apigateway = account.client("apigateway")
    apis = {api["name"]: api["id"] for page in apigateway.get_paginator("get_rest_apis").paginate()
            for api in page["items"]}
    findings = []
    for name, stage in sorted(api_stages):
        subject = f"API {name} stage {stage}"
        if name not in apis:
            findings.append(Finding(Level.WARNING, "api stage", subject,
                                    "no REST API of that name in the region: its alarms see no data",
                                    "check inventory.api.name and aws:region in the stack file"))
            continue
        try:
            settings = apigateway.get_stage(restApiId=apis[name], stageName=stage).get("methodSettings", {})
        except CallFailed as error:
            if error.code != "NotFoundException":
                raise
            findings.append(Finding(Level.WARNING, "api stage", subject, "no such stage: its alarms see no data",
                                    "check inventory.api.stage in the stack file"))
            continue
        if not settings.get("*/*", {}).get("metricsEnabled"):
            findings.append(Finding(
                Level.BLOCKING, "api stage", subject,
                "detailed metrics are off: the per-endpoint alarms (Resource, Method) can never see data",
                f"aws apigateway update-stage --rest-api-id {apis[name]} --stage-name {stage} "
                "--patch-operations op=replace,path=/*/*/metrics/enabled,value=true"))
    return findings


def check_anomaly_monitors(account: Account, model: StackModel) -> list[Finding]:
    pages = account.client("ce").get_paginator("get_anomaly_monitors").paginate()
    monitors = [m for page in pages for m in page["AnomalyMonitors"]]
    findings = [Finding(Level.INFO, "anomaly monitors", m["MonitorName"],
                        " ".join(filter(None, [m["MonitorType"], m.get("MonitorDimension"), "monitor",
                                               m["MonitorArn"]])))
                for m in monitors]
    service_monitors = [m for m in monitors
                        if m["MonitorType"] == "DIMENSIONAL" and m.get("MonitorDimension") == "SERVICE"]
    for wanted in model.anomaly_monitors_created:
        if wanted.get("monitorType") != "DIMENSIONAL" or wanted.get("monitorDimension") != "SERVICE":
            continue
        others = [m for m in service_monitors if m["MonitorName"] != wanted.get("name")]
        if others:
            findings.append(Finding(
                Level.BLOCKING, "anomaly monitors", str(wanted.get("name")),
                f"the account already has a SERVICE monitor ({others[0]['MonitorName']}); AWS allows one, "
                "so creating this one fails",
                f"reuse it: costAnomaly.existingMonitorArn: {others[0]['MonitorArn']} in Pulumi.{model.stack}.yaml"))
    known = {m["MonitorArn"] for m in monitors}
    for arn in sorted(model.anomaly_monitor_arns_used - known):
        findings.append(Finding(Level.BLOCKING, "anomaly monitors", arn,
                                "the anomaly subscription names a monitor the account does not have",
                                f"set costAnomaly.existingMonitorArn to one of the monitors listed here "
                                f"(Pulumi.{model.stack}.yaml)"))
    return findings


def check_xray_encryption(account: Account, model: StackModel) -> list[Finding]:
    config = account.client("xray").get_encryption_config()["EncryptionConfig"]
    kind, key_id = config.get("Type", "NONE"), config.get("KeyId")
    current = f"X-Ray encryption is {kind}" + (f" with {key_id}" if key_id else "")
    if not model.manages_xray_encryption:
        return [Finding(Level.INFO, "x-ray encryption", "account", current + "; this stack leaves it alone")]
    if kind != "KMS" or not key_id or model.xray_encryption_key is None:
        return [Finding(Level.INFO, "x-ray encryption", "account", current + "; this stack sets its own key")]
    try:
        tags = account.client("kms").list_resource_tags(KeyId=key_id).get("Tags", [])
    except CallFailed as error:
        if error.status is None:
            raise
        tags = []  # a key this caller cannot read belongs to someone else
    if _owned({t["TagKey"]: t["TagValue"] for t in tags}, model.xray_encryption_key):
        return [Finding(Level.INFO, "x-ray encryption", "account", current + " (this stack's key)")]
    return [Finding(Level.WARNING, "x-ray encryption", "account",
                    current + ", a key this stack did not create: two stacks would flip it on every up",
                    f"let one stack own it: tracing.manageEncryption: false in Pulumi.{model.stack}.yaml "
                    "(or in the other stack)")]


def _log_group(account: Account, name: str) -> dict[str, Any] | None:
    pages = account.client("logs").get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
    return next((g for page in pages for g in page["logGroups"] if g["logGroupName"] == name), None)


def check_log_groups(account: Account, model: StackModel) -> list[Finding]:
    """Metric filters need their log group; a group the stack creates must not exist under another owner."""
    security = model.settings.inventory.security_log_group if model.settings else None
    stack_file = f"Pulumi.{model.stack}.yaml"
    findings = []
    for name in sorted(model.log_groups_used - set(model.log_groups_created)):
        if _log_group(account, name) is None:
            findings.append(Finding(
                Level.BLOCKING, "log group", name,
                "the stack's metric filters read it and it does not exist: `pulumi up` fails "
                "(ResourceNotFoundException)",
                f"let this stack create it: inventory.securityLogGroup.create: true in {stack_file}"
                if name == security else "create it before `pulumi up`"))
        else:
            findings.append(Finding(Level.INFO, "log group", name, "exists; the stack's metric filters read it"))
    for name, resource in sorted(model.log_groups_created.items()):
        group = _log_group(account, name)
        if group is None:
            continue
        arn = group.get("logGroupArn") or group["arn"].removesuffix(":*")
        tags = account.client("logs").list_tags_for_resource(resourceArn=arn).get("tags", {})
        if _owned(tags, resource):
            continue
        if name == security:
            fix = f"the platform made it: inventory.securityLogGroup: {{name: {name}, create: false}} in {stack_file}"
        else:
            fix = ("delete it if it holds nothing to keep, or adopt it: `pulumi import "
                   f"aws:cloudwatch/logGroup:LogGroup {resource.resource_name} {name}"
                   + (f" --parent 'parent={resource.parent_urn}'`" if resource.parent_urn else "`"))
        findings.append(Finding(
            Level.BLOCKING, "log group", name,
            "exists and was not created by this stack: creating it fails (ResourceAlreadyExistsException)", fix))
    return findings


def _shared(a: str, b: str) -> int:
    """How many leading characters two names share."""
    return sum(1 for _ in takewhile(lambda pair: pair[0] == pair[1], zip(a, b, strict=False)))


def _common_prefix(names: list[str]) -> str:
    """The names' shared prefix, cut after its last '-' (`hasivu-production-`)."""
    if not names:
        return ""
    prefix = names[0][:min(_shared(names[0], n) for n in names)]
    return prefix[:prefix.rfind("-") + 1]


def _insertion_line(stack_file: Path, text: str) -> int:
    lines = stack_file.read_text().splitlines() if stack_file.is_file() else []
    return next((i + 1 for i, line in enumerate(lines) if text in line), 0)


def _insertion(stack_file: Path, first_of_group: str, name: str) -> str:
    """Where and how the stack file takes one more function: before the group's first entry, same indent."""
    lines = stack_file.read_text().splitlines() if stack_file.is_file() else []
    at = _insertion_line(stack_file, first_of_group) - 1
    if at < 0:
        return f"`- {name}` in {stack_file.name}"
    if "[" in lines[at]:
        return f"`{name}` to the list on {stack_file.name} line {at + 1}"
    indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
    return f"the line `{indent}- {name}` before {stack_file.name} line {at + 1}"


def check_unlisted_functions(account: Account, model: StackModel, stack_file: Path) -> list[Finding]:
    """The account's functions named like this stack's that no group or discovery prefix covers."""
    if model.settings is None:
        return []
    inventory = model.settings.inventory
    groups = listed_groups(model)
    listed = {name: group for group, names in groups.items() for name in names}
    discovery_prefix = model.settings.discovery.function_prefix if model.settings.discovery else None
    prefix = _common_prefix(sorted(listed)) or discovery_prefix
    if not prefix:
        return []
    existing = {fn["FunctionName"] for fn in account.functions}
    absent = sorted(set(listed) - existing)
    findings = []
    for name in sorted(existing):
        if not name.startswith(prefix) or name in listed or name in model.function_names:
            continue
        if discovery_prefix and name.startswith(discovery_prefix):
            continue
        typo_of = min((a for a in absent if is_typo(a, name)), key=lambda a: edits(a, name), default=None)
        group = listed[typo_of] if typo_of else max(
            sorted(groups), key=lambda g: max((_shared(name, f) for f in groups[g]), default=0),
            default=None)
        if typo_of:
            findings.append(Finding(
                Level.WARNING, "unlisted function", name,
                f"in no inventory group, while the listed {typo_of} does not exist in the account: a typo?",
                f"replace `{typo_of}` with `{name}` under inventory.lambdaGroups.{group}.functions "
                f"({stack_file.name} line {_insertion_line(stack_file, typo_of)})"))
            continue
        if any(group.catch_all for group in inventory.fleet_groups):
            continue  # alarmed by the catch-all fleet group's Metrics Insights alarms
        findings.append(Finding(
            Level.WARNING, "unlisted function", name,
            f"named like this stack's functions ({prefix}*) but in no inventory group: no alarm, no dashboard",
            f"add {_insertion(stack_file, groups[group][0], name)} "
            f"(inventory.lambdaGroups.{group}.functions)" if group and groups.get(group)
            else f"add it under inventory.lambdaGroups in {stack_file.name}"))
    return findings
