# The feed step's C-level face: the venue's window step (meshrt/actors/_venue.pyx) plays a
# symbol's feed events through its lane and moves engine reports into the output.

cimport cython
from libc.stdint cimport int64_t

from meshrt.venues._matching cimport MatchingEngine


cdef int drain(list reports, object symbol, list out) except -1


cdef inline int64_t mid_of(int64_t bid, int64_t ask) noexcept nogil:
    """The mid rule, meshrt.contract.mid_price, for two int64 prices: floor((bid + ask) /
    2) without the overflow of bid + ask (a + b == 2 * (a & b) + (a ^ b)); the feed's
    online features and the risk gate's reference price (risk.pyx) both use it.
    tests/test_book.py and tests/test_risk.py hold it to mid_price up to the int64 limit."""
    return (bid & ask) + ((bid ^ ask) >> 1)


@cython.final
cdef class VenueSymbol:
    cdef readonly MatchingEngine engine
    cdef readonly object symbol
    cdef readonly str symbol_name, venue_name
    cdef readonly type book_type, features_type
    cdef public int64_t last_mid, volatility, trade_flow

    cdef int play_c(self, list events, Py_ssize_t start, Py_ssize_t stop,
                    list out) except -1
