from meshrt.sequencer.ended cimport EndedOrders
from meshrt.sequencer.order cimport Order


cdef class OrderStateMachine:
    cdef readonly dict orders
    cdef dict live, by_client, client_ids
    cdef readonly EndedOrders ended
    cdef object order_ids
    cdef public object created, late_reports

    cpdef bint apply_report(self, object report, object key) except -1
    cdef int check(self, Order order) except -1
    cdef Order get(self, object order_id, str action)
    cdef int retire_settled(self, Order order, object horizon) except -1
    cdef int commit(self, Order order, object venue, object venue_key, object report) except -1
