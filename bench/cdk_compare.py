"""The offline preview against cdk-monitoring-constructs' synth, side by side in one run, and against
the bare Pulumi SDK floor.

Both sides monitor the same N existing Lambda functions (the names of bench/scale.py) with four
alarms each, of the same kinds: errors, error rate, throttles and p99 duration.
- Ours: `python -m preflight --program DIR --stack bench` on the stack file of bench/scale.py (the
  production program with the N functions listed in one group, policy pack included), as a whole
  process: interpreter start, program, pack and report.
- cdk-monitoring-constructs: a plain JavaScript CDK app, as its README shows it used: a
  MonitoringFacade whose alarms notify an SNS topic (KMS-encrypted, as ours), and per function
  `Function.fromFunctionName` + `monitorLambdaFunction` with addFaultCountAlarm, addFaultRateAlarm,
  addThrottlesCountAlarm and addLatencyP99Alarm (lib/monitoring/aws-lambda/LambdaFunctionMonitoring.ts),
  ending in `app.synth()`; timed as a whole `node` process (node start and module loading included,
  as ours includes Python's). It is the floor under `cdk synth`, whose CLI would add its own start.
The two alternate, best of --runs each, for each of --sizes. A CDK stack stops at 500 resources
(aws-cdk-lib Stack MAX_RESOURCES, CloudFormation's limit), so 1,000 functions (4,000 alarms) cannot
synthesize as one stack: at --floor-size the preview is set against the SDK floor of bench/sdk_floor.py
instead (the same program under Pulumi's plain mocks), alternating in the same way. Each side runs
as its runtime does by default: Python caching bytecode (a PYTHONDONTWRITEBYTECODE in the
environment is dropped for the measured processes, and said so), node (v20) without a compile cache.

Needs node (>= 20, what aws-cdk-lib 2.278 requires) and npm on PATH; the npm packages, at the exact
versions below, are installed into a temporary folder for the run.

Usage: venv/bin/python -m bench.cdk_compare [--sizes 25 100] [--floor-size 1000] [--runs 3] [--floor-runs 3]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.scale import _program, function_names
from bench.sdk_floor import floor

REPO = Path(__file__).resolve().parent.parent
POLICY_CONFIG = REPO / "policy" / "config" / "production.json"
NODE_MAJOR = 20
NPM_PACKAGES = {"aws-cdk-lib": "2.278.0", "constructs": "10.8.1", "cdk-monitoring-constructs": "10.2.0"}

# argv: the JSON file of function names, the cloud assembly folder. Prints the template's resource count.
CDK_APP = """\
const fs = require("fs");
const cdk = require("aws-cdk-lib");
const kms = require("aws-cdk-lib/aws-kms");
const lambda = require("aws-cdk-lib/aws-lambda");
const sns = require("aws-cdk-lib/aws-sns");
const { MonitoringFacade, SnsAlarmActionStrategy } = require("cdk-monitoring-constructs");

const names = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const app = new cdk.App({ outdir: process.argv[3] });
const stack = new cdk.Stack(app, "Monitoring", { env: { account: "123456789012", region: "ap-south-1" } });
const topic = new sns.Topic(stack, "AlarmTopic", {
  masterKey: new kms.Key(stack, "AlarmTopicKey", { enableKeyRotation: true }),
});
const monitoring = new MonitoringFacade(stack, "Monitoring", {
  alarmFactoryDefaults: {
    alarmNamePrefix: "hasivu-production",
    actionsEnabled: true,
    action: new SnsAlarmActionStrategy({ onAlarmTopic: topic }),
  },
});
names.forEach((name, i) => {
  monitoring.monitorLambdaFunction({
    lambdaFunction: lambda.Function.fromFunctionName(stack, `Function${i}`, name),
    alarmFriendlyName: name,
    addFaultCountAlarm: { Warning: { maxErrorCount: 5 } },
    addFaultRateAlarm: { Warning: { maxErrorRate: 5 } },
    addThrottlesCountAlarm: { Warning: { maxErrorCount: 1 } },
    addLatencyP99Alarm: { Warning: { maxLatency: cdk.Duration.seconds(24) } },
  });
});
const template = app.synth().getStackByName("Monitoring").template;
console.log(`${Object.keys(template.Resources).length} resources`);
"""


def machine() -> str:
    models = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    return (f"{models[0] if models else platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}")


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def node_version() -> str:
    """node's version; exits with what is missing when node or npm is absent or node is too old."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"bench.cdk_compare needs {' and '.join(missing)} on PATH (Node.js >= {NODE_MAJOR} with "
                         "npm; on Debian: apt-get install -y nodejs npm)")
    version = subprocess.run(["node", "--version"], check=True, capture_output=True, text=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < NODE_MAJOR:
        raise SystemExit(f"bench.cdk_compare needs Node.js >= {NODE_MAJOR} (aws-cdk-lib "
                         f"{NPM_PACKAGES['aws-cdk-lib']} requires it); node on PATH is {version}")
    return version


def install_cdk(folder: Path) -> None:
    (folder / "package.json").write_text(json.dumps({"private": True, "dependencies": NPM_PACKAGES}))
    run = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                         cwd=folder, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"npm install failed: {run.stderr.strip()[-500:]}")
    (folder / "app.js").write_text(CDK_APP)


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: list[str], cwd: Path, statuses: tuple[int, ...]) -> tuple[float, float, int]:
    """Wall and CPU seconds of one whole process (its waited-for children included: the policy pack
    and the feeder, node's worker threads) and the resource count it printed."""
    start, cpu = time.perf_counter(), children_cpu()
    run = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    match = re.search(r"(\d+) resources", run.stdout)
    if run.returncode not in statuses or match is None:
        raise SystemExit(f"{' '.join(command[:3])} failed (exit {run.returncode}): "
                         f"{(run.stderr.strip().splitlines() or ['no output'])[-1]}")
    return wall, cpu, int(match.group(1))


