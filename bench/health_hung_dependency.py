"""A full health check with one dependency hung: the run costs that check's timeout (+10% at most),
not the sum. The hung dependency is a loopback TCP server that accepts and never answers; the
others are loopback HTTP endpoints that answer at once.

Usage: venv/bin/python -m bench.health_hung_dependency [--timeout 1.0] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from observability.health import BusinessProfile, EnhancedHealthMonitor
from observability.health_checks import http_check


class Quick(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)
    quick = ThreadingHTTPServer(("127.0.0.1", 0), Quick)
    threading.Thread(target=quick.serve_forever, daemon=True).start()
    fast_url = f"http://127.0.0.1:{quick.server_address[1]}/"
    monitor = EnhancedHealthMonitor([
        http_check(f"http://127.0.0.1:{hung.getsockname()[1]}/", timeout=args.timeout, name="payment_gateway"),
        http_check(fast_url, timeout=args.timeout, name="database"),
        http_check(fast_url, timeout=args.timeout, name="redis"),
        http_check(fast_url, timeout=args.timeout, name="rfid"),
    ], BusinessProfile(500_000, 12_000))
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        report = monitor.get_enhanced_system_health()
        times.append(time.perf_counter() - start)
        assert report["checks"]["payment_gateway"]["status"] == "unhealthy"
    quick.shutdown()
    hung.close()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"4 checks, one hung, timeout {args.timeout:g} s: worst {max(times):.3f} s, best {min(times):.3f} s "
          f"over {args.runs} runs ({max(times) / args.timeout:.3f}x the timeout; target <= 1.10x)")


if __name__ == "__main__":
    main()
