"""The displayed L2 book of one symbol on a simulated venue.

Every book update of every run passes through here, so it is compiled: ``L2Book`` holds
the feed's displayed levels (best first) and caches each side's top-``depth`` view as
tuples until a level inside the view changes. The venue's feed loop (``VenueSymbol`` in
_feed.pyx) drives it at C level through _book.pxd. What the book does not decide is
the matching engine's (meshrt/venues/_matching.pyx): it owns the resting algo
orders and is called only when an event can reach one (a trade print, a snapshot, or a
level change at a resting price or through the best resting price on the other side).

Each side is stored worst first, its best level last: most changes are at or near the
best, and an insert or removal moves only the levels better than it (best first, a
change at the top of a 1,000-level side moved all of them). Levels keep the feed's own
int objects (in lists) beside an int64 copy (in C arrays):
the binary search and the "does this reach a resting order" tests run on the int64s,
and a view is built from the lists with reference increments only, so the book never
allocates an int per level.
"""

cimport cython
from cpython.long cimport PyLong_AsLong
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.list cimport PyList_GET_ITEM
from cpython.object cimport PyObject
from cpython.ref cimport Py_XINCREF
from cpython.tuple cimport PyTuple_New
from libc.stdint cimport INT64_MAX, int64_t
from libc.string cimport memmove

# Sides have their one home in Python; the compiled book reads them once, here.
from meshrt.contract import Side

cdef extern from "Python.h":
    # PyTuple_SET_ITEM on a borrowed pointer the caller has already increfed.
    void tuple_set_item "PyTuple_SET_ITEM"(object t, Py_ssize_t i, PyObject *v) noexcept

cdef long BUY = Side.BUY
cdef long SELL = Side.SELL

# Best resting prices when a side has no resting order (the matching engine imports
# these): no valid price (> 0) is <= NO_BUY, and a level at NO_SELL (INT64_MAX) only
# costs a needless engine call.
NO_BUY = 0
NO_SELL = INT64_MAX
cdef int64_t C_NO_BUY = NO_BUY
cdef int64_t C_NO_SELL = NO_SELL


cdef int64_t too_big(object value, str what) except? -1:
    raise OverflowError(f"{what} {value!r} does not fit in int64")


cdef inline bint parse_side(object side) except -1:
    """True for BUY, False for SELL; anything else is refused."""
    cdef long s = PyLong_AsLong(side)  # as the C API reads it: __index__ included
    if s != BUY and s != SELL:
        raise ValueError(f"book side {s} is neither BUY ({BUY}) nor SELL ({SELL})")
    return s == BUY


cdef tuple view_of(list values, Py_ssize_t m):
    """The last ``m`` of values, last first, as a tuple (the best levels, best first), at
    one allocation and one reference increment per item (a slice would allocate twice;
    an object-typed loop variable would add an increment and a decrement per item)."""
    cdef tuple view = PyTuple_New(m)
    cdef Py_ssize_t i, last = len(values) - 1
    cdef PyObject *v
    for i in range(m):
        v = PyList_GET_ITEM(values, last - i)  # borrowed
        Py_XINCREF(v)  # the tuple's own reference
        tuple_set_item(view, i, v)  # steals it
    return view


