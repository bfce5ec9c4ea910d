from libc.stdint cimport int64_t

from meshrt.sequencer.order cimport Order


cdef class Tombstone:
    cdef readonly object order_id, deployment, client_id, venue, status
    cdef readonly int64_t cum


cdef class EndedOrders:
    cdef dict by_id, by_client
    cdef list horizons
    cdef readonly object by_status, net_filled

    cpdef add(self, Order order, object horizon)
    cpdef expire(self, object now)
