# OrderStateMachine's C face: report ingress (reports.pyx) and the intent desk (desk.pyx)
# call its transitions and queries in C; each ``cpdef`` is also its Python API.

from meshrt.sequencer.ended cimport EndedOrders
from meshrt.sequencer.id_ranges cimport IdRanges
from meshrt.sequencer.order cimport Order


cdef class OrderStateMachine:
    cdef readonly dict orders
    cdef dict live, by_client, client_ids
    cdef readonly EndedOrders ended
    cdef IdRanges order_ids
    cdef public object created, late_reports

    cpdef create(self, Order order)
    cpdef submit(self, object order_id, object ts)
    cpdef object request_cancel(self, object order_id, object ts)
    cpdef object validate_replace(self, object order_id, object price, object size)
    cpdef replace_sent(self, object order_id)
    cpdef bint apply_report(self, object report, object key) except -1
    cpdef expire(self, object now)
    cpdef bint client_id_used(self, object deployment, object client_id) except -1
    cpdef object ended_state(self, object deployment, object client_id)
    cpdef Order find(self, object deployment, object client_id)
    cpdef object open_orders(self, object deployment)
    cpdef tuple open_exposure(self, object deployment, object symbol)
    cdef int check(self, Order order) except -1
    cdef Order get(self, object order_id, str action)
    cdef int retire_settled(self, Order order, object horizon) except -1
    cdef int commit(self, Order order, object venue, object venue_key, object report) except -1


cdef object replace_refusal(Order order, object price, object size)  # validate_replace's
cdef int replace_requested(Order order) except -1  # replace_sent's
