# VenueMerge's C face: the window driver (meshrt/sequencer/_window.pyx) loads and commits
# a window's venue streams without a Python call.

from libc.stdint cimport int64_t


cdef class VenueMerge:
    cdef list commits, lanes, streams, lines
    cdef object commit_report, commit_note, journal
    cdef readonly object last  # the latest event time loaded, None when none
    cdef Py_ssize_t n
    cdef Py_ssize_t *positions
    cdef int64_t *heads

    cpdef load(self, list streams, list lines)
    cpdef head(self)
    cpdef commit_until(self, limit)
