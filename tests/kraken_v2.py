"""The real Kraken v1 capture as WebSocket v2 frames: the v2 throughput and correctness corpus.

The conversion is the local exchange's (meshrt/venuesim/kraken_v2.py: same levels, same
number text as JSON numbers, so every update's checksum carries over; a v1 snapshot gets
its published CRC32), with pairs under their v2 names (``XBT`` is ``BTC``); heartbeats
become v2 heartbeats, system and subscription events are left out. Shared by
tests/test_live_kraken.py and bench/live_kraken.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from meshrt.venuesim.kraken_v2 import v1_to_v2


def v2_name(pair: str) -> str:
    return "/".join("BTC" if part == "XBT" else part for part in pair.split("/"))


def v2_frames(v1: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """(receive ns, v2 frame text) for each v1 book or trade frame and heartbeat."""
    for ts, text in v1:
        msg = json.loads(text)
        if type(msg) is list:
            yield ts, v1_to_v2(text, v2_name(msg[-1]))
        elif msg.get("event") == "heartbeat":
            yield ts, '{"channel":"heartbeat"}'
