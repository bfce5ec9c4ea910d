"""Pre-trade risk checks of one deployment (its ``RiskLimits``: meshrt/scenario/limits.py).

The sequencer asks the gate before an intent moves an order; a breach becomes a
``RISK_*`` reject for the algo. Limits are checked in a fixed order (order size,
position, notional, open orders, rate) and the first breach is reported, so the same
intent always gets the same reason.

Choices a user of a production runtime would expect, made explicit:

* Worst-case position counts every open order on the intent's side as filled. An order
  (or replace) that does not grow the worst case's magnitude is allowed even above the
  limit, so a deployment over its limit (say, after the limit was lowered) can still
  trade back toward flat.
* A market order is valued at ``reference_price`` (the mid). With a notional limit set
  and no price at all (an empty book), the intent is rejected RISK_MAX_NOTIONAL: the
  gate cannot show it is within the limit, so it fails closed. Without a notional limit
  the missing price does not matter here.
* The rate limit counts orders actually sent (``record_order``), not intents the gate
  or a later check refused, in a rolling one-second window of scenario time: an order
  at ``t`` stays in the window until ``t + 1 s`` (exclusive).

Compiled (a cdef class, its checks ``cpdef``) so the intent desk (desk.pyx) calls them
in C; the arithmetic stays on Python ints, exact whatever the sizes. So is ``mid``, the
reference price the desk takes from a venue's last book.
"""

from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport int64_t

from meshrt.venues._feed cimport mid_of

from meshrt.contract import RejectReason, Side, mid_price, notional
from meshrt.sdk import Book

RATE_WINDOW_NS = 1_000_000_000
cdef object RATE_WINDOW = RATE_WINDOW_NS
cdef int64_t RATE_WINDOW_NS_C = RATE_WINDOW_NS

cdef extern from *:
    # gcc/clang builtin: a signed subtract that reports int64 overflow
    bint sub_overflow "__builtin_sub_overflow"(int64_t a, int64_t b, int64_t *res) noexcept nogil
cdef object BUY = Side.BUY
cdef object MAX_ORDER_SIZE = RejectReason.RISK_MAX_ORDER_SIZE
cdef object MAX_POSITION = RejectReason.RISK_MAX_POSITION
cdef object MAX_NOTIONAL = RejectReason.RISK_MAX_NOTIONAL
cdef object MAX_OPEN_ORDERS = RejectReason.RISK_MAX_OPEN_ORDERS
cdef object ORDER_RATE = RejectReason.RISK_ORDER_RATE
cdef type T_BOOK = Book
cdef Py_ssize_t BIDS = Book._fields.index("bid_prices"), ASKS = Book._fields.index("ask_prices")


cpdef object mid(object book):
    """The reference price of a book: the mid of its top levels, if it has both sides.

    contract.mid_price's rule: two int64 prices through its C form, ``mid_of``
    (meshrt/venues/_feed.pxd), anything else through mid_price itself."""
    cdef int overflow_bid = 0, overflow_ask = 0
    cdef int64_t bid_c, ask_c
    if book is None:
        return None
    if type(book) is T_BOOK:
        bids = <object>PyTuple_GET_ITEM(book, BIDS)
        asks = <object>PyTuple_GET_ITEM(book, ASKS)
    else:
        bids = book.bid_prices
        asks = book.ask_prices
    if type(bids) is tuple and type(asks) is tuple:
        if not PyTuple_GET_SIZE(bids) or not PyTuple_GET_SIZE(asks):
            return None
        bid = <object>PyTuple_GET_ITEM(bids, 0)
        ask = <object>PyTuple_GET_ITEM(asks, 0)
    elif not bids or not asks:
        return None
    else:
        bid = bids[0]
        ask = asks[0]
    if type(bid) is int and type(ask) is int:
        bid_c = PyLong_AsLongLongAndOverflow(bid, &overflow_bid)
        ask_c = PyLong_AsLongLongAndOverflow(ask, &overflow_ask)
        if not overflow_bid and not overflow_ask:
            return mid_of(bid_c, ask_c)
    return mid_price(bid, ask)


