"""Coinbase's book rule, one home for both feeds: a message's level changes applied in
order, then the crossed-book rule of meshrt/venues/live/crossing.py on the book, and only
then its events out (docs/live.md, "Coinbase").

Compiled: every ``l2update`` of every product passes through here. ``ExchangeFeed``
(meshrt/venues/live/coinbase.py) hands it each frame's text first (``scan``): the common
frame, an ``l2update`` of a product that is up, exactly as Coinbase writes it (compact,
keys in its order, every change ``["buy"|"sell","<price>","<size>"]`` with plain number
text), is read without a JSON decoder, its number text to fixed point in C
(_kraken_scan.plain, recorded_fields' reading); any other frame is read in Python, which
hands this rule the parsed changes (``update``) or a snapshot's levels (``snapshot``).
"""

cimport cython
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.unicode cimport PyUnicode_Substring
from libc.stdint cimport int64_t

from meshrt.venues.live._coinbase_book cimport BookSide, CoinbaseBook
from meshrt.venues.live._kraken_scan cimport Text, Value, plain, text_of

from meshrt.contract import Side
from meshrt.venues.events import FEED_DELTA
from meshrt.venues.live.crossing import Crossing
from meshrt.venues.live.verdicts import Feed, Resync
from meshrt.venues.recorded_fields import PRICE_PLACES, SIZE_PLACES

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object text) noexcept

BUY = Side.BUY
SELL = Side.SELL
cdef object C_BUY = BUY
cdef object C_SELL = SELL
cdef object C_FEED_DELTA = FEED_DELTA
cdef object CLEAR = Crossing.CLEAR
cdef object UNCROSSED = Crossing.UNCROSSED
cdef object CROSSED = Crossing.CROSSED
cdef int C_PRICE_PLACES = PRICE_PLACES
cdef int C_SIZE_PLACES = SIZE_PLACES


cdef struct Change:  # one level change of a message, in fixed point
    bint bid
    int64_t price, size


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
    cdef Change *changes  # a message's changes, reused message after message
    cdef Py_ssize_t cap

    def __init__(self, dict symbols, clock: object) -> None:
        self.symbols = symbols
        self.books = {}
        self.n = Counts()
        self.clock = clock
        self.since = clock.since

    def __dealloc__(self) -> None:
        PyMem_Free(self.changes)

    cdef Change *change(self, Py_ssize_t k) except NULL:
        """The ``k``th change's room."""
        cdef Change *grown
        if k == self.cap:
            grown = <Change *>PyMem_Realloc(self.changes, max(64, 2 * k) * sizeof(Change))
            if grown is NULL:
                raise MemoryError
            self.changes, self.cap = grown, max(64, 2 * k)
        return &self.changes[k]

    def scan(self, str text, object ts, list out) -> bool:
        """Read and apply ``text`` if it is the common frame; False, having done nothing,
        for any other frame (or one whose product is not up, or a value the C reading
        leaves): the caller reads it in Python."""
        cdef Text t
        cdef Value price, size
        cdef Py_ssize_t i = 0, k = 0, p0, p1, a, b
        cdef Change *c
        cdef bint bid
        if not PyUnicode_IS_ASCII(text):
            return False
        text_of(text, &t)
        cdef const char *s = <const char *>t.data
        cdef Py_ssize_t n = t.n
        if not lit(s, n, &i, b'{"type":"l2update","product_id":"'):
            return False
        p0 = i
        if not string_end(s, n, &i):
            return False
        p1 = i - 1
        if not lit(s, n, &i, b',"changes":['):
            return False
        while i < n and s[i] != b"]":
            if lit(s, n, &i, b'["buy","'):
                bid = True
            elif lit(s, n, &i, b'["sell","'):
                bid = False
            else:
                return False
            a = i
            if not value_end(s, n, &i):
                return False
            b = i - 1
            if not plain(&t, a, b, C_PRICE_PLACES, True, &price):
                return False
            if not lit(s, n, &i, b',"'):
                return False
            a = i
            if not value_end(s, n, &i):
                return False
            if not plain(&t, a, i - 1, C_SIZE_PLACES, False, &size):
                return False
            if not lit(s, n, &i, b"]"):
                return False
            c = self.change(k)
            c.bid, c.price, c.size = bid, price.fixed, size.fixed
            k += 1
            if i < n and s[i] == b",":
                i += 1
                if i < n and s[i] == b"]":
                    return False  # a trailing comma
            elif i < n and s[i] != b"]":
                return False
        if not lit(s, n, &i, b'],"time":"') or not string_end(s, n, &i):
            return False
        if not lit(s, n, &i, b"}") or i != n:
            return False
        product = PyUnicode_Substring(text, p0, p1)
        book = self.books.get(product)
        if book is None:
            return False
        self.apply(product, <CoinbaseBook>book, k, ts, out)
        return True

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
        cdef bint crossed = book.crossed()
        if not crossed and product not in self.since:  # the clock's CLEAR without the call
            crossing = CLEAR
        else:
            crossing = self.clock.check(product, crossed, ts)
        if crossing is not CLEAR:
            return self.whole(product, book, crossing, ts, out)
        cdef list events = []
        for j in range(k):
            c = &self.changes[j]
            events.append((ts, C_FEED_DELTA, C_BUY if c.bid else C_SELL, c.price, c.size))
        out.append(Feed(self.symbols[product], tuple(events)))
        return 0

    def snapshot(self, str product, dict bids, dict asks, object ts, list out) -> None:
        """A fresh book from a snapshot's price -> size per side; the product is up."""
        cdef CoinbaseBook book = CoinbaseBook(bids, asks)
        self.books[product] = book
        self.n.snapshots += 1
        cdef bint crossed = book.crossed()
        if not crossed and product not in self.since:
            crossing = CLEAR
        else:
            crossing = self.clock.check(product, crossed, ts)
        self.whole(product, book, crossing, ts, out)

    cdef int whole(
        self, str product, CoinbaseBook book, object crossing, object ts, list out
    ) except -1:
        """The whole book out unless crossed (a crossing begun is counted)."""
        if crossing is CLEAR or crossing is UNCROSSED:
            out.append(Feed(self.symbols[product], (book.snapshot(ts),)))
        elif crossing is CROSSED:
            self.n.crossed += 1
        return 0

    cpdef down(self, str product, object why, str detail, list out):
        """Drop the product's book until its next snapshot (its crossing, if any, with it)."""
        self.books.pop(product, None)
        self.clock.forget(product)
        self.n.resyncs += 1
        out.append(Resync(self.symbols[product], product, why, detail))
