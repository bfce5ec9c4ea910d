"""Reading cryptofeed's raw capture format: frames with their receive times, for replay.

The format of cryptofeed's ``sample_data`` recorder (../shared/venue_samples/README.md):
line 1 is ``<url> <-> <epoch>`` (the connect), ``<url> <- <epoch>: <json>`` lines are
frames the client sent, and every other non-empty line is ``<receive epoch>: <frame>``,
split at the first ``": "``. Times are decimal seconds, turned into ns without a float.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path


def epoch_ns(text: str) -> int:
    """``"1618677817.061845"`` → 1618677817061845000, exactly."""
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 9:
        raise ValueError(f"{text!r} is not epoch seconds with at most 9 decimals")
    return int(whole) * 1_000_000_000 + int(frac.ljust(9, "0") or 0)


def cryptofeed_frames(path: Path) -> Iterator[tuple[int, str]]:
    """The received frames of a capture (plain or ``.gz``) as (receive ns, frame text)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            line = line.rstrip("\n")
            if not line or (number == 1 and " <-> " in line) or " <- " in line.partition(": ")[0]:
                continue
            stamp, sep, frame = line.partition(": ")
            if not sep:
                raise ValueError(f"{path}:{number}: expected '<epoch>: <frame>'")
            yield epoch_ns(stamp), frame
