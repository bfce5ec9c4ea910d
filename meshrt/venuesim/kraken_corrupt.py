"""The checksum fault on a Kraken book frame: one level's price changed by one unit in its
last place, chosen so that the top 10 the CRC covers changes (the client's checksum then
fails, as after a corrupted or lost level), else the checksum value itself."""

from __future__ import annotations

import re
from collections.abc import Iterable

from meshrt.venuesim.kraken_book import KrakenBook, frame_levels
from meshrt.venuesim.protocol import replace_last

CHECKSUM = re.compile(r'("c":\s*"|"checksum":\s*)(\d+)')
_V1_PRICE = re.compile(r'\[\s*"([0-9.]+)"')  # a v1 level: ["price", "volume", "time"...]
_V2_PRICE = re.compile(r'"price":\s*([0-9.eE+-]+)')


def corrupt(text: str, history: Iterable[str], depth: int) -> str | None:
    """``text`` (a checksummed book frame) made to fail its checksum; None if it has none.
    ``history``: the pair's earlier book frames, to know its book."""
    found = list(CHECKSUM.finditer(text))
    if not found:
        return None
    checksum = int(found[-1].group(2))
    book = KrakenBook.of(history, depth)
    _, levels = frame_levels(text)
    prices = list((_V1_PRICE if text.lstrip().startswith("[") else _V2_PRICE).finditer(text))
    for index, (bid, level) in enumerate(levels):
        changed = _bump(level[0])
        altered = [*levels[:index], (bid, (changed, *level[1:])), *levels[index + 1 :]]
        trial = book.copy()
        trial.apply(altered)
        if trial.checksum() != checksum and index < len(prices):
            span = prices[index].span(1)
            return text[: span[0]] + changed + text[span[1] :]
    return replace_last(CHECKSUM, text)


def _bump(price: str) -> str:
    """One unit in the last place: up, or down from a 9."""
    last = price[-1]
    return price[:-1] + ("8" if last == "9" else str(int(last) + 1))
