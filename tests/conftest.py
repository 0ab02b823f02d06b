"""Shared fixtures: moto in server mode and a local HTTP endpoint, both on loopback only."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# Fixtures that start a server (moto, PostgreSQL, Redis, a local HTTP endpoint) or Chromium: a test that
# uses one, directly or through another fixture, carries the `servers` marker, so `pytest -m "not servers"`
# runs only what needs neither.
SERVER_FIXTURES = frozenset({"moto_endpoint", "postgres_server", "redis_server", "http_endpoint", "chromium"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real HTTP endpoint speaking the AWS APIs (moto server mode) on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def chromium() -> str:
    """The headless browser that opens rendered pages (tests/support/chromium.py)."""
    from tests.support.chromium import CHROMIUM

    assert Path(CHROMIUM).exists(), "Chromium missing: scripts/test.sh installs it (scripts/system-packages.sh)"
    return CHROMIUM


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 clients created in the test talk to moto; credentials are fakes."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    return moto_endpoint


class Recorder:
    """What a local HTTP endpoint received, and how it should answer."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        # The answer's body and type; by default a JSON `{"ok": <status below 400>}`.
        self.body: bytes | None = None
        self.content_type = "application/json"


class QuietServer(ThreadingHTTPServer):
    """A client that gave up on a slow answer (the timeout tests) is expected, not an error to print."""

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@pytest.fixture
def http_endpoint() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            recorder.requests.append({"method": self.command, "path": self.path, "body": body})
            if recorder.delay:
                threading.Event().wait(recorder.delay)
            body = recorder.body if recorder.body is not None else json.dumps({"ok": recorder.status < 400}).encode()
            self.send_response(recorder.status)
            self.send_header("Content-Type", recorder.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, *_: object) -> None:
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", recorder
    server.shutdown()
    server.server_close()


def _postgres_bin() -> str:
    import glob

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    assert found, "PostgreSQL missing: scripts/test.sh installs it (scripts/system-packages.sh)"
    return found[-1].rsplit("/", 1)[0]


def _as_postgres_user(command: list[str]) -> list[str]:
    """postgres refuses to run as root; CI runs as root, developers may not."""
    import os

    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL cluster on 127.0.0.1 with password auth, a non-superuser `app` role and a small
    max_connections (so the pool can be filled in a test)."""
    import os
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    bindir = _postgres_bin()
    # Not under pytest's tmp dir: the postgres user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="hasivu-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    pwfile = root / "pw"
    pwfile.write_text("superpass\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        shutil.chown(pwfile, "postgres")
    port = free_port()
    subprocess.run(_as_postgres_user([f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
                                      f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True)
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=12 " \
              "-c superuser_reserved_connections=2 -c fsync=off"
    subprocess.run(_as_postgres_user([f"{bindir}/pg_ctl", "-D", str(data), "-o", options, "-w", "-l",
                                      str(root / "log"), "start"]), check=True, capture_output=True)
    import pg8000.native

    admin = pg8000.native.Connection(user="postgres", password="superpass", host="127.0.0.1", port=port)
    admin.run("CREATE ROLE app LOGIN PASSWORD 'apppass'")
    admin.close()
    yield {"host": "127.0.0.1", "port": port, "user": "app", "password": "apppass", "dbname": "postgres"}
    subprocess.run(_as_postgres_user([f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"]),
                   capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


def start_redis(password: str = "redispass"):
    """A Redis server on a free loopback port; returns (port, process)."""
    import shutil
    import subprocess
    import time

    import redis

    binary = shutil.which("redis-server")
    assert binary, "Redis missing: scripts/test.sh installs it (scripts/system-packages.sh)"
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no", "--requirepass", password, "--maxmemory", "64mb"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=0.5).ping()
            return port, process
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


@pytest.fixture(scope="session")
def redis_server():
    port, process = start_redis()
    yield {"host": "127.0.0.1", "port": port, "password": "redispass"}
    process.kill()
    process.wait()
