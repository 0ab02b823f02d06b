"""The GitHub workflow: a clean offline supply-chain audit, the pack config on preview and up, Debian
packages installed from a non-root runner, and the diff's one pull-request comment."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.support.stack import REPO

WORKFLOW = REPO / ".github" / "workflows" / "monitoring.yml"
ZIZMOR = Path(sys.executable).parent / "zizmor"
# The fakes hide redis-server (found on PATH); chromium and postgres are found by path, so must be here.
ONLY_REDIS_MISSING = pytest.mark.skipif(
    not (Path("/usr/bin/chromium").exists() and list(Path("/usr/lib/postgresql").glob("*/bin/postgres"))),
    reason="chromium and postgresql must be installed (scripts/system-packages.sh)")


@pytest.mark.skipif(not ZIZMOR.exists(), reason="zizmor is not installed (requirements-dev.txt installs it)")
def test_zizmor_offline_finds_nothing_even_pedantic():
    # Pinned commits, per-job permissions, persist-credentials: false, documented permissions, concurrency.
    result = subprocess.run([str(ZIZMOR), "--offline", "--persona=pedantic", "--format", "json", str(WORKFLOW)],
                            capture_output=True, text=True, timeout=60)
    assert json.loads(result.stdout) == [], result.stdout
    assert result.returncode == 0, result.stderr


def test_preview_and_up_run_the_pack_with_its_stack_config():
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    for job, command in (("preview", "pulumi preview"), ("deploy", "pulumi up")):
        steps = [s for s in jobs[job]["steps"] if command in s.get("run", "")]
        assert len(steps) == 1
        run = " ".join(steps[0]["run"].split())
        assert '--stack "$STACK"' in run
        assert '--policy-pack policy --policy-pack-config "policy/config/$STACK.json"' in run
        assert steps[0]["env"]["STACK"] == "${{ matrix.stack }}"
        stacks = jobs[job]["strategy"]["matrix"]["stack"]
        assert all((REPO / "policy" / "config" / f"{s}.json").is_file() for s in stacks)
    assert "id-token" not in jobs["offline"]["permissions"]


def _fake(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _system_packages(tmp_path: Path, with_sudo: bool) -> tuple[subprocess.CompletedProcess, str]:
    """system-packages.sh as uid 1000 on a machine without redis-server (PATH holds only the fakes)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    _fake(bin_dir, "id", 'echo 1000\n')
    _fake(bin_dir, "apt-get", f'echo "apt-get $*" >> {log}\n')
    _fake(bin_dir, "env", f'echo "env $*" >> {log}; shift; exec "$@"\n')
    if with_sudo:
        # `sudo -n CMD...`: non-interactive; the runner's sudo needs no password.
        _fake(bin_dir, "sudo", f'echo "sudo $*" >> {log}; [ "$1" = -n ] || exit 1; shift; "$@"\n')
    bash = shutil.which("bash")
    result = subprocess.run([bash, str(REPO / "scripts" / "system-packages.sh")], capture_output=True, text=True,
                            env={"PATH": str(bin_dir), "HOME": str(tmp_path)}, timeout=30)
    return result, (log.read_text() if log.exists() else "")


