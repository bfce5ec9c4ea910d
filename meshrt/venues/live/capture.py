"""Capture files to (receive time ns, frame text), the input of a live adapter's on_frame.

The cryptofeed recorder format (../shared/venue_samples README, "Common conventions"):
``<receive epoch seconds>: <raw frame>`` per line, split at the first ``": "``; the
connect line (``<url> <-> <epoch>``), sent frames (``<url> <- ...``, ``<url> -> ...``)
and empty lines are not received frames. Epoch seconds become nanoseconds on the digits,
never through a float, so a replay's times are the recorded ones exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def epoch_ns(text: str) -> int:
    """``1618678132.8258188`` -> 1618678132825818800."""
    whole, _, frac = text.partition(".")
    if not (whole.isdigit() and (not frac or frac.isdigit()) and len(frac) <= 9):
        raise ValueError(f"not epoch seconds: {text!r}")
    return int(whole) * 1_000_000_000 + int(frac.ljust(9, "0") or "0")


def cryptofeed_frames(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """The received frames of a cryptofeed capture, in file order."""
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        stamp, sep, frame = line.partition(": ")
        if not sep or " " in stamp:  # empty, the connect line, or a sent frame
            continue
        try:
            yield epoch_ns(stamp), frame
        except ValueError as e:
            raise ValueError(f"line {number}: {e}") from None
