"""The data specs a scenario names in ``Venue(sources=[...])``: plain, checked values.

``SyntheticSpec`` describes a seeded synthetic book, ``RecordedSpec`` a user's file,
``LiveSpec`` an exchange's live feed (paper mode, docs/live.md), ``CaptureSpec`` a
capture of one played back through the same adapter in virtual time; the
file formats a spec may name are here too, by extension (docs/data.md). Turning a spec
into a source is meshrt/venues/sources.py's ``open_source``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs

from meshrt.validators import (
    MAX_NS,
    ScenarioValueError,
    as_tuple,
    flag,
    int64,
    integer,
    non_negative_ns,
    one_of,
    optional,
    positive_ns,
    probability,
    shown,
    text,
)
from meshrt.venues.live.crossing import CROSSED_GRACE_NS

# text formats by extension (meshrt/venues/recorded.py reads them), and the binary one
# (meshrt/venues/recording.py, read by meshrt/venues/_recording.pyx)
TEXT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
BINARY_EXTENSION = ".mrec"


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


# ``SyntheticSource``, the generator a SyntheticSpec describes, is compiled
# (meshrt/venues/_synthetic.pyx): ``SyntheticSource(spec, start_ns=0)``. Its rules are
# written down in meshrt/venues/synthetic.py, its generator (xoshiro256** seeded by
# splitmix64) in meshrt/venues/rng.py. It pickles (inside run checkpoints) as the spec
# and the walk's state, and costs well under 0.1 µs per book update.


# -- recorded ----------------------------------------------------------------------


def _known_extension(_: object, __: object, path: str) -> None:
    if Path(path).suffix.lower() not in (*TEXT_FORMATS, BINARY_EXTENSION):
        raise ScenarioValueError(
            f"RecordedSpec.path {path!r}: unknown data format (expected .jsonl, .ndjson, .csv "
            f"or {BINARY_EXTENSION})"
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


# -- live --------------------------------------------------------------------------

# the exchanges a live source can name (meshrt/venues/live/, one adapter module each);
# "coinbase" is the Exchange feed (level2_batch + matches), "coinbase-advanced" Advanced
# Trade's level2
EXCHANGES = ("kraken", "binance", "coinbase", "coinbase-advanced")


def _ws_url(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not (isinstance(value, str) and value.startswith(("ws://", "wss://"))):
        raise ScenarioValueError(
            f"LiveSpec.{attribute.name} must be a ws:// or wss:// URL, got {shown(value)}"
        )


def _http_url(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not (
        isinstance(value, str) and value.startswith(("http://", "https://"))
    ):
        raise ScenarioValueError(
            f"LiveSpec.{attribute.name} must be an http:// or https:// URL, got {shown(value)}"
        )


@attrs.frozen(slots=True, kw_only=True)
class LiveSpec:
    """A live exchange feed for one scenario symbol (docs/live.md): the venue's sources
    on one exchange and URL share one websocket connection, and each symbol goes down and
    resyncs on its own. ``exchange_symbol`` defaults to the adapter's documented table;
    ``url``/``rest_url`` default to the exchange's public endpoints (point them at
    ``meshrt venue-sim`` on 127.0.0.1 to run offline). ``crossed_grace_ns`` is how long
    (receive time) a crossed book is held back, the venue keeping its last uncrossed book,
    before the symbol resyncs; 0 tolerates a crossing only within one receive instant
    (docs/live.md, "Crossed books"). The connection fields (all but ``symbol`` and
    ``exchange_symbol``) must be equal for the sources sharing a connection."""

    symbol: str = attrs.field(validator=text)
    exchange: str = attrs.field(validator=one_of(*EXCHANGES))
    exchange_symbol: str | None = attrs.field(default=None, validator=optional(text))
    url: str | None = attrs.field(default=None, validator=_ws_url)
    rest_url: str | None = attrs.field(default=None, validator=_http_url)
    depth: int = attrs.field(
        default=10, validator=one_of(10, 25, 100, 500, 1000)
    )  # Kraken's subscribed depth: the book is truncated to it after every message
    stale_after_ns: int = attrs.field(default=10_000_000_000, validator=positive_ns)
    reconnect_min_ns: int = attrs.field(default=500_000_000, validator=positive_ns)
    reconnect_max_ns: int = attrs.field(default=30_000_000_000, validator=positive_ns)
    crossed_grace_ns: int = attrs.field(default=CROSSED_GRACE_NS, validator=non_negative_ns)


def _rest_log_for_binance(spec: Any, _: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and spec.exchange != "binance":
        raise ScenarioValueError(
            f"CaptureSpec.rest_log is for exchange='binance' (its REST depth snapshots), "
            f"not {spec.exchange!r}"
        )


@attrs.frozen(slots=True, kw_only=True)
class CaptureSpec:
    """A capture of an exchange's websocket frames (docs/live.md, "Capture playback"),
    read through the same adapter a live session uses, in virtual time: a live session
    becomes a backtest. The venue's captures on one exchange, file and REST log are one
    connection. ``time_offset_ns`` is added to every receive time; None (the default)
    shifts the capture's first frame to time 0. ``depth`` is the depth the capture
    subscribed to (Kraken: the book is truncated to it after every message).
    ``rest_log`` (Binance) is the cryptofeed REST log holding the depth snapshots its
    adapter asks for; a meshrt recording or an hftbacktest capture holds them inline."""

    symbol: str = attrs.field(validator=text)
    exchange: str = attrs.field(validator=one_of(*EXCHANGES))
    path: str = attrs.field(converter=_path_text, validator=text)
    exchange_symbol: str | None = attrs.field(default=None, validator=optional(text))
    depth: int = attrs.field(default=10, validator=one_of(10, 25, 100, 500, 1000))
    time_offset_ns: int | None = attrs.field(
        default=None,
        validator=optional(integer("an integer of ns in [-2**62, 2**62]", -MAX_NS, MAX_NS)),
    )
    rest_log: str | None = attrs.field(
        default=None,
        converter=_path_text,
        validator=attrs.validators.and_(optional(text), _rest_log_for_binance),
    )
