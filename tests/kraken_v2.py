"""The real Kraken v1 capture as WebSocket v2 frames: the v2 throughput and correctness corpus.

Kraken's v1 and v2 book channels carry the same levels and the same CRC32 rule over the
same number text, so a v1 update becomes one v2 ``book`` update with the same levels, in
the same order, and the same checksum; the v1 strings become v2's JSON numbers with
their text unchanged (v2 "pushes numbers onto the wire containing full precision"). A v1
snapshot carries no checksum while a v2 one does: it is computed here from the snapshot's
own text by the published rule, independently of the adapter. Pairs take their v2 names
(``XBT`` is ``BTC``). Heartbeats become v2 heartbeats; system and subscription events are
left out. Shared by tests/test_live_kraken.py and bench/live_kraken.py.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any


def _digits(text: str) -> str:
    return text.replace(".", "").lstrip("0")


def _snapshot_checksum(bids: list[list[str]], asks: list[list[str]]) -> int:
    text = "".join(_digits(p) + _digits(q) for p, q, *_ in asks[:10])
    text += "".join(_digits(p) + _digits(q) for p, q, *_ in bids[:10])
    return zlib.crc32(text.encode("ascii"))


def _levels(levels: Iterable[list[str]]) -> str:
    return "[" + ",".join(f'{{"price":{p},"qty":{q}}}' for p, q, *_ in levels) + "]"


def _frame(kind: str, pair: str, bids: str, asks: str, checksum: int, ts: int) -> str:
    stamp = datetime.fromtimestamp(ts / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    symbol = "/".join("BTC" if part == "XBT" else part for part in pair.split("/"))
    return (
        f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{symbol}","bids":{bids},'
        f'"asks":{asks},"checksum":{checksum},"timestamp":"{stamp}"}}]}}'
    )


def v2_frames(v1: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """(receive ns, v2 frame text) for each v1 book frame and heartbeat."""
    for ts, text in v1:
        msg: Any = json.loads(text)
        if type(msg) is dict:
            if msg.get("event") == "heartbeat":
                yield ts, '{"channel":"heartbeat"}'
            continue
        pair, payloads = msg[-1], msg[1:-2]
        first = payloads[0]
        if "as" in first or "bs" in first:
            bids, asks = first.get("bs", []), first.get("as", [])
            checksum = _snapshot_checksum(bids, asks)
            yield ts, _frame("snapshot", pair, _levels(bids), _levels(asks), checksum, ts)
            continue
        bids = [level for payload in payloads for level in payload.get("b", [])]
        asks = [level for payload in payloads for level in payload.get("a", [])]
        checksum = int(next(payload["c"] for payload in payloads if "c" in payload))
        yield ts, _frame("update", pair, _levels(bids), _levels(asks), checksum, ts)
