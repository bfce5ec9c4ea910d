# Ledger's C face: the intent desk (meshrt/sequencer/desk.pyx) reads a position in C.

cdef class Holding:
    cdef public object position, cost, realized
    cdef public object mark  # effective mark: the last explicit mark, else the last fill price
    cdef public bint marked
    cdef public object value  # notional(position, mark), cached so equity is O(1)


cdef class Ledger:
    cdef dict holdings
    cdef object initial_cash_, cash_, fees_, realized_
    cdef object cost_  # sum of per-symbol cost
    cdef object value_  # sum of per-symbol notional(position, mark)
    cdef object fills_, volume_, high_water, max_drawdown_

    cdef Holding holding(self, object symbol)
    cdef update_drawdown(self)
    cpdef object position(self, object symbol)
