# The order check's C face: a live venue's order arrival (meshrt/actors/_live_venue.pyx)
# calls it in C.

from libc.stdint cimport int64_t


cpdef object check_order(object ref, object price, int64_t size)
