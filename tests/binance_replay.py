"""Replay Binance captures (cryptofeed and hftbacktest formats) through the adapter.

The items and the snapshot hand-over are meshrt/venues/live/playback.py's (the one home
of capture playback): frames in receive order, a REST snapshot handed over at its own
receive time and only once the adapter asked for it, as the live session does. Shared
by tests/test_live_binance.py and bench/live_binance.py.
"""

from __future__ import annotations

import gzip
import heapq
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from meshrt.contract import PRICE_SCALE, SIZE_SCALE
from meshrt.venues.live.binance import SYMBOLS, BinanceSpot
from meshrt.venues.live.capture import cryptofeed_frames, hftbacktest_frames, rest_replies
from meshrt.venues.live.playback import Item, inline_snapshots, play, rest_snapshots
from meshrt.venues.live.verdicts import Output

DATA = Path(__file__).resolve().parent / "data" / "venues" / "binance"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "venue_samples"
CRYPTOFEED_WS = "binance_spot_depth_cryptofeed_BINANCE.ws.1.0.log"
CRYPTOFEED_REST = "binance_spot_rest_depth_cryptofeed_BINANCE.http.0.0.log"
HFTBACKTEST = "binance_spot_hftbacktest_btcusdt_20240808_first17150lines.log"


def read(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode()


def cryptofeed(ws: str, rest: str) -> Iterator[Item]:
    """Frames and the REST log's snapshots, merged by receive time."""
    frames = ((ts, None, frame) for ts, frame in cryptofeed_frames(ws.splitlines()))
    snapshots = rest_snapshots(rest_replies(rest.splitlines()))
    return heapq.merge(frames, snapshots, key=lambda item: item[0])


def hftbacktest(text: str) -> Iterator[Item]:
    """Frames, and the inline REST snapshot lines as snapshots."""
    return inline_snapshots(hftbacktest_frames(text.splitlines()))


def replay(adapter: BinanceSpot, items: Iterator[Item]) -> list[Output]:
    """Every output, in order, snapshot requests included."""
    return [out for _, outputs in play(adapter, items) for out in outputs]


def capture_adapter(symbols: list[str]) -> BinanceSpot:
    return BinanceSpot(SYMBOLS[s] for s in symbols)


def fixed_price(text: str) -> int:
    return int(Decimal(text) * PRICE_SCALE)


def fixed_size(text: str) -> int:
    return int(Decimal(text) * SIZE_SCALE)
