"""Algo orders as the matching engine keeps them: the live state of a resting order
(owned by the engine), its read-only view, and the price tests both sides of a match use.
"""

from __future__ import annotations

from typing import Final

import attrs

from meshrt.contract import Side

BUY: Final = int(Side.BUY)
SELL: Final = int(Side.SELL)


@attrs.frozen(slots=True)
class RestingOrder:
    """A read-only view of one resting algo order (checkpoints, tests, debugging)."""

    order_id: int
    side: int
    price: int
    remaining: int
    queue_ahead: int


class LiveOrder:
    """Mutable state of one live resting algo order; owned by the engine only."""

    __slots__ = (
        "order_id",
        "side",
        "price",
        "size",
        "remaining",
        "queue_ahead",
        "post_only",
        "exec_seq",
    )

    def __init__(
        self,
        order_id: int,
        side: int,
        price: int,
        size: int,
        remaining: int,
        post_only: bool,
        exec_seq: int,
    ) -> None:
        self.order_id = order_id
        self.side = side
        self.price = price
        self.size = size  # total size including what has already filled
        self.remaining = remaining
        self.queue_ahead = 0  # displayed size ahead of us at our price (risk-averse)
        self.post_only = post_only
        self.exec_seq = exec_seq  # the order's last report's execution sequence


def crosses(side: int, limit: int, level_price: int) -> bool:
    """Whether an order on ``side`` with ``limit`` can trade at an opposite ``level_price``."""
    return level_price <= limit if side == BUY else level_price >= limit


def opposite_side(side: int) -> int:
    return SELL if side == BUY else BUY
