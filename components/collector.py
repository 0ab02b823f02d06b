"""CPython's cyclic garbage collector, set for a program that builds a large, long-lived graph.

Every resource the Pulumi SDK registers keeps dozens of Outputs, futures and tasks alive until the
program ends, and almost none of them become cyclic garbage. With CPython's default thresholds
(a young collection every 700 net allocations) the collector walks that growing graph again and
again: for 1,000 functions (4,182 resources) it was more than half of the program's run, 20 s of
CPU against 8-9 s with these thresholds, at the same peak memory (bench/sdk_floor.py, docs/benchmarks.md).
Young collections still run, every 200,000 net allocations. The policy pack (policy/__main__.py)
uses the same thresholds for the same reason.
"""

from __future__ import annotations

import gc

THRESHOLDS = (200_000, 100, 1000)


def relax_for_large_graphs() -> None:
    gc.set_threshold(*THRESHOLDS)
