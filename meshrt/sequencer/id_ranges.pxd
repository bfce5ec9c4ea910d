# IdRanges' C face: the order state machine (orders.pyx) asks for and adds an id in C.

cimport cython
from libc.stdint cimport uint64_t


@cython.final
cdef class IdRanges:
    cdef bint used  # an id was added: the last range is first..last
    cdef uint64_t first, last  # the last range (the highest ids), where new ids land
    cdef uint64_t *spans  # the ranges below it: (first, last) pairs, ascending
    cdef Py_ssize_t n, room  # pairs in ``spans``; pairs it has room for

    cdef bint holds(self, object value) except -1  # ``value in ids``
    cdef int put(self, object value) except -1  # ``ids.add(value)``
    cdef bint has(self, uint64_t value) noexcept
    cdef Py_ssize_t below(self, uint64_t value) noexcept
    cdef int reserve(self, Py_ssize_t pairs) except -1
    cdef int push(self, uint64_t first, uint64_t last) except -1
    cdef int insert(self, uint64_t value) except -1
