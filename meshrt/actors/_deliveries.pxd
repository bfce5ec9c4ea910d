# The compiled delivery: fields set at C level by the sequencer's commit loop (_commit.pyx)
# and read by the instance's book loop (_deliver.pyx).

cimport cython


@cython.final
cdef class BookDelivery:
    cdef readonly object ts, book, features