cdef class RiskGate:
    """RiskGate(limits): stateless checks plus the order-rate window of one deployment."""

    def __init__(self, limits):
        self.limits = limits
        # read once (RiskLimits is frozen): every check reads them
        self.max_order_size = limits.max_order_size
        self.max_position = limits.max_position
        self.max_notional = limits.max_notional
        self.max_open_orders = limits.max_open_orders
        self.max_orders_per_second = limits.max_orders_per_second
        self.sent = []
        self.first = 0

    cdef int reads(self, bint priced) noexcept:
        """What the checks of an order (``priced``: with a price) read: ``CHECKS`` if any
        limit is set, with the inputs a set limit reads (risk.pxd); an input no set limit
        reads may be given as None."""
        cdef int reads = 0
        if self.max_position is not None:
            reads |= CHECKS | POSITION
        if self.max_open_orders is not None:
            reads |= CHECKS | OPEN_ORDERS
        if self.max_notional is not None:
            reads |= CHECKS if priced else CHECKS | REFERENCE
        if self.max_order_size is not None or self.max_orders_per_second is not None:
            reads |= CHECKS
        return reads

    cpdef object check_new(
        self,
        object ts,
        object side,
        object price,
        object size,
        object position,
        object open_buy,
        object open_sell,
        object open_orders,
        object reference_price,
    ):
        """First limit a new order would breach, or None.

        ``price`` None means a market order. ``open_buy``/``open_sell`` are the sizes
        still working on the symbol, ``open_orders`` the deployment's live orders. An
        input no set limit reads may be None (``reads``).
        """
        limit = self.max_order_size
        if limit is not None and size > limit:
            return MAX_ORDER_SIZE
        limit = self.max_position
        if limit is not None:
            if side == BUY:
                before = position + open_buy
                after = before + size
            else:
                before = position - open_sell
                after = before - size
            if position_breach(before, after, limit):
                return MAX_POSITION
        limit = self.max_notional
        if limit is not None and notional_breach(price, size, reference_price, limit):
            return MAX_NOTIONAL
        limit = self.max_open_orders
        if limit is not None and open_orders + 1 > limit:
            return MAX_OPEN_ORDERS
        if self.rate_breach(ts):
            return ORDER_RATE
        return None

    cpdef object check_replace(
        self,
        object ts,
        object side,
        object price,
        object size,
        object old_size,
        object filled,
        object position,
        object open_buy,
        object open_sell,
        object reference_price,
    ):
        """First limit replacing an order (``old_size`` total, ``filled`` done) with
        (``price``, ``size`` total) would breach, or None.

        The old order's remaining is already inside ``open_buy``/``open_sell``; the
        replacement swaps it for ``size - filled``. The open-order count does not change,
        so that limit is not checked; the replace does count toward the order rate. An
        input no set limit reads may be None (``reads``).
        """
        limit = self.max_order_size
        if limit is not None and size > limit:
            return MAX_ORDER_SIZE
        limit = self.max_position
        if limit is not None:
            old_remaining = old_size - filled
            new_remaining = size - filled
            if side == BUY:
                before = position + open_buy
                after = before - old_remaining + new_remaining
            else:
                before = position - open_sell
                after = before + old_remaining - new_remaining
            if position_breach(before, after, limit):
                return MAX_POSITION
        limit = self.max_notional
        if limit is not None and notional_breach(price, size, reference_price, limit):
            return MAX_NOTIONAL
        if self.rate_breach(ts):
            return ORDER_RATE
        return None

    cpdef record_order(self, object ts):
        """Count an order or replace actually sent at ``ts`` toward the rate window (none
        is kept without a rate limit: no check would read it)."""
        if self.max_orders_per_second is None:
            return
        cdef list sent = self.sent
        cdef Py_ssize_t n = PyList_GET_SIZE(sent)
        if n > self.first:
            newest = <object>PyList_GET_ITEM(sent, n - 1)
            if ts < newest:
                ts = newest  # keep the window sorted if a live clock steps back
        sent.append(ts)
        self.expire(ts)

    def orders_in_window(self, ts):
        """Orders sent in (ts - 1 s, ts] (0 without a rate limit)."""
        self.expire(ts)
        return PyList_GET_SIZE(self.sent) - self.first

    cdef expire(self, object ts):
        """Send times at or before ``ts - 1 s`` leave the window; the list drops them once
        they are most of it. The times are compared in C when they are int64s."""
        cdef list sent = self.sent
        cdef Py_ssize_t first = self.first, n = PyList_GET_SIZE(sent)
        cdef int overflow = 0
        cdef int64_t at, horizon_c = 0
        cdef bint in_c = type(ts) is int
        if in_c:
            at = PyLong_AsLongLongAndOverflow(ts, &overflow)
            in_c = not overflow and not sub_overflow(at, RATE_WINDOW_NS_C, &horizon_c)
        horizon = None
        while first < n:
            sent_at = <object>PyList_GET_ITEM(sent, first)
            if in_c and type(sent_at) is int:
                at = PyLong_AsLongLongAndOverflow(sent_at, &overflow)
                if overflow > 0 or (not overflow and at > horizon_c):
                    break
            else:
                if horizon is None:
                    horizon = ts - RATE_WINDOW
                if sent_at > horizon:
                    break
            first += 1
        if first > 32 and 2 * first > n:
            del sent[:first]
            first = 0
        self.first = first

    cdef bint rate_breach(self, object ts) except -1:
        limit = self.max_orders_per_second
        if limit is None:
            return False
        self.expire(ts)
        return PyList_GET_SIZE(self.sent) - self.first + 1 > limit


cdef bint position_breach(object before, object after, object limit) except -1:
    """Breach if the worst case ends above the limit and the order grew it."""
    return abs(after) > limit and abs(after) > abs(before)


cdef bint notional_breach(object price, object size, object reference_price,
                          object limit) except -1:
    px = price if price is not None else reference_price
    if px is None:
        return True  # no price to value it at: cannot show it is within the limit
    return abs(notional(px, size)) > limit
