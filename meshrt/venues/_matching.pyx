"""Deterministic price-time-priority matching of virtual algo orders for one symbol.

The displayed L2 book comes from a feed; algo orders are *virtual*: they never appear in
the displayed book and never match each other. A taker order walks the displayed opposite
levels and subtracts what it took from the engine's copy until the feed next rewrites that
level ("no lasting market impact"). Resting orders fill as maker when a trade print goes
through their price (after the displayed queue ahead of them) or when the displayed
opposite side moves through it. See docs/matching.md for the user-facing rules.

No I/O, no floats, no randomness: the same calls give the same reports. Compiled because
the venue's window step runs it for every order arrival and for every feed event that
can reach a resting order: the engine reads the displayed book's levels (_book.pyx) at C
level, keeps each live order's state in int64s, and builds its reports (the NamedTuples
of meshrt/venues/reports.py) at one allocation each. The venue's feed loop (_feed.pyx)
calls it through _matching.pxd. Prices and sizes are int64 here, as in the book: an order
price or size past int64 (which the sequencer's checks refuse before it gets here) is
refused as INVALID_PRICE or INVALID_SIZE.
"""

cimport cython
from cpython.long cimport PyLong_AsLongLongAndOverflow
from libc.stdint cimport INT64_MAX, INT64_MIN, int64_t

from meshrt.venues._book cimport L2Book, _Side

from meshrt.contract import (
    BOOK_DEPTH, SIZE_SCALE, ActionKind, Liquidity, RejectReason, Side, TimeInForce,
)
from meshrt.venues._book import NO_BUY, NO_SELL
from meshrt.venues.fees import PPM, FeeSchedule
from meshrt.venues.reports import (
    Accepted, Cancelled, CancelRejected, Filled, Rejected, Replaced,
)
from meshrt.venues.resting import RestingOrder

__all__ = ["LiveOrder", "MatchingEngine"]

cdef extern from *:
    # gcc/clang: the fee rule's products (price * size * ppm) need 128 bits
    ctypedef long long int128 "__int128"

cdef long BUY = Side.BUY
cdef long SELL = Side.SELL
cdef long GTC = TimeInForce.GTC
cdef long IOC = TimeInForce.IOC
cdef long POST_ONLY = TimeInForce.POST_ONLY
cdef long MAKER = Liquidity.MAKER
cdef long TAKER = Liquidity.TAKER
cdef int64_t C_NO_BUY = NO_BUY
cdef int64_t C_NO_SELL = NO_SELL
cdef int64_t C_SIZE_SCALE = SIZE_SCALE
cdef int64_t C_PPM = PPM
cdef object CANCEL = int(ActionKind.CANCEL)
cdef object REPLACE = int(ActionKind.REPLACE)
cdef object UNKNOWN_ORDER = int(RejectReason.UNKNOWN_ORDER)
cdef object INVALID_ACTION = int(RejectReason.INVALID_ACTION)
cdef object INVALID_SIZE = int(RejectReason.INVALID_SIZE)
cdef object INVALID_PRICE = int(RejectReason.INVALID_PRICE)
cdef object DUPLICATE_ORDER_ID = int(RejectReason.DUPLICATE_ORDER_ID)
cdef object NO_LIQUIDITY = int(RejectReason.NO_LIQUIDITY)
cdef object POST_ONLY_WOULD_CROSS = int(RejectReason.POST_ONLY_WOULD_CROSS)
cdef type T_ACCEPTED = Accepted
cdef type T_REJECTED = Rejected
cdef type T_FILLED = Filled
cdef type T_CANCELLED = Cancelled
cdef type T_CANCEL_REJECTED = CancelRejected
cdef type T_REPLACED = Replaced


cdef inline int as_c(object value, int64_t *out) except -2:
    """``value`` as an int64 in ``out``: 0, or 1 past INT64_MAX, -1 below INT64_MIN (a
    value that is not an int raises TypeError, as in Python)."""
    cdef int overflow = 0
    cdef long long v = PyLong_AsLongLongAndOverflow(value, &overflow)
    out[0] = INT64_MAX if overflow > 0 else INT64_MIN if overflow < 0 else v
    return overflow


