"""Captures loaded as tapes: per venue, the replayable frames of every capture given for
it, each timed from its own capture's first frame (captures of different days start
together), merged in that order, with the symbol and channel each frame belongs to."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from attrs import frozen

from meshrt.venues.live.capture import (
    Capture,
    CaptureError,
    Format,
    read_capture,
    rest_replies,
    sniff,
)
from meshrt.venues.live.playback import exchange_of
from meshrt.venuesim.binance import Binance
from meshrt.venuesim.coinbase import CoinbaseAdvanced, CoinbaseExchange
from meshrt.venuesim.kraken import Kraken
from meshrt.venuesim.protocol import Protocol, Tag, precisions

PROTOCOLS: dict[str, type[Protocol]] = {
    "kraken": Kraken,
    "binance": Binance,
    "coinbase": CoinbaseExchange,
    "coinbase-advanced": CoinbaseAdvanced,
}
_SNIFF_FRAMES = 50
BOOK_CHANNELS = ("book", "level2", "depth")  # the channels whose levels show precisions


@frozen
class Item:
    at_ns: int  # since its capture's first frame
    text: str
    tag: Tag


@frozen
class Tape:
    protocol: Protocol
    items: tuple[Item, ...]


def venue_of(capture: Capture, frames: list[tuple[int, str]]) -> str:
    """The venue a capture is from: what capture playback reads off it (its header, its
    url's host, Binance's own frames), else the first protocol that recognises one of its
    first frames."""
    known = exchange_of(capture, frames[:_SNIFF_FRAMES])
    if known is not None and known in PROTOCOLS:
        return known
    for name, protocol in PROTOCOLS.items():
        for _, text in frames[:_SNIFF_FRAMES]:
            try:
                if protocol().tag(text) is not None:
                    return name
            except (ValueError, TypeError, KeyError, IndexError, AttributeError):
                continue
    raise CaptureError(f"{capture.path}:1: cannot tell which venue this capture is from")


def load_tapes(paths: Iterable[Path | str]) -> dict[str, Tape]:
    """A tape per venue found among ``paths`` (a cryptofeed REST log gives Binance its
    depth snapshots)."""
    protocols: dict[str, Protocol] = {}
    captured: dict[str, list[list[tuple[int, str]]]] = {}
    for path in map(Path, paths):
        if sniff(path).format is Format.CRYPTOFEED_REST:
            binance = protocols.setdefault("binance", Binance())
            assert isinstance(binance, Binance)
            for reply in rest_replies(path):
                symbol = parse_qs(urlparse(reply.url).query).get("symbol", [""])[0]
                binance.add_snapshot(symbol, reply.body)
            continue
        capture, lines = read_capture(path)
        listed = list(lines)
        venue = venue_of(capture, listed)
        protocols.setdefault(venue, PROTOCOLS[venue]())
        captured.setdefault(venue, []).append(listed)
    tapes = {}
    for venue, captures in captured.items():
        protocol = protocols[venue]
        items = []
        for frames in captures:
            start = frames[0][0] if frames else 0
            for ts, text in frames:
                tag = _tag(protocol, text)
                if tag is not None:
                    items.append(Item(ts - start, text, tag))
        items.sort(key=lambda item: item.at_ns)  # stable: file order within a capture
        book = (item.text for item in items if item.tag.channel.startswith(BOOK_CHANNELS))
        protocol.precision.update(precisions(protocol, book))
        tapes[venue] = Tape(protocol, tuple(items))
    if not tapes:
        raise CaptureError("no capture of frames given (only REST logs)")
    return tapes


def _tag(protocol: Protocol, text: str) -> Tag | None:
    try:
        return protocol.tag(text)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None  # not a frame the sim can route: a captured garbled frame is not replayed
