"""A deployment's seat at the intent desk: what the desk reads of a deployment and its
venue lane at every action, read once (meshrt/sequencer/desk.pyx).

Why: the desk is compiled, and reading the same attributes of the deployment and its
lane through Python at every action cost more than the checks themselves.
"""

from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE

from meshrt.sequencer.risk cimport mid


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