cdef inline bint crosses(long side, int64_t limit, int64_t level_price) noexcept:
    """Whether an order on ``side`` with ``limit`` can trade at an opposite level price."""
    return level_price <= limit if side == BUY else level_price >= limit


cdef object report(type cls, tuple fields):
    """A report NamedTuple of ``fields``, without its Python-level __new__."""
    cdef Py_ssize_t i, n = len(fields)
    out = new_tuple_of(cls, n)
    for i in range(n):
        put_item(out, i, fields[i])
    return out


def _load_levels(levels, bint descending):
    """Normalise feed levels: drop empty ones, last size wins per price, sort best first."""
    book = {price: size for price, size in levels if size > 0}
    prices = sorted(book, reverse=descending)
    return prices, [book[p] for p in prices]


@cython.final
cdef class LiveOrder:
    """Mutable state of one live resting algo order; owned by the engine only (fields in
    _matching.pxd). ``size`` is the total including what has filled, ``queue_ahead`` the
    displayed size ahead of it at its price (risk-averse), ``exec_seq`` its last report's
    execution sequence."""

    def __init__(self, order_id, long side, price, int64_t size, int64_t remaining,
                 bint post_only, int64_t exec_seq):
        self.order_id = order_id
        self.side = side
        self.price_obj = price
        as_c(price, &self.price)
        self.size = size
        self.remaining = remaining
        self.queue_ahead = 0
        self.post_only = post_only
        self.exec_seq = exec_seq


