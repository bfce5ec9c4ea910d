"""Capture files to (receive time ns, frame text), the input of a live adapter's on_frame.

The cryptofeed recorder format (../shared/venue_samples README, "Common conventions"):
``<receive epoch seconds>: <raw frame>`` per line, split at the first ``": "``; the
connect line (``<url> <-> <epoch>``), sent frames (``<url> <- ...``, ``<url> -> ...``)
and empty lines are not received frames. Epoch seconds become nanoseconds on the digits,
never through a float, so a replay's times are the recorded ones exactly.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from pathlib import Path


def epoch_ns(text: str) -> int:
    """``1618678132.8258188`` -> 1618678132825818800."""
    whole, _, frac = text.partition(".")
    if not (whole.isdigit() and (not frac or frac.isdigit()) and len(frac) <= 9):
        raise ValueError(f"not epoch seconds: {text!r}")
    return int(whole) * 1_000_000_000 + int(frac.ljust(9, "0") or "0")


def cryptofeed_frames(source: Path | Iterable[str]) -> Iterator[tuple[int, str]]:
    """The received frames of a cryptofeed capture, in file order: from a file (plain or
    ``.gz``) or from its lines."""
    if isinstance(source, Path):
        opener = gzip.open if source.suffix == ".gz" else open
        with opener(source, "rt", encoding="utf-8") as lines:
            yield from _frames(lines, f"{source}:")
    else:
        yield from _frames(source, "line ")


def _frames(lines: Iterable[str], where: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        stamp, sep, frame = line.partition(": ")
        if not sep or " " in stamp:  # empty, the connect line, or a sent frame
            continue
        try:
            yield epoch_ns(stamp), frame
        except ValueError as e:
            raise ValueError(f"{where}{number}: {e}") from None
