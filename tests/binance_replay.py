"""Replay Binance captures (cryptofeed and hftbacktest formats) through the adapter.

Frames are delivered in receive order; a REST snapshot is handed over at its own receive
time and only once the adapter asked for it, as the live session will do. Shared by
tests/test_live_binance.py and bench/live_binance.py.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from meshrt.contract import PRICE_SCALE, SIZE_SCALE
from meshrt.venues.live.binance import SYMBOLS, BinanceSpot
from meshrt.venues.live.capture import cryptofeed_frames, hftbacktest_frames, rest_replies
from meshrt.venues.live.verdicts import Output

DATA = Path(__file__).resolve().parent / "data" / "venues" / "binance"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "venue_samples"
CRYPTOFEED_WS = "binance_spot_depth_cryptofeed_BINANCE.ws.1.0.log"
CRYPTOFEED_REST = "binance_spot_rest_depth_cryptofeed_BINANCE.http.0.0.log"
HFTBACKTEST = "binance_spot_hftbacktest_btcusdt_20240808_first17150lines.log"


def read(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode()


def cryptofeed(ws: str, rest: str) -> Iterator[tuple[int, str | None, str]]:
    """(ts, None, frame) and (ts, SYMBOL, snapshot body) merged by receive time."""
    items: list[tuple[int, str | None, str]] = [
        (ts, None, frame) for ts, frame in cryptofeed_frames(ws.splitlines())
    ]
    for reply in rest_replies(rest.splitlines()):
        symbol = reply.url.partition("symbol=")[2].partition("&")[0]
        items.append((reply.ts_ns, symbol, reply.body))
    items.sort(key=lambda item: item[0])
    return iter(items)


def hftbacktest(text: str, symbol: str = "BTCUSDT") -> Iterator[tuple[int, str | None, str]]:
    """Frames, and the inline REST snapshot lines as ``symbol``'s snapshots."""
    for ts, message in hftbacktest_frames(text.splitlines()):
        yield ts, symbol if message.startswith('{"lastUpdateId"') else None, message


def replay(adapter: BinanceSpot, items: Iterator[tuple[int, str | None, str]]) -> list[Output]:
    """Feed every item; a snapshot not (yet) asked for waits until it is."""
    out: list[Output] = []
    waiting: dict[str, tuple[int, str]] = {}
    for ts, symbol, text in items:
        if symbol is None:
            got = adapter.on_frame(text, ts)
        else:
            waiting[symbol] = (ts, text)
            got = []
        out.extend(got)
        for symbol in [s for s in waiting if adapter.books[s].asked]:
            snap_ts, body = waiting.pop(symbol)
            out.extend(adapter.snapshot(symbol, body, max(ts, snap_ts)))
    return out


def capture_adapter(symbols: list[str]) -> BinanceSpot:
    return BinanceSpot(SYMBOLS[s] for s in symbols)


def fixed_price(text: str) -> int:
    return int(Decimal(text) * PRICE_SCALE)


def fixed_size(text: str) -> int:
    return int(Decimal(text) * SIZE_SCALE)