def preview_command(program: Path) -> list[str]:
    return [sys.executable, "-m", "preflight", "--program", str(program), "--stack", "bench",
            "--policy-config", str(POLICY_CONFIG)]


def compare_cdk(size: int, runs: int, cdk: Path, scratch: Path) -> dict:
    program = scratch / f"program-{size}"
    program.mkdir(exist_ok=True)
    _program(program, size, fleet=False)
    names = scratch / f"names-{size}.json"
    names.write_text(json.dumps(function_names(size)))
    ours, theirs, ours_cpu, cdk_cpu = [], [], [], []
    for run in range(runs):
        wall, cpu, ours_resources = timed(preview_command(program), REPO, (0, 1))
        ours.append(wall)
        ours_cpu.append(cpu)
        wall, cpu, cdk_resources = timed(["node", "app.js", str(names), str(scratch / f"cdk.out-{size}-{run}")],
                                         cdk, (0,))
        theirs.append(wall)
        cdk_cpu.append(cpu)
    return {"size": size, "ours": ours, "cdk": theirs, "ours_cpu": ours_cpu, "cdk_cpu": cdk_cpu,
            "ours_resources": ours_resources, "cdk_resources": cdk_resources}


def compare_floor(size: int, runs: int, scratch: Path) -> dict:
    program = scratch / f"program-{size}"
    program.mkdir(exist_ok=True)
    _program(program, size, fleet=False)
    ours, floors, ours_cpu, floor_cpu = [], [], [], []
    for _ in range(runs):
        wall, cpu, resources = timed(preview_command(program), REPO, (0, 1))
        ours.append(wall)
        ours_cpu.append(cpu)
        cpu = children_cpu()
        floors.append(floor(size))
        floor_cpu.append(children_cpu() - cpu)
    return {"size": size, "ours": ours, "ours_cpu": ours_cpu, "floor": [f["wall"] for f in floors],
            "floor_cpu": floor_cpu,
            "floor_process": [f["process"] for f in floors], "ours_resources": resources,
            "floor_resources": floors[0]["resources"]}


def seconds(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[25, 100])
    parser.add_argument("--floor-size", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--floor-runs", type=int, default=3)
    args = parser.parse_args()
    node = node_version()
    # Python caches bytecode unless told not to; a user's preview (and the floor) run as Python runs by default.
    # Node has no such cache by default (v20): each side is timed as its runtime behaves out of the box.
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        print("note: PYTHONDONTWRITEBYTECODE dropped for the Python processes (bytecode cached, as by default)")
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}, node {node}")
    print(f"npm: {', '.join(f'{name} {version}' for name, version in NPM_PACKAGES.items())}")
    print(f"load average at start: {load()}")
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        cdk = scratch / "cdk"
        cdk.mkdir()
        install_cdk(cdk)
        print(f"{'functions':>9} {'ours s':>6} {'cdk s':>6} {'ratio':>5} {'target':>6} {'CPU ours/cdk s':>14} "
              f"{'ratio':>5}  resources ours/cdk; every run's wall s (ours | cdk)")
        for size in args.sizes:
            r = compare_cdk(size, args.runs, cdk, scratch)
            ratio, cpu_ratio = min(r["ours"]) / min(r["cdk"]), min(r["ours_cpu"]) / min(r["cdk_cpu"])
            cpu = f"{min(r['ours_cpu']):.2f}/{min(r['cdk_cpu']):.2f}"
            print(f"{size:>9} {min(r['ours']):>6.2f} {min(r['cdk']):>6.2f} {ratio:>5.2f} {'<=0.50':>6} {cpu:>14} "
                  f"{cpu_ratio:>5.2f}  {r['ours_resources']}/{r['cdk_resources']}; "
                  f"{seconds(r['ours'])} | {seconds(r['cdk'])}", flush=True)
        if args.floor_size:
            r = compare_floor(args.floor_size, args.floor_runs, scratch)
            best, floor_best = min(r["ours"]), min(r["floor"])
            floor_process = min(r["floor_process"])
            print(f"{args.floor_size} functions, {r['ours_resources']} resources ({r['floor_resources']} custom in the "
                  f"floor), best of {args.floor_runs}: preview {best:.2f} s, SDK floor {floor_best:.2f} s (the program "
                  f"under plain mocks) -> {best / floor_best:.2f}x (target <= 1.30x)")
            print(f"  the floor's whole process {floor_process:.2f} s -> {best / floor_process:.2f}x; CPU of the whole "
                  f"processes: preview {min(r['ours_cpu']):.2f} s, floor {min(r['floor_cpu']):.2f} s")
            print(f"  every run's wall s: preview {seconds(r['ours'])} | floor {seconds(r['floor'])} | "
                  f"floor process {seconds(r['floor_process'])}")
    print(f"load average at end: {load()}")


if __name__ == "__main__":
    main()
