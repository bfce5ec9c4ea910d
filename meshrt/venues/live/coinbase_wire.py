"""Coinbase's wire values read in Python: a decoded level to fixed point, or why it cannot
be used (meshrt/venues/live/coinbase.py reads frames with them; docs/live.md,
"Coinbase"). The common ``l2update`` frame is read in C (_coinbase_rule.pyx); every other
message's levels here, through recorded_fields, the rule's one home in Python.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeAlias

from meshrt.venues import recorded_fields as fields
from meshrt.venues.live.verdicts import Why

BUY = fields.BUY
SELL = fields.SELL
EXCHANGE_SIDES: Mapping[str, int] = {"buy": BUY, "sell": SELL}
ADVANCED_SIDES: Mapping[str, int] = {"bid": BUY, "offer": SELL}

Level: TypeAlias = tuple[int, int, int]  # side (0 where the message's place says it), price, size


class Problem(Exception):
    """Why a message cannot be used. ``product`` goes down: None for every product (a
    lost update could have been any one's), ``""`` for none (not a book of ours)."""

    def __init__(self, why: Why, product: str | None, field: str, reason: str) -> None:
        super().__init__(why, product, field, reason)
        self.why, self.product, self.field, self.reason = why, product, field, reason


def exact_json(text: str | bytes) -> Any:
    """The frame again with JSON numbers as Decimal, exactly as written."""
    return json.loads(text, parse_float=Decimal)


def level(
    row: object, product: str, where: str, sides: Mapping[str, int] | None, zero_ok: bool
) -> Level:
    """``[side, price, size]`` (or ``[price, size]`` with ``sides`` None) to fixed point."""
    if not isinstance(row, list) or len(row) != (2 if sides is None else 3):
        raise Problem(Why.MALFORMED, product, where, f"unexpected level {row!r}")
    if sides is None:
        side, price, size = 0, row[0], row[1]
    else:
        side_text, price, size = row
        side = sides.get(side_text, 0) if type(side_text) is str else 0
        if not side:
            raise Problem(Why.MALFORMED, product, where, f"unknown side {side_text!r}")
    fixed_price = _PRICES.get(price) if type(price) is str else None
    fixed_size = _SIZES.get(size) if type(size) is str else None
    if fixed_price is not None and fixed_size is not None and (fixed_size or zero_ok):
        return side, fixed_price, fixed_size  # texts read before: a book's prices repeat
    try:
        return (
            side,
            _remember(_PRICES, price, fields.price(price)),
            _remember(_SIZES, size, fields.size(size, zero_ok=zero_ok)),
        )
    except fields.Bad as e:
        raise Problem(Why.REFUSED, product, f"{where}.{e.field}", e.reason) from None


# price and size texts already read (recorded_fields' rule is the one home: these only
# remember its results), bounded: each starts over at _MEMO entries
_MEMO = 1 << 16
_PRICES: dict[str, int] = {}
_SIZES: dict[str, int] = {}


def _remember(memo: dict[str, int], text: object, fixed: int) -> int:
    if type(text) is str:
        if len(memo) >= _MEMO:
            memo.clear()
        memo[text] = fixed
    return fixed