@cython.final
cdef class _Side:
    """One side's levels, worst first: bids ascending, asks descending (fields, and the
    inline ``find``, ``top`` and ``drop_view``, in _book.pxd)."""

    def __cinit__(self, bint bids):
        self.bids = bids
        self.pxo = []
        self.szo = []

    def __dealloc__(self):
        PyMem_Free(self.px)
        PyMem_Free(self.sz)

    cdef int reserve(self, Py_ssize_t need) except -1:
        if need <= self.cap:
            return 0
        cdef Py_ssize_t cap = self.cap if self.cap else 32
        while cap < need:
            cap *= 2
        cdef int64_t *px = <int64_t *>PyMem_Realloc(self.px, cap * sizeof(int64_t))
        if px == NULL:
            raise MemoryError()
        self.px = px
        cdef int64_t *sz = <int64_t *>PyMem_Realloc(self.sz, cap * sizeof(int64_t))
        if sz == NULL:
            raise MemoryError()
        self.sz = sz
        self.cap = cap
        return 0

    cdef void remove(self, Py_ssize_t i) noexcept:
        cdef Py_ssize_t tail = self.n - i - 1
        memmove(self.px + i, self.px + i + 1, tail * sizeof(int64_t))
        memmove(self.sz + i, self.sz + i + 1, tail * sizeof(int64_t))
        del self.pxo[i]
        del self.szo[i]
        self.n -= 1

    cdef int insert(self, Py_ssize_t i, int64_t price, int64_t size, object price_obj,
                    object size_obj) except -1:
        self.reserve(self.n + 1)
        cdef Py_ssize_t tail = self.n - i
        memmove(self.px + i + 1, self.px + i, tail * sizeof(int64_t))
        memmove(self.sz + i + 1, self.sz + i, tail * sizeof(int64_t))
        self.px[i] = price
        self.sz[i] = size
        self.pxo.insert(i, price_obj)
        self.szo.insert(i, size_obj)
        self.n += 1
        return 0

    cdef int view(self, Py_ssize_t depth) except -1:
        cdef Py_ssize_t m = self.n if self.n < depth else depth
        if self.view_px is None:
            self.view_px = view_of(self.pxo, m)
        if self.view_sz is None:
            self.view_sz = view_of(self.szo, m)
        return 0

    cdef int check(self, list prices, list sizes) except -1:
        """Refuse levels that are not int64, not > 0 in size or not best first."""
        cdef Py_ssize_t i, n = len(prices)
        cdef int64_t price, size, last = 0
        if len(sizes) != n:
            raise ValueError("book prices and sizes differ in length")
        for i in range(n):
            price = as_int64(prices[i], "price")
            size = as_int64(sizes[i], "size")
            if size <= 0 or (i and ((price >= last) if self.bids else (price <= last))):
                raise ValueError(f"book level {i} ({price}, {size}) is empty or out of order")
            last = price
        return 0

    cdef int fill(self, list prices, list sizes) except -1:
        """Replace the levels with checked ones (given best first)."""
        cdef Py_ssize_t i, n = len(prices)
        self.reserve(n)
        self.pxo = prices[::-1]
        self.szo = sizes[::-1]
        for i in range(n):
            self.px[i] = as_int64(self.pxo[i], "price")
            self.sz[i] = as_int64(self.szo[i], "size")
        self.n = n
        self.drop_view()
        return 0

    cdef tuple levels(self):
        """(prices, sizes), best first."""
        return (self.pxo[::-1], self.szo[::-1])


