"""Kraken's book rule, one home for v2 and v1: a book message's levels applied in wire
order, both sides cut to the subscribed depth, the CRC32 of the top 10 compared with the
message's checksum, and only then its events out (docs/live.md, "Kraken").

Compiled: every book message of every pair passes through here. ``KrakenFeed``
(meshrt/venues/live/kraken.py) hands it the common frame as text (``scan``: a v2 book
message of one symbol in Kraken's compact form, read without a JSON decoder) or a
decoded message's levels (``book``). Plain number text (``123.45``) becomes fixed point
and checksum digits in C (_kraken_scan.pyx, with the scanner); any other value goes
through kraken_wire.Values, the rule's home in Python.
"""

cimport cython
from cpython.list cimport PyList_GET_ITEM
from cpython.unicode cimport PyUnicode_Substring
from libc.stdint cimport INT64_MAX, int64_t
from libc.string cimport memcpy

from meshrt.venues.live._kraken_book cimport BookSide, KrakenBook, Precision
from meshrt.venues.live._kraken_scan cimport (
    MAX_TEXT, Frame, Span, Spans, Text, Value, plain, text_of,
)
from meshrt.venues.live._verdicts cimport feed

from meshrt.contract import Side
from meshrt.venues.events import FEED_DELTA
from meshrt.venues.live.crossing import Crossing
from meshrt.venues.live.verdicts import Resync, Why
from meshrt.venues.recorded_fields import PRICE_PLACES, SIZE_PLACES, Bad

cdef extern from "Python.h":
    object PyBytes_FromStringAndSize(const char *v, Py_ssize_t n)

BUY = Side.BUY
SELL = Side.SELL
cdef object C_FEED_DELTA = FEED_DELTA
cdef object CLEAR = Crossing.CLEAR
cdef object UNCROSSED = Crossing.UNCROSSED
cdef object CROSSED = Crossing.CROSSED
cdef object CROSSED_WHY = Why.CROSSED

cdef enum:  # what a level set by slow_level did
    CHANGED = 1
    REMOVED = 2
    FAR = 4


@cython.final
cdef class Counts:
    """The adapter's running counts (kraken_values.KrakenCounts names them)."""

    cdef public long long frames, book_messages, snapshots, updates, checksum_ok
    cdef public long long checksum_bad, level_changes, deletes, truncated, republished
    cdef public long long trades, trade_snapshots_skipped, instruments, refused, malformed
    cdef public long long crossed, resyncs, dropped, heartbeats, unknown_pairs, far_asks


@cython.final
cdef class Pair:
    """One subscribed pair: its book while it is up, and its counts."""

    cdef public object book  # KrakenBook or None
    cdef public str symbol
    cdef public long long snapshots, updates, checksum_ok, resyncs

    def __init__(self, str symbol) -> None:
        self.symbol = symbol
        self.book = None


# -- the rule ----------------------------------------------------------------------------------

