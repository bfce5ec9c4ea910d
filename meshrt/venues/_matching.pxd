# The matching engine's C-level face: the venue's feed loop (_feed.pyx) calls the engine
# where a feed event can reach a resting order, and hands order arrivals to it, without
# going through Python. new_tuple_of and put_item build the NamedTuple reports and
# outputs at one allocation (shared with _feed.pyx).

cimport cython
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_SET_ITEM
from libc.stdint cimport int64_t

from meshrt.venues._book cimport L2Book

cdef extern from "Python.h":
    # Only the allocator slot of a type: a NamedTuple is built without its Python-level
    # __new__, as tuple.__new__ itself does, at one allocation.
    ctypedef struct _TupleType "PyTypeObject":
        object (*tp_alloc)(_TupleType *, Py_ssize_t)


cdef inline object new_tuple_of(type cls, Py_ssize_t n):
    """An empty instance of a tuple subclass (a NamedTuple), filled by the caller."""
    return (<_TupleType *>cls).tp_alloc(<_TupleType *>cls, n)


cdef inline void put_item(object t, Py_ssize_t i, object v) noexcept:
    Py_INCREF(v)  # PyTuple_SET_ITEM steals a reference
    PyTuple_SET_ITEM(t, i, v)


@cython.final
cdef class LiveOrder:
    cdef readonly object order_id
    cdef readonly object price_obj  # the price as an int object: the key of its level
    cdef readonly long side
    cdef readonly bint post_only
    cdef readonly int64_t price, size, remaining, queue_ahead, exec_seq


@cython.final
cdef class MatchingEngine:
    cdef public list reports
    cdef readonly L2Book book
    cdef object fees
    cdef int64_t maker_ppm, taker_ppm
    cdef dict orders, buys, sells

    cdef int after_delta_c(self, object ts, long side, object price_obj, object size_obj) except -1
    cdef int apply_trade_c(self, object ts, object aggressor, object price, object size) except -1
    cdef int apply_snapshot_c(self, object ts, object bids, object asks) except -1
    cdef int submit_c(self, object ts, object order_id, object side, object price, object size,
                      object tif) except -1
    cdef int cancel_c(self, object ts, object order_id) except -1
    cdef int replace_c(self, object ts, object order_id, object price, object size) except -1

    # internals
    cdef object submit_error(self, object order_id, int64_t side, bint market, int64_t price,
                             int price_over, int64_t size, int size_over, int64_t tif)
    cdef object replace_error(self, LiveOrder order, int64_t price, int price_over,
                              int64_t size, int size_over)
    cdef int64_t size_at(self, long side, int64_t price) noexcept
    cdef int consume_best(self, long side, int64_t qty) except -1
    cdef object fee(self, long liquidity, int64_t price, int64_t size)
    cdef int64_t take(self, object ts, object order_id, long side, bint limited,
                      int64_t limit, int64_t size, int64_t remaining,
                      int64_t *exec_seq) except -1
    cdef int maker_fill(self, object ts, LiveOrder order, int64_t qty) except -1
    cdef int rest(self, LiveOrder order) except -1
    cdef int unrest(self, LiveOrder order) except -1
    cdef list in_priority(self, long side)
    cdef int cross_resting(self, object ts, long side) except -1
    cdef int fill_from_print(self, object ts, long side, int64_t print_price,
                             int64_t size) except -1
