"""1,000 business events through the metrics API: EMF records on stdout, and no AWS API call
(every botocore request is made to fail, so a single one would show).

Usage: venv/bin/python -m bench.metrics_emission [--events 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import time

import botocore.endpoint

from observability.metrics import BusinessMetrics
from observability.settings import RuntimeSettings

calls = []


def refuse(*args, **kwargs):
    calls.append(args)
    raise RuntimeError("an AWS API call was made")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    botocore.endpoint.Endpoint.make_request = refuse
    metrics = BusinessMetrics(RuntimeSettings("production", "payments", "HASIVU/Business", "HASIVU/Health"))
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        for i in range(args.events):
            metrics.track_payment_metrics(f"ord-{i}", 100 + i % 400, ("success", "failed")[i % 10 == 0],
                                          ("upi", "card", "netbanking")[i % 3], {"schoolId": f"s-{i % 50}",
                                                                                  "mealType": "lunch"})
    elapsed = time.perf_counter() - start
    records = out.getvalue().count("\n")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.events} payment events -> {records} EMF records, {len(calls)} AWS API calls, "
          f"{elapsed * 1000:.0f} ms ({elapsed / args.events * 1e6:.0f} us per event)")


if __name__ == "__main__":
    main()
