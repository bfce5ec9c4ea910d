"""What a compiled algo is handed, packed into the contract's structs (meshrt.h): the
book, the AlgoState and the book's features.

Why compiled: packing these Python values into the 656-byte book from Python costs
microseconds a call. The venue reuses each unchanged side's tuple, so only the sides whose
tuples changed are repacked; tuple items are read borrowed (_borrowed.pxd). Each rule
applied here has its Python home (``meshrt.sdk.Features``, ``meshrt.contract.notional``
and ``mid_price``), which tests/test_compiled_rules.py compares with it.
"""

cimport cython
from cpython.object cimport PyObject
from libc.stdint cimport int64_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

from meshrt.loaders._borrowed cimport (
    PyMemberDef,
    PyType_GetSlot,
    Py_tp_members,
    T_OBJECT_EX,
    dict_get,
    i64,
    item,
    size,
)
from meshrt.loaders._host cimport UNSET, Host
from meshrt.loaders._meshrt_h cimport (
    F_INPUT,
    MR_BOOK_DEPTH,
    MR_PRICE_SCALE,
    MR_SIZE_SCALE,
    int128,
    mr_book,
    mr_features,
    mr_io,
    mr_state,
)

from types import MemberDescriptorType


@cython.cdivision(True)
cdef inline int128 floordiv(int128 a, int128 b) noexcept:
    """Python's ``a // b`` (rounds toward minus infinity) for b != 0."""
    cdef int128 q = a // b
    return q - 1 if q * b != a and (a < 0) != (b < 0) else q


