# RiskGate's C face, and the reference price of a book: the intent desk
# (meshrt/sequencer/desk.pyx) calls them in C.

cdef class RiskGate:
    cdef readonly object limits
    cdef object _sent  # a deque of send times inside the rate window, oldest first

    cpdef object check_new(self, object ts, object side, object price, object size,
                           object position, object open_buy, object open_sell,
                           object open_orders, object reference_price)
    cpdef object check_replace(self, object ts, object side, object price, object size,
                               object old_size, object filled, object position,
                               object open_buy, object open_sell, object reference_price)
    cpdef record_order(self, object ts)
    cdef expire(self, object ts)
    cdef bint rate_breach(self, object ts) except -1


cpdef object mid(object book)  # the reference price of a book (None: a side is empty)
