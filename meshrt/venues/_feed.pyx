"""The venue's feed step: a ``VenueSymbol`` per symbol applies the symbol's feed events to
its displayed book (_book.pyx) and matching engine (_matching.pyx) and emits the
venue's outputs (meshrt/venues/outputs.py). The window step around it, with the order
arrivals, is meshrt/actors/_venue.pyx (through _feed.pxd).

Compiled because it runs once per feed event and per window. It reads the book's levels
and calls its ``put`` at C level (declared in _book.pxd), calls the engine at C level
(_matching.pxd) only where an event can reach a resting order, keeps the online
features in int64 fields (the rules of meshrt.venues.features.FeatureTracker, checked
against them by tests/test_book.py) and builds each output at one allocation.
"""

from cpython.long cimport PyLong_AsLong
from libc.stdint cimport int64_t

from meshrt.venues._book cimport L2Book, _Side, as_int64
from meshrt.venues._outputs cimport BookUpdate
from meshrt.venues._matching cimport MatchingEngine, new_tuple_of, put_item

# The constants and types have their one home in Python; the compiled loop reads them
# once, here.
from meshrt.contract import Side
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE
from meshrt.venues.outputs import OrderReport, TradePrint

cdef extern from *:
    # gcc/clang builtin: a signed add or subtract that reports int64 overflow
    bint add_overflow "__builtin_add_overflow"(int64_t a, int64_t b, int64_t *res) noexcept nogil
    bint sub_overflow "__builtin_sub_overflow"(int64_t a, int64_t b, int64_t *res) noexcept nogil

cdef long BUY = Side.BUY
cdef long K_SNAPSHOT = FEED_SNAPSHOT
cdef long K_DELTA = FEED_DELTA
cdef long K_TRADE = FEED_TRADE
cdef type T_TRADE = TradePrint
cdef type T_REPORT = OrderReport


cdef inline object output3(type cls, object ts, object symbol, object value):
    """A TradePrint or OrderReport (ts, symbol, event or report)."""
    out = new_tuple_of(cls, 3)
    put_item(out, 0, ts)
    put_item(out, 1, symbol)
    put_item(out, 2, value)
    return out


cdef int drain(list reports, object symbol, list out) except -1:  # (in _feed.pxd)
    """Move the engine's reports into ``out`` as OrderReports."""
    cdef Py_ssize_t i, n = len(reports)
    for i in range(n):
        report = reports[i]
        if not isinstance(report, tuple) or len(<tuple>report) < 1:
            raise TypeError(f"engine report {report!r} is not a venue report")
        out.append(output3(T_REPORT, (<tuple>report)[0], symbol, report))
    del reports[:n]
    return 0


cdef class VenueSymbol:
    """VenueSymbol(engine, symbol, symbol_name, venue_name, book_type, features_type): one
    symbol of a simulated venue (``symbol`` its index), with its matching engine and its
    online features; ``book_type`` and ``features_type`` are the tuple types an update
    shows (meshrt.sdk's Book and Features)."""

    def __init__(self, MatchingEngine engine not None, symbol, str symbol_name not None,
                 str venue_name not None, type book_type not None,
                 type features_type not None):
        if not (issubclass(book_type, tuple) and issubclass(features_type, tuple)):
            raise TypeError("VenueSymbol: book_type and features_type must be tuple types")
        self.engine = engine
        self.symbol = symbol
        self.symbol_name = symbol_name
        self.venue_name = venue_name
        self.book_type = book_type
        self.features_type = features_type

    def play(self, list events not None, Py_ssize_t start, Py_ssize_t stop,
             list out not None):
        """Apply events[start:stop] and append the venue's output for each, with the
        engine's reports after the event that caused them."""
        if start < 0 or stop > len(events):
            raise IndexError("play: events range out of bounds")
        self.play_c(events, start, stop, out)

    cdef int play_c(self, list events, Py_ssize_t start, Py_ssize_t stop,
                    list out) except -1:
        cdef MatchingEngine engine = self.engine
        cdef L2Book book = engine.book
        cdef list reports = engine.reports
        cdef _Side bids = book.bids_, asks = book.asks_
        cdef Py_ssize_t k, depth = book.depth
        cdef long kind, side
        cdef int64_t qty, mid
        cdef tuple ev
        cdef BookUpdate update
        symbol = self.symbol
        for k in range(start, stop):
            item = events[k]
            if not isinstance(item, tuple) or len(<tuple>item) < 4:
                raise TypeError(f"feed event {item!r} is not an event tuple")
            ev = <tuple>item
            ts = ev[0]
            kind = PyLong_AsLong(ev[1])
            if kind == K_DELTA or kind == K_TRADE:
                if len(ev) != 5:
                    raise TypeError(f"feed event {ev!r}: expected 5 fields")
                side_obj, price, size = ev[2], ev[3], ev[4]
                side = PyLong_AsLong(side_obj)
                if kind == K_TRADE:
                    engine.apply_trade_c(ts, side_obj, price, size)
                    qty = as_int64(size, "trade size")
                    if (add_overflow(self.trade_flow, qty, &self.trade_flow) if side == BUY
                            else sub_overflow(self.trade_flow, qty, &self.trade_flow)):
                        raise OverflowError(
                            f"{self.venue_name} {self.symbol_name}: trade flow overflows int64")
                    out.append(output3(T_TRADE, ts, symbol, ev))
                    if len(reports):
                        drain(reports, symbol, out)
                    continue
                if book.put(side, price, size):
                    engine.after_delta_c(ts, side, price, size)
            elif kind == K_SNAPSHOT:
                engine.apply_snapshot_c(ts, ev[2], ev[3])
            else:
                raise ValueError(f"feed event {ev!r}: unknown kind {kind}")
            bids.view(depth)
            asks.view(depth)
            # the feature rules of meshrt.venues.features.FeatureTracker.on_book
            self.trade_flow -= self.trade_flow >> 5
            if bids.n and asks.n:
                mid = mid_of(bids.px[bids.top()], asks.px[asks.top()])
                if self.last_mid:
                    self.volatility += ((mid - self.last_mid if mid >= self.last_mid
                                         else self.last_mid - mid) - self.volatility) >> 4
                self.last_mid = mid
            shown = new_tuple_of(self.book_type, 7)
            put_item(shown, 0, ts)
            put_item(shown, 1, self.symbol_name)
            put_item(shown, 2, self.venue_name)
            put_item(shown, 3, bids.view_px)
            put_item(shown, 4, bids.view_sz)
            put_item(shown, 5, asks.view_px)
            put_item(shown, 6, asks.view_sz)
            features = new_tuple_of(self.features_type, 3)
            put_item(features, 0, shown)
            put_item(features, 1, self.volatility)
            put_item(features, 2, self.trade_flow)
            update = BookUpdate.__new__(BookUpdate)  # from its free list, no __init__ call
            update.ts = ts
            update.symbol = symbol
            update.event = ev
            update.book = shown
            update.features = features
            out.append(update)
            if len(reports):
                drain(reports, symbol, out)
        return 0