@cython.cdivision(True)
cdef inline int64_t notional(int64_t price, int64_t size) noexcept:
    """meshrt.contract.notional: price * size / 1e8, truncated toward zero."""
    return <int64_t>((<int128>price * size) // MR_SIZE_SCALE)


# ---- AlgoState's attributes, read at their slots' offsets ------------------------------
#
# A getattr looks the name up along the type's MRO before it reaches the slot; on_book
# reads five attributes per call, so for the type last seen each slot's offset is taken
# from its class's member table (PyType_GetSlot(Py_tp_members), public API) and the
# attribute read there, borrowed. Any other object, or an unset slot: getattr.

cdef enum:
    A_NOW, A_NEXT_ORDER_ID, A_OPEN_ORDERS, A_LEDGER, A_BOOKS, N_ATTRS

cdef tuple ATTR_NAMES = ("now", "next_order_id", "open_orders", "ledger", "books")
cdef object state_type = None
cdef Py_ssize_t offsets[N_ATTRS]


cdef Py_ssize_t slot_offset(type cls, str name) except -2:
    """The offset of ``cls.<name>`` when it is a slot (T_OBJECT_EX member), else -1."""
    descr = getattr(cls, name, None)
    if type(descr) is not MemberDescriptorType:
        return -1
    cdef bytes key = name.encode()
    cdef PyMemberDef *m = <PyMemberDef *>PyType_GetSlot(descr.__objclass__, Py_tp_members)
    while m != NULL and m.name != NULL:
        if m.name == key:  # the class that defines the slot holds its member entry
            return m.offset if m.type == T_OBJECT_EX else -1
        m += 1
    return -1


cdef int resolve_state_type(object state) except -1:
    global state_type
    cdef type cls = type(state)
    cdef Py_ssize_t found[N_ATTRS]
    cdef int i
    for i in range(N_ATTRS):
        found[i] = slot_offset(cls, ATTR_NAMES[i])
        if found[i] < 0:
            return 0  # not slotted: getattr
    for i in range(N_ATTRS):
        offsets[i] = found[i]
    state_type = cls
    return 0


cdef inline object state_attr(object state, int which):
    """state.<ATTR_NAMES[which]>: from its slot for the resolved type, else getattr."""
    cdef PyObject *v
    if type(state) is state_type:
        v = (<PyObject **>(<char *><PyObject *>state + offsets[which]))[0]
        if v != NULL:
            return <object>v
    return getattr(state, ATTR_NAMES[which])


cdef class Packer(Host):
    """The book shadow and the ledger's cached figures of one algo instance."""

    def __init__(self, bint wasm, dict symbols not None, dict venues not None, host_call,
                 fault, ledger) -> None:
        Host.__init__(self, wasm, symbols, host_call, fault)
        self.venues = venues
        self.ledger_fn = ledger
        self.sym_obj = self.venue_obj = UNSET
        self.bid_prices = self.bid_sizes = self.ask_prices = self.ask_sizes = UNSET
        self.sym_id = self.venue_id = -1
        self.ledger = None
        self.ledger_dirty = True
        self.holdings = ()

    @cython.final
    cdef int pack_side(self, object values, int64_t *out, uint16_t *count) except -1:
        """One side's prices or sizes: ``out`` steps over whole levels (2 int64 each)."""
        if not isinstance(values, tuple):
            raise TypeError("book levels must be tuples")
        cdef tuple items = <tuple>values
        cdef Py_ssize_t n = len(items), i
        if n > MR_BOOK_DEPTH:
            raise self.fault(F_INPUT, f"book has {n} levels on a side; at most "
                                      f"{MR_BOOK_DEPTH}")
        for i in range(n):
            out[2 * i] = items[i]
        for i in range(n, MR_BOOK_DEPTH):
            out[2 * i] = 0
        count[0] = <uint16_t>n
        return 0

    @cython.final
    cdef int pack_book(self, object book) except -1:
        """Pack a Book tuple into the shadow; only sides whose tuples changed are repacked.
        Items are compared by identity, borrowed: no reference is taken unless kept."""
        if not isinstance(book, tuple) or len(<tuple>book) < 7:
            raise TypeError("on_book expects a meshrt Book")
        cdef PyObject *t = <PyObject *>book
        cdef PyObject *v
        cdef mr_book *b = &self.book
        cdef uint16_t count
        b.ts = i64(item(t, 0))
        v = item(t, 1)
        if v != <PyObject *>self.sym_obj:
            self.sym_id = self.name_id(self.symbols, <object>v, True)
            self.sym_obj = <object>v
        v = item(t, 2)
        if v != <PyObject *>self.venue_obj:
            self.venue_id = self.name_id(self.venues, <object>v, False)
            self.venue_obj = <object>v
        b.symbol = <uint16_t>self.sym_id
        b.venue = <uint16_t>self.venue_id
        v = item(t, 3)
        if v != <PyObject *>self.bid_prices:
            self.bid_prices = UNSET  # unset until packed: a failed pack is redone next time
            self.pack_side(<object>v, &b.bids[0].price, &b.bid_count)
            self.bid_prices = <object>v
        v = item(t, 4)
        if v != <PyObject *>self.bid_sizes:
            self.bid_sizes = UNSET
            self.pack_side(<object>v, &b.bids[0].size, &count)
            self.bid_sizes = <object>v
        v = item(t, 5)
        if v != <PyObject *>self.ask_prices:
            self.ask_prices = UNSET
            self.pack_side(<object>v, &b.asks[0].price, &b.ask_count)
            self.ask_prices = <object>v
        v = item(t, 6)
        if v != <PyObject *>self.ask_sizes:
            self.ask_sizes = UNSET
            self.pack_side(<object>v, &b.asks[0].size, &count)
            self.ask_sizes = <object>v
        if (size(<PyObject *>self.bid_prices) != size(<PyObject *>self.bid_sizes)
                or size(<PyObject *>self.ask_prices) != size(<PyObject *>self.ask_sizes)):
            raise self.fault(F_INPUT, "book prices and sizes differ in length")
        return 0

    @cython.final
    cdef int pack_features(self, object features, mr_features *f) except -1:
        """The book-derived features computed exactly as meshrt.sdk.Features does."""
        if not isinstance(features, tuple) or len(<tuple>features) < 3:
            raise TypeError("on_book expects meshrt Features")
        cdef PyObject *t = <PyObject *>features
        f.volatility = i64(item(t, 1))
        f.trade_flow = i64(item(t, 2))
        cdef const mr_book *b = &self.book
        if b.bid_count == 0 or b.ask_count == 0:
            f.mid = f.microprice = f.spread = f.imbalance = 0
            return 0
        cdef int64_t bp = b.bids[0].price, ap = b.asks[0].price
        cdef int64_t bs = b.bids[0].size, as_ = b.asks[0].size
        cdef int128 total = <int128>bs + as_
        f.mid = <int64_t>floordiv(<int128>bp + ap, 2)  # meshrt.contract.mid_price
        f.spread = ap - bp
        if total == 0:
            f.microprice, f.imbalance = f.mid, 0
        else:
            f.microprice = <int64_t>floordiv(<int128>bp * as_ + <int128>ap * bs, total)
            f.imbalance = <int64_t>floordiv((<int128>bs - as_) * MR_PRICE_SCALE, total)
        return 0

    @cython.final
    cdef int refresh_ledger(self, object state, object ledger) except -1:
        r = self.ledger_fn(state)
        if not isinstance(r, tuple) or len(<tuple>r) != 5 or not isinstance(r[4], tuple):
            raise TypeError("ledger snapshot must be a 5-tuple")
        self.l_position, self.l_cash, self.l_realized, self.l_fees = r[0], r[1], r[2], r[3]
        self.holdings = r[4]
        self.ledger = ledger
        self.ledger_dirty = False
        return 0

    @cython.final
    @cython.cdivision(True)
    cdef int64_t unrealized(self, object state) except? -1:
        """AlgoState.unrealized_pnl: held symbols at the mid of the last book received.
        Holdings and books are read borrowed: only dict lookups and int reads between."""
        cdef PyObject *holdings = <PyObject *>self.holdings
        cdef Py_ssize_t n = size(holdings), i
        if n == 0:
            return 0
        cdef dict books = state_attr(state, A_BOOKS)
        cdef int64_t total = 0, mid
        cdef PyObject *held
        cdef PyObject *book
        cdef PyObject *bids
        cdef PyObject *asks
        for i in range(n):
            held = item(holdings, i)
            book = dict_get(books, item(held, 0))
            if book == NULL:
                continue
            bids = item(book, 3)
            asks = item(book, 5)
            if size(bids) == 0 or size(asks) == 0:
                continue
            mid = <int64_t>floordiv(<int128>i64(item(bids, 0)) + i64(item(asks, 0)), 2)
            total += notional(mid, i64(item(held, 1))) - i64(item(held, 2))
        return total

    @cython.final
    cdef int pack_state(self, object state, mr_state *s) except -1:
        """Pack the AlgoState; keeps state.open_orders for the order() host call."""
        if type(state) is not state_type:
            resolve_state_type(state)
        s.now = state_attr(state, A_NOW)
        s.next_order_id = <uint64_t><int64_t>state_attr(state, A_NEXT_ORDER_ID)
        orders = state_attr(state, A_OPEN_ORDERS)
        if not isinstance(orders, dict):
            raise TypeError("state.open_orders must be a dict")
        self.open_orders = orders
        s.open_orders = <uint32_t>len(<dict>orders)
        ledger = state_attr(state, A_LEDGER)
        if ledger is not self.ledger or self.ledger_dirty:
            self.refresh_ledger(state, ledger)
        s.position = self.l_position
        s.cash = self.l_cash
        s.realized_pnl = self.l_realized
        s.fees = self.l_fees
        s._pad0 = 0
        s.unrealized_pnl = self.unrealized(state)
        return 0

    cdef int pack_inputs(self, object book, object state, object features, mr_io *io) except -1:
        """on_book's inputs, written into the I/O area ``io``; no actions yet."""
        cdef mr_state s
        cdef mr_features f
        self.pack_book(book)
        self.pack_state(state, &s)
        self.pack_features(features, &f)
        memcpy(&io.book, &self.book, sizeof(mr_book))  # not a struct assignment: one copy
        io.state = s
        io.features = f
        io.actions.count = io.actions.refused = 0
        return 0
