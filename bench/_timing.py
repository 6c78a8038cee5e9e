"""How the benchmarks time a call: the median wall time of repeated calls, the same way everywhere.

The machine they run on is shared and noisy, so one call may be slowed by another process; the
median of several calls is not moved by the odd slow one (a mean would be). Only the call is inside
the clock (`time.perf_counter`); a warm-up call, when asked for, is outside it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def timed(fn: Callable[[int], Any], repeat: int = 1, *, warm_up: bool = False) -> tuple[float, Any]:
    """The median wall time in seconds of the calls fn(0), fn(1), ... fn(repeat - 1), and what the
    last one returned.

    Each call gets its index, so a benchmark can hand each call a new input (then nothing is served
    from a cache). `warm_up`: one untimed call fn(0) first (compilation, caches).
    """
    if warm_up:
        fn(0)
    times, result = [], None
    for i in range(repeat):
        t0 = time.perf_counter()
        result = fn(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def median_seconds(fn: Callable[[int], Any], repeat: int = 1, *, warm_up: bool = False) -> float:
    """The median wall time in seconds of `repeat` calls (see `timed`; one call: its time)."""
    return timed(fn, repeat, warm_up=warm_up)[0]
