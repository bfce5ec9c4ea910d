"""Deterministic price-time-priority matching of virtual algo orders for one symbol.

The displayed L2 book comes from a feed; algo orders are *virtual*: they never appear in
the displayed book and never match each other. A taker order walks the displayed opposite
levels and subtracts what it took from the engine's copy until the feed next rewrites that
level ("no lasting market impact"). Resting orders fill as maker when a trade print goes
through their price (after the displayed queue ahead of them) or when the displayed
opposite side moves through it. See docs/matching.md for the user-facing rules.

No I/O, no floats, no randomness: the same calls give the same reports. The displayed
book is an ``L2Book`` (Cython, meshrt/venues/_book.pyx); the venue's feed loop (_feed.pyx)
calls into the engine only when a feed event can reach a resting order
(``after_delta``, ``apply_trade``, ``apply_snapshot``); the order logic here is cold
and written for clarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from meshrt.contract import BOOK_DEPTH, ActionKind, Liquidity, RejectReason, Side, TimeInForce
from meshrt.venues._book import NO_BUY, NO_SELL, L2Book
from meshrt.venues.fees import FeeSchedule
from meshrt.venues.reports import (
    Accepted,
    Cancelled,
    CancelRejected,
    Filled,
    Rejected,
    Replaced,
    VenueReport,
)
from meshrt.venues.resting import LiveOrder, RestingOrder, crosses, opposite_side

__all__ = ["MatchingEngine"]

# Plain ints, not IntEnum members: comparing against them is cheaper on the hot path and
# the reports carry plain ints (stable repr, trivially serialisable).
_BUY: Final = int(Side.BUY)
_SELL: Final = int(Side.SELL)
_GTC: Final = int(TimeInForce.GTC)
_IOC: Final = int(TimeInForce.IOC)
_POST_ONLY: Final = int(TimeInForce.POST_ONLY)
_MAKER: Final = int(Liquidity.MAKER)
_TAKER: Final = int(Liquidity.TAKER)
_CANCEL: Final = int(ActionKind.CANCEL)
_REPLACE: Final = int(ActionKind.REPLACE)
_UNKNOWN_ORDER: Final = int(RejectReason.UNKNOWN_ORDER)

# Best resting prices when a side has no resting order (kept in the L2Book, which tests
# them on every level change): no valid price (> 0) is <= _NO_BUY; a level at _NO_SELL
# (INT64_MAX) would only cost a needless look.
_NO_BUY: Final = NO_BUY
_NO_SELL: Final = NO_SELL


def _load_levels(
    levels: Sequence[tuple[int, int]], descending: bool
) -> tuple[list[int], list[int]]:
    """Normalise feed levels: drop empty ones, last size wins per price, sort best first."""
    book = {price: size for price, size in levels if size > 0}
    prices = sorted(book, reverse=descending)
    return prices, [book[p] for p in prices]


class MatchingEngine:
    """One symbol on one simulated venue: the feed's L2 book plus virtual algo orders.

    Output goes to ``reports`` (typed values of meshrt/venues/reports.py), appended in
    event order; the caller drains it by reading and then calling ``reports.clear()``
    (never rebind it). Each report carries the order report contract (cum, leaves and the
    order's execution sequence: 1 for the accept or reject, then one more per report that
    changes the order); an order the engine no longer holds is refused with all three 0.
    """

    __slots__ = ("reports", "book", "_fees", "_orders", "_buys", "_sells")

    def __init__(self, fees: FeeSchedule = FeeSchedule(), depth: int = BOOK_DEPTH) -> None:
        self.reports: list[VenueReport] = []
        self._fees = fees
        # Live resting algo orders, and per side price -> orders in time priority.
        self._orders: dict[int, LiveOrder] = {}
        self._buys: dict[int, list[LiveOrder]] = {}
        self._sells: dict[int, list[LiveOrder]] = {}
        # The displayed book; it reads the resting prices to tell when a level change
        # reaches an order, and keeps the best resting price per side (buy_max, sell_min).
        # top() caches each side's tuples until a level within ``depth`` changes.
        self.book = L2Book(self._buys, self._sells, depth)

    # -- market data ------------------------------------------------------------------

    def apply_snapshot(
        self, ts: int, bids: Sequence[tuple[int, int]], asks: Sequence[tuple[int, int]]
    ) -> None:
        """Replace the whole displayed book (this also restores any consumed liquidity)."""
        self.book.load(*_load_levels(bids, descending=True), *_load_levels(asks, descending=False))
        if not self._orders:
            return
        for book, side in ((self._buys, _BUY), (self._sells, _SELL)):
            for price, orders in book.items():
                displayed = self.book.size_at(side, price)
                for o in orders:
                    if displayed < o.queue_ahead:
                        o.queue_ahead = displayed
        self._cross_resting(ts, _BUY)
        self._cross_resting(ts, _SELL)

    def apply_delta(self, ts: int, side: int, price: int, size: int) -> None:
        """Set one displayed level (size <= 0 removes it); fill resting orders it crosses."""
        if self.book.set(side, price, size):
            self.after_delta(ts, side, price, size)

    def after_delta(self, ts: int, side: int, price: int, size: int) -> None:
        """A displayed level changed where resting orders care (the book decides when):
        the queue at that price shrinks with it, and a level through the other side's
        best resting price fills those orders."""
        resting, opposite = (self._buys, _SELL) if side == _BUY else (self._sells, _BUY)
        orders = resting.get(price)
        if orders:
            self._clamp_queue(orders, size)
        if size > 0 and (
            price >= self.book.sell_min if side == _BUY else price <= self.book.buy_max
        ):
            self._cross_resting(ts, opposite)

    def apply_trade(self, ts: int, aggressor: int, price: int, size: int) -> None:
        """Fill resting orders a print goes through; the displayed book is left to the feed.

        A sell-aggressor print at ``price`` reaches resting buys at ``price`` or better;
        a buy-aggressor print reaches resting sells at ``price`` or better. Prints with any
        other aggressor value are ignored (we cannot tell which side they hit).
        """
        if aggressor == _SELL:
            if price <= self.book.buy_max:
                self._fill_from_print(ts, _BUY, price, size)
        elif aggressor == _BUY and price >= self.book.sell_min:
            self._fill_from_print(ts, _SELL, price, size)

    # -- algo orders ------------------------------------------------------------------

    def submit(
        self, ts: int, order_id: int, side: int, price: int | None, size: int, tif: int
    ) -> None:
        """Accept or reject a new order, match what crosses, then rest or cancel the rest."""
        reject = self._submit_error(order_id, side, price, size, tif)
        if reject is not None:
            self.reject(ts, order_id, reject)
            return
        self.reports.append(Accepted(ts, order_id, 0, size, 1))
        remaining, exec_seq = self._take(ts, order_id, side, price, size, size, 1)
        if not remaining:
            return
        if price is None or tif == _IOC:
            self.reports.append(
                Cancelled(ts, order_id, remaining, size - remaining, 0, exec_seq + 1)
            )
            return
        order = LiveOrder(order_id, side, price, size, remaining, tif == _POST_ONLY, exec_seq)
        self._orders[order_id] = order
        self._rest(order)

    def cancel(self, ts: int, order_id: int) -> None:
        """Cancel a live order; an unknown or finished one gets CANCEL_REJECTED."""
        order = self._orders.pop(order_id, None)
        if order is None:
            self.reports.append(CancelRejected(ts, order_id, _UNKNOWN_ORDER, _CANCEL, 0, 0, 0))
            return
        self._unrest(order)
        left = order.remaining
        self.reports.append(Cancelled(ts, order_id, left, order.size - left, 0, order.exec_seq + 1))

    def replace(self, ts: int, order_id: int, price: int, size: int) -> None:
        """Change price and total size (filled part included) of a live resting order.

        The order keeps its queue position only when the price is unchanged and the size
        did not grow; otherwise it goes to the back and may match like a new GTC limit.
        """
        order = self._orders.get(order_id)
        reason = _UNKNOWN_ORDER if order is None else self._replace_error(order, price, size)
        if reason is not None:
            self.reject_replace(ts, order_id, reason)
            return
        assert order is not None
        cum = order.size - order.remaining
        remaining = size - cum
        order.exec_seq += 1
        self.reports.append(Replaced(ts, order_id, price, size, remaining, cum, order.exec_seq))
        keeps_queue = price == order.price and size <= order.size
        order.size = size
        order.remaining = remaining
        if keeps_queue:
            return
        self._unrest(order)
        order.price = price
        order.remaining, order.exec_seq = self._take(
            ts, order_id, order.side, price, size, remaining, order.exec_seq
        )
        if order.remaining:
            self._rest(order)
        else:
            del self._orders[order_id]

    def reject(self, ts: int, order_id: int, reason: int) -> None:
        """A new order refused (here, or by a live venue's reference data before it
        came here: meshrt/actors/live_venue.py): it never lived."""
        self.reports.append(Rejected(ts, order_id, reason, 0, 0, 1))

    def reject_replace(self, ts: int, order_id: int, reason: int) -> None:
        """A replace refused, here or by a live venue's reference data: CANCEL_REJECTED
        with the order's state as it stands (all 0 and ``UNKNOWN_ORDER`` for an order the
        engine does not know, whatever else was wrong with the request)."""
        order = self._orders.get(order_id)
        if order is None:
            self.reports.append(CancelRejected(ts, order_id, _UNKNOWN_ORDER, _REPLACE, 0, 0, 0))
            return
        cum = order.size - order.remaining
        self.reports.append(
            CancelRejected(ts, order_id, reason, _REPLACE, cum, order.remaining, order.exec_seq)
        )

    # -- views ------------------------------------------------------------------------

    def top(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(bid prices, bid sizes, ask prices, ask sizes), best first, to the view depth."""
        return self.book.top()

    def best_bid(self) -> tuple[int, int] | None:
        """Best displayed bid as (price, size), or None."""
        return self.book.best(_BUY)

    def best_ask(self) -> tuple[int, int] | None:
        """Best displayed ask as (price, size), or None."""
        return self.book.best(_SELL)

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
        opposite = self.book.best(opposite_side(side))
        if price is None and opposite is None:
            return int(RejectReason.NO_LIQUIDITY)
        if (
            price is not None
            and tif == _POST_ONLY
            and opposite is not None
            and crosses(side, price, opposite[0])
        ):
            return int(RejectReason.POST_ONLY_WOULD_CROSS)
        return None

    def _replace_error(self, order: LiveOrder, price: int, size: int) -> int | None:
        """The CANCEL_REJECTED reason for a replace of a live order, or None if allowed."""
        if size <= order.size - order.remaining:
            return int(RejectReason.INVALID_SIZE)
        if price <= 0:
            return int(RejectReason.INVALID_PRICE)
        opposite = self.book.best(opposite_side(order.side))
        if order.post_only and opposite is not None and crosses(order.side, price, opposite[0]):
            return int(RejectReason.POST_ONLY_WOULD_CROSS)
        return None

    def _consume_best(self, side: int, price: int, size: int) -> None:
        """Take ``size`` from the best displayed level of ``side``, at ``price`` (removing
        it at 0)."""
        left = self.book.consume_best(side, size)
        orders = (self._buys if side == _BUY else self._sells).get(price)
        if orders:
            self._clamp_queue(orders, left)

    @staticmethod
    def _clamp_queue(orders: list[LiveOrder], displayed: int) -> None:
        """Risk-averse queue: shrinking displayed size at our price shrinks what is ahead."""
        if displayed < 0:
            displayed = 0
        for o in orders:
            if displayed < o.queue_ahead:
                o.queue_ahead = displayed

    def _take(
        self,
        ts: int,
        order_id: int,
        side: int,
        limit: int | None,
        size: int,
        remaining: int,
        exec_seq: int,
    ) -> tuple[int, int]:
        """Match the ``remaining`` of an order of ``size`` in all as taker against the
        displayed opposite levels up to ``limit``: (what is left, the last exec_seq)."""
        opp_side = opposite_side(side)
        while remaining:
            best = self.book.best(opp_side)
            if best is None or (limit is not None and not crosses(side, limit, best[0])):
                break
            price = best[0]
            qty = min(remaining, best[1])
            self._consume_best(opp_side, price, qty)
            remaining -= qty
            exec_seq += 1
            fee = self._fees.fee(_TAKER, price, qty)
            self.reports.append(
                Filled(ts, order_id, price, qty, _TAKER, fee, remaining, size - remaining, exec_seq)
            )
        return remaining, exec_seq

    def _maker_fill(self, ts: int, order: LiveOrder, qty: int) -> None:
        """Fill a resting order at its own price; a finished order leaves the book."""
        order.remaining -= qty
        order.exec_seq += 1
        fee = self._fees.fee(_MAKER, order.price, qty)
        self.reports.append(
            Filled(
                ts,
                order.order_id,
                order.price,
                qty,
                _MAKER,
                fee,
                order.remaining,
                order.size - order.remaining,
                order.exec_seq,
            )
        )
        if not order.remaining:
            del self._orders[order.order_id]
            self._unrest(order)

    def _rest(self, order: LiveOrder) -> None:
        """Put a live order at the back of its price level and refresh the cached best."""
        order.queue_ahead = self.book.size_at(order.side, order.price)
        if order.side == _BUY:
            self._buys.setdefault(order.price, []).append(order)
            self.book.buy_max = max(self.book.buy_max, order.price)
        else:
            self._sells.setdefault(order.price, []).append(order)
            self.book.sell_min = min(self.book.sell_min, order.price)

    def _unrest(self, order: LiveOrder) -> None:
        """Take an order out of its price level and refresh the cached best."""
        book = self._buys if order.side == _BUY else self._sells
        level = book[order.price]
        level.remove(order)
        if level:
            return
        del book[order.price]
        if order.side == _BUY:
            self.book.buy_max = max(book, default=_NO_BUY)
        else:
            self.book.sell_min = min(book, default=_NO_SELL)

    def _in_priority(self, side: int) -> list[LiveOrder]:
        """Resting orders of one side, best price first, then time priority."""
        book = self._buys if side == _BUY else self._sells
        return [o for p in sorted(book, reverse=side == _BUY) for o in book[p]]

    def _cross_resting(self, ts: int, side: int) -> None:
        """Fill resting orders of ``side`` that the displayed opposite side has moved through.

        Each fills as maker at its own price for what is displayed at or through that
        price, in price-time priority, consuming that displayed size as a taker would.
        """
        opp_side = opposite_side(side)
        best = self.book.best(opp_side)
        for order in self._in_priority(side):
            if best is None or not crosses(side, order.price, best[0]):
                break
            qty = 0
            while (
                qty < order.remaining and best is not None and crosses(side, order.price, best[0])
            ):
                take = min(order.remaining - qty, best[1])
                self._consume_best(opp_side, best[0], take)
                qty += take
                best = self.book.best(opp_side)
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
            elif not crosses(side, order.price, print_price):
                break  # worse than the print: not reached
            if left > 0:
                qty = min(order.remaining, left)
                left -= qty
                self._maker_fill(ts, order, qty)
