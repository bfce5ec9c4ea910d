# RiskGate's C face, and the reference price of a book: the intent desk
# (meshrt/sequencer/desk.pyx) calls them in C.

# What a gate's checks read (``RiskGate.reads``), so the desk gathers only that.
cdef enum:
    CHECKS = 1  # a limit is set: check_new or check_replace may refuse
    POSITION = 2  # max_position: the position and the open exposure
    OPEN_ORDERS = 4  # max_open_orders: the deployment's live orders
    REFERENCE = 8  # max_notional, of an order without a price: the reference price


cdef class RiskGate:
    cdef readonly object limits
    # the limits' values (None: unlimited), read once
    cdef object max_order_size, max_position, max_notional, max_open_orders
    cdef object max_orders_per_second
    cdef list sent  # send times, oldest first; those inside the rate window from ``first``
    cdef Py_ssize_t first

    cpdef object check_new(self, object ts, object side, object price, object size,
                           object position, object open_buy, object open_sell,
                           object open_orders, object reference_price)
    cpdef object check_replace(self, object ts, object side, object price, object size,
                               object old_size, object filled, object position,
                               object open_buy, object open_sell, object reference_price)
    cdef int reads(self, bint priced) noexcept
    cpdef record_order(self, object ts)
    cdef expire(self, object ts)
    cdef bint rate_breach(self, object ts) except -1


cpdef object mid(object book)  # the reference price of a book (None: a side is empty)
