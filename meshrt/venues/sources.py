"""Market-data sources feeding a simulated venue.

A source turns a scenario's data description into the feed tuples of
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

import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from meshrt.validators import (
    MAX_NS,
    ScenarioValueError,
    as_tuple,
    flag,
    int64,
    integer,
    positive_ns,
    probability,
    shown,
    text,
)
from meshrt.venues._recording import BinarySource
from meshrt.venues._synthetic import SyntheticSource
from meshrt.venues.events import FeedEvent
from meshrt.venues.recorded import EXTENSIONS, RecordedSource
from meshrt.venues.recording import EXTENSION as BINARY

__all__ = ["RecordedSpec", "Source", "SyntheticSpec", "open_source"]


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


# -- synthetic ---------------------------------------------------------------------


MAX_SYNTHETIC_LEVELS = 1000  # per side; the book is held in full, algos see BOOK_DEPTH

# a float price is almost always a unit mistake: fixed point is an int (meshrt.contract)
_FIXED_POINT = integer("a positive fixed-point integer (within 64 bits)", 1)


def _level_size(spec: SyntheticSpec, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not (
        type(value) is tuple
        and len(value) == 2
        and all(_FIXED_POINT.test(v) for v in value)
        and value[0] <= value[1]
    ):
        raise ScenarioValueError(
            "SyntheticSpec.level_size must be (min, max) fixed-point sizes with "
            f"1 <= min <= max, got {shown(value)}"
        )


def _room_for_levels(spec: SyntheticSpec, attribute: attrs.Attribute[Any], value: Any) -> None:
    """The deepest bid level must stay above 0 (run after tick and start_price)."""
    deepest_bid = spec.start_price // spec.tick * spec.tick - (spec.levels - 1) * spec.tick
    if deepest_bid <= 0:
        raise ScenarioValueError(
            f"SyntheticSpec.start_price {spec.start_price} leaves no room for {spec.levels} "
            f"bid levels of tick {spec.tick}"
        )


@attrs.frozen(slots=True, kw_only=True)
class SyntheticSpec:
    """A seeded synthetic L2 book; every field is fixed point (see meshrt.contract).

    ``interval_ns`` is the mean time per book update: a step of n updates (a mid move is
    four) advances the clock by n jittered intervals, so a run lasts about
    ``updates * interval_ns``.
    """

    symbol: str = attrs.field(validator=text)
    seed: int = attrs.field(validator=int64)
    start_price: int = attrs.field(validator=_FIXED_POINT)
    tick: int = attrs.field(validator=_FIXED_POINT)
    levels: int = attrs.field(
        default=20,
        validator=[
            integer(f"an integer in [1, {MAX_SYNTHETIC_LEVELS}]", 1, MAX_SYNTHETIC_LEVELS),
            _room_for_levels,
        ],
    )
    level_size: tuple[int, int] = attrs.field(converter=as_tuple, validator=_level_size)
    interval_ns: int = attrs.field(validator=positive_ns)
    updates: int = attrs.field(validator=integer("a positive integer (within 64 bits)", 1))
    trade_every: int = attrs.field(
        default=10, validator=integer("an integer >= 0 (0: no trades; within 64 bits)", 0)
    )
    move_probability: float = attrs.field(validator=probability)


# ``SyntheticSource``, the generator a SyntheticSpec describes, is the compiled type
# imported above (meshrt/venues/_synthetic.pyx): construct it as
# ``SyntheticSource(spec, start_ns=0)``. Its rules are written down in
# meshrt/venues/synthetic.py, its generator (xoshiro256** seeded by splitmix64) in
# meshrt/venues/rng.py. It pickles (inside run checkpoints) as the spec and the walk's
# state, and costs well under 0.1 µs per book update.


# -- recorded ----------------------------------------------------------------------


def _known_extension(_: object, __: object, path: str) -> None:
    if Path(path).suffix.lower() not in (*EXTENSIONS, BINARY):
        raise ScenarioValueError(
            f"RecordedSpec.path {path!r}: unknown data format (expected .jsonl, .ndjson, .csv "
            f"or {BINARY})"
        )


def _path_text(value: Any) -> Any:
    """Converter: a ``pathlib.Path`` (any os.PathLike) becomes its string."""
    return os.fspath(value) if isinstance(value, os.PathLike) else value


@attrs.frozen(slots=True)
class RecordedSpec:
    """Replay a user's file; ``time_offset_ns`` is added to every timestamp. With
    ``start_at_zero`` every timestamp is first shifted by the file's first one, so the
    recording starts at scenario time 0 without anyone reading the file for it."""

    symbol: str = attrs.field(validator=text)
    path: str = attrs.field(
        converter=_path_text, validator=attrs.validators.and_(text, _known_extension)
    )
    time_offset_ns: int = attrs.field(
        default=0, validator=integer("an integer of ns in [-2**62, 2**62]", -MAX_NS, MAX_NS)
    )
    start_at_zero: bool = attrs.field(default=False, validator=flag)


def open_source(spec: SyntheticSpec | RecordedSpec) -> Source:
    """Build the source a venue's data spec describes."""
    opener = getattr(spec, "open", None)
    if opener is not None:  # a spec that knows its source (meshrt.runtime.replay.LogSpec)
        return opener()  # type: ignore[no-any-return]
    if isinstance(spec, SyntheticSpec):
        return SyntheticSource(spec)
    if isinstance(spec, RecordedSpec):
        binary = Path(spec.path).suffix.lower() == BINARY
        return BinarySource(spec) if binary else RecordedSource(spec)
    raise TypeError(f"not a data source spec: {spec!r}")
