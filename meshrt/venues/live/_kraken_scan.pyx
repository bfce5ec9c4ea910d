"""Kraken's compact v2 book frame read without a JSON decoder, and plain number text to
fixed point with its checksum digits, for the compiled book rule (_kraken_rule.pyx).

The common frame, a v2 book message of one symbol exactly as Kraken writes it, is
scanned in place: the levels' number text is found (as spans of the frame) and checked
for its shape before anything is applied, so a frame of any other shape is read as JSON
instead, with nothing done. Plain ``123.45`` text becomes fixed point here exactly as
recorded_fields reads it (a property test holds the two to the same result); other text
is left to Python (kraken_wire.Values).
"""

cimport cython
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from libc.stdint cimport INT64_MAX, int64_t

from meshrt.venues.recorded_fields import PRICE_PLACES, SIZE_PLACES

cdef extern from "Python.h":
    Py_UCS4 PyUnicode_READ(int kind, const void *data, Py_ssize_t index) noexcept
    int PyUnicode_KIND(object text) noexcept
    const void *PyUnicode_DATA(object text) noexcept


# -- the scanner ---------------------------------------------------------------------

cdef inline bint lit(Text *t, Py_ssize_t *i, const char *s) noexcept:
    """The ASCII literal ``s`` at ``*i``, stepped over."""
    cdef Py_ssize_t j = i[0]
    while s[0]:
        if j >= t.n or PyUnicode_READ(t.kind, t.data, j) != <Py_UCS4>s[0]:
            return False
        j += 1
        s += 1
    i[0] = j
    return True


cdef inline Py_UCS4 at(Text *t, Py_ssize_t i) noexcept:
    return PyUnicode_READ(t.kind, t.data, i) if i < t.n else 0


cdef inline bint digits(Text *t, Py_ssize_t *i) noexcept:
    """One or more of [0-9]."""
    cdef Py_ssize_t j = i[0]
    while u"0" <= at(t, j) <= u"9":
        j += 1
    if j == i[0]:
        return False
    i[0] = j
    return True


cdef inline bint number(Text *t, Py_ssize_t *i) noexcept:
    """A JSON number: -?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?"""
    if at(t, i[0]) == u"-":
        i[0] += 1
    if at(t, i[0]) == u"0":
        i[0] += 1
    elif not digits(t, i):
        return False
    if at(t, i[0]) == u".":
        i[0] += 1
        if not digits(t, i):
            return False
    if at(t, i[0]) == u"e" or at(t, i[0]) == u"E":
        i[0] += 1
        if at(t, i[0]) == u"+" or at(t, i[0]) == u"-":
            i[0] += 1
        if not digits(t, i):
            return False
    return True


cdef inline bint string_end(Text *t, Py_ssize_t *i) noexcept:
    """[^"\\\\]* then the closing quote, stepped over."""
    cdef Py_ssize_t j = i[0]
    cdef Py_UCS4 c
    while j < t.n:
        c = PyUnicode_READ(t.kind, t.data, j)
        if c == u'"':
            i[0] = j + 1
            return True
        if c == u"\\":
            return False
        j += 1
    return False


