from libc.stdint cimport int64_t


cdef class WallClock:
    cdef readonly int64_t wall_ns
    cdef int64_t zero

    cdef int64_t now(self) noexcept


cdef class LiveStepper:
    cdef object driver, clock, journal, books, counts, lines
    cdef list lanes, live
    cdef Py_ssize_t n
    cdef public int64_t end

    cpdef hand(self, int64_t start, int64_t until, list items)
    cpdef window(self, int64_t start, int64_t until, list items)
    cpdef close(self, int64_t start, int64_t until)
