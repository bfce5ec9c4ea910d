"""Series thinned for display: a few thousand points a trace, whatever the run's length.

Only what is drawn is thinned; every statistic a figure states is computed on the full
series first. Min/max per bucket keeps every spike and dip a pixel column would show
(a line through them looks the same as through all the points), where LTTB or plain
striding would drop some.
"""

from __future__ import annotations

from collections.abc import Sequence

# about a bucket per pixel column of a wide figure
BUCKETS = 1000


def minmax(
    times: Sequence[int], values: Sequence[float], buckets: int = BUCKETS
) -> tuple[list[int], list[float]]:
    """At most ``4 * buckets`` points of (times, values), in time order: per equal time
    bucket its first, lowest, highest and last points (those that differ), so the drawn
    line keeps every extreme. Series shorter than that come back whole."""
    n = len(times)
    if n <= 4 * buckets:
        return list(times), list(values)
    start, end = times[0], times[-1]
    width = max(1, (end - start) // buckets + 1)
    out_t: list[int] = []
    out_v: list[float] = []
    k = 0
    while k < n:
        bucket_end = start + ((times[k] - start) // width + 1) * width
        first = low = high = k
        j = k
        while j < n and times[j] < bucket_end:
            v = values[j]
            if v < values[low]:
                low = j
            elif v > values[high]:
                high = j
            j += 1
        for index in sorted({first, low, high, j - 1}):
            out_t.append(times[index])
            out_v.append(values[index])
        k = j
    return out_t, out_v


def steps(times: Sequence[int], values: Sequence[float], end: int) -> tuple[list[int], list[float]]:
    """A step series (a value holds until the next) closed at ``end``, so its last level
    is drawn to the run's end."""
    if not times:
        return [], []
    return [*times, end], [*values, values[-1]]


def thin_points(
    times: Sequence[int], values: Sequence[float], limit: int = 2 * BUCKETS
) -> list[int]:
    """Indices of at most about ``limit`` markers (fills, quotes): all of them when few,
    else the lowest and highest of each time bucket."""
    n = len(times)
    if n <= limit:
        return list(range(n))
    buckets = max(1, limit // 2)
    start, end = times[0], times[-1]
    width = max(1, (end - start) // buckets + 1)
    kept: list[int] = []
    k = 0
    while k < n:
        bucket_end = start + ((times[k] - start) // width + 1) * width
        low = high = k
        j = k
        while j < n and times[j] < bucket_end:
            if values[j] < values[low]:
                low = j
            elif values[j] > values[high]:
                high = j
            j += 1
        kept.extend(sorted({low, high}))
        k = j
    return kept
