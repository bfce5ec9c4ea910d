"""A deployment's seat at the intent desk: what the desk reads of a deployment and its
venue lane at every action, read once (meshrt/sequencer/desk.pyx), and its risk gate
asked with only the inputs the gate's set limits read (``RiskGate.reads``).

Why: the desk is compiled, and reading the same attributes of the deployment and its
lane through Python at every action cost more than the checks themselves; a gate with no
position limit needs no open exposure (every live order of the deployment read), no
position and, for a priced order, no reference price.
"""

from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE

from meshrt.sequencer.order cimport Order
from meshrt.sequencer.orders cimport OrderStateMachine
from meshrt.sequencer.risk cimport OPEN_ORDERS, POSITION, REFERENCE, RiskGate, mid


cdef class Seat:
    """What the desk reads of a deployment and its venue lane at every action, read once
    (lanes.py: none of it is ever replaced; the lists are mutated in place): the
    deployment's label, source, risk gate and ledger, and its lane's name, symbols, last
    books, arrivals and order latency."""

    def __init__(self, dep, lane):
        self.label = dep.label
        self.source = dep.source
        self.risk = dep.risk
        self.ledger = dep.ledger
        self.venue = lane.name
        self.symbols = lane.symbols
        self.last_book = lane.last_book
        self.arrivals = lane.arrivals
        self.orders = lane.orders
        self.order_base_ns = lane.order_base_ns

    cdef Py_ssize_t index_of(self, object symbol) except -1:
        """The symbol's index on the lane (``lane.symbols.index``)."""
        cdef list symbols = self.symbols
        cdef Py_ssize_t i
        for i in range(PyList_GET_SIZE(symbols)):
            item = <object>PyList_GET_ITEM(symbols, i)
            if item is symbol or item == symbol:
                return i
        return symbols.index(symbol)  # raises ValueError

    cdef object reference_price(self, Py_ssize_t symbol_index):
        """The mid of the symbol's last book shown (risk's reference price)."""
        return mid(self.last_book[symbol_index])

    cdef int send(self, object operation) except -1:
        """An order operation leaves for the venue."""
        self.arrivals.append(operation)
        return 0

    cdef object check_new(self, OrderStateMachine orders, object ts, object side, object price,
                          object size, object symbol, Py_ssize_t symbol_index):
        """The risk gate's ``check_new`` of an order on ``symbol``, given only the inputs
        its set limits read (``RiskGate.reads``): not called at all when none is set."""
        cdef RiskGate risk = self.risk
        cdef int reads = risk.reads(price is not None)
        if not reads:
            return None
        position = open_buy = open_sell = open_orders = reference = None
        if reads & POSITION:
            open_buy, open_sell = orders.open_exposure(self.label, symbol)
            position = self.ledger.position(symbol)
        if reads & OPEN_ORDERS:
            open_orders = orders.open_orders(self.label)
        if reads & REFERENCE:
            reference = self.reference_price(symbol_index)
        return risk.check_new(
            ts, side, price, size, position, open_buy, open_sell, open_orders, reference
        )

    cdef object check_replace(self, OrderStateMachine orders, object ts, Order order,
                              object price, object size, Py_ssize_t symbol_index):
        """The risk gate's ``check_replace`` of ``order`` to (``price``, ``size``), given
        only the inputs its set limits read: not called at all when none is set."""
        cdef RiskGate risk = self.risk
        cdef int reads = risk.reads(price is not None)
        if not reads:
            return None
        position = open_buy = open_sell = reference = None
        if reads & POSITION:
            open_buy, open_sell = orders.open_exposure(self.label, order.symbol)
            position = self.ledger.position(order.symbol)
        if reads & REFERENCE:
            reference = self.reference_price(symbol_index)
        return risk.check_replace(
            ts, order.side, price, size, order.size, order.filled, position, open_buy,
            open_sell, reference
        )
