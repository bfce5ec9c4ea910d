"""Deterministic price-time-priority matching of virtual algo orders for one symbol.

The displayed L2 book comes from a feed; algo orders are *virtual*: they never appear in
the displayed book and never match each other. A taker order walks the displayed opposite
levels and subtracts what it took from the engine's copy until the feed next rewrites that
level ("no lasting market impact"). Resting orders fill as maker when a trade print goes
through their price (after the displayed queue ahead of them) or when the displayed
opposite side moves through it. See docs/matching.md for the user-facing rules.

Pure Python, no I/O, no floats, no randomness: the same calls give the same reports.
``apply_delta`` and ``top`` are on the hot path; everything else is cold and written for
clarity.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from operator import neg
from typing import Final

import attrs

from meshrt.contract import BOOK_DEPTH, Liquidity, RejectReason, Side, TimeInForce, notional
from meshrt.events import (
    REPORT_ACCEPTED,
    REPORT_CANCEL_REJECTED,
    REPORT_CANCELLED,
    REPORT_FILL,
    REPORT_REJECTED,
    REPORT_REPLACED,
)

__all__ = ["FeeSchedule", "MatchingEngine", "RestingOrder"]

# Plain ints, not IntEnum members: comparing against them is cheaper on the hot path and
# the reports carry plain ints (stable repr, trivially serialisable).
_BUY: Final = int(Side.BUY)
_SELL: Final = int(Side.SELL)
_GTC: Final = int(TimeInForce.GTC)
_IOC: Final = int(TimeInForce.IOC)
_POST_ONLY: Final = int(TimeInForce.POST_ONLY)
_MAKER: Final = int(Liquidity.MAKER)
_TAKER: Final = int(Liquidity.TAKER)

# Cached best resting prices when a side has no resting order: no valid price (> 0) can
# be <= _NO_BUY or >= _NO_SELL, so the "does this move touch an order?" test stays one
# integer comparison with no None check.
_NO_BUY: Final = 0
_NO_SELL: Final = 1 << 64

_PPM: Final = 1_000_000


@attrs.frozen(slots=True)
class FeeSchedule:
    """Venue fees in parts per million of notional; a negative rate is a rebate."""

    maker_ppm: int = 0
    taker_ppm: int = 0

    def fee(self, liquidity: int, price: int, size: int) -> int:
        """Fee in price units, floored (a fractional fee rounds down, a rebate up in size)."""
        ppm = self.maker_ppm if liquidity == _MAKER else self.taker_ppm
        return ppm * notional(price, size) // _PPM


@attrs.frozen(slots=True)
class RestingOrder:
    """A read-only view of one resting algo order (checkpoints, tests, debugging)."""

    order_id: int
    side: int
    price: int
    remaining: int
    queue_ahead: int


class _Order:
    """Mutable state of one live resting algo order; owned by the engine only."""

    __slots__ = ("order_id", "side", "price", "size", "remaining", "queue_ahead", "post_only")

    def __init__(
        self, order_id: int, side: int, price: int, size: int, remaining: int, post_only: bool
    ) -> None:
        self.order_id = order_id
        self.side = side
        self.price = price
        self.size = size  # total size including what has already filled
        self.remaining = remaining
        self.queue_ahead = 0  # displayed size ahead of us at our price (risk-averse)
        self.post_only = post_only


def _crosses(side: int, limit: int, level_price: int) -> bool:
    """Whether an order on ``side`` with ``limit`` can trade at an opposite ``level_price``."""
    return level_price <= limit if side == _BUY else level_price >= limit


def _load_levels(
    levels: Sequence[tuple[int, int]], descending: bool
) -> tuple[list[int], list[int]]:
    """Normalise feed levels: drop empty ones, last size wins per price, sort best first."""
    book = {price: size for price, size in levels if size > 0}
    prices = sorted(book, reverse=descending)
    return prices, [book[p] for p in prices]


class MatchingEngine:
    """One symbol on one simulated venue: the feed's L2 book plus virtual algo orders.

    Output goes to ``reports`` (tuples laid out as in ``meshrt.events``), appended in event
    order; the caller drains it by reading and then calling ``reports.clear()`` (never
    rebind it).
    """

    __slots__ = (
        "reports",
        "_fees",
        "_bid_keys",
        "_bid_px",
        "_bid_sz",
        "_ask_px",
        "_ask_sz",
        "_orders",
        "_buys",
        "_sells",
        "_buy_max",
        "_sell_min",
        "_view_depth",
        "_bid_view",
        "_ask_view",
    )

    def __init__(self, fees: FeeSchedule = FeeSchedule()) -> None:
        self.reports: list[tuple] = []
        self._fees = fees
        # Displayed book, best first. Bids also keep negated prices, ascending, so that
        # C-level bisect works on both sides without a key function.
        self._bid_keys: list[int] = []
        self._bid_px: list[int] = []
        self._bid_sz: list[int] = []
        self._ask_px: list[int] = []
        self._ask_sz: list[int] = []
        # Live resting algo orders, and per side price -> orders in time priority.
        self._orders: dict[int, _Order] = {}
        self._buys: dict[int, list[_Order]] = {}
        self._sells: dict[int, list[_Order]] = {}
        self._buy_max = _NO_BUY  # best resting buy price
        self._sell_min = _NO_SELL  # best resting sell price
        # top() caches each side's (prices, sizes) tuples; a change within the cached
        # depth drops that side's cache, so a delta only rebuilds the side it touched.
        self._view_depth = BOOK_DEPTH
        self._bid_view: tuple[tuple[int, ...], tuple[int, ...]] | None = None
        self._ask_view: tuple[tuple[int, ...], tuple[int, ...]] | None = None

    # -- market data ------------------------------------------------------------------

    def apply_snapshot(
        self, ts: int, bids: Sequence[tuple[int, int]], asks: Sequence[tuple[int, int]]
    ) -> None:
        """Replace the whole displayed book (this also restores any consumed liquidity)."""
        self._bid_px, self._bid_sz = _load_levels(bids, descending=True)
        self._bid_keys = list(map(neg, self._bid_px))
        self._ask_px, self._ask_sz = _load_levels(asks, descending=False)
        self._bid_view = self._ask_view = None
        if not self._orders:
            return
        for book, side in ((self._buys, _BUY), (self._sells, _SELL)):
            for price, orders in book.items():
                displayed = self._level_size(side, price)
                for o in orders:
                    if displayed < o.queue_ahead:
                        o.queue_ahead = displayed
        self._cross_resting(ts, _BUY)
        self._cross_resting(ts, _SELL)

    def apply_delta(self, ts: int, side: int, price: int, size: int) -> None:
        """Set one displayed level (size <= 0 removes it); fill resting orders it crosses.

        Hot path: with no resting order this is one bisect and one list write.
        """
        if side == _BUY:
            keys = self._bid_keys
            key = -price
            i = bisect_left(keys, key)
            if i < len(keys) and keys[i] == key:
                if size > 0:
                    self._bid_sz[i] = size
                else:
                    del keys[i], self._bid_px[i], self._bid_sz[i]
            elif size > 0:
                keys.insert(i, key)
                self._bid_px.insert(i, price)
                self._bid_sz.insert(i, size)
            if i < self._view_depth:
                self._bid_view = None
            if self._orders:
                if price in self._buys:
                    self._clamp_queue(self._buys[price], size)
                if size > 0 and price >= self._sell_min:
                    self._cross_resting(ts, _SELL)
        else:
            prices = self._ask_px
            i = bisect_left(prices, price)
            if i < len(prices) and prices[i] == price:
                if size > 0:
                    self._ask_sz[i] = size
                else:
                    del prices[i], self._ask_sz[i]
            elif size > 0:
                prices.insert(i, price)
                self._ask_sz.insert(i, size)
            if i < self._view_depth:
                self._ask_view = None
            if self._orders:
                if price in self._sells:
                    self._clamp_queue(self._sells[price], size)
                if size > 0 and price <= self._buy_max:
                    self._cross_resting(ts, _BUY)

    def apply_trade(self, ts: int, aggressor: int, price: int, size: int) -> None:
        """Fill resting orders a print goes through; the displayed book is left to the feed.

        A sell-aggressor print at ``price`` reaches resting buys at ``price`` or better;
        a buy-aggressor print reaches resting sells at ``price`` or better. Prints with any
        other aggressor value are ignored (we cannot tell which side they hit).
        """
        if aggressor == _SELL:
            if price <= self._buy_max:
                self._fill_from_print(ts, _BUY, price, size)
        elif aggressor == _BUY:
            if price >= self._sell_min:
                self._fill_from_print(ts, _SELL, price, size)

    # -- algo orders ------------------------------------------------------------------

    def submit(
        self, ts: int, order_id: int, side: int, price: int | None, size: int, tif: int
    ) -> None:
        """Accept or reject a new order, match what crosses, then rest or cancel the rest."""
        reject = self._submit_error(order_id, side, price, size, tif)
        if reject is not None:
            self.reports.append((ts, REPORT_REJECTED, order_id, reject))
            return
        self.reports.append((ts, REPORT_ACCEPTED, order_id))
        remaining = self._take(ts, order_id, side, price, size)
        if not remaining:
            return
        if price is None or tif == _IOC:
            self.reports.append((ts, REPORT_CANCELLED, order_id, remaining))
            return
        order = _Order(order_id, side, price, size, remaining, tif == _POST_ONLY)
        self._orders[order_id] = order
        self._rest(order)

    def cancel(self, ts: int, order_id: int) -> None:
        """Cancel a live order; an unknown or finished one gets CANCEL_REJECTED."""
        order = self._orders.pop(order_id, None)
        if order is None:
            self.reports.append(
                (ts, REPORT_CANCEL_REJECTED, order_id, int(RejectReason.UNKNOWN_ORDER))
            )
            return
        self._unrest(order)
        self.reports.append((ts, REPORT_CANCELLED, order_id, order.remaining))

    def replace(self, ts: int, order_id: int, price: int, size: int) -> None:
        """Change price and total size (filled part included) of a live resting order.

        The order keeps its queue position only when the price is unchanged and the size
        did not grow; otherwise it goes to the back and may match like a new GTC limit.
        """
        order = self._orders.get(order_id)
        if order is None:
            reason: int | None = int(RejectReason.UNKNOWN_ORDER)
        else:
            reason = self._replace_error(order, price, size)
        if order is None or reason is not None:
            self.reports.append((ts, REPORT_CANCEL_REJECTED, order_id, reason))
            return
        remaining = size - (order.size - order.remaining)
        self.reports.append((ts, REPORT_REPLACED, order_id, price, size, remaining))
        keeps_queue = price == order.price and size <= order.size
        order.size = size
        order.remaining = remaining
        if keeps_queue:
            return
        self._unrest(order)
        order.price = price
        order.remaining = self._take(ts, order_id, order.side, price, remaining)
        if order.remaining:
            self._rest(order)
        else:
            del self._orders[order_id]

    # -- views ------------------------------------------------------------------------

    def top(
        self, depth: int = BOOK_DEPTH
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(bid prices, bid sizes, ask prices, ask sizes), best first, as immutable tuples.

        Each side's tuples are cached until a level within ``depth`` changes, so calling
        this after every event only rebuilds the side that moved.
        """
        if depth != self._view_depth:
            self._view_depth = depth
            self._bid_view = self._ask_view = None
        bids = self._bid_view
        if bids is None:
            bids = self._bid_view = (tuple(self._bid_px[:depth]), tuple(self._bid_sz[:depth]))
        asks = self._ask_view
        if asks is None:
            asks = self._ask_view = (tuple(self._ask_px[:depth]), tuple(self._ask_sz[:depth]))
        return bids + asks

    def best_bid(self) -> tuple[int, int] | None:
        """Best displayed bid as (price, size), or None."""
        return (self._bid_px[0], self._bid_sz[0]) if self._bid_px else None

    def best_ask(self) -> tuple[int, int] | None:
        """Best displayed ask as (price, size), or None."""
        return (self._ask_px[0], self._ask_sz[0]) if self._ask_px else None

    def resting(self) -> list[RestingOrder]:
        """Resting algo orders: buys then sells, each in price-time priority."""
        return [
            RestingOrder(o.order_id, o.side, o.price, o.remaining, o.queue_ahead)
            for side in (_BUY, _SELL)
            for o in self._in_priority(side)
        ]

    # -- internals --------------------------------------------------------------------

    def _submit_error(
        self, order_id: int, side: int, price: int | None, size: int, tif: int
    ) -> int | None:
        """The reject reason for a new order, or None if it may be accepted."""
        if side not in (_BUY, _SELL) or tif not in (_GTC, _IOC, _POST_ONLY):
            return int(RejectReason.INVALID_ACTION)
        if price is None and tif == _POST_ONLY:
            return int(RejectReason.INVALID_ACTION)  # a market order always takes
        if size <= 0:
            return int(RejectReason.INVALID_SIZE)
        if price is not None and price <= 0:
            return int(RejectReason.INVALID_PRICE)
        if order_id in self._orders:
            return int(RejectReason.DUPLICATE_ORDER_ID)
        opposite = self._ask_px if side == _BUY else self._bid_px
        if price is None and not opposite:
            return int(RejectReason.NO_LIQUIDITY)
        if price is not None and tif == _POST_ONLY and opposite:
            if _crosses(side, price, opposite[0]):
                return int(RejectReason.POST_ONLY_WOULD_CROSS)
        return None

    def _replace_error(self, order: _Order, price: int, size: int) -> int | None:
        """The CANCEL_REJECTED reason for a replace of a live order, or None if allowed."""
        if size <= order.size - order.remaining:
            return int(RejectReason.INVALID_SIZE)
        if price <= 0:
            return int(RejectReason.INVALID_PRICE)
        opposite = self._ask_px if order.side == _BUY else self._bid_px
        if order.post_only and opposite and _crosses(order.side, price, opposite[0]):
            return int(RejectReason.POST_ONLY_WOULD_CROSS)
        return None

    def _level_size(self, side: int, price: int) -> int:
        """Displayed size at exactly ``price`` on ``side`` (0 if there is no such level)."""
        if side == _BUY:
            keys, sizes, key = self._bid_keys, self._bid_sz, -price
        else:
            keys, sizes, key = self._ask_px, self._ask_sz, price
        i = bisect_left(keys, key)
        return sizes[i] if i < len(keys) and keys[i] == key else 0

    def _consume_best(self, side: int, size: int) -> None:
        """Take ``size`` from the best displayed level of ``side`` (removing it at 0)."""
        if side == _BUY:
            price = self._bid_px[0]
            left = self._bid_sz[0] - size
            if left > 0:
                self._bid_sz[0] = left
            else:
                del self._bid_keys[0], self._bid_px[0], self._bid_sz[0]
            self._bid_view = None
            orders = self._buys.get(price)
        else:
            price = self._ask_px[0]
            left = self._ask_sz[0] - size
            if left > 0:
                self._ask_sz[0] = left
            else:
                del self._ask_px[0], self._ask_sz[0]
            self._ask_view = None
            orders = self._sells.get(price)
        if orders:
            self._clamp_queue(orders, left)

    @staticmethod
    def _clamp_queue(orders: list[_Order], displayed: int) -> None:
        """Risk-averse queue: shrinking displayed size at our price shrinks what is ahead."""
        if displayed < 0:
            displayed = 0
        for o in orders:
            if displayed < o.queue_ahead:
                o.queue_ahead = displayed

    def _take(self, ts: int, order_id: int, side: int, limit: int | None, size: int) -> int:
        """Match as taker against displayed opposite levels up to ``limit``; return the rest."""
        if side == _BUY:
            opp_side, prices, sizes = _SELL, self._ask_px, self._ask_sz
        else:
            opp_side, prices, sizes = _BUY, self._bid_px, self._bid_sz
        remaining = size
        while remaining and prices and (limit is None or _crosses(side, limit, prices[0])):
            price = prices[0]
            qty = min(remaining, sizes[0])
            self._consume_best(opp_side, qty)
            remaining -= qty
            fee = self._fees.fee(_TAKER, price, qty)
            self.reports.append((ts, REPORT_FILL, order_id, price, qty, _TAKER, fee, remaining))
        return remaining

    def _maker_fill(self, ts: int, order: _Order, qty: int) -> None:
        """Fill a resting order at its own price; a finished order leaves the book."""
        order.remaining -= qty
        fee = self._fees.fee(_MAKER, order.price, qty)
        self.reports.append(
            (ts, REPORT_FILL, order.order_id, order.price, qty, _MAKER, fee, order.remaining)
        )
        if not order.remaining:
            del self._orders[order.order_id]
            self._unrest(order)

    def _rest(self, order: _Order) -> None:
        """Put a live order at the back of its price level and refresh the cached best."""
        order.queue_ahead = self._level_size(order.side, order.price)
        if order.side == _BUY:
            self._buys.setdefault(order.price, []).append(order)
            self._buy_max = max(self._buy_max, order.price)
        else:
            self._sells.setdefault(order.price, []).append(order)
            self._sell_min = min(self._sell_min, order.price)

    def _unrest(self, order: _Order) -> None:
        """Take an order out of its price level and refresh the cached best."""
        book = self._buys if order.side == _BUY else self._sells
        level = book[order.price]
        level.remove(order)
        if level:
            return
        del book[order.price]
        if order.side == _BUY:
            self._buy_max = max(book, default=_NO_BUY)
        else:
            self._sell_min = min(book, default=_NO_SELL)

    def _in_priority(self, side: int) -> list[_Order]:
        """Resting orders of one side, best price first, then time priority."""
        book = self._buys if side == _BUY else self._sells
        return [o for p in sorted(book, reverse=side == _BUY) for o in book[p]]

    def _cross_resting(self, ts: int, side: int) -> None:
        """Fill resting orders of ``side`` that the displayed opposite side has moved through.

        Each fills as maker at its own price for what is displayed at or through that
        price, in price-time priority, consuming that displayed size as a taker would.
        """
        if side == _BUY:
            opp_side, prices, sizes = _SELL, self._ask_px, self._ask_sz
        else:
            opp_side, prices, sizes = _BUY, self._bid_px, self._bid_sz
        for order in self._in_priority(side):
            if not prices or not _crosses(side, order.price, prices[0]):
                break
            qty = 0
            while qty < order.remaining and prices and _crosses(side, order.price, prices[0]):
                take = min(order.remaining - qty, sizes[0])
                self._consume_best(opp_side, take)
                qty += take
            self._maker_fill(ts, order, qty)

    def _fill_from_print(self, ts: int, side: int, print_price: int, size: int) -> None:
        """Share one print among resting orders of ``side`` in price-time priority.

        Orders priced through the print fill first (no queue). At exactly the print
        price the print first trades the displayed queue ahead; that volume counts against
        the queue of every order at that price, since they all wait behind the same
        displayed orders.
        """
        left = size
        queue_traded = 0  # print volume spent on displayed orders at the print price
        for order in self._in_priority(side):
            if order.price == print_price:
                ahead = order.queue_ahead - queue_traded
                if ahead > 0 and left > 0:
                    spent = min(left, ahead)
                    left -= spent
                    queue_traded += spent
                order.queue_ahead = max(order.queue_ahead - queue_traded, 0)
            elif not _crosses(side, order.price, print_price):
                break  # worse than the print: not reached
            if left > 0:
                qty = min(order.remaining, left)
                left -= qty
                self._maker_fill(ts, order, qty)
