"""A Kraken v1 capture's frames as v2 frames, for a client that subscribed with v2: the
same levels with the same number text (v2 sends JSON numbers, written here from v1's
strings unchanged, so every checksum carries over), under the symbol the client asked
for. v1 snapshots carry no checksum; the v2 snapshot gets the published CRC32 of its top
10, computed from that text."""

from __future__ import annotations

import datetime
import json
import zlib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from meshrt.venues.live._kraken_book import raw_digits

V1Level = Sequence[str]  # [price, volume, timestamp, ("r")] as v1 strings


def v1_to_v2(text: str, symbol: str) -> str:
    """The v2 ``book`` or ``trade`` frame of v1 frame ``text``, named ``symbol``."""
    msg = json.loads(text)
    name: str = msg[-2]
    if name == "trade":
        trades = [_trade(symbol, t) for t in msg[1]]
        return f'{{"channel":"trade","type":"update","data":[{",".join(trades)}]}}'
    payloads: list[dict[str, Any]] = msg[1:-2]
    snapshot = any("as" in p or "bs" in p for p in payloads)
    bids = [lv for p in payloads for lv in p.get("bs" if snapshot else "b", ())]
    asks = [lv for p in payloads for lv in p.get("as" if snapshot else "a", ())]
    checksum = crc(asks, bids) if snapshot else int(next(p["c"] for p in payloads if "c" in p))
    stamp = max((Decimal(lv[2]) for lv in bids + asks), default=Decimal(0))
    entry = (
        f'{{"symbol":{json.dumps(symbol)},"bids":[{_levels(bids)}],"asks":[{_levels(asks)}],'
        f'"checksum":{checksum},"timestamp":"{_iso(stamp)}"}}'
    )
    kind = "snapshot" if snapshot else "update"
    return f'{{"channel":"book","type":"{kind}","data":[{entry}]}}'


def crc(asks: Iterable[V1Level], bids: Iterable[V1Level]) -> int:
    """Kraken's published CRC32 over the top 10 asks (low to high), then bids (high to
    low), from the number text (the adapter's digits rule, ``raw_digits``)."""
    top_asks: list[V1Level] = sorted(asks, key=lambda lv: Decimal(lv[0]))[:10]
    top_bids = sorted(bids, key=lambda lv: Decimal(lv[0]), reverse=True)[:10]
    digits = "".join(raw_digits(lv[0]) + raw_digits(lv[1]) for lv in top_asks + top_bids)
    return zlib.crc32(digits.encode())


def _levels(levels: Iterable[V1Level]) -> str:
    return ",".join(f'{{"price":{lv[0]},"qty":{lv[1]}}}' for lv in levels)


def _trade(symbol: str, trade: list[str]) -> str:
    side = "buy" if trade[3] == "b" else "sell"
    kind = "market" if trade[4] == "m" else "limit"
    return (
        f'{{"symbol":{json.dumps(symbol)},"side":"{side}","price":{trade[0]},"qty":{trade[1]},'
        f'"ord_type":"{kind}","trade_id":0,"timestamp":"{_iso(Decimal(trade[2]))}"}}'
    )


def _iso(epoch: Decimal) -> str:
    moment = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
    micros = int((epoch - int(epoch)) * 1_000_000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}Z"