@cython.final
cdef class MatchingEngine:
    """One symbol on one simulated venue: the feed's L2 book plus virtual algo orders.

    Output goes to ``reports`` (typed values of meshrt/venues/reports.py), appended in
    event order; the caller drains it by reading and then clearing it (never rebind it).
    Each report carries the order report contract (cum, leaves and the order's execution
    sequence: 1 for the accept or reject, then one more per report that changes the
    order); an order the engine no longer holds is refused with all three 0.
    """

    def __init__(self, fees=FeeSchedule(), Py_ssize_t depth=BOOK_DEPTH):
        self.reports = []
        self.fees = fees
        self.maker_ppm = fees.maker_ppm
        self.taker_ppm = fees.taker_ppm
        # Live resting algo orders, and per side price -> orders in time priority.
        self.orders = {}
        self.buys = {}
        self.sells = {}
        # The displayed book; it reads the resting prices to tell when a level change
        # reaches an order, and keeps the best resting price per side (buy_max, sell_min).
        self.book = L2Book(self.buys, self.sells, depth)

    # -- market data ------------------------------------------------------------------

    def apply_snapshot(self, ts, bids, asks):
        """Replace the whole displayed book (this also restores any consumed liquidity)."""
        self.apply_snapshot_c(ts, bids, asks)

    cdef int apply_snapshot_c(self, object ts, object bids, object asks) except -1:
        self.book.load(*_load_levels(bids, True), *_load_levels(asks, False))
        if not self.orders:
            return 0
        cdef LiveOrder o
        cdef int64_t displayed
        for resting in (self.buys, self.sells):
            for orders in (<dict>resting).values():
                o = (<list>orders)[0]
                displayed = self.size_at(o.side, o.price)
                for o in orders:
                    if displayed < o.queue_ahead:
                        o.queue_ahead = displayed
        self.cross_resting(ts, BUY)
        self.cross_resting(ts, SELL)
        return 0

    def apply_delta(self, ts, side, price, size):
        """Set one displayed level (size <= 0 removes it); fill resting orders it crosses."""
        if self.book.set(side, price, size):
            self.after_delta(ts, side, price, size)

    def after_delta(self, ts, side, price, size):
        """A displayed level changed where resting orders care (the book decides when)."""
        self.after_delta_c(ts, side, price, size)

    cdef int after_delta_c(self, object ts, long side, object price_obj,
                           object size_obj) except -1:
        """The queue at that price shrinks with the level, and a level through the other
        side's best resting price fills those orders."""
        cdef int64_t price, size
        as_c(price_obj, &price)
        as_c(size_obj, &size)
        orders = (self.buys if side == BUY else self.sells).get(price_obj)
        if orders:
            clamp_queue(orders, size)
        if size > 0:
            if side == BUY:
                if price >= self.book.sell_min:
                    self.cross_resting(ts, SELL)
            elif price <= self.book.buy_max:
                self.cross_resting(ts, BUY)
        return 0

    def apply_trade(self, ts, aggressor, price, size):
        """Fill resting orders a print goes through; the displayed book is left to the feed.

        A sell-aggressor print at ``price`` reaches resting buys at ``price`` or better;
        a buy-aggressor print reaches resting sells at ``price`` or better. Prints with any
        other aggressor value are ignored (we cannot tell which side they hit).
        """
        self.apply_trade_c(ts, aggressor, price, size)

    cdef int apply_trade_c(self, object ts, object aggressor, object price_obj,
                           object size_obj) except -1:
        cdef int64_t side, price, size
        if as_c(aggressor, &side):
            return 0
        as_c(price_obj, &price)  # past int64 (clamped) reaches no order either way
        as_c(size_obj, &size)
        if side == SELL:
            if price <= self.book.buy_max:
                self.fill_from_print(ts, BUY, price, size)
        elif side == BUY and price >= self.book.sell_min:
            self.fill_from_print(ts, SELL, price, size)
        return 0

    # -- algo orders ------------------------------------------------------------------

    def submit(self, ts, order_id, side, price, size, tif):
        """Accept or reject a new order, match what crosses, then rest or cancel the rest."""
        self.submit_c(ts, order_id, side, price, size, tif)

    cdef int submit_c(self, object ts, object order_id, object side_obj, object price_obj,
                      object size_obj, object tif_obj) except -1:
        cdef int64_t side, price = 0, size, tif, exec_seq = 1, remaining
        cdef bint market = price_obj is None
        cdef int side_over = as_c(side_obj, &side)
        cdef int tif_over = as_c(tif_obj, &tif)
        cdef int size_over = as_c(size_obj, &size)
        cdef int price_over = 0 if market else as_c(price_obj, &price)
        reason = self.submit_error(order_id, side if side_over == 0 else 0, market, price,
                                   price_over, size, size_over, tif if tif_over == 0 else -1)
        if reason is not None:
            self.reports.append(report(T_REJECTED, (ts, order_id, reason, 0, 0, 1)))
            return 0
        self.reports.append(report(T_ACCEPTED, (ts, order_id, 0, size_obj, 1)))
        remaining = self.take(ts, order_id, side, not market, price, size, size, &exec_seq)
        if not remaining:
            return 0
        if market or tif == IOC:
            self.reports.append(report(
                T_CANCELLED, (ts, order_id, remaining, size - remaining, 0, exec_seq + 1)))
            return 0
        order = LiveOrder(order_id, side, price_obj, size, remaining, tif == POST_ONLY,
                          exec_seq)
        self.orders[order_id] = order
        self.rest(order)
        return 0

    def cancel(self, ts, order_id):
        """Cancel a live order; an unknown or finished one gets CANCEL_REJECTED."""
        self.cancel_c(ts, order_id)

    cdef int cancel_c(self, object ts, object order_id) except -1:
        found = self.orders.pop(order_id, None)
        if found is None:
            self.reports.append(report(
                T_CANCEL_REJECTED, (ts, order_id, UNKNOWN_ORDER, CANCEL, 0, 0, 0)))
            return 0
        cdef LiveOrder order = found
        self.unrest(order)
        self.reports.append(report(T_CANCELLED, (
            ts, order_id, order.remaining, order.size - order.remaining, 0,
            order.exec_seq + 1)))
        return 0

    def replace(self, ts, order_id, price, size):
        """Change price and total size (filled part included) of a live resting order.

        The order keeps its queue position only when the price is unchanged and the size
        did not grow; otherwise it goes to the back and may match like a new GTC limit.
        """
        self.replace_c(ts, order_id, price, size)

    cdef int replace_c(self, object ts, object order_id, object price_obj,
                       object size_obj) except -1:
        found = self.orders.get(order_id)
        if found is None:
            self.reject_replace(ts, order_id, UNKNOWN_ORDER)
            return 0
        cdef LiveOrder order = found
        cdef int64_t price, size
        cdef int price_over = as_c(price_obj, &price)
        cdef int size_over = as_c(size_obj, &size)
        cdef int64_t cum = order.size - order.remaining
        reason = self.replace_error(order, price, price_over, size, size_over)
        if reason is not None:
            self.reject_replace(ts, order_id, reason)
            return 0
        order.exec_seq += 1
        self.reports.append(report(T_REPLACED, (
            ts, order_id, price_obj, size_obj, size - cum, cum, order.exec_seq)))
        cdef bint keeps_queue = price == order.price and size <= order.size
        order.size = size
        order.remaining = size - cum
        if keeps_queue:
            return 0
        self.unrest(order)
        order.price = price
        order.price_obj = price_obj
        order.remaining = self.take(ts, order_id, order.side, True, price, size,
                                    order.remaining, &order.exec_seq)
        if order.remaining:
            self.rest(order)
        else:
            del self.orders[order_id]
        return 0

    def reject(self, ts, order_id, reason):
        """A new order refused (here, or by a live venue's reference data before it
        came here: meshrt/actors/live_venue.py): it never lived."""
        self.reports.append(report(T_REJECTED, (ts, order_id, reason, 0, 0, 1)))

    def reject_replace(self, ts, order_id, reason):
        """A replace refused, here or by a live venue's reference data: CANCEL_REJECTED
        with the order's state as it stands (all 0 and ``UNKNOWN_ORDER`` for an order the
        engine does not know, whatever else was wrong with the request)."""
        found = self.orders.get(order_id)
        if found is None:
            self.reports.append(report(
                T_CANCEL_REJECTED, (ts, order_id, UNKNOWN_ORDER, REPLACE, 0, 0, 0)))
            return
        cdef LiveOrder order = found
        self.reports.append(report(T_CANCEL_REJECTED, (
            ts, order_id, reason, REPLACE, order.size - order.remaining, order.remaining,
            order.exec_seq)))

    # -- views ------------------------------------------------------------------------

    def top(self):
        """(bid prices, bid sizes, ask prices, ask sizes), best first, to the view depth."""
        return self.book.top()

    def best_bid(self):
        """Best displayed bid as (price, size), or None."""
        return self.book.best(BUY)

    def best_ask(self):
        """Best displayed ask as (price, size), or None."""
        return self.book.best(SELL)

    def resting(self):
        """Resting algo orders: buys then sells, each in price-time priority."""
        cdef LiveOrder o
        cdef list out = []
        for side in (BUY, SELL):
            for o in self.in_priority(side):
                out.append(RestingOrder(o.order_id, o.side, o.price_obj, o.remaining,
                                        o.queue_ahead))
        return out

    # -- internals --------------------------------------------------------------------

    cdef object submit_error(self, object order_id, int64_t side, bint market, int64_t price,
                             int price_over, int64_t size, int size_over, int64_t tif):
        """The reject reason for a new order, or None if it may be accepted."""
        if (side != BUY and side != SELL) or (tif != GTC and tif != IOC and tif != POST_ONLY):
            return INVALID_ACTION
        if market and tif == POST_ONLY:
            return INVALID_ACTION  # a market order always takes
        if size <= 0:
            return INVALID_SIZE
        if not market and price <= 0:
            return INVALID_PRICE
        if size_over:
            return INVALID_SIZE
        if price_over:
            return INVALID_PRICE
        if order_id in self.orders:
            return DUPLICATE_ORDER_ID
        cdef _Side opposite = self.book.asks_ if side == BUY else self.book.bids_
        if market and not opposite.n:
            return NO_LIQUIDITY
        if tif == POST_ONLY and opposite.n and crosses(side, price, opposite.px[opposite.top()]):
            return POST_ONLY_WOULD_CROSS
        return None

    cdef object replace_error(self, LiveOrder order, int64_t price, int price_over,
                              int64_t size, int size_over):
        """The CANCEL_REJECTED reason for a replace of a live order, or None if allowed."""
        if size <= order.size - order.remaining:
            return INVALID_SIZE
        if price <= 0:
            return INVALID_PRICE
        if size_over:
            return INVALID_SIZE
        if price_over:
            return INVALID_PRICE
        cdef _Side opposite = self.book.asks_ if order.side == BUY else self.book.bids_
        if (
            order.post_only and opposite.n
            and crosses(order.side, price, opposite.px[opposite.top()])
        ):
            return POST_ONLY_WOULD_CROSS
        return None

    cdef int64_t size_at(self, long side, int64_t price) noexcept:
        """The displayed size at exactly ``price`` (0 if none)."""
        cdef _Side s = self.book.bids_ if side == BUY else self.book.asks_
        cdef Py_ssize_t i = s.find(price)
        return s.sz[i] if i < s.n and s.px[i] == price else 0

    cdef int consume_best(self, long side, int64_t qty) except -1:
        """Take ``qty`` from the best displayed level of ``side`` (removing it at 0); the
        queue of resting orders at that price shrinks with it."""
        cdef int64_t left
        price_obj = self.book.take_best(
            self.book.bids_ if side == BUY else self.book.asks_, qty, &left
        )
        orders = (self.buys if side == BUY else self.sells).get(price_obj)
        if orders:
            clamp_queue(orders, left)
        return 0

    cdef object fee(self, long liquidity, int64_t price, int64_t size):
        """The fee rule of meshrt/venues/fees.py (ppm of notional, floored) in 128 bits;
        a fee past int64 is left to the Python rule."""
        cdef int128 ppm = self.maker_ppm if liquidity == MAKER else self.taker_ppm
        cdef int128 value = (<int128>price) * size
        cdef int128 total = ppm * (value / C_SIZE_SCALE)  # notional truncates toward 0
        cdef int128 q = total / C_PPM
        if total % C_PPM != 0 and total < 0:
            q -= 1  # floor division
        if q > INT64_MAX or q < INT64_MIN:
            return self.fees.fee(liquidity, price, size)
        return <int64_t>q

    cdef int64_t take(self, object ts, object order_id, long side, bint limited,
                      int64_t limit, int64_t size, int64_t remaining,
                      int64_t *exec_seq) except -1:
        """Match the ``remaining`` of an order of ``size`` in all as taker against the
        displayed opposite levels up to ``limit``: what is left (and the last exec_seq)."""
        cdef long opp_side = SELL if side == BUY else BUY
        cdef _Side opp = self.book.asks_ if side == BUY else self.book.bids_
        cdef int64_t price, qty
        while remaining:
            if not opp.n or (limited and not crosses(side, limit, opp.px[opp.top()])):
                break
            price = opp.px[opp.top()]
            price_obj = opp.pxo[opp.top()]
            qty = remaining if remaining < opp.sz[opp.top()] else opp.sz[opp.top()]
            self.consume_best(opp_side, qty)
            remaining -= qty
            exec_seq[0] += 1
            self.reports.append(report(T_FILLED, (
                ts, order_id, price_obj, qty, TAKER, self.fee(TAKER, price, qty), remaining,
                size - remaining, exec_seq[0])))
        return remaining

    cdef int maker_fill(self, object ts, LiveOrder order, int64_t qty) except -1:
        """Fill a resting order at its own price; a finished order leaves the book."""
        order.remaining -= qty
        order.exec_seq += 1
        self.reports.append(report(T_FILLED, (
            ts, order.order_id, order.price_obj, qty, MAKER,
            self.fee(MAKER, order.price, qty), order.remaining, order.size - order.remaining,
            order.exec_seq)))
        if not order.remaining:
            del self.orders[order.order_id]
            self.unrest(order)
        return 0

    cdef int rest(self, LiveOrder order) except -1:
        """Put a live order at the back of its price level and refresh the cached best."""
        order.queue_ahead = self.size_at(order.side, order.price)
        resting = self.buys if order.side == BUY else self.sells
        level = resting.get(order.price_obj)
        if level is None:
            resting[order.price_obj] = [order]
        else:
            (<list>level).append(order)
        if order.side == BUY:
            if order.price > self.book.buy_max:
                self.book.buy_max = order.price
        elif order.price < self.book.sell_min:
            self.book.sell_min = order.price
        return 0

    cdef int unrest(self, LiveOrder order) except -1:
        """Take an order out of its price level and refresh the cached best."""
        cdef dict resting = self.buys if order.side == BUY else self.sells
        cdef list level = resting[order.price_obj]
        level.remove(order)
        if level:
            return 0
        del resting[order.price_obj]
        cdef int64_t best = C_NO_BUY if order.side == BUY else C_NO_SELL
        cdef LiveOrder first
        for orders in resting.values():
            first = (<list>orders)[0]
            if (first.price > best) if order.side == BUY else (first.price < best):
                best = first.price
        if order.side == BUY:
            self.book.buy_max = best
        else:
            self.book.sell_min = best
        return 0

    cdef list in_priority(self, long side):
        """Resting orders of one side, best price first, then time priority."""
        cdef dict resting = self.buys if side == BUY else self.sells
        if len(resting) == 1:
            return list(next(iter(resting.values())))
        cdef list out = []
        for price in sorted(resting, reverse=side == BUY):
            out.extend(resting[price])
        return out

    cdef int cross_resting(self, object ts, long side) except -1:
        """Fill resting orders of ``side`` that the displayed opposite side has moved
        through: each fills as maker at its own price for what is displayed at or through
        that price, in price-time priority, consuming that displayed size as a taker
        would."""
        cdef long opp_side = SELL if side == BUY else BUY
        cdef _Side opp = self.book.asks_ if side == BUY else self.book.bids_
        cdef LiveOrder order
        cdef int64_t qty, take
        for order in self.in_priority(side):
            if not opp.n or not crosses(side, order.price, opp.px[opp.top()]):
                break
            qty = 0
            while qty < order.remaining and opp.n and crosses(side, order.price, opp.px[opp.top()]):
                take = order.remaining - qty
                if opp.sz[opp.top()] < take:
                    take = opp.sz[opp.top()]
                self.consume_best(opp_side, take)
                qty += take
            self.maker_fill(ts, order, qty)
        return 0

    cdef int fill_from_print(self, object ts, long side, int64_t print_price,
                             int64_t size) except -1:
        """Share one print among resting orders of ``side`` in price-time priority.

        Orders priced through the print fill first (no queue). At exactly the print
        price the print first trades the displayed queue ahead; that volume counts
        against the queue of every order at that price, since they all wait behind the
        same displayed orders.
        """
        cdef int64_t left = size, queue_traded = 0, ahead, spent, qty
        cdef LiveOrder order
        for order in self.in_priority(side):
            if order.price == print_price:
                ahead = order.queue_ahead - queue_traded
                if ahead > 0 and left > 0:
                    spent = left if left < ahead else ahead
                    left -= spent
                    queue_traded += spent
                order.queue_ahead = order.queue_ahead - queue_traded
                if order.queue_ahead < 0:
                    order.queue_ahead = 0
            elif not crosses(side, order.price, print_price):
                break  # worse than the print: not reached
            if left > 0:
                qty = order.remaining if order.remaining < left else left
                left -= qty
                self.maker_fill(ts, order, qty)
        return 0


cdef int clamp_queue(list orders, int64_t displayed) except -1:
    """Risk-averse queue: shrinking displayed size at our price shrinks what is ahead."""
    cdef LiveOrder o
    if displayed < 0:
        displayed = 0
    for o in orders:
        if displayed < o.queue_ahead:
            o.queue_ahead = displayed
    return 0
