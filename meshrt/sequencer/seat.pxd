# A deployment's Seat at the intent desk (meshrt/sequencer/seat.pyx), read in C by the desk.

from meshrt.ledger cimport Ledger
from meshrt.scenario._latency cimport LatencyStream
from meshrt.sequencer.order cimport Order
from meshrt.sequencer.orders cimport OrderStateMachine
from meshrt.sequencer.risk cimport RiskGate


cdef class Seat:
    cdef readonly object label, source, venue, order_base_ns
    cdef readonly RiskGate risk
    cdef readonly Ledger ledger
    cdef readonly list symbols, last_book, arrivals
    cdef readonly LatencyStream orders

    cdef Py_ssize_t index_of(self, object symbol) except -1
    cdef object reference_price(self, Py_ssize_t symbol_index)
    cdef int send(self, object operation) except -1
    cdef object check_new(self, OrderStateMachine orders, object ts, object side, object price,
                          object size, object symbol, Py_ssize_t symbol_index)
    cdef object check_replace(self, OrderStateMachine orders, object ts, Order order,
                              object price, object size, Py_ssize_t symbol_index)