@cython.final
cdef class Spans:
    """A growable array of level spans, reused frame after frame."""

    def __dealloc__(self) -> None:
        PyMem_Free(self.spans)

    cdef int levels(self, Text *t, Py_ssize_t *i, Py_ssize_t first) except -2:
        """(LEVEL(,LEVEL)*)? from ``*i``, spans stored from ``first``: how many, -1 if the
        text is not of that shape."""
        cdef Py_ssize_t k = first
        cdef Span *s
        if at(t, i[0]) == u"]":
            return 0
        while True:
            if k == self.cap:
                self.cap = max(64, 2 * self.cap)
                s = <Span *>PyMem_Realloc(self.spans, self.cap * sizeof(Span))
                if s is NULL:
                    raise MemoryError
                self.spans = s
            s = &self.spans[k]
            if not lit(t, i, b'{"price":'):
                return -1
            s.p0 = i[0]
            if not number(t, i):
                return -1
            s.p1 = i[0]
            if not lit(t, i, b',"qty":'):
                return -1
            s.q0 = i[0]
            if not number(t, i):
                return -1
            s.q1 = i[0]
            if not lit(t, i, b"}"):
                return -1
            k += 1
            if at(t, i[0]) != u",":
                return k - first
            i[0] += 1

    cdef bint frame(self, Text *t, Frame *f) except -1:
        """A v2 book message of one symbol exactly as Kraken writes it (compact, keys in
        this order; every level of exactly this shape, so nothing is skipped); False for
        any other text (spaces, more keys, several symbols, an escape), read as JSON."""
        cdef Py_ssize_t i = 0, count
        cdef int64_t checksum = 0
        if not lit(t, &i, b'{"channel":"book","type":"'):
            return False
        if lit(t, &i, b'update"'):
            f.snapshot = False
        elif lit(t, &i, b'snapshot"'):
            f.snapshot = True
        else:
            return False
        if not lit(t, &i, b',"data":[{"symbol":"'):
            return False
        f.symbol0 = i
        if not string_end(t, &i):
            return False
        f.symbol1 = i - 1
        if not lit(t, &i, b',"bids":['):
            return False
        f.bids = self.levels(t, &i, 0)
        if f.bids < 0 or not lit(t, &i, b'],"asks":['):
            return False
        f.asks = self.levels(t, &i, f.bids)
        if f.asks < 0 or not lit(t, &i, b'],"checksum":'):
            return False
        count = 0
        while u"0" <= at(t, i) <= u"9":
            checksum = checksum * 10 + (<int>at(t, i) - 48)
            i += 1
            count += 1
        if not 1 <= count <= 10 or not lit(t, &i, b',"timestamp":"'):
            return False
        if not string_end(t, &i) or not lit(t, &i, b"}]}"):
            return False
        f.checksum = checksum
        return i == t.n


cdef void text_of(str text, Text *t) noexcept:
    t.data = PyUnicode_DATA(text)
    t.kind = PyUnicode_KIND(text)
    t.n = len(text)


def book_message(str text) -> tuple | None:
    """(symbol, snapshot, bids, asks, checksum) of a v2 book message in Kraken's compact
    form, every price and qty as its text; None for any other frame."""
    cdef Text t
    cdef Frame f
    cdef Spans spans = Spans()
    cdef Py_ssize_t k
    text_of(text, &t)
    if not spans.frame(&t, &f):
        return None
    levels = [
        (text[spans.spans[k].p0 : spans.spans[k].p1], text[spans.spans[k].q0 : spans.spans[k].q1])
        for k in range(f.bids + f.asks)
    ]
    symbol = text[f.symbol0 : f.symbol1]
    return (symbol, bool(f.snapshot), levels[: f.bids], levels[f.bids :], f.checksum)


# -- number text to fixed point --------------------------------------------------------------

cdef bint plain(Text *t, Py_ssize_t a, Py_ssize_t b, int places, bint positive, Value *v) noexcept:
    """Plain ``[0-9]+(.[0-9]+)?`` text at [a, b) to fixed point at ``places`` and its
    checksum digits, as recorded_fields.price/size and raw_digits do; False for any other
    text or one those refuse (read again in Python, which gives the reason)."""
    cdef Py_ssize_t j
    cdef Py_UCS4 c
    cdef int64_t value = 0
    cdef int frac = -1  # decimals seen, -1 before the point
    cdef int nd = 0
    if b - a > MAX_TEXT or b == a:
        return False
    for j in range(a, b):
        c = PyUnicode_READ(t.kind, t.data, j)
        if c == u".":
            if frac >= 0 or j == a or j == b - 1:
                return False
            frac = 0
            continue
        if not u"0" <= c <= u"9":
            return False
        if c != u"0" or nd:
            v.digits[nd] = <char>c
            nd += 1
        if frac >= 0:
            frac += 1
            if frac > places:
                if c != u"0":
                    return False  # more decimals than the contract holds
                continue
        if value > (INT64_MAX - 9) // 10:
            return False
        value = value * 10 + (<int>c - 48)
    for j in range(max(frac, 0), places):
        if value > INT64_MAX // 10:
            return False
        value *= 10
    if positive and value == 0:
        return False
    v.fixed = value
    v.nd = nd
    return True


def plain_value(str text, bint is_price) -> tuple | None:
    """(fixed point, checksum digits) of a price or qty text as the compiled reading gives
    them; None where it leaves the text to Python (its equivalence test reads this)."""
    cdef Text t
    cdef Value v
    text_of(text, &t)
    if not plain(&t, 0, t.n, PRICE_PLACES if is_price else SIZE_PLACES, is_price, &v):
        return None
    return v.fixed, v.digits[: v.nd].decode("ascii")
