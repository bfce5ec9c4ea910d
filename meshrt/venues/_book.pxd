# The displayed book's C-level face: the feed loop (_feed.pyx) reads the levels and calls
# put() and view() without going through Python; as_int64 is shared by both (inline).

cimport cython
from cpython.long cimport PyLong_AsLongLongAndOverflow
from libc.stdint cimport int64_t


cdef int64_t too_big(object value, str what) except? -1


cdef inline int64_t as_int64(object value, str what) except? -1:
    """``value`` as an int64, or OverflowError naming what it is (inlined: every level
    change converts two ints; the error path stays out of line, in _book.pyx)."""
    cdef int overflow = 0
    cdef long long v = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow:
        return too_big(value, what)
    return v


@cython.final
cdef class _Side:
    # levels worst first, the best at ``top()``: the levels that change most are near
    # the best, so an insert or removal there moves only the few levels better than it
    cdef int64_t *px
    cdef int64_t *sz
    cdef list pxo, szo  # the same values as the feed's int objects
    cdef Py_ssize_t n, cap
    cdef bint bids
    # cached top-`depth` tuples, or None; a size change keeps the prices tuple, so a
    # subscriber that packs a book (the compiled loaders) repacks only what changed
    cdef tuple view_px, view_sz

    cdef int reserve(self, Py_ssize_t need) except -1
    cdef void remove(self, Py_ssize_t i) noexcept
    cdef int insert(self, Py_ssize_t i, int64_t price, int64_t size, object price_obj,
                    object size_obj) except -1
    cdef int view(self, Py_ssize_t depth) except -1
    cdef int check(self, list prices, list sizes) except -1
    cdef int fill(self, list prices, list sizes) except -1
    cdef tuple levels(self)

    # inline, so their bodies live here: every level change calls them
    cdef inline void drop_view(self) noexcept:
        self.view_px = None
        self.view_sz = None

    cdef inline Py_ssize_t find(self, int64_t price) noexcept:
        """Where ``price`` is, or goes: the first index whose price is not worse."""
        cdef Py_ssize_t lo = 0, hi = self.n, mid
        while lo < hi:
            mid = (lo + hi) >> 1
            if (self.px[mid] < price) if self.bids else (self.px[mid] > price):
                lo = mid + 1
            else:
                hi = mid
        return lo

    cdef inline Py_ssize_t top(self) noexcept:
        """The best level's index (the side must have one)."""
        return self.n - 1


@cython.final
cdef class L2Book:
    cdef _Side bids_, asks_
    cdef readonly Py_ssize_t depth  # levels per side in top()
    cdef public long long buy_max  # best resting algo buy price (NO_BUY: none)
    cdef public long long sell_min  # best resting algo sell price (NO_SELL: none)
    cdef object buys, sells  # the engine's resting orders: price -> orders (dicts)

    cdef int put(self, long side, object price_obj, object size_obj) except -1
    cdef object take_best(self, _Side s, int64_t qty, int64_t *left)
    cdef int load_levels(self, bp, bs, ap, asz) except -1
