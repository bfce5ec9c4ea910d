"""Kraken's book for one pair: sorted levels, truncation to depth, and the CRC32 checksum.

Shared by the v2 and v1 readers (meshrt/venues/live/kraken.py, through the compiled rule
of _kraken_rule.pyx). Compiled: every book message of every pair is applied here. Each
side keeps its prices (negated for bids, so best first is ascending) and sizes in a C
array, with each level's checksum digits (price then qty, ``.`` removed, leading zeros
stripped) as bytes made once when the level is set, so the checksum after a message is
a CRC over the top 10 of each side, and only when one of them changed.
The digits come from the wire's number text (Kraken: "pushed onto the wire containing
full precision"), or, once the pair's precision is known from the ``instrument`` channel,
from the fixed-point value formatted to that precision, which equals the wire text when it
is full precision and also holds when the text was re-serialized through a float
(``0.566`` for 0.5660): docs/live.md, "Kraken".

An ask beyond the contract's int64 price (docs/live.md: kept so truncation and the
checksum stay exact, never delivered) is the last of its side: such asks are kept apart,
in a short Python list after the C arrays.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_SIZE
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.stdint cimport INT64_MAX, int64_t, uint32_t
from libc.stdio cimport snprintf
from libc.string cimport memmove

from bisect import bisect_left

from meshrt.contract import PRICE_SCALE, SIZE_SCALE
from meshrt.venues.events import FEED_SNAPSHOT
from meshrt.venues.recorded_fields import PRICE_PLACES, SIZE_PLACES, Bad

DEPTHS = (10, 25, 100, 500, 1000)

cdef uint32_t CRC_TABLE[256]


cdef void _crc_table() noexcept:
    cdef uint32_t c
    cdef int i, k
    for i in range(256):
        c = i
        for k in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        CRC_TABLE[i] = c


_crc_table()


cdef inline uint32_t crc_update(uint32_t crc, bytes data) noexcept:
    """zlib's CRC32 continued over ``data`` (``crc`` is the running value, not inverted)."""
    cdef const unsigned char *p = <const unsigned char *>PyBytes_AS_STRING(data)
    cdef Py_ssize_t i, m = PyBytes_GET_SIZE(data)
    crc = ~crc
    for i in range(m):
        crc = CRC_TABLE[(crc ^ p[i]) & 0xFF] ^ (crc >> 8)
    return ~crc


def raw_digits(text: str) -> str:
    """A number's wire text as the checksum wants it: ``.`` removed, leading zeros stripped."""
    return text.replace(".", "").lstrip("0")


