"""Market-data sources feeding a simulated venue.

A source turns a scenario's data spec (meshrt/venues/specs.py) into the feed tuples of
``meshrt.venues.events`` (snapshot, delta, trade) in non-decreasing event time. The venue
pulls them window by window with ``batch(until)``, so a source never has to hold a
whole day in memory and the runtime decides how far ahead it reads.

Two kinds:

* ``SyntheticSource``: a seeded random-walk L2 book, fast enough for benchmarks
  (it is on the hot path of every synthetic run, so it is compiled: Cython mirroring
  the rules written down in meshrt/venues/synthetic.py).
* ``RecordedSource`` (meshrt/venues/recorded.py): a user's own data, JSON lines or CSV,
  streamed and parsed lazily, converted exactly to fixed point; or ``BinarySource``
  (meshrt/venues/_recording.pyx) for the same data converted once to a binary ``.mrec``
  recording (meshrt/venues/recording.py). Formats: docs/data.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from meshrt.venues._recording import BinarySource
from meshrt.venues._synthetic import SyntheticSource
from meshrt.venues.events import FeedEvent
from meshrt.venues.recorded import RecordedSource
from meshrt.venues.specs import BINARY_EXTENSION, RecordedSpec, SyntheticSpec


@runtime_checkable
class Source(Protocol):
    """What a venue pulls feed events from."""

    @property
    def symbol(self) -> str: ...

    def batch(self, until: int) -> list[FeedEvent]:
        """Every remaining event with ``ts < until``, in order; a later call continues."""
        ...

    @property
    def exhausted(self) -> bool: ...

    def peek_time(self) -> int | None:
        """Time of the next event, ``None`` once exhausted."""
        ...


def open_source(spec: SyntheticSpec | RecordedSpec) -> Source:
    """Build the source a venue's data spec describes."""
    opener = getattr(spec, "open", None)
    if opener is not None:  # a spec that knows its source (meshrt.runtime.replay.LogSpec)
        return opener()  # type: ignore[no-any-return]
    if isinstance(spec, SyntheticSpec):
        return SyntheticSource(spec)
    if isinstance(spec, RecordedSpec):
        binary = Path(spec.path).suffix.lower() == BINARY_EXTENSION
        return BinarySource(spec) if binary else RecordedSource(spec)
    raise TypeError(f"not a data source spec: {spec!r}")
