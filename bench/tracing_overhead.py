"""Per-call cost of the tracing wrappers: off (as in local runs and tests) and on (against a bare
X-Ray subsegment). Segments go to an emitter that drops them, so no daemon is needed.

Usage: venv/bin/python -m bench.tracing_overhead
"""

from __future__ import annotations

import os
import platform
import timeit

from aws_lambda_powertools import Tracer
from aws_xray_sdk.core import xray_recorder

from observability.tracing import BusinessTracer


class DropEmitter:
    ip, port = "127.0.0.1", 2000

    def send_entity(self, entity) -> None:
        pass

    def set_daemon_address(self, address) -> None:
        pass


def per_call_us(statement, number: int) -> float:
    return min(timeit.repeat(statement, number=number, repeat=5)) / number * 1e6


def work() -> int:
    return 1


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    # Powertools keeps one tracer config per process: measure with tracing on first, then off.
    on = BusinessTracer(Tracer(disabled=False), b"k")
    xray_recorder.configure(emitter=DropEmitter(), sampling=False, context_missing="LOG_ERROR",
                            streaming_threshold=1000)
    xray_recorder.begin_segment("bench")

    def bare_subsegment() -> int:
        with xray_recorder.in_subsegment("## payment.create"):
            return work()

    def wrapped_on() -> int:
        return on.trace_payment_operation("p", "create", "u", 250, "upi", work)

    for _ in range(3):
        xray_recorder.end_segment()
        xray_recorder.begin_segment("bench")
        base = per_call_us(bare_subsegment, 5_000)
        xray_recorder.end_segment()
        xray_recorder.begin_segment("bench")
        ours = per_call_us(wrapped_on, 5_000)
    xray_recorder.end_segment()
    print(f"tracing on: bare X-Ray subsegment {base:.1f} us, business wrapper {ours:.1f} us -> "
          f"{ours / base:.2f}x (target within 1.5x)")

    off = BusinessTracer(Tracer(disabled=True), b"k")
    bare = per_call_us(work, 200_000)
    wrapped = per_call_us(lambda: off.trace_payment_operation("p", "create", "u", 250, "upi", work), 200_000)
    print(f"tracing off: bare call {bare:.3f} us, wrapped {wrapped:.3f} us -> overhead {wrapped - bare:.3f} us "
          "(target < 5 us)")

if __name__ == "__main__":
    main()
