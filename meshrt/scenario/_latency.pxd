# LatencyStream's C face, and the one home of its delivery rule: the intent desk
# (meshrt/sequencer/desk.pyx) and report ingress call the stream in C; the feed commit
# (meshrt/actors/_commit.pyx), which keeps a feed stream's state in locals over a run of
# events, applies ``deliver_at`` to them.

from libc.stdint cimport int64_t
from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_CheckExact

cdef extern from *:
    # gcc/clang builtin: a signed add that reports int64 overflow
    bint add_overflow "__builtin_add_overflow"(int64_t a, int64_t b, int64_t *res) noexcept nogil


cdef inline int64_t deliver_at(int64_t ts, int64_t base, int64_t span, object draw,
                               int64_t last) except? -1:
    """When a message sent at ``ts`` arrives: ts + base + int(draw() * span), never before
    ``last`` (FIFO). ``base`` carries any extra delay (head of line)."""
    cdef int64_t at, jitter
    cdef double x
    if add_overflow(ts, base, &at):
        raise OverflowError("delivery time beyond 64 bits")
    if span:
        r = draw()
        if PyFloat_CheckExact(r):
            # float * int is a double multiply; int() truncates toward zero
            x = PyFloat_AS_DOUBLE(r) * <double>span
            if not (-9223372036854775808.0 < x < 9223372036854775808.0):
                raise OverflowError("delivery time beyond 64 bits")
            jitter = <int64_t>x
        else:  # whatever draw() returns, Python arithmetic decides
            jitter = int(r * span)
        if add_overflow(at, jitter, &at):
            raise OverflowError("delivery time beyond 64 bits")
    return at if at > last else last


cdef class LatencyStream:
    cdef readonly int64_t base, span  # span: jitter + 1 (0: none), so a draw is int(r * span)
    cdef public int64_t last  # the last delivery time
    cdef public object draw  # the seeded source's random(): a float in [0, 1)

    cpdef int64_t deliver_at(self, int64_t ts, int64_t extra=*) except? -1
