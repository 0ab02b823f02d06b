"""CPython's cyclic garbage collector, set for a program that builds a large, long-lived graph.

Every resource the Pulumi SDK registers keeps dozens of Outputs, futures and tasks alive until the
program ends, and almost none of them become cyclic garbage. With CPython's default thresholds
(a young collection every 700 net allocations) the collector walks that growing graph again and
again: for 1,000 functions (4,182 resources) it was more than half of the program's run, 20 s of
CPU against 9 s with these thresholds, at the same peak memory (bench/sdk_floor.py, README).
Young collections still run, every 50,000 allocations; a full one after 100 older ones.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 100)


def relax_for_large_graphs() -> None:
    gc.set_threshold(*THRESHOLDS)
