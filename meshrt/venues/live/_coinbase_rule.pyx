"""Coinbase's book rule, one home for both feeds: a message's level changes applied in
order, then the crossed-book rule of meshrt/venues/live/crossing.py on the book, and only
then its events out (docs/live.md, "Coinbase").

Compiled: every ``l2update`` of every product passes through here. The adapters
(meshrt/venues/live/coinbase.py) hand it each frame first (``frame``): the common frames,
an Exchange ``l2update`` of a product that is up and a ``snapshot`` of a product of the
table, exactly as Coinbase writes them (compact, keys in its order, every level
``["buy"|"sell","<price>","<size>"]`` or ``["<price>","<size>"]`` with plain number text),
are read without a JSON decoder, their number text to fixed point in C (_kraken_scan.plain,
recorded_fields' reading). Any other frame, or a value that reading leaves, is read in
Python, which hands this rule the parsed changes (``update``) or snapshot (``snapshot``).
"""

cimport cython
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.unicode cimport PyUnicode_Substring
from libc.stdint cimport int64_t

from meshrt.venues.live._coinbase_book cimport CoinbaseBook
from meshrt.venues.live._kraken_scan cimport Text, Value, plain, text_of
from meshrt.venues.live._verdicts cimport feed

from meshrt.contract import Side
from meshrt.venues.events import FEED_DELTA
from meshrt.venues.live.crossing import Crossing
from meshrt.venues.live.verdicts import Resync, Why
from meshrt.venues.recorded_fields import PRICE_PLACES, SIZE_PLACES

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object text) noexcept

cdef object C_BUY = Side.BUY
cdef object C_SELL = Side.SELL
cdef object C_FEED_DELTA = FEED_DELTA
cdef object CLEAR = Crossing.CLEAR
cdef object UNCROSSED = Crossing.UNCROSSED
cdef object CROSSED = Crossing.CROSSED
cdef object CROSSED_WHY = Why.CROSSED
cdef int C_PRICE_PLACES = PRICE_PLACES
cdef int C_SIZE_PLACES = SIZE_PLACES


cdef struct Change:  # one level of a message, in fixed point
    bint bid
    int64_t price, size


cdef enum:  # where a level's side is written
    ASK = 0
    BID = 1
    NAMED = 2  # the level's first field, "buy" or "sell"


# -- the scanner (ASCII text: one byte a character) ------------------------------------------

cdef inline bint lit(const char *s, Py_ssize_t n, Py_ssize_t *i, const char *w) noexcept:
    """The literal ``w`` at ``*i``, stepped over."""
    cdef Py_ssize_t j = i[0]
    while w[0]:
        if j >= n or s[j] != w[0]:
            return False
        j += 1
        w += 1
    i[0] = j
    return True


cdef inline bint string_end(const char *s, Py_ssize_t n, Py_ssize_t *i) noexcept:
    """A JSON string's characters with no escape (nor a control character, which JSON
    refuses), then the closing quote, stepped over."""
    cdef Py_ssize_t j = i[0]
    cdef char c
    while j < n:
        c = s[j]
        if c == b'"':
            i[0] = j + 1
            return True
        if c == b"\\" or <unsigned char>c < 0x20:
            return False
        j += 1
    return False


cdef inline bint value_end(const char *s, Py_ssize_t n, Py_ssize_t *i) noexcept:
    """A value's text up to its closing quote (``plain`` then reads it), stepped over."""
    cdef Py_ssize_t j = i[0]
    while j < n and s[j] != b'"':
        j += 1
    if j == n:
        return False
    i[0] = j + 1
    return True


@cython.final
cdef class Counts:
    """The adapter's running counts (coinbase.Counters names them)."""

    cdef public long long frames, snapshots, level_changes, trades, ignored, dropped
    cdef public long long crossed, gaps, refused, malformed, resyncs


