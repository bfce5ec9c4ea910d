from meshrt.sequencer.order cimport Order

# 1 when the report ended the order (the caller drops it from its live orders), else 0
cdef int apply(Order order, object report) except -1
