"""The SDK's action buffer, compiled: what an algo's order calls do before the sequencer.

A reacting Python algo calls ``Actions`` (a replace, a new quote) every time it moves its
orders. As Python methods each call was several interpreted frames (the limit check, the
id, the open-order view's update, the order-id check), and on the paper path, which runs
with cold caches, every frame's code and data are cache lines fetched from memory. Here
they are C. The package (meshrt/sdk/__init__.py) is their public home and re-exports
them; its ``OpenOrder`` and ``ActionLimitExceeded`` are taken from there on first use (it
imports this module). The client order id's range check is the contract's, inline from
meshrt/contract/_ranges.pxd (C only: nothing is imported at run time). _actions.pxd
lets the instance's delivery loop (meshrt/actors/_deliver.pyx) read the buffer and mark
an order pending in C.
"""
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE, PyTuple_SET_ITEM
from cpython.type cimport PyType_GenericAlloc

from meshrt.contract._ranges cimport is_order_id

from meshrt.contract import MAX_ACTIONS, ActionKind, TimeInForce

cdef Py_ssize_t max_actions = MAX_ACTIONS
cdef str LIMIT_REFUSED = (
    f"action {MAX_ACTIONS + 1} in one callback refused: at most {MAX_ACTIONS} "
    "actions per callback"
)
cdef object LIMIT = ActionKind.LIMIT, MARKET = ActionKind.MARKET, CANCEL = ActionKind.CANCEL
cdef object REPLACE = ActionKind.REPLACE, CANCEL_ALL = ActionKind.CANCEL_ALL
cdef object IOC = TimeInForce.IOC

# meshrt.sdk's OpenOrder and ActionLimitExceeded, imported on first use
cdef type OpenOrder = None
cdef type LimitExceeded = None


cdef int load_sdk() except -1:
    global OpenOrder, LimitExceeded
    from meshrt.sdk import ActionLimitExceeded
    from meshrt.sdk import OpenOrder as open_order_type

    OpenOrder, LimitExceeded = open_order_type, ActionLimitExceeded
    return 0


cdef inline void put(object order, Py_ssize_t i, object value) noexcept:
    Py_INCREF(value)  # PyTuple_SET_ITEM steals a reference
    PyTuple_SET_ITEM(order, i, value)


cdef object new_order(object order_id, object symbol, object side, object price,
                      object size):
    """OpenOrder(order_id, symbol, side, price, size, 0), as tuple.__new__ builds it: one
    allocation, without the Python frame of the NamedTuple's generated ``__new__``."""
    if OpenOrder is None:
        load_sdk()
    order = PyType_GenericAlloc(OpenOrder, 8)
    put(order, 0, order_id)
    put(order, 1, symbol)
    put(order, 2, side)
    put(order, 3, price)
    put(order, 4, size)
    put(order, 5, 0)
    put(order, 6, False)
    put(order, 7, False)
    return order


cpdef object with_pending(object order, bint pending):
    """``order._replace(pending=pending)`` without namedtuple's generic path, which cost
    more than the rest of an algo's cancel or replace."""
    if OpenOrder is None:
        load_sdk()
    if not isinstance(order, tuple) or PyTuple_GET_SIZE(order) < 7:
        raise TypeError(f"with_pending: {order!r} is not an OpenOrder")
    copy = PyType_GenericAlloc(OpenOrder, 8)
    cdef Py_ssize_t i
    for i in range(7):
        put(copy, i, <object>PyTuple_GET_ITEM(order, i))
    put(copy, 7, pending)
    return copy


cdef class Actions:
    """The per-callback action buffer: at most 16 actions, each a fixed-layout tuple.

    Each method returns the client order id the action concerns. Actions become
    intents that the sequencer checks (schema, risk, legal transition) after the
    callback returns; refusals come back through ``on_reject``.
    """

    def __init__(self, state, default_symbol):
        self._buffer = []
        self._state = state
        self._default_symbol = default_symbol
        self.refused = 0

    cdef int reserve(self) except -1:
        """Refuse (and count) an action past the limit before anything is allocated."""
        if len(self._buffer) >= max_actions:
            self.refused += 1
            if LimitExceeded is None:
                load_sdk()
            raise LimitExceeded(LIMIT_REFUSED)
        return 0

    cdef object new_id(self):
        state = self._state
        order_id = state.next_order_id
        state.next_order_id = order_id + 1
        return order_id

    cdef int mark_pending(self, object order_id) except -1:
        if not is_order_id(order_id):
            return 0  # no order has it: the sequencer refuses the action (INVALID_ACTION)
        cdef dict orders = self._state.open_orders
        order = orders.get(order_id)
        if order is not None:
            orders[order_id] = with_pending(order, True)
        return 0

    cdef object place(self, object kind, object side, object tif, object price, object size,
                      object symbol):
        """A new order's intent and its open-order view (a limit's or a market's)."""
        self.reserve()
        order_id = self.new_id()
        symbol = symbol or self._default_symbol
        self._buffer.append((kind, side, tif, order_id, 0, price, size, symbol))
        cdef dict orders = self._state.open_orders
        orders[order_id] = new_order(order_id, symbol, side, price, size)
        return order_id

    def limit(self, side, price, size, tif=TimeInForce.GTC, symbol=None):
        """Place a limit order (GTC, IOC or post-only); returns its client order id."""
        return self.place(LIMIT, side, tif, price, size, symbol)

    def market(self, side, size, symbol=None):
        """Place a market order (fills what the book has, cancels the rest)."""
        return self.place(MARKET, side, IOC, None, size, symbol)

    def cancel(self, order_id):
        self.reserve()
        self._buffer.append((CANCEL, 0, 0, order_id, order_id, None, 0, ""))
        self.mark_pending(order_id)
        return order_id

    def replace(self, order_id, price, size):
        """Change an open order's price and total size (queue priority may be lost)."""
        self.reserve()
        self._buffer.append((REPLACE, 0, 0, order_id, order_id, price, size, ""))
        self.mark_pending(order_id)
        return order_id

    def cancel_all(self, symbol=None):
        self.reserve()
        self._buffer.append((CANCEL_ALL, 0, 0, 0, 0, None, 0, symbol or ""))
        cdef dict orders = self._state.open_orders
        for order_id, order in orders.items():
            if symbol is None or order.symbol == symbol:
                orders[order_id] = with_pending(order, True)

    def __len__(self):
        return len(self._buffer)