@ONLY_REDIS_MISSING
def test_system_packages_installs_through_sudo_when_not_root(tmp_path):
    result, calls = _system_packages(tmp_path, with_sudo=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ("system-packages: installing redis-server with apt-get (a few minutes on a first "
                             "run)...\n")
    assert "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server" \
        in calls
    assert "apt-get install -y -qq --no-install-recommends redis-server" in calls


@ONLY_REDIS_MISSING
def test_system_packages_without_root_or_sudo_names_the_command(tmp_path):
    result, calls = _system_packages(tmp_path, with_sudo=False)
    assert result.returncode == 1 and calls == ""
    assert result.stderr.strip() == ("system-packages: missing redis-server; not root and no passwordless sudo: "
                                     "run sudo apt-get install redis-server")


def test_the_comment_job_writes_only_to_the_pull_request_and_runs_none_of_its_code():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # PyYAML reads the key `on` as True
    assert "pull_request_target" not in triggers
    jobs = workflow["jobs"]
    comment = jobs["comment"]
    assert comment["permissions"] == {"pull-requests": "write"}
    assert [s["uses"].split("@")[0] for s in comment["steps"] if "uses" in s] == ["actions/download-artifact"]
    # A fork's pull request gets a read-only token: only the job summary, no comment.
    assert "github.event.pull_request.head.repo.full_name == github.repository" in comment["if"]
    diff = jobs["diff"]
    assert diff["permissions"] == {"contents": "read"}
    assert "secrets." not in json.dumps(diff) and "id-token" not in json.dumps(diff)
    for job in (diff, comment):
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step


class FakeGitHub:
    """The REST API's issue comments on one pull request, on loopback: list (ascending by id, `per_page`
    and `page`), create, update (docs.github.com/rest/issues/comments)."""

    def __init__(self, comments: list[dict]) -> None:
        self.comments = comments
        self.calls: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, doc: object) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> dict:
                return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

            def do_GET(self) -> None:
                fake.calls.append(f"GET {self.path}")
                assert self.headers["Authorization"] == "Bearer not-a-token"
                url = urllib.parse.urlsplit(self.path)
                assert url.path == "/repos/hasivu/monitoring/issues/7/comments"
                query = urllib.parse.parse_qs(url.query)
                size, page = int(query["per_page"][0]), int(query.get("page", ["1"])[0])
                self._answer(200, fake.comments[(page - 1) * size:page * size])

            def do_POST(self) -> None:
                fake.calls.append(f"POST {self.path}")
                assert self.path == "/repos/hasivu/monitoring/issues/7/comments"
                comment = {"id": 1000 + len(fake.comments), "user": {"login": "github-actions[bot]"},
                           "body": self._body()["body"]}
                fake.comments.append(comment)
                self._answer(201, comment)

            def do_PATCH(self) -> None:
                fake.calls.append(f"PATCH {self.path}")
                comment_id = int(self.path.rsplit("/", 1)[1])
                comment = next(c for c in fake.comments if c["id"] == comment_id)
                comment["body"] = self._body()["body"]
                self._answer(200, comment)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def _post_comment(tmp_path: Path, github: FakeGitHub, stacks: dict[str, str]) -> None:
    """The comment job's step, run as the runner runs it, after the artifacts were downloaded to diff/."""
    [step] = [s for s in yaml.safe_load(WORKFLOW.read_text())["jobs"]["comment"]["steps"] if "run" in s]
    (tmp_path / "diff").mkdir(exist_ok=True)
    for stack, text in stacks.items():
        (tmp_path / "diff" / f"diff-{stack}.md").write_text(text)
    env = {"PATH": os.environ["PATH"], "GITHUB_API_URL": github.url, "GITHUB_TOKEN": "not-a-token",
           "REPOSITORY": "hasivu/monitoring", "PULL_REQUEST": "7"}
    result = subprocess.run([shutil.which("bash"), "-e", "-c", step["run"]], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_diff_is_one_comment_updated_on_each_push(tmp_path: Path):
    marker = "<!-- hasivu-monitoring diff -->"
    # 150 comments before ours (two pages), one of them a person quoting the marker.
    others = [{"id": i, "user": {"login": "reviewer"}, "body": f"comment {i}"} for i in range(1, 151)]
    others[40]["body"] = f"{marker} quoted by a reviewer"
    github = FakeGitHub(others)
    try:
        _post_comment(tmp_path, github, {"production": "production: 1 alarm changed", "staging": ""})
        ours = [c for c in github.comments if c["user"]["login"] == "github-actions[bot]"]
        assert len(ours) == 1 and ours[0]["body"].startswith(marker + "\n")
        assert "production: 1 alarm changed" in ours[0]["body"]
        assert "The diff of `staging` did not finish: the job log says why." in ours[0]["body"]
        _post_comment(tmp_path, github, {"production": "production: 2 alarms changed", "staging": "staging: none"})
        assert [c for c in github.comments if c["user"]["login"] == "github-actions[bot]"] == ours
        assert "production: 2 alarms changed" in ours[0]["body"] and "staging: none" in ours[0]["body"]
        assert github.comments[40]["body"] == f"{marker} quoted by a reviewer"
        assert [c.split("?")[0] for c in github.calls if not c.startswith("GET")] == [
            "POST /repos/hasivu/monitoring/issues/7/comments",
            f"PATCH /repos/hasivu/monitoring/issues/comments/{ours[0]['id']}"]
    finally:
        github.server.shutdown()
        github.server.server_close()
