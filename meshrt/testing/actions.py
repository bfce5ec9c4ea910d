"""What an algo did, as typed values: the harness's view of the SDK's action tuples.

``Actions`` (meshrt.sdk) buffers each action as a fixed-layout tuple ``(kind, side,
tif, order id, target id, price, size, symbol)``, for WASM and native algos too (their
actions are replayed through it); a test reads them as these values instead.
"""

from __future__ import annotations

from typing import Any

import attrs

from meshrt.contract import ActionKind, Side, TimeInForce


@attrs.frozen(slots=True)
class Limit:
    order_id: int
    side: Side
    price: int
    size: int
    tif: TimeInForce
    symbol: str


@attrs.frozen(slots=True)
class Market:
    order_id: int
    side: Side
    size: int
    symbol: str


@attrs.frozen(slots=True)
class Cancel:
    order_id: int


@attrs.frozen(slots=True)
class Replace:
    order_id: int
    price: int
    size: int


@attrs.frozen(slots=True)
class CancelAll:
    symbol: str | None  # None: every symbol


Action = Limit | Market | Cancel | Replace | CancelAll


def typed(action: tuple[Any, ...]) -> Action:
    """The typed value of one of ``Actions``'s tuples."""
    kind, side, tif, order_id, _target, price, size, symbol = action
    if kind == ActionKind.LIMIT:
        return Limit(order_id, Side(side), price, size, TimeInForce(tif), symbol)
    if kind == ActionKind.MARKET:
        return Market(order_id, Side(side), size, symbol)
    if kind == ActionKind.CANCEL:
        return Cancel(order_id)
    if kind == ActionKind.REPLACE:
        return Replace(order_id, price, size)
    return CancelAll(symbol or None)
