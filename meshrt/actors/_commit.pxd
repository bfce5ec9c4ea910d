# FeedCommit's C face: the sequencer's compiled venue merge (meshrt/sequencer/_merge.pyx)
# commits runs of one venue's events through ``run`` without a Python call per run.

from libc.stdint cimport int64_t

from meshrt.venues._outputs cimport BookUpdate


cdef class FeedCommit:
    cdef list fragments, last_book, consolidated, subscribers
    cdef object quote, stream, draw
    cdef int64_t base, span  # the stream's constants, read once: a run may be one event

    cdef Py_ssize_t run(self, list events, Py_ssize_t k, Py_ssize_t stop, int64_t limit,
                        int64_t *seq, list lines) except -1
    cdef int trade(self, tuple event, int64_t seq, list lines) except -1
    cdef tuple fragments_of(self, object symbol)
    cdef int64_t book(self, BookUpdate event, int64_t seq, list lines, int64_t base,
                      int64_t span, object draw, int64_t last) except? -1


cdef int64_t time_of(object event) except? -1
