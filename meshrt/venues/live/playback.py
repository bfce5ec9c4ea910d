"""One home for "a capture file -> the ``Received`` items a live session would have
produced" (docs/live.md, "Capture playback"), and a live venue's inputs of them: what the
live loop hands it (``Inbox``), or captures played back in virtual time (``CaptureInput``).

A capture (any format meshrt/venues/live/capture.py reads) goes through the sessions' own
adapter (meshrt/venues/live/adapters.py's ``adapter_for``): each frame's outputs at its
receive time, as one ``Received``. Binance's diff stream also needs the REST depth
snapshots its adapter asks for (``NeedSnapshot``); a capture holds them as a meshrt
recording's snapshot frames (recorder.py), hftbacktest's inline ``{"lastUpdateId"...}``
lines, or a cryptofeed REST log given beside it. A snapshot is handed to the adapter as
a session would: only once asked for, at its own receive time or, when it came before
the asking frame, right after that frame. Reading is deterministic, so a run on
captures replays byte for byte.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import orjson
from attrs import frozen

from meshrt.venues.live.adapters import TABLES, Adapter, adapter_for, exchange_symbol
from meshrt.venues.live.binance import BinanceSpot
from meshrt.venues.live.capture import (
    Capture,
    CaptureError,
    Format,
    Frame,
    RestReply,
    read_capture,
    rest_replies,
    sent_frames,
    sniff,
)
from meshrt.venues.live.recorder import parse_snapshot
from meshrt.venues.live.verdicts import NeedSnapshot, Output, Received
from meshrt.venues.specs import CaptureSpec

# (receive ns, None and a frame's text) or (receive ns, exchange symbol, a REST snapshot body)
Item = tuple[int, str | None, str]
_BARE_SNAPSHOT = '{"lastUpdateId"'  # hftbacktest writes the REST answer as a frame
_SNIFF_FRAMES = 1_000  # frames read to tell a capture's exchange or symbol names


@frozen
class Playback:
    """One capture played as one connection: ``symbols`` maps scenario symbols to the
    exchange's (the argument of ``adapter_for``); ``rest_logs`` are cryptofeed REST logs
    holding Binance's depth snapshots; ``time_offset_ns`` is added to every receive time
    (None: the capture's first line is time 0)."""

    path: Path
    exchange: str
    symbols: Mapping[str, str]
    depth: int = 10
    rest_logs: tuple[Path, ...] = ()
    time_offset_ns: int | None = 0


def received(playback: Playback) -> Iterator[Received]:
    """The items a live session on the capture's connection would have handed its venue."""
    capture, items = capture_items(playback.path, playback.rest_logs, playback.time_offset_ns)
    why = snapshots_missing(playback.exchange, capture, playback.rest_logs)
    if why is not None:
        raise CaptureError(f"{playback.path}:1: {why} (give it beside the capture)")
    adapter = adapter_for(playback.exchange, playback.symbols, depth=playback.depth)
    for ts, outputs in play(adapter, items):
        kept = tuple(out for out in outputs if type(out) is not NeedSnapshot)
        if kept:
            yield Received(ts, kept)  # type: ignore[arg-type]


def play(adapter: Adapter, items: Iterable[Item]) -> Iterator[tuple[int, list[Output]]]:
    """Each frame's (and each snapshot's) adapter outputs at their time, ``NeedSnapshot``
    included. A snapshot waits, the latest per symbol, until the adapter has asked."""
    waiting: dict[str, tuple[int, str]] = {}
    asked: set[str] = set()
    for ts, symbol, text in items:
        if symbol is None:
            got = adapter.on_frame(text, ts)
            asked.update(out.exchange_symbol for out in got if type(out) is NeedSnapshot)
            yield ts, got
        else:
            waiting[symbol] = (ts, text)
        if not (asked and waiting):
            continue
        for name in [name for name in waiting if name in asked]:
            assert isinstance(adapter, BinanceSpot)  # the only adapter that asks
            snap_ts, body = waiting.pop(name)
            asked.discard(name)
            at = max(ts, snap_ts)
            got = adapter.snapshot(name, body, at)
            asked.update(out.exchange_symbol for out in got if type(out) is NeedSnapshot)
            yield at, got


# -- a capture's items -----------------------------------------------------------------


def capture_items(
    path: Path | str, rest_logs: Sequence[Path] = (), time_offset_ns: int | None = 0
) -> tuple[Capture, Iterator[Item]]:
    """The capture's frames and snapshots (inline, and from ``rest_logs``) in receive
    order (file order on equal times, the capture's first), shifted by ``time_offset_ns``
    (None: the capture's first line at 0)."""
    capture, frames = read_capture(path)
    first = next(frames, None)
    if first is None:
        return capture, iter(())
    offset = -first[0] if time_offset_ns is None else time_offset_ns
    frames = itertools.chain([first], frames)
    if capture.format in (Format.MESHRT, Format.HFTBACKTEST):
        items = inline_snapshots(frames)
    else:
        items = ((ts, None, text) for ts, text in frames)
    streams = [items, *(rest_snapshots(rest_replies(Path(log))) for log in rest_logs)]
    merged = heapq.merge(*streams, key=lambda item: item[0])
    if offset == 0:
        return capture, merged
    return capture, ((ts + offset, symbol, text) for ts, symbol, text in merged)


def inline_snapshots(frames: Iterable[Frame]) -> Iterator[Item]:
    """Frames, with the REST snapshots a capture holds among them as snapshot items: a
    meshrt recording's snapshot frames, and hftbacktest's bare ``{"lastUpdateId"...}``
    answers (each given to the symbol of the next depth event)."""
    bare: tuple[int, str] | None = None
    for ts, text in frames:
        if text.startswith(_BARE_SNAPSHOT):
            bare = (ts, text)
            continue
        snapshot = parse_snapshot(text)
        if snapshot is not None:
            yield ts, snapshot[0], snapshot[1]
            continue
        if bare is not None:
            symbol = _depth_symbol(text)
            if symbol is not None:
                yield bare[0], symbol, bare[1]
                bare = None
        yield ts, None, text


def rest_snapshots(replies: Iterable[RestReply]) -> Iterator[Item]:
    """A cryptofeed REST log's depth answers, each for the ``symbol`` its url asked."""
    for reply in replies:
        symbol = parse_qs(urlparse(reply.url).query).get("symbol", [""])[0]
        if symbol:
            yield reply.ts_ns, symbol, reply.body


def _depth_symbol(text: str) -> str | None:
    """The symbol of a Binance depth event (combined or raw stream), else None."""
    if '"depthUpdate"' not in text:
        return None
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    data = obj.get("data", obj) if isinstance(obj, dict) else None
    symbol = data.get("s") if isinstance(data, dict) else None
    return symbol if isinstance(symbol, str) else None


# -- what a capture says about its connection -----------------------------------------


def snapshots_missing(exchange: str, capture: Capture, rest_logs: Sequence[Path]) -> str | None:
    """Why a capture cannot be played (Binance without its REST snapshots), or None."""
    if exchange != "binance" or rest_logs:
        return None
    if capture.format in (Format.MESHRT, Format.HFTBACKTEST):
        return None  # snapshots inline
    return (
        f"a Binance {capture.format.value} capture holds no REST depth snapshots: "
        "its cryptofeed REST log is needed too"
    )


def exchange_of(capture: Capture, head: Sequence[Frame]) -> str | None:
    """The capture's exchange: its meshrt header's ``exchange`` (or ``venue``), the host
    of the url a cryptofeed capture connected to, else Binance when a frame of ``head``
    is one of its depth events or snapshots; None when nothing says."""
    named = capture.header.get("exchange") or capture.header.get("venue")
    if isinstance(named, str) and named in TABLES:
        return named
    host = urlparse(capture.url or "").hostname or ""
    if "advanced-trade" in host:
        return "coinbase-advanced"
    for name in ("kraken", "binance", "coinbase"):
        if name in host:
            return name
    if any('"depthUpdate"' in text or text.startswith(_BARE_SNAPSHOT) for _, text in head):
        return "binance"
    return None


def named_in(exchange: str, symbol: str, head: Sequence[Frame]) -> str:
    """The exchange's name for ``symbol`` as the capture writes it: of the names its
    table gives (Kraken v2 ``BTC/CHF`` and v1 ``XBT/CHF``), the first ``head`` quotes
    (Binance's streams quote it in lower case), else the table's first."""
    names = [name for name, scenario in TABLES[exchange].items() if scenario == symbol]
    for name in names if len(names) > 1 else ():
        quoted = (f'"{name}"', f'"{name.lower()}@')
        if any(q in text for _, text in head for q in quoted):
            return name
    return exchange_symbol(exchange, symbol)


def subscribed_depth(capture: Capture) -> int:
    """The book depth a capture subscribed to: a meshrt header's ``depth``, a cryptofeed
    capture's sent Kraken subscribe frame (among its first), else Kraken's default 10."""
    depth = capture.header.get("depth")
    if type(depth) is int:
        return depth
    if capture.format is not Format.CRYPTOFEED:
        return 10
    for _, text in itertools.islice(sent_frames(capture.path), 10):
        try:
            sent = json.loads(text)["subscription"]["depth"]
        except (ValueError, KeyError, TypeError):
            continue
        if type(sent) is int:
            return sent
    return 10


def for_symbol(path: Path, symbol: str, rest_logs: Sequence[Path] = ()) -> Playback:
    """A capture played for one scenario symbol, its exchange and names read from the
    capture itself, at its own receive times (``meshrt intel``)."""
    capture = sniff(path)
    _, frames = read_capture(path)
    head = list(itertools.islice(frames, _SNIFF_FRAMES))
    exchange = exchange_of(capture, head)
    if exchange is None:
        raise CaptureError(
            f"{path}:1: names no exchange (a {capture.format.value} capture with no meshrt "
            f"header, no connect url and no Binance frame: {capture.url or 'no url'})"
        )
    try:
        name = named_in(exchange, symbol, head)
    except ValueError:
        raise CaptureError(
            f"{path}: no {exchange} symbol maps to {symbol} (docs/live.md, its table)"
        ) from None
    return Playback(
        path,
        exchange,
        {symbol: name},
        depth=subscribed_depth(capture) if exchange == "kraken" else 10,
        rest_logs=tuple(rest_logs) if exchange == "binance" else (),
    )


# -- a live venue's inputs ----------------------------------------------------------------


def connections(specs: Sequence[CaptureSpec]) -> list[Playback]:
    """A venue's captures as connections: one per (exchange, file, REST log), in order."""
    groups: dict[tuple[str, str, str | None], list[CaptureSpec]] = {}
    for spec in specs:
        groups.setdefault((spec.exchange, spec.path, spec.rest_log), []).append(spec)
    return [
        Playback(
            Path(path),
            exchange,
            {s.symbol: exchange_symbol(exchange, s.symbol, s.exchange_symbol) for s in group},
            depth=group[0].depth,
            rest_logs=() if rest_log is None else (Path(rest_log),),
            time_offset_ns=group[0].time_offset_ns,
        )
        for (exchange, path, rest_log), group in groups.items()
    ]


def _ordered(playback: Playback, order: int) -> Iterator[tuple[int, int, Received]]:
    """One connection's items, each with its connection's order (ties across captures)."""
    for item in received(playback):
        yield item.ts_ns, order, item


class CaptureInput:
    """A venue's captures in receive-time order (file order within one capture)."""

    def __init__(self, specs: Sequence[CaptureSpec]) -> None:
        self._items = heapq.merge(
            *(_ordered(playback, k) for k, playback in enumerate(connections(specs))),
            key=lambda item: (item[0], item[1]),
        )
        self._next = next(self._items, None)

    def batch(self, until: int) -> list[Received]:
        out = []
        item = self._next
        while item is not None and item[0] < until:
            out.append(item[2])
            item = next(self._items, None)
        self._next = item
        return out

    def peek_time(self) -> int | None:
        return None if self._next is None else self._next[0]


class Inbox:
    """What the live loop handed a paper venue (``LiveVenueActor.hand``) for its next
    window, in arrival order: the venue's window step takes them all and peeks at the
    first (meshrt/actors/_live_venue.pyx), with no call here."""

    def __init__(self) -> None:
        self.items: list[Received] = []
