"""The checksum fault on a Kraken book frame: one level's price changed by one unit in its
last place, chosen so that the top 10 the CRC covers changes (the client's checksum then
fails, as after a corrupted or lost level), else the checksum value itself."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from meshrt.venuesim.kraken_v2 import crc
from meshrt.venuesim.protocol import replace_last

CHECKSUM = re.compile(r'("c":\s*"|"checksum":\s*)(\d+)')
_V1_PRICE = re.compile(r'\[\s*"([0-9.]+)"')  # a v1 level: ["price", "volume", "time"...]
_V2_PRICE = re.compile(r'"price":\s*([0-9.eE+-]+)')
Side = dict[Decimal, tuple[str, str]]  # price -> (price text, qty text)
Level = tuple[bool, str, str]  # (is a bid, price text, qty text)


def corrupt(text: str, history: Iterable[str], depth: int) -> str | None:
    """``text`` (a checksummed book frame) made to fail its checksum; None if it has none.
    ``history``: the pair's earlier book frames, to know its book."""
    found = list(CHECKSUM.finditer(text))
    if not found:
        return None
    checksum = int(found[-1].group(2))
    book: tuple[Side, Side] = ({}, {})
    for earlier in history:
        snapshot, levels = _levels(earlier)
        if snapshot:
            book = ({}, {})
        _apply(book, levels, depth)
    _, levels = _levels(text)
    prices = list((_V1_PRICE if text.lstrip().startswith("[") else _V2_PRICE).finditer(text))
    for index, (bid, price, qty) in enumerate(levels):
        changed = _bump(price)
        altered = [*levels[:index], (bid, changed, qty), *levels[index + 1 :]]
        trial: tuple[Side, Side] = (dict(book[0]), dict(book[1]))
        _apply(trial, altered, depth)
        if crc(trial[1].values(), trial[0].values()) != checksum and index < len(prices):
            span = prices[index].span(1)
            return text[: span[0]] + changed + text[span[1] :]
    return replace_last(CHECKSUM, text)


def _levels(text: str) -> tuple[bool, list[Level]]:
    """(is a snapshot, the levels in text order) of a v1 or v2 book frame."""
    msg = json.loads(text, parse_float=str, parse_int=str)
    levels: list[Level] = []
    if isinstance(msg, list):
        payloads: list[dict[str, Any]] = msg[1:-2]
        snapshot = any("as" in p or "bs" in p for p in payloads)
        for payload in payloads:
            for key, value in payload.items():
                if key in ("as", "bs", "a", "b"):
                    levels += [(key.startswith("b"), str(lv[0]), str(lv[1])) for lv in value]
        return snapshot, levels
    for entry in msg["data"]:
        for key, value in entry.items():
            if key in ("bids", "asks"):
                levels += [(key == "bids", str(lv["price"]), str(lv["qty"])) for lv in value]
    return msg.get("type") == "snapshot", levels


def _apply(book: tuple[Side, Side], levels: Iterable[Level], depth: int) -> None:
    for bid, price, qty in levels:
        side = book[0] if bid else book[1]
        if Decimal(qty):
            side[Decimal(price)] = (price, qty)
        else:
            side.pop(Decimal(price), None)
    for side, best_first in ((book[0], True), (book[1], False)):
        for beyond in sorted(side, reverse=best_first)[depth:]:
            del side[beyond]


def _bump(price: str) -> str:
    """One unit in the last place: up, or down from a 9."""
    last = price[-1]
    return price[:-1] + ("8" if last == "9" else str(int(last) + 1))
