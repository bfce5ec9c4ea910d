# The scanner's C-level face for the book rule (_kraken_rule.pyx).

cimport cython
from libc.stdint cimport int64_t


cdef enum:
    MAX_TEXT = 40  # longer number text is read in Python


cdef struct Span:  # a level's price and qty text in the frame
    Py_ssize_t p0, p1, q0, q1


cdef struct Value:  # a number's fixed point and checksum digits
    int64_t fixed
    int nd
    char digits[MAX_TEXT]


cdef struct Text:  # a str's characters as the C API holds them
    const void *data
    int kind
    Py_ssize_t n


cdef struct Frame:
    bint snapshot
    Py_ssize_t symbol0, symbol1, bids, asks  # bids, asks: level counts (spans, in order)
    int64_t checksum


@cython.final
cdef class Spans:
    cdef Span *spans
    cdef Py_ssize_t cap

    cdef int levels(self, Text *t, Py_ssize_t *i, Py_ssize_t first) except -2
    cdef bint frame(self, Text *t, Frame *f) except -1


cdef void text_of(str text, Text *t) noexcept
cdef bint plain(Text *t, Py_ssize_t a, Py_ssize_t b, int places, bint positive, Value *v) noexcept