@cython.final
cdef class L2Book:
    """L2Book(buys, sells, depth): the displayed levels of one symbol, best first.

    buys/sells are the matching engine's resting orders by price; the book reads them
    to say when a level change reaches one (fields in _book.pxd).
    """

    def __cinit__(self, buys, sells, Py_ssize_t depth):
        if not isinstance(buys, dict) or not isinstance(sells, dict):
            raise TypeError("L2Book(buys, sells, depth): buys and sells must be dicts")
        if depth < 0:
            raise ValueError("book view depth must be >= 0")
        self.bids_ = _Side(True)
        self.asks_ = _Side(False)
        self.depth = depth
        self.buy_max = C_NO_BUY
        self.sell_min = C_NO_SELL
        self.buys = buys
        self.sells = sells

    cdef int put(self, long side, object price_obj, object size_obj) except -1:
        """Set one displayed level (size <= 0 removes it). 1 when resting algo orders may
        be affected (the engine must look), else 0."""
        if side != BUY and side != SELL:
            raise ValueError(f"book side {side} is neither BUY ({BUY}) nor SELL ({SELL})")
        cdef int64_t price = as_int64(price_obj, "price")
        cdef int64_t size = as_int64(size_obj, "size")
        cdef bint bids = side == BUY
        cdef _Side s = self.bids_ if bids else self.asks_
        cdef Py_ssize_t i = s.find(price)
        if i < s.n and s.px[i] == price:
            # the levels better than this one are i + 1 .. n - 1
            if size > 0:
                s.szo[i] = size_obj
                s.sz[i] = size
                if s.n - 1 - i < self.depth:
                    s.view_sz = None
            else:
                if s.n - 1 - i < self.depth:
                    s.drop_view()
                s.remove(i)
        elif size > 0:
            if s.n - i < self.depth:  # i .. n - 1 are better than the new level
                s.drop_view()
            s.insert(i, price, size, price_obj, size_obj)
        # a queue at this price shrinks, or the level now crosses the other side's orders
        if bids:
            if size > 0 and price >= self.sell_min:
                return 1
            return self.buy_max != C_NO_BUY and price_obj in self.buys
        if size > 0 and price <= self.buy_max:
            return 1
        return self.sell_min != C_NO_SELL and price_obj in self.sells

    def set(self, side, price, size):
        """Set one level (size <= 0 removes it); True when resting algo orders may be
        affected (a resting price, or a cross)."""
        return self.put(PyLong_AsLong(side), price, size) == 1

    cdef int load_levels(self, bp, bs, ap, asz) except -1:
        """Replace both sides with normalised levels (sorted best first, sizes > 0), or
        change nothing and raise."""
        cdef list lbp = list(bp), lbs = list(bs), lap = list(ap), las = list(asz)
        self.bids_.check(lbp, lbs)
        self.asks_.check(lap, las)
        self.bids_.fill(lbp, lbs)
        self.asks_.fill(lap, las)
        return 0

    def load(self, bid_prices, bid_sizes, ask_prices, ask_sizes):
        """Replace both sides, best first."""
        self.load_levels(bid_prices, bid_sizes, ask_prices, ask_sizes)

    def top(self):
        """(bid prices, bid sizes, ask prices, ask sizes) of the top ``depth`` levels."""
        self.bids_.view(self.depth)
        self.asks_.view(self.depth)
        return (self.bids_.view_px, self.bids_.view_sz, self.asks_.view_px,
                self.asks_.view_sz)

    def best(self, side):
        """(price, size) of the best level of ``side``, or None."""
        cdef _Side s = self.bids_ if parse_side(side) else self.asks_
        if not s.n:
            return None
        return (s.pxo[s.top()], s.szo[s.top()])

    def size_at(self, side, price):
        """The displayed size at exactly ``price`` (0 if none)."""
        cdef _Side s = self.bids_ if parse_side(side) else self.asks_
        cdef int64_t p = as_int64(price, "price")
        cdef Py_ssize_t i = s.find(p)
        if i < s.n and s.px[i] == p:
            return s.szo[i]
        return 0

    cdef object take_best(self, _Side s, int64_t qty, int64_t *left):
        """Take ``qty`` from the best level of side ``s`` (it must have one); the level
        goes at 0. Returns its price object, ``*left`` what is left (<= 0: it went)."""
        cdef Py_ssize_t best = s.top()
        price_obj = s.pxo[best]
        left[0] = s.sz[best] - qty
        if left[0] > 0:
            s.szo[best] = left[0]
            s.sz[best] = left[0]
            s.view_sz = None
        else:
            s.remove(best)
            s.drop_view()
        return price_obj

    def consume_best(self, side, qty):
        """Take ``qty`` from the best level of ``side``; the level goes at 0. Returns what
        is left there (<= 0 when the level went)."""
        cdef _Side s = self.bids_ if parse_side(side) else self.asks_
        cdef int64_t q = as_int64(qty, "qty"), left
        if not s.n:
            raise ValueError("consume_best on an empty side")
        self.take_best(s, q, &left)
        return left

    def levels(self, side):
        """(prices, sizes) lists of ``side``, best first."""
        return (self.bids_ if parse_side(side) else self.asks_).levels()

    def __reduce__(self):
        return (L2Book, (self.buys, self.sells, self.depth),
                (self.bids_.levels(), self.asks_.levels(), self.buy_max, self.sell_min))

    def __setstate__(self, state):
        bids, asks, buy_max, sell_min = state
        bp, bs = bids
        ap, asz = asks
        self.load_levels(bp, bs, ap, asz)
        self.buy_max = buy_max
        self.sell_min = sell_min