@cython.final
cdef class Rule:
    """The book rule for one connection's products, with their books and the counts."""

    cdef readonly dict symbols  # product -> scenario symbol
    cdef readonly dict books  # product -> CoinbaseBook, only while the product is up
    cdef readonly Counts n
    cdef object clock  # crossing.CrossedClock
    cdef dict since  # the clock's crossed products
    cdef bint scans  # the Exchange feed: its common frames are read here
    cdef Change *changes  # a message's levels, reused message after message
    cdef Py_ssize_t cap

    def __init__(self, dict symbols, clock: object, bint scans) -> None:
        self.symbols = symbols
        self.books = {}
        self.n = Counts()
        self.clock = clock
        self.since = clock.since
        self.scans = scans

    def __dealloc__(self) -> None:
        PyMem_Free(self.changes)

    cdef Change *change(self, Py_ssize_t k) except NULL:
        """The ``k``th level's room."""
        cdef Change *grown
        if k == self.cap:
            grown = <Change *>PyMem_Realloc(self.changes, max(64, 2 * k) * sizeof(Change))
            if grown is NULL:
                raise MemoryError
            self.changes, self.cap = grown, max(64, 2 * k)
        return &self.changes[k]

    def frame(self, text: object, object ts, list out) -> bool:
        """A frame received at ``ts``: counted, the crossings past the grace resynced (into
        ``out``), then, if it is a common frame, read and applied; False when the caller
        must read it (having done nothing more)."""
        self.n.frames += 1
        if self.since:
            for product, detail in self.clock.expired(ts):
                self.down(product, CROSSED_WHY, detail, out)
        if not self.scans or type(text) is not str or not PyUnicode_IS_ASCII(text):
            return False
        cdef Text t
        text_of(text, &t)
        cdef const char *s = <const char *>t.data
        cdef Py_ssize_t i = 0, p0, p1, k, total
        if lit(s, t.n, &i, b'{"type":"l2update","product_id":"'):
            p0 = i
            if not string_end(s, t.n, &i) or not lit(s, t.n, &i, b',"changes":['):
                return False
            p1 = i - 13  # the product's closing quote
            k = self.levels(&t, &i, 0, NAMED, True)
            if k < 0 or not lit(s, t.n, &i, b'],"time":"') or not string_end(s, t.n, &i):
                return False
            if not lit(s, t.n, &i, b"}") or i != t.n:
                return False
            product = PyUnicode_Substring(text, p0, p1)
            book = self.books.get(product)
            if book is None:
                return False  # down, or not ours: Python counts or refuses it
            self.apply(product, <CoinbaseBook>book, k, ts, out)
            return True
        if lit(s, t.n, &i, b'{"type":"snapshot","product_id":"'):
            p0 = i
            if not string_end(s, t.n, &i) or not lit(s, t.n, &i, b',"asks":['):
                return False
            p1 = i - 10  # the product's closing quote
            k = self.levels(&t, &i, 0, ASK, False)
            if k < 0 or not lit(s, t.n, &i, b'],"bids":['):
                return False
            total = self.levels(&t, &i, k, BID, False)
            if total < 0 or not lit(s, t.n, &i, b"]}") or i != t.n:
                return False
            product = PyUnicode_Substring(text, p0, p1)
            if product not in self.symbols:
                return False
            return self.fresh(product, total, ts, out)
        return False

    cdef Py_ssize_t levels(
        self, Text *t, Py_ssize_t *i, Py_ssize_t first, int side, bint zero_ok
    ) except -2:
        """(LEVEL(,LEVEL)*)? from ``*i`` up to the closing bracket (not stepped over),
        stored from ``first``: how many stored in all, -1 if the text is not of that shape
        or has a value the C reading leaves."""
        cdef const char *s = <const char *>t.data
        cdef Py_ssize_t n = t.n, k = first, a
        cdef Value price, size
        cdef Change *c
        cdef bint bid = side == BID
        if i[0] < n and s[i[0]] == b"]":
            return k
        while True:
            if side == NAMED:
                if lit(s, n, i, b'["buy","'):
                    bid = True
                elif lit(s, n, i, b'["sell","'):
                    bid = False
                else:
                    return -1
            elif not lit(s, n, i, b'["'):
                return -1
            a = i[0]
            if not value_end(s, n, i):
                return -1
            if not plain(t, a, i[0] - 1, C_PRICE_PLACES, True, &price):
                return -1
            if not lit(s, n, i, b',"'):
                return -1
            a = i[0]
            if not value_end(s, n, i):
                return -1
            if not plain(t, a, i[0] - 1, C_SIZE_PLACES, not zero_ok, &size):
                return -1
            if not lit(s, n, i, b"]"):
                return -1
            c = self.change(k)
            c.bid, c.price, c.size = bid, price.fixed, size.fixed
            k += 1
            if i[0] < n and s[i[0]] == b"]":
                return k
            if not lit(s, n, i, b","):
                return -1

    def update(self, str product, list rows, object ts, list out) -> None:
        """Apply an up product's parsed changes, ``(side, price, size)`` in fixed point."""
        cdef Py_ssize_t k
        cdef Change *c
        for k in range(len(rows)):
            side, price, size = <tuple>rows[k]
            c = self.change(k)
            c.bid, c.price, c.size = side == C_BUY, price, size
        self.apply(product, <CoinbaseBook>self.books[product], len(rows), ts, out)

    cdef int apply(
        self, str product, CoinbaseBook book, Py_ssize_t k, object ts, list out
    ) except -1:
        """The first ``k`` changes in order, then their events out unless the book is
        crossed (the whole book once it uncrossed)."""
        cdef Py_ssize_t j
        cdef Change *c
        for j in range(k):
            c = &self.changes[j]
            (book.bids if c.bid else book.asks).set(c.price, c.size)
        self.n.level_changes += k
        crossing = self.crossing(product, book, ts)
        if crossing is not CLEAR:
            return self.whole(product, book, crossing, ts, out)
        cdef tuple events = PyTuple_New(k)
        for j in range(k):
            c = &self.changes[j]
            event = (ts, C_FEED_DELTA, C_BUY if c.bid else C_SELL, c.price, c.size)
            Py_INCREF(event)
            PyTuple_SET_ITEM(events, j, event)
        out.append(feed(self.symbols[product], events))
        return 0

    def snapshot(self, str product, dict bids, dict asks, object ts, list out) -> None:
        """A fresh book from a snapshot's price -> size per side (checked: sizes positive,
        no price twice); the product is up."""
        cdef Py_ssize_t k = 0
        cdef Change *c
        for bid, levels in ((True, bids), (False, asks)):
            for price, size in (<dict>levels).items():
                c = self.change(k)
                c.bid, c.price, c.size = bid, price, size
                k += 1
        self.fresh(product, k, ts, out)

    cdef bint fresh(self, str product, Py_ssize_t k, object ts, list out) except -1:
        """A fresh book of the first ``k`` levels, the product up with it; False, having
        done nothing, if a price comes twice (Python refuses the snapshot)."""
        cdef CoinbaseBook book = CoinbaseBook()
        cdef Py_ssize_t j
        cdef Change *c
        for j in range(k):
            c = &self.changes[j]
            if (book.bids if c.bid else book.asks).set(c.price, c.size):
                return False
        self.books[product] = book
        self.n.snapshots += 1
        self.whole(product, book, self.crossing(product, book, ts), ts, out)
        return True

    cdef object crossing(self, str product, CoinbaseBook book, object ts):
        """The clock's verdict on the book after a message (meshrt/venues/live/crossing.py)."""
        cdef bint crossed = book.crossed()
        if not crossed and product not in self.since:  # the clock's CLEAR without the call
            return CLEAR
        return self.clock.check(product, crossed, ts)

    cdef int whole(
        self, str product, CoinbaseBook book, object crossing, object ts, list out
    ) except -1:
        """The whole book out unless crossed (a crossing begun is counted)."""
        if crossing is CLEAR or crossing is UNCROSSED:
            out.append(feed(self.symbols[product], (book.snapshot(ts),)))
        elif crossing is CROSSED:
            self.n.crossed += 1
        return 0

    cpdef down(self, str product, object why, str detail, list out):
        """Drop the product's book until its next snapshot (its crossing, if any, with it)."""
        self.books.pop(product, None)
        self.clock.forget(product)
        self.n.resyncs += 1
        out.append(Resync(self.symbols[product], product, why, detail))