@cython.final
cdef class Rule:
    """The book rule for one connection's pairs, with their books and the counts."""

    cdef readonly int depth
    cdef readonly dict pairs  # exchange pair -> Pair
    cdef readonly dict precision  # exchange pair -> Precision, from ``instrument``
    cdef readonly Counts n
    cdef object crossed  # crossing.CrossedClock
    cdef dict since  # the clock's crossed pairs
    cdef object values  # kraken_wire.Values: any text the compiled reading leaves
    cdef dict prices, sizes  # its memos
    cdef Spans spans

    def __init__(self, int depth, dict pairs, crossed: object, values: object) -> None:
        self.depth = depth
        self.pairs = pairs
        self.precision = {}
        self.n = Counts()
        self.crossed = crossed
        self.since = crossed.since
        self.values = values
        self.prices = values.prices
        self.sizes = values.sizes
        self.spans = Spans()

    def frame(self, object text, int64_t ts, list out) -> bool:
        """A frame received at ``ts``: counted, the crossings past the grace resynced (into
        ``out``), then, if it is the common frame (``book_message``'s shape, a JSON
        object), read and applied; False when the caller must read it (having done
        nothing more)."""
        self.n.frames += 1
        if self.since:
            for pair, detail in self.crossed.expired(ts):
                self.resync(self.pairs[pair], pair, CROSSED_WHY, detail, out)
        if type(text) is not str or not text or (<str>text)[0] != "{":
            return False
        cdef Text t
        cdef Frame f
        text_of(<str>text, &t)
        if not self.spans.frame(&t, &f):
            return False
        pair = PyUnicode_Substring(text, f.symbol0, f.symbol1)
        self.message(pair, f.snapshot, None, None, text, &t, f.bids, f.asks, f.checksum, ts, out)
        return True

    def book(
        self, object pair, bint snapshot, list bids, list asks, checksum: int | None,
        int64_t ts, list out
    ) -> None:
        """Apply a decoded book message: levels as (price, qty) wire values."""
        self.message(pair, snapshot, bids, asks, None, NULL, len(bids), len(asks), checksum, ts, out)

    cdef int message(
        self, object pair, bint snapshot, list bids, list asks, str text, Text *t,
        Py_ssize_t n_bids, Py_ssize_t n_asks, object checksum, int64_t ts, list out,
    ) except -1:
        """The rule for one message; ``checksum`` None: nothing to verify (v1 without
        ``c``)."""
        cdef Counts n = self.n
        cdef KrakenBook book
        cdef Pair state
        cdef list events = []
        n.book_messages += 1
        found = self.pairs.get(pair)
        if found is None:
            n.unknown_pairs += 1
            return 0
        state = <Pair>found
        if snapshot:
            state.book = KrakenBook(self.depth, self.precision.get(pair))
            state.snapshots += 1
            n.snapshots += 1
        elif state.book is None:
            n.dropped += 1
            return 0
        else:
            state.updates += 1
            n.updates += 1
        book = <KrakenBook>state.book
        try:
            self.side(True, bids, text, t, 0, n_bids, book, book.bids, snapshot, ts, events)
            self.side(False, asks, text, t, n_bids, n_asks, book, book.asks, snapshot, ts, events)
        except Bad as e:
            n.refused += 1
            self.resync(state, pair, Why.REFUSED, f"{e.field}: {e.reason}", out)
            return 0
        except TypeError as e:  # a level value that is not a number's text (a list, an object)
            n.malformed += 1
            self.resync(state, pair, Why.MALFORMED, f"level: {e}", out)
            return 0
        cdef Py_ssize_t depth = self.depth
        if book.bids.count() > depth or book.asks.count() > depth:
            gone_bids = book.bids.truncate(depth)
            gone_asks = book.asks.truncate(depth)
            n.truncated += len(gone_bids) + len(gone_asks)
            if not snapshot:
                events += [(ts, C_FEED_DELTA, BUY, p, 0) for p in gone_bids]
                events += [(ts, C_FEED_DELTA, SELL, p, 0) for p in gone_asks if p <= INT64_MAX]
        if checksum is not None:
            got = book.checksum()
            if got != checksum:
                n.checksum_bad += 1
                self.resync(state, pair, Why.CHECKSUM, f"{got} != {checksum}", out)
                return 0
            n.checksum_ok += 1
            state.checksum_ok += 1
        cdef bint crossed = book.c_crossed()
        if not crossed and pair not in self.since:
            crossing = CLEAR
        else:
            crossing = self.crossed.check(pair, crossed, ts)
        if crossing is CLEAR:
            if snapshot:
                out.append(feed(state.symbol, (book.snapshot(ts),)))
            elif events:
                out.append(feed(state.symbol, tuple(events)))
        elif crossing is UNCROSSED:
            out.append(feed(state.symbol, (book.snapshot(ts),)))
        elif crossing is CROSSED:
            n.crossed += 1
        return 0

    cdef int side(
        self, bint bid, list levels, str text, Text *t, Py_ssize_t first, Py_ssize_t count,
        KrakenBook book, BookSide book_side, bint snapshot, int64_t ts, list events,
    ) except -1:
        """Set one side's levels in wire order; unless a snapshot, each level that changed
        is counted and becomes an event (but an ask past the contract's range: counted).
        A snapshot's levels of size 0 are not set; of one price, the last one stands."""
        cdef Precision precision = book.precision
        cdef long long changes = 0, deletes = 0, far = 0
        cdef Py_ssize_t k
        cdef Value p, q
        cdef Span *span
        cdef char joined[2 * MAX_TEXT]
        cdef bint p_plain, q_plain
        cdef int change
        cdef Text value_text
        cdef bytes digits
        side = BUY if bid else SELL
        if not count:
            return 0
        for k in range(count):
            # the price, then the qty, read as text: plain text in C, any other in Python
            if levels is None:
                span = &self.spans.spans[first + k]
                p_plain = plain(t, span.p0, span.p1, PRICE_PLACES, True, &p)
                price_value = None if p_plain else text[span.p0 : span.p1]
                q_plain = plain(t, span.q0, span.q1, SIZE_PLACES, False, &q)
                qty_value = None if q_plain else text[span.q0 : span.q1]
            else:
                price_value, qty_value = <tuple>PyList_GET_ITEM(levels, k)
                p_plain = q_plain = False
                if type(price_value) is str:
                    text_of(price_value, &value_text)
                    p_plain = plain(&value_text, 0, value_text.n, PRICE_PLACES, True, &p)
                if type(qty_value) is str:
                    text_of(qty_value, &value_text)
                    q_plain = plain(&value_text, 0, value_text.n, SIZE_PLACES, False, &q)
            if p_plain and q_plain:  # the common level: no Python value made before the set
                if not q.fixed:
                    digits = b""
                elif precision is None:
                    memcpy(joined, p.digits, p.nd)
                    memcpy(joined + p.nd, q.digits, q.nd)
                    digits = PyBytes_FromStringAndSize(joined, p.nd + q.nd)
                else:
                    digits = precision.digits64(p.fixed, q.fixed)
                if snapshot:
                    if q.fixed:
                        book_side.set(p.fixed, q.fixed, digits)
                    continue
                if not book_side.set(p.fixed, q.fixed, digits):
                    continue
                changes += 1
                deletes += not q.fixed
                events.append((ts, C_FEED_DELTA, side, p.fixed, q.fixed))
                continue
            change = self.slow_level(
                bid, side, price_value, qty_value, p_plain, &p, q_plain, &q, book_side,
                precision, snapshot, ts, events,
            )
            if change:
                changes += 1
                deletes += (change & REMOVED) != 0
                far += (change & FAR) != 0
        if changes:
            self.n.level_changes += changes
            self.n.deletes += deletes
            self.n.far_asks += far
        return 0

    cdef int slow_level(
        self, bint bid, object side, object price_value, object qty_value, bint p_plain,
        Value *p, bint q_plain, Value *q, BookSide book_side, Precision precision,
        bint snapshot, int64_t ts, list events,
    ) except -1:
        """A level with a value the C reading left, in Python objects: 0 if nothing
        changed, else CHANGED with REMOVED (size 0) and FAR (an ask past the contract's
        range) as they apply."""
        if p_plain:
            fixed, p_digits = p.fixed, p.digits[: p.nd].decode("ascii")
        else:
            prices = self.prices
            entry = prices.get(price_value) or self.values.price(price_value)
            fixed, p_digits = entry
        if q_plain:
            size, q_digits = q.fixed, q.digits[: q.nd].decode("ascii")
        else:
            sizes = self.sizes
            entry = sizes.get(qty_value) or self.values.size(qty_value)
            size, q_digits = entry
        cdef bint far = fixed > INT64_MAX
        if far and bid:
            raise Bad("price", f"bid {price_value} does not fit 64-bit fixed point")
        if not size:
            digits = b""
        elif precision is None:
            digits = (p_digits + q_digits).encode("ascii")
        else:
            digits = precision.c_digits(fixed, size)
        if snapshot:
            if size:
                book_side.set_far(fixed, size, digits) if far else book_side.set(fixed, size, digits)
            return 0
        if not (book_side.set_far(fixed, size, digits) if far else book_side.set(fixed, size, digits)):
            return 0
        if not far:
            events.append((ts, C_FEED_DELTA, side, fixed, size))
        return CHANGED | (0 if size else REMOVED) | (FAR if far else 0)

    cpdef resync(self, Pair state, str pair, object why, str detail, list out):
        """Drop the pair's book until its next snapshot (its crossing, if any, with it)."""
        state.book = None
        self.crossed.forget(pair)
        state.resyncs += 1
        self.n.resyncs += 1
        out.append(Resync(state.symbol, pair, why, detail))