@cython.final
cdef class Precision:
    """A pair's price and qty decimals: fixed point to checksum digits, exactly or refused."""

    def __init__(self, int price_dp, int qty_dp) -> None:
        if not (0 <= price_dp <= PRICE_PLACES and 0 <= qty_dp <= SIZE_PLACES):
            raise Bad("precision", f"{price_dp}/{qty_dp} decimals exceed the contract's")
        self.price_dp = price_dp
        self.qty_dp = qty_dp
        self.price_unit = PRICE_SCALE // 10**price_dp
        self.qty_unit = SIZE_SCALE // 10**qty_dp

    def digits(self, price: int, size: int) -> str:
        """Formatted to the precision, then ``.`` removed and leading zeros stripped."""
        return self.c_digits(price, size).decode("ascii")

    cdef bytes c_digits(self, object price, int64_t size):
        if price <= INT64_MAX:
            return self.digits64(price, size)
        p_whole, p_rest = divmod(price, self.price_unit)  # a far ask: Python ints
        if p_rest:
            raise Bad("price", f"{price} (fixed point) has more than {self.price_dp} decimals")
        if size % self.qty_unit:
            raise Bad("qty", f"{size} (fixed point) has more than {self.qty_dp} decimals")
        return f"{p_whole}{size // self.qty_unit}".encode("ascii")

    cdef bytes digits64(self, int64_t price, int64_t size):
        cdef char buf[48]
        if price % self.price_unit:
            raise Bad("price", f"{price} (fixed point) has more than {self.price_dp} decimals")
        if size % self.qty_unit:
            raise Bad("qty", f"{size} (fixed point) has more than {self.qty_dp} decimals")
        snprintf(buf, sizeof(buf), "%lld%lld", <long long>(price // self.price_unit),
                 <long long>(size // self.qty_unit))
        return buf


@cython.final
cdef class BookSide(Levels):
    """One side: prices best first with their sizes and checksum digits (the levels'
    array: _levels.pyx)."""

    def __cinit__(self, int64_t sign) -> None:
        self.far = []
        self.changed = True

    def __dealloc__(self) -> None:
        cdef Py_ssize_t i
        for i in range(self.lo, self.lo + self.n):
            Py_XDECREF(self.lv[i].digits)

    cdef bint set(self, int64_t price, int64_t size, bytes digits) except -1:
        """Set or (size 0) remove a level; False when removing a level that is not there."""
        cdef int64_t key = price * self.sign
        cdef Py_ssize_t at = self.find(key)
        cdef Level *lv = self.lv + self.lo + at
        cdef bint there = at < self.n and lv.key == key
        cdef PyObject *old
        if size:
            if there:
                old = lv.digits
                if at < CHECKSUM_LEVELS and <bytes>old != digits:
                    self.changed = True
                Py_INCREF(digits)
                lv.digits = <PyObject *>digits
                lv.size = size
                Py_XDECREF(old)
                return True
            lv = self.open_at(at)
            Py_INCREF(digits)
            lv.key = key
            lv.size = size
            lv.digits = <PyObject *>digits
            if at < CHECKSUM_LEVELS:
                self.changed = True
            return True
        if not there:
            return False
        Py_XDECREF(lv.digits)
        self.close_at(at)
        if at < CHECKSUM_LEVELS:
            self.changed = True
        return True

    cdef bytes digits_at(self, Py_ssize_t i):
        return <bytes>self.lv[self.lo + i].digits

    cdef bint set_far(self, object price, int64_t size, bytes digits) except -1:
        """``set`` for an ask past the int64 price: after every level in the C arrays."""
        far = self.far
        cdef Py_ssize_t at = bisect_left(far, [price])
        cdef bint there = at < len(far) and far[at][0] == price
        if size:
            if there:
                if self.n + at < CHECKSUM_LEVELS and far[at][2] != digits:
                    self.changed = True
                far[at] = [price, size, digits]
                return True
            far.insert(at, [price, size, digits])
        elif there:
            del far[at]
        else:
            return False
        if self.n + at < CHECKSUM_LEVELS:
            self.changed = True
        return True

    cdef list truncate(self, Py_ssize_t depth):
        """Drop the levels past ``depth`` (at least ten: the checksum's levels stay), worst
        last; Kraken sends no delete for them."""
        cdef Py_ssize_t i, n = self.n
        cdef Level *lv = self.lv + self.lo
        cdef list gone = []
        if n > depth:
            for i in range(depth, n):
                gone.append(lv[i].key * self.sign)
                Py_XDECREF(lv[i].digits)
            self.n = depth
        if self.far:
            at = max(depth - n, 0)
            gone += [level[0] for level in self.far[at:]]
            del self.far[at:]
        return gone

    cdef uint32_t crc(self, uint32_t crc) noexcept:
        """The CRC continued over the first ten levels' digits."""
        cdef Py_ssize_t i, m = min(self.n, CHECKSUM_LEVELS)
        for i in range(m):
            crc = crc_update(crc, <bytes>self.lv[self.lo + i].digits)
        if m < CHECKSUM_LEVELS and self.far:
            for level in self.far[: CHECKSUM_LEVELS - m]:
                crc = crc_update(crc, <bytes>level[2])
        return crc

    cdef Py_ssize_t count(self) noexcept:
        return self.n + PyList_GET_SIZE(self.far)

    def __len__(self) -> int:
        return self.count()

    def top_digits(self) -> str:
        """The first ten levels' digits, joined (the side's part of the checksum's text)."""
        cdef Py_ssize_t i, m = min(self.n, CHECKSUM_LEVELS)
        top = [self.digits_at(i) for i in range(m)]
        top += [level[2] for level in self.far[: CHECKSUM_LEVELS - m]]
        return b"".join(top).decode("ascii")

    def best_first(self) -> tuple:
        cdef Py_ssize_t i
        cdef Level *lv = self.lv + self.lo
        cdef list levels = [(lv[i].key * self.sign, lv[i].size) for i in range(self.n)]
        return tuple(levels + [(level[0], level[1]) for level in self.far])

    def best(self) -> object:
        """The best level as (price, size), None for an empty side."""
        if self.n:
            return (self.lv[self.lo].key * self.sign, self.lv[self.lo].size)
        return (self.far[0][0], self.far[0][1]) if self.far else None


@cython.final
cdef class KrakenBook:
    """One pair's book at the subscribed depth."""

    def __init__(self, int depth, precision: Precision | None) -> None:
        if depth not in DEPTHS:
            raise ValueError(f"Kraken book depth must be one of {DEPTHS}, got {depth}")
        self.depth = depth
        self.precision = precision
        self.bids = BookSide(-1)
        self.asks = BookSide(1)

    def reprecision(self, Precision precision) -> None:
        """Remake every level's digits for a precision learned after the book was built."""
        cdef BookSide side
        cdef Py_ssize_t i
        cdef Level *lv
        self.precision = precision
        for side in (self.bids, self.asks):
            lv = side.lv + side.lo
            remade = [precision.digits64(lv[i].key * side.sign, lv[i].size) for i in range(side.n)]
            for i in range(side.n):  # all made: a refusal above leaves the book as it was
                digits = remade[i]
                Py_INCREF(digits)
                Py_XDECREF(lv[i].digits)
                lv[i].digits = <PyObject *>digits
            side.far = [[p, s, precision.c_digits(p, s)] for p, s, _ in side.far]
            side.changed = True

    def truncate(self) -> tuple[list[int], list[int]] | None:
        """Cut both sides to the depth; the removed bid and ask prices, None if none."""
        if self.bids.count() <= self.depth and self.asks.count() <= self.depth:
            return None
        return self.bids.truncate(self.depth), self.asks.truncate(self.depth)

    def checksum(self) -> int:
        """CRC32 of the top ten asks' then bids' digits, recomputed only when they changed."""
        if self.asks.changed or self.bids.changed or not self.crc_known:
            self.crc = self.bids.crc(self.asks.crc(0))
            self.asks.changed = self.bids.changed = False
            self.crc_known = True
        return self.crc

    cdef bint c_crossed(self) noexcept:
        # an ask past the int64 price is above every bid
        cdef BookSide bids = self.bids, asks = self.asks
        return bids.n and asks.n and -bids.lv[bids.lo].key >= asks.lv[asks.lo].key

    def crossed(self) -> bool:
        return self.c_crossed()

    def snapshot(self, int64_t ts) -> tuple:
        """The book as delivered: asks past the contract's price range are left out."""
        cdef BookSide asks = self.asks
        cdef Py_ssize_t i
        cdef Level *lv = asks.lv + asks.lo
        delivered = tuple([(lv[i].key, lv[i].size) for i in range(asks.n)])
        return (ts, FEED_SNAPSHOT, self.bids.best_first(), delivered)

    def top(self) -> tuple:
        """Best bid and best ask as (price, size), None for an empty side."""
        return self.bids.best(), self.asks.best()

    def level_counts(self) -> tuple[int, int]:
        return self.bids.count(), self.asks.count()
