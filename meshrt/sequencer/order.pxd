# Order's C face: the report transitions (transitions.pyx), the state machine (orders.pyx)
# and report ingress (reports.pyx) read and move its fields without Python attribute calls.

from libc.stdint cimport int64_t

# OrderStatus's values (order.pyx asserts they agree), prefixed: the Python names are the
# enum members
cdef enum:
    ST_CREATED = 0
    ST_SUBMITTED = 1
    ST_ACCEPTED = 2
    ST_PARTIALLY_FILLED = 3
    ST_FILLED = 4
    ST_CANCEL_PENDING = 5
    ST_CANCELLED = 6
    ST_REJECTED = 7


cdef inline bint is_terminal(int status) noexcept nogil:
    return status == ST_FILLED or status == ST_CANCELLED or status == ST_REJECTED


cdef class Order:
    cdef readonly object order_id, deployment, client_id, venue, symbol, side, kind, tif
    cdef public object price, fees
    cdef public int64_t size, filled, booked, created_ts, last_ts, exec_seq, replace_seq
    cdef public set seen_keys
    cdef public list requests
    cdef int status_c  # an OrderStatus value; ``status`` shows it as the enum member
    cdef int cancel_requested(self) except -1  # a CANCEL among ``requests``


cdef object status_of(int status)  # the OrderStatus member
cpdef Order created_order(object order_id, object deployment, object client_id, object venue,
                          object symbol, object side, object kind, object tif, object price,
                          int64_t size, int64_t created_ts)
