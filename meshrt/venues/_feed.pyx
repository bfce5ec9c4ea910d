"""The venue's feed loop: ``play`` applies one symbol's feed events to its displayed book
(_book.pyx) and emits the venue's outputs (meshrt/venues/outputs.py).

Compiled because it runs once per feed event. It reads the book's levels and calls its
``put`` at C level (declared in _book.pxd), keeps the online features in int64 locals
(the rules of meshrt.venues.features.FeatureTracker) and builds each output at one
allocation.
"""

from cpython.long cimport PyLong_AsLong
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_SET_ITEM
from libc.stdint cimport int64_t

from meshrt.venues._book cimport L2Book, _Side, as_int64
from meshrt.venues._outputs cimport BookUpdate

# The constants and output types have their one home in Python; the compiled loop reads
# them once, here.
from meshrt.contract import Side
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE
from meshrt.venues.outputs import OrderReport, TradePrint

cdef extern from "Python.h":
    # Only the allocator slot of a type: a NamedTuple (Book, Features, TradePrint,
    # OrderReport) is built without its Python-level __new__, as tuple.__new__ itself
    # does, at one allocation.
    ctypedef struct _TupleType "PyTypeObject":
        object (*tp_alloc)(_TupleType *, Py_ssize_t)

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


cdef inline int64_t mid_of(int64_t bid, int64_t ask) noexcept nogil:
    """The mid rule, meshrt.contract.mid_price: floor((bid + ask) / 2), without the int64
    overflow of bid + ask (a + b == 2 * (a & b) + (a ^ b)). tests/test_book.py checks the
    two agree on random feeds with prices up to the int64 limit."""
    return (bid & ask) + ((bid ^ ask) >> 1)


cdef inline object new_tuple_of(type cls, Py_ssize_t n):
    """An empty instance of a tuple subclass (a NamedTuple), filled by the caller."""
    return (<_TupleType *>cls).tp_alloc(<_TupleType *>cls, n)


cdef inline void put_item(object t, Py_ssize_t i, object v) noexcept:
    Py_INCREF(v)  # PyTuple_SET_ITEM steals a reference
    PyTuple_SET_ITEM(t, i, v)


cdef inline object output3(type cls, object ts, object symbol, object value):
    """A TradePrint or OrderReport (ts, symbol, event or report)."""
    out = new_tuple_of(cls, 3)
    put_item(out, 0, ts)
    put_item(out, 1, symbol)
    put_item(out, 2, value)
    return out


cdef int drain(list reports, object symbol, list out) except -1:
    """Move the engine's reports into ``out`` as OrderReports."""
    cdef Py_ssize_t i, n = len(reports)
    for i in range(n):
        report = reports[i]
        if not isinstance(report, tuple) or len(<tuple>report) < 1:
            raise TypeError(f"engine report {report!r} is not a venue report")
        out.append(output3(T_REPORT, (<tuple>report)[0], symbol, report))
    del reports[:n]
    return 0


def play(L2Book book not None, engine, tracker, list events not None, Py_ssize_t start,
         Py_ssize_t stop, symbol, str symbol_name, str venue_name, list out not None,
         type book_type not None, type features_type not None):
    """The venue's feed loop for one symbol (see meshrt/actors/venue.py): apply
    events[start:stop] and append the venue's output for each, with the engine's reports
    after the event that caused them.

    Compiled because it runs once per feed event. It keeps the online features in int64
    locals between the tracker's read and write-back (the rules of
    meshrt.venues.features.FeatureTracker, checked against them by a test), and leaves
    every resting-order decision to the Python engine, which it calls only when the book
    says an event can reach an order.
    """
    if start < 0 or stop > len(events):
        raise IndexError("play: events range out of bounds")
    if not (issubclass(book_type, tuple) and issubclass(features_type, tuple)):
        raise TypeError("play: book_type and features_type must be tuple types")
    cdef int64_t last_mid = as_int64(tracker.last_mid, "feature")
    cdef int64_t volatility = as_int64(tracker.volatility, "feature")
    cdef int64_t flow = as_int64(tracker.trade_flow, "feature")
    engine_reports = engine.reports
    if not isinstance(engine_reports, list):
        raise TypeError("engine.reports must be a list")
    cdef list reports = engine_reports
    cdef _Side bids = book.bids_, asks = book.asks_
    cdef Py_ssize_t k, depth = book.depth
    cdef long kind, side
    cdef int64_t qty, mid
    cdef tuple ev
    cdef BookUpdate update
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
                engine.apply_trade(ts, side_obj, price, size)
                qty = as_int64(size, "trade size")
                if (add_overflow(flow, qty, &flow) if side == BUY
                        else sub_overflow(flow, qty, &flow)):
                    raise OverflowError(f"{venue_name} {symbol_name}: trade flow overflows int64")
                out.append(output3(T_TRADE, ts, symbol, ev))
                if len(reports):
                    drain(reports, symbol, out)
                continue
            if book.put(side, price, size):
                engine.after_delta(ts, side_obj, price, size)
        elif kind == K_SNAPSHOT:
            engine.apply_snapshot(ts, ev[2], ev[3])
        else:
            raise ValueError(f"feed event {ev!r}: unknown kind {kind}")
        bids.view(depth)
        asks.view(depth)
        # the feature rules of meshrt.venues.features.FeatureTracker.on_book
        flow -= flow >> 5
        if bids.n and asks.n:
            mid = mid_of(bids.px[0], asks.px[0])
            if last_mid:
                volatility += ((mid - last_mid if mid >= last_mid else last_mid - mid)
                               - volatility) >> 4
            last_mid = mid
        shown = new_tuple_of(book_type, 7)
        put_item(shown, 0, ts)
        put_item(shown, 1, symbol_name)
        put_item(shown, 2, venue_name)
        put_item(shown, 3, bids.view_px)
        put_item(shown, 4, bids.view_sz)
        put_item(shown, 5, asks.view_px)
        put_item(shown, 6, asks.view_sz)
        features = new_tuple_of(features_type, 3)
        put_item(features, 0, shown)
        put_item(features, 1, volatility)
        put_item(features, 2, flow)
        update = BookUpdate.__new__(BookUpdate)  # from its free list, no __init__ call
        update.ts = ts
        update.symbol = symbol
        update.event = ev
        update.book = shown
        update.features = features
        out.append(update)
        if len(reports):
            drain(reports, symbol, out)
    tracker.last_mid = last_mid
    tracker.volatility = volatility
    tracker.trade_flow = flow
