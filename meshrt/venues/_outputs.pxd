# The compiled venue output: fields read at C level by the feed loop (_feed.pyx) and the
# sequencer's commit loop (meshrt/actors/_commit.pyx).

cimport cython


@cython.final
cdef class BookUpdate:
    cdef readonly object ts, symbol, event, book, features
