# VenueCore's C-level face: the live venue's window step (meshrt/actors/_live_venue.pyx)
# extends it, plays a symbol's feed through ``segment`` and hands an order operation to
# its engine through ``order``, as the simulated venue does.

from meshrt.venues._feed cimport VenueSymbol


cdef int order(VenueSymbol lane, type cls, tuple op, list out) except -1


cdef class VenueCore:
    cdef public list sources  # one data source per symbol
    cdef public list lanes  # one VenueSymbol per symbol
    cdef public bint feed_up  # False while a fault holds the feed back from algos

    cdef int segment(self, VenueSymbol lane, list events, Py_ssize_t start, Py_ssize_t stop,
                     list out) except -1
