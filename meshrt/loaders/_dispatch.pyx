"""The hot path of the WASM and native loaders: one compiled algo instance's calls.

Why compiled: the runtime hands an algo Python values (a Book tuple, the AlgoState
object). Packing those into the contract's 656-byte book from Python costs microseconds;
here ``on_book`` is one call that packs the book (only the sides whose tuples changed: the
venue reuses each unchanged side's tuple), state and features into the algo's I/O area,
sets the fuel, calls the algo (``wasmtime_func_call_unchecked`` or a native vtable entry)
and hands the actions it wrote back to Python (``replay``). It also holds the host-call
trampolines that WASM imports and the native host table point at.

It links against nothing but Python: the contract's layout is meshrt/include/meshrt.h, and
wasmtime's C functions arrive as addresses of the wasmtime wheel's own library
(meshrt/loaders/wasmtime_api.py), declared in _wasmtime.pxd. What stays in Python: the
names behind ids (``host_call``), replaying actions (``replay``), building a fault
(``fault``) and the ledger's figures (``ledger``, called only after a fill).
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.long cimport PyLong_AsVoidPtr, PyLong_FromVoidPtr
from cpython.mem cimport PyMem_Calloc, PyMem_Free
from cpython.memoryview cimport PyMemoryView_FromMemory
from cpython.object cimport PyObject
from cpython.buffer cimport PyBUF_READ
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy, strlen

from meshrt.loaders._wasmtime cimport (
    WASMTIME_TRAP_CODE_OUT_OF_FUEL,
    WasmtimeApi,
    byte_vec_delete_t,
    context_set_fuel_t,
    error_delete_t,
    error_message_t,
    func_call_unchecked_t,
    memory_data_size_t,
    memory_data_t,
    trap_code_t,
    trap_delete_t,
    trap_message_t,
    trap_new_t,
    wasm_byte_vec_t,
    wasm_trap_t,
    wasmtime_caller_t,
    wasmtime_context_t,
    wasmtime_error_t,
    wasmtime_func_t,
    wasmtime_memory_t,
    wasmtime_val_raw_t,
)
from meshrt.loaders._meshrt_h cimport (
    CB_ON_BOOK,
    CB_ON_FILL,
    CB_ON_SHUTDOWN,
    F_ACTION,
    F_FUEL,
    F_INPUT,
    F_MEMORY,
    F_RETURN,
    F_TRAP,
    MESHRT_ABI_VERSION,
    MR_BAD_ARG,
    MR_BOOK_DEPTH,
    MR_FOUND,
    MR_MAX_ACTIONS,
    MR_NOT_FOUND,
    MR_ORDER_ACCEPTED,
    MR_ORDER_HAS_PRICE,
    MR_ORDER_PENDING,
    MR_PRICE_SCALE,
    MR_SIZE_SCALE,
    N_CALLBACKS,
    N_EXPORTS,
    int128,
    mr_action,
    mr_actions,
    mr_book,
    mr_features,
    mr_host,
    mr_io,
    mr_open_order,
    mr_state,
    native_callback,
    native_create,
    native_destroy,
    native_restore,
    native_snapshot,
)
from meshrt.loaders._borrowed cimport (
    item,
    size,
    dict_get,
    PyMemberDef,
    Py_tp_members,
    PyType_GetSlot,
    T_OBJECT_EX,
    i64,
)

from types import MemberDescriptorType

cdef Py_ssize_t IO_SIZE = sizeof(mr_io)
cdef WasmtimeApi wt  # filled by set_wasm_api

# Distinct from any value a host call returns (None means "not found" there).
cdef object FAILED = object()
cdef object UNSET = object()  # a name cache that matches no name


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


# ---- the dispatcher ----------------------------------------------------------------------

@cython.final
@cython.binding(False)  # plain method descriptors, as a C type's: CPython's specialised
cdef class Dispatcher:  # call instructions call them directly (a cyfunction is generic)
    """One compiled algo instance's calls: packing, dispatch, host calls."""

    cdef bint wasm
    cdef uint8_t *io_native  # native: host-owned I/O area
    cdef uint32_t io_offset  # wasm: the I/O area's offset in linear memory
    cdef void *instance  # native: what create() returned
    cdef native_destroy destroy
    cdef native_callback native_cb[N_CALLBACKS]
    cdef wasmtime_context_t *context
    cdef wasmtime_func_t funcs[N_EXPORTS]
    cdef bint has[N_EXPORTS]
    cdef wasmtime_memory_t memory
    cdef uint8_t *mem_base
    cdef size_t mem_size, mem_cap
    cdef uint64_t fuel
    cdef mr_host host
    cdef dict symbols, venues  # name -> id
    cdef object sym_obj, venue_obj, osym_obj  # the last names looked up, by identity
    cdef long sym_id, venue_id, osym_id
    cdef object host_call, replay, fault, ledger_fn
    cdef object ledger  # the ledger the cached figures belong to
    cdef bint ledger_dirty
    cdef int64_t l_position, l_cash, l_realized, l_fees
    cdef tuple holdings  # (symbol, position, cost basis) of each held symbol
    cdef object open_orders  # during a call: state.open_orders, for the order() host call
    cdef object pending  # an exception a host call raised during the algo call
    cdef mr_book book  # packed shadow of the last book
    cdef object bid_prices, bid_sizes, ask_prices, ask_sizes  # what the shadow holds

    def __init__(self, bint wasm, dict symbols not None, dict venues not None, host_call,
                 replay, fault, ledger) -> None:
        self.wasm = wasm
        self.symbols, self.venues = symbols, venues
        self.host_call, self.replay, self.fault, self.ledger_fn = host_call, replay, fault, ledger
        self.sym_obj = self.venue_obj = self.osym_obj = UNSET
        self.bid_prices = self.bid_sizes = self.ask_prices = self.ask_sizes = UNSET
        self.sym_id = self.venue_id = self.osym_id = -1
        self.ledger = None
        self.ledger_dirty = True
        if self.holdings is None:
            self.holdings = ()
        self.host.abi_version = MESHRT_ABI_VERSION
        self.host.ctx = <void *>self  # the host table lives inside self
        self.host.send = h_send
        self.host.subscribe = h_subscribe
        self.host.unsubscribe = h_unsubscribe
        self.host.symbol = h_symbol
        self.host.position = h_position
        self.host.param = h_param
        self.host.set_param = h_set_param
        self.host.log = h_log
        self.host.order = h_order

    def __dealloc__(self) -> None:
        if not self.wasm and self.instance != NULL and self.destroy != NULL:
            self.destroy(self.instance)
        self.instance = NULL
        PyMem_Free(self.io_native)

    # -- small helpers -------------------------------------------------------------------

    cdef inline uint8_t *io(self) noexcept:
        return self.mem_base + self.io_offset if self.wasm else self.io_native

    cdef inline void refresh_memory(self) noexcept:
        cdef size_t size = wt.memory_data_size(self.context, &self.memory)
        if size != self.mem_size:
            self.mem_size = size
            self.mem_base = wt.memory_data(self.context, &self.memory)

    cdef int ready(self) except -1:
        if (self.context == NULL) if self.wasm else (self.instance == NULL):
            raise RuntimeError("algo slot is closed")
        return 0

    cdef int raise_pending(self) except -1:
        exc, self.pending = self.pending, None
        raise exc

    # -- packing -------------------------------------------------------------------------

    cdef long name_id(self, dict ids, object name, bint register) except? -1:
        """The id of a name; with ``register``, a name not yet seen gets the next id."""
        found = ids.get(name)
        if found is not None:
            return found
        if not register:
            raise self.fault(F_INPUT, f"unknown venue {name!r}")
        return self.host_call("symbol", name)

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

    cdef int refresh_ledger(self, object state, object ledger) except -1:
        r = self.ledger_fn(state)
        if not isinstance(r, tuple) or len(<tuple>r) != 5 or not isinstance(r[4], tuple):
            raise TypeError("ledger snapshot must be a 5-tuple")
        self.l_position, self.l_cash, self.l_realized, self.l_fees = r[0], r[1], r[2], r[3]
        self.holdings = r[4]
        self.ledger = ledger
        self.ledger_dirty = False
        return 0

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

    # -- calling the algo ----------------------------------------------------------------

    cdef int call_algo(self, int index, int32_t *result) except -1:
        """Call export/callback ``index`` with its inputs in place; *result is its i32."""
        if not self.wasm:
            result[0] = self.native_cb[index](self.instance)
            if self.pending is not None:
                self.raise_pending()
            return 0
        cdef wasmtime_val_raw_t raw[1]
        cdef wasm_trap_t *trap = NULL
        cdef wasmtime_error_t *err = wt.context_set_fuel(self.context, self.fuel)
        if err != NULL:
            raise RuntimeError(f"wasmtime_context_set_fuel failed: {error_text(err)}")
        raw[0].i64 = 0
        err = wt.func_call_unchecked(self.context, &self.funcs[index], raw, 1, &trap)
        self.refresh_memory()
        if self.mem_size > self.mem_cap or self.pending is not None:
            if trap != NULL:
                wt.trap_delete(trap)
            if err != NULL:
                wt.error_delete(err)
            if self.mem_size > self.mem_cap:
                self.pending = None
                raise self.fault(F_MEMORY, f"linear memory grew to {self.mem_size} bytes, "
                                           f"over the cap of {self.mem_cap}")
            self.raise_pending()
        # the export's index too: the one-line reason names the callback
        if trap != NULL:
            if err != NULL:
                wt.error_delete(err)
            code = F_FUEL if trap_is_out_of_fuel(trap) else F_TRAP
            raise self.fault(code, trap_text(trap), index)
        if err != NULL:
            raise self.fault(F_TRAP, error_text(err), index)
        result[0] = raw[0].i32
        return 0

    cdef object finish(self, int index, int32_t result, object actions):
        """After a callback: its return code, then its actions replayed through ``actions``."""
        if result != 0:
            raise self.fault(F_RETURN, f"callback returned error code {result}")
        cdef mr_actions *a = &(<mr_io *>self.io()).actions
        cdef uint32_t count = a.count, refused = a.refused, i
        if count == 0 and refused == 0:
            return None
        if count > MR_MAX_ACTIONS:
            raise self.fault(F_ACTION, f"action count {count} is over the limit of "
                                       f"{MR_MAX_ACTIONS}")
        if actions is None:
            what = "on_shutdown" if index == CB_ON_SHUTDOWN else "this callback"
            raise self.fault(F_ACTION, f"{what} cannot place actions")
        cdef const mr_action *x
        items = []
        for i in range(count):
            x = &a.items[i]
            items.append((x.kind, x.side, x.tif, x.client_order_id, x.target_order_id,
                          x.price, x.size, x.symbol))
        return self.replay(tuple(items), refused, actions)

    def on_book(self, book, state, features, actions, /):
        """on_book(book, state, features, actions): pack, call the algo, replay its actions."""
        cdef mr_state s
        cdef mr_features f
        cdef int32_t result
        cdef mr_io *io
        self.ready()
        self.pack_book(book)
        try:
            self.pack_state(state, &s)
            self.pack_features(features, &f)
            io = <mr_io *>self.io()
            memcpy(&io.book, &self.book, sizeof(mr_book))  # not a struct assignment: one copy
            io.state = s
            io.features = f
            io.actions.count = io.actions.refused = 0
            self.call_algo(CB_ON_BOOK, &result)
        finally:
            self.open_orders = None
        return self.finish(CB_ON_BOOK, result, actions)

    def call(self, long index, state, actions, payload, long offset, /):
        """call(index, state, actions, payload, offset): any other callback; ``payload``
        (bytes or None) is its packed input, written at ``offset`` of the I/O area."""
        cdef mr_state s
        cdef int32_t result
        cdef bytes data
        cdef uint8_t *io
        if index < 0 or index >= N_CALLBACKS:
            raise ValueError("bad callback index")
        self.ready()
        if index == CB_ON_FILL:
            self.ledger_dirty = True  # a fill is the only ledger change
        try:
            if state is not None:
                self.pack_state(state, &s)
            io = self.io()
            if payload is not None:
                data = payload
                if offset < 0 or offset + len(data) > IO_SIZE:
                    raise ValueError("payload out of the I/O area")
                memcpy(io + offset, PyBytes_AS_STRING(data), len(data))
            if state is not None:
                (<mr_io *>io).state = s
            (<mr_io *>io).actions.count = (<mr_io *>io).actions.refused = 0
            self.call_algo(index, &result)
        finally:
            self.open_orders = None
        return self.finish(index, result, actions)

    def invoke(self, long index):
        """A WASM export without inputs (create, destroy, io, abi version): its i32."""
        cdef int32_t result
        if index < 0 or index >= N_EXPORTS or not self.wasm or not self.has[index]:
            raise ValueError("no such export")
        if self.context == NULL:
            raise RuntimeError("algo slot is closed")
        self.call_algo(index, &result)
        return result

    # -- binding an instance -------------------------------------------------------------

    def bind_native(self, create, destroy, tuple callbacks not None, restore=None,
                    bytes data=None, bytes io=None):
        """Allocate the I/O area and create the instance; ``callbacks`` holds 13 addresses
        (0 for an absent optional one). With ``restore`` (the vtable entry's address) the
        instance is rebuilt from a checkpoint instead: the I/O area gets the saved ``io``
        bytes, then restore(host, io, ``data``) makes the instance; create is not called."""
        cdef Py_ssize_t i
        if (self.wasm or self.instance != NULL or len(callbacks) != N_CALLBACKS
                or (io is not None and len(io) != IO_SIZE)):
            raise ValueError("bind_native: bad state, callbacks or I/O image")
        cdef native_create make = <native_create>address(create)
        cdef native_restore rebuild = NULL
        if restore is not None:
            rebuild = <native_restore>address(restore)
        self.destroy = <native_destroy>address(destroy)
        for i in range(N_CALLBACKS):
            self.native_cb[i] = <native_callback>address(callbacks[i])
        if self.io_native == NULL:
            self.io_native = <uint8_t *>PyMem_Calloc(1, sizeof(mr_io))
            if self.io_native == NULL:
                raise MemoryError()
        cdef mr_io *area = <mr_io *>self.io_native
        if rebuild != NULL:
            if io is not None:
                memcpy(area, PyBytes_AS_STRING(io), sizeof(mr_io))
            if data is None:
                self.instance = rebuild(&self.host, area, NULL, 0)
            else:
                self.instance = rebuild(&self.host, area, PyBytes_AS_STRING(data), len(data))
        else:
            self.instance = make(&self.host, area)
        self.open_orders = None
        if self.pending is not None:
            self.instance = NULL
            self.raise_pending()
        return self.instance != NULL

    def snapshot_native(self, entry):
        """A native instance's own state, from its vtable's snapshot entry (an address):
        snapshot(instance, NULL, 0) gives the size, a second call with that much room
        writes it. RuntimeError when the entry returns an error."""
        cdef native_snapshot snapshot = <native_snapshot>address(entry)
        cdef int64_t need, wrote
        cdef bytes out
        if self.wasm or self.instance == NULL or snapshot == NULL:
            raise RuntimeError("no native instance or snapshot entry")
        need = snapshot(self.instance, NULL, 0)
        for _ in range(4):
            if need < 0:
                raise RuntimeError(f"its snapshot entry returned error {need}")
            out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>need)
            wrote = snapshot(self.instance, PyBytes_AS_STRING(out), <uint64_t>need)
            if 0 <= wrote <= need:
                return out if wrote == need else out[:wrote]
            need = wrote  # it asked for more than it said at first: try that size
        raise RuntimeError("its snapshot entry kept asking for more room")

    def bind_wasm(self, context, dict funcs not None, bytes memory not None,
                  unsigned long long fuel, unsigned long long memory_cap) -> None:
        """Bind a WASM instance: ``funcs`` maps export index -> its 16-byte
        wasmtime_func_t, ``memory`` is the 24-byte wasmtime_memory_t."""
        cdef long i
        cdef bytes value
        if not self.wasm or len(memory) != sizeof(wasmtime_memory_t):
            raise ValueError("bind_wasm: bad state or memory")
        memcpy(&self.memory, PyBytes_AS_STRING(memory), sizeof(wasmtime_memory_t))
        self.context = <wasmtime_context_t *>address(context)
        for key, func in funcs.items():
            i = key
            value = func
            if i < 0 or i >= N_EXPORTS or len(value) != sizeof(wasmtime_func_t):
                raise ValueError("bind_wasm: bad func")
            memcpy(&self.funcs[i], PyBytes_AS_STRING(value), sizeof(wasmtime_func_t))
            self.has[i] = True
        self.fuel = fuel
        self.mem_cap = memory_cap
        self.mem_size = 0
        self.refresh_memory()

    def set_io(self, long long offset) -> None:
        """Where the module's mr_io lives in linear memory (checked in bounds)."""
        self.refresh_memory()
        if offset < 0 or <unsigned long long>offset + sizeof(mr_io) > self.mem_size or offset % 8:
            raise ValueError(f"I/O area at {offset} is not inside linear memory "
                             f"({self.mem_size} bytes) or not 8-byte aligned")
        self.io_offset = <uint32_t>offset

    def io_view(self):
        """A read-only view of the I/O area (checkpoints, tests)."""
        self.ready()
        if self.wasm:
            self.refresh_memory()
        return PyMemoryView_FromMemory(<char *>self.io(), IO_SIZE, PyBUF_READ)

    def close(self) -> None:
        """Destroy a native instance (before its library is released); detach WASM."""
        cdef void *instance = self.instance
        if not self.wasm and instance != NULL:
            self.instance = NULL
            if self.destroy != NULL:
                self.destroy(instance)
            self.pending = None
        self.context = NULL
        self.mem_base = NULL
        self.mem_size = 0


# ---- wasmtime helpers ------------------------------------------------------------------

cdef void *address(object value) except? NULL:
    return PyLong_AsVoidPtr(value)


cdef str vec_text(wasm_byte_vec_t *vec):
    """A message vector as text (trailing NULs dropped); the vector is freed."""
    cdef Py_ssize_t n = vec.size
    while n > 0 and vec.data[n - 1] == 0:
        n -= 1
    try:
        return vec.data[:n].decode("utf-8", "replace")
    finally:
        wt.byte_vec_delete(vec)


cdef str error_text(wasmtime_error_t *err):
    """wasmtime's message of an error; the error is freed."""
    cdef wasm_byte_vec_t vec
    vec.size, vec.data = 0, NULL
    wt.error_message(err, &vec)
    wt.error_delete(err)
    return vec_text(&vec)


cdef bint trap_is_out_of_fuel(wasm_trap_t *trap) noexcept:
    cdef uint8_t code = 255
    return wt.trap_code(trap, &code) and code == WASMTIME_TRAP_CODE_OUT_OF_FUEL


cdef str trap_text(wasm_trap_t *trap):
    """wasmtime's message of a trap; the trap is freed."""
    cdef wasm_byte_vec_t vec
    vec.size, vec.data = 0, NULL
    wt.trap_message(trap, &vec)
    wt.trap_delete(trap)
    return vec_text(&vec)


# ---- host calls -------------------------------------------------------------------------
#
# The algo calls these in the middle of a callback, from native code or through a WASM
# trampoline, so none may raise: an exception from Python is kept in ``pending`` and
# raised once the algo call has returned; the algo sees a result code.

cdef object host_python(Dispatcher d, object name, object a, object b=UNSET):
    """Run a Python host call; FAILED (and the exception kept) when it raises."""
    try:
        return d.host_call(name, a) if b is UNSET else d.host_call(name, a, b)
    except BaseException as exc:
        if d.pending is None:
            d.pending = exc
        return FAILED


cdef object text(const char *p, uint32_t n):
    """Guest text as str, or None when it is not UTF-8."""
    try:
        return p[:n].decode("utf-8")
    except UnicodeDecodeError:
        return None


cdef int64_t result_int(object r, int64_t fallback) noexcept:
    if isinstance(r, int):
        try:
            return <int64_t>r
        except OverflowError:
            pass
    return fallback


cdef int32_t h_named(void *ctx, str op, const char *name, uint32_t n) noexcept:
    s = text(name, n)
    if s is None:
        return MR_BAD_ARG
    return <int32_t>result_int(host_python(<Dispatcher>ctx, op, s), MR_BAD_ARG)


cdef int32_t h_send(void *ctx, const char *label, uint32_t label_len, const void *payload,
                    uint32_t n) noexcept:
    l = text(label, label_len)
    if l is None:
        return MR_BAD_ARG
    p = (<const char *>payload)[:n]
    return <int32_t>result_int(host_python(<Dispatcher>ctx, "send", l, p), MR_BAD_ARG)


cdef int32_t h_subscribe(void *ctx, const char *s, uint32_t n) noexcept:
    return h_named(ctx, "subscribe", s, n)


cdef int32_t h_unsubscribe(void *ctx, const char *s, uint32_t n) noexcept:
    return h_named(ctx, "unsubscribe", s, n)


cdef int32_t h_symbol(void *ctx, const char *s, uint32_t n) noexcept:
    return h_named(ctx, "symbol", s, n)


cdef int32_t h_log(void *ctx, const char *s, uint32_t n) noexcept:
    return h_named(ctx, "log", s, n)


cdef int64_t h_position(void *ctx, uint32_t symbol) noexcept:
    return result_int(host_python(<Dispatcher>ctx, "position", symbol), 0)


cdef int32_t h_param(void *ctx, const char *name, uint32_t n, int64_t *out) noexcept:
    s = text(name, n)
    if s is None:
        return MR_BAD_ARG
    r = host_python(<Dispatcher>ctx, "param", s)
    if r is FAILED:
        return MR_BAD_ARG
    if isinstance(r, int):
        try:
            out[0] = <int64_t>r
            return MR_FOUND
        except OverflowError:
            pass
    return MR_NOT_FOUND


cdef int32_t h_set_param(void *ctx, const char *name, uint32_t n, int64_t value) noexcept:
    s = text(name, n)
    if s is None:
        return MR_BAD_ARG
    return <int32_t>result_int(host_python(<Dispatcher>ctx, "set_param", s, value),
                               MR_BAD_ARG)


cdef int32_t h_order(void *ctx, uint64_t order_id, mr_open_order *out) noexcept:
    """state.open_orders[client id] as an mr_open_order, read without a Python call
    (but for the id of a symbol not seen before)."""
    cdef Dispatcher d = <Dispatcher>ctx
    cdef mr_open_order o
    cdef long symbol
    cdef PyObject *order
    cdef PyObject *name
    cdef PyObject *price
    if d.open_orders is None:
        return MR_NOT_FOUND
    try:
        found = (<dict>d.open_orders).get(order_id)  # a strong reference: the symbol
        if not isinstance(found, tuple) or len(<tuple>found) < 8:  # lookup may run Python
            return MR_NOT_FOUND
        order = <PyObject *>found  # its items read borrowed: found holds them
        name = item(order, 1)
        if name == <PyObject *>d.osym_obj:
            symbol = d.osym_id
        else:
            try:
                symbol = d.name_id(d.symbols, <object>name, True)
                d.osym_obj, d.osym_id = <object>name, symbol
            except Exception:
                symbol = 0
        price = item(order, 3)
        o.order_id = order_id
        o.price = 0 if price == <PyObject *>None else i64(price)
        o.size = i64(item(order, 4))
        o.filled = i64(item(order, 5))
        o.symbol = <uint16_t>symbol
        o.side = <uint8_t>i64(item(order, 2))
        o.flags = ((MR_ORDER_ACCEPTED if <object>item(order, 6) else 0)
                   | (MR_ORDER_PENDING if <object>item(order, 7) else 0)
                   | (0 if price == <PyObject *>None else MR_ORDER_HAS_PRICE))
        o._pad0 = 0
    except Exception:
        return MR_NOT_FOUND
    out[0] = o
    return MR_FOUND


# ---- WASM trampolines: bounds-check guest pointers, then the same host calls ------------

cdef wasm_trap_t *guest_fault(Dispatcher d, const char *what) noexcept:
    if d.pending is None:
        try:
            d.pending = d.fault(F_TRAP, what.decode("utf-8"))
        except Exception:
            pass
    return wt.trap_new(what, strlen(what))


cdef inline uint8_t *guest_span(Dispatcher d, uint32_t ptr, uint64_t n) noexcept:
    """The guest's bytes [ptr, ptr + n) in host memory, or NULL when out of bounds."""
    d.refresh_memory()
    if <uint64_t>ptr + n > d.mem_size:
        return NULL
    return d.mem_base + ptr


cdef inline wasm_trap_t *failed(Dispatcher d, const char *what) noexcept:
    return wt.trap_new(what, strlen(what)) if d.pending is not None else NULL


cdef wasm_trap_t *t_send(void *env, wasmtime_caller_t *c, wasmtime_val_raw_t *a,
                         size_t n) noexcept:
    cdef Dispatcher d = <Dispatcher>env
    cdef uint8_t *label = guest_span(d, <uint32_t>a[0].i32, <uint32_t>a[1].i32)
    cdef uint8_t *payload = guest_span(d, <uint32_t>a[2].i32, <uint32_t>a[3].i32)
    if label == NULL or payload == NULL:
        return guest_fault(d, b"host call send: pointer out of linear memory bounds")
    a[0].i32 = h_send(env, <const char *>label, <uint32_t>a[1].i32, payload,
                      <uint32_t>a[3].i32)
    return failed(d, b"host call send failed")


cdef inline wasm_trap_t *named(void *env, wasmtime_val_raw_t *a, str op, const char *bounds,
                               const char *fails) noexcept:
    cdef Dispatcher d = <Dispatcher>env
    cdef uint8_t *p = guest_span(d, <uint32_t>a[0].i32, <uint32_t>a[1].i32)
    if p == NULL:
        return guest_fault(d, bounds)
    a[0].i32 = h_named(env, op, <const char *>p, <uint32_t>a[1].i32)
    return failed(d, fails)


cdef wasm_trap_t *t_subscribe(void *env, wasmtime_caller_t *c, wasmtime_val_raw_t *a,
                              size_t n) noexcept:
    return named(env, a, "subscribe",
                 b"host call subscribe: pointer out of linear memory bounds",
                 b"host call subscribe failed")


cdef wasm_trap_t *t_unsubscribe(void *env, wasmtime_caller_t *c, wasmtime_val_raw_t *a,
                                size_t n) noexcept:
    return named(env, a, "unsubscribe",
                 b"host call unsubscribe: pointer out of linear memory bounds",
                 b"host call unsubscribe failed")


cdef wasm_trap_t *t_symbol(void *env, wasmtime_caller_t *c, wasmtime_val_raw_t *a,
                           size_t n) noexcept:
    return named(env, a, "symbol", b"host call symbol: pointer out of linear memory bounds",
                 b"host call symbol failed")


cdef wasm_trap_t *t_log(void *env, wasmtime_caller_t *c, wasmtime_val_raw_t *a,
                        size_t n) noexcept:
    return named(env, a, "log", b"host call log: pointer out of linear memory bounds",
                 b"host call log failed")


cdef wasm_trap_t *t_position(void *env, wasmtime_caller_t *c, wasmtime_val_raw_t *a,
                             size_t n) noexcept:
    a[0].i64 = h_position(env, <uint32_t>a[0].i32)
    return failed(<Dispatcher>env, b"host call position failed")


cdef wasm_trap_t *t_param(void *env, wasmtime_caller_t *c, wasmtime_val_raw_t *a,
                          size_t n) noexcept:
    cdef Dispatcher d = <Dispatcher>env
    cdef uint8_t *name = guest_span(d, <uint32_t>a[0].i32, <uint32_t>a[1].i32)
    cdef uint8_t *out = guest_span(d, <uint32_t>a[2].i32, 8)
    cdef int64_t value = 0
    if name == NULL or out == NULL:
        return guest_fault(d, b"host call param: pointer out of linear memory bounds")
    cdef int32_t r = h_param(env, <const char *>name, <uint32_t>a[1].i32, &value)
    if r == MR_FOUND:
        memcpy(out, &value, 8)
    a[0].i32 = r
    return failed(d, b"host call param failed")


cdef wasm_trap_t *t_set_param(void *env, wasmtime_caller_t *c, wasmtime_val_raw_t *a,
                              size_t n) noexcept:
    cdef Dispatcher d = <Dispatcher>env
    cdef uint8_t *name = guest_span(d, <uint32_t>a[0].i32, <uint32_t>a[1].i32)
    if name == NULL:
        return guest_fault(d, b"host call set_param: pointer out of linear memory bounds")
    a[0].i32 = h_set_param(env, <const char *>name, <uint32_t>a[1].i32, a[2].i64)
    return failed(d, b"host call set_param failed")


cdef wasm_trap_t *t_order(void *env, wasmtime_caller_t *c, wasmtime_val_raw_t *a,
                          size_t n) noexcept:
    cdef Dispatcher d = <Dispatcher>env
    cdef uint8_t *out = guest_span(d, <uint32_t>a[1].i32, sizeof(mr_open_order))
    cdef mr_open_order o
    if out == NULL:
        return guest_fault(d, b"host call order: pointer out of linear memory bounds")
    cdef int32_t r = h_order(env, <uint64_t>a[0].i64, &o)
    if r == MR_FOUND:
        memcpy(out, &o, sizeof(o))
    a[0].i32 = r
    return NULL


# ---- module functions -------------------------------------------------------------------

cdef void *api_address(dict api, str name) except? NULL:
    if name not in api:
        raise KeyError(f"missing {name}")
    return address(api[name])


def set_wasm_api(dict api not None) -> None:
    """Bind the wasmtime functions the dispatcher calls: a dict name -> address."""
    wt.func_call_unchecked = <func_call_unchecked_t>api_address(api, "wasmtime_func_call_unchecked")
    wt.context_set_fuel = <context_set_fuel_t>api_address(api, "wasmtime_context_set_fuel")
    wt.memory_data = <memory_data_t>api_address(api, "wasmtime_memory_data")
    wt.memory_data_size = <memory_data_size_t>api_address(api, "wasmtime_memory_data_size")
    wt.trap_code = <trap_code_t>api_address(api, "wasmtime_trap_code")
    wt.trap_message = <trap_message_t>api_address(api, "wasm_trap_message")
    wt.trap_delete = <trap_delete_t>api_address(api, "wasm_trap_delete")
    wt.error_message = <error_message_t>api_address(api, "wasmtime_error_message")
    wt.error_delete = <error_delete_t>api_address(api, "wasmtime_error_delete")
    wt.byte_vec_delete = <byte_vec_delete_t>api_address(api, "wasm_byte_vec_delete")
    wt.trap_new = <trap_new_t>api_address(api, "wasmtime_trap_new")


def trampolines():
    """The WASM host-call trampolines (wasmtime_func_unchecked_callback_t): name -> address."""
    return {
        "send": PyLong_FromVoidPtr(<void *>t_send),
        "subscribe": PyLong_FromVoidPtr(<void *>t_subscribe),
        "unsubscribe": PyLong_FromVoidPtr(<void *>t_unsubscribe),
        "symbol": PyLong_FromVoidPtr(<void *>t_symbol),
        "position": PyLong_FromVoidPtr(<void *>t_position),
        "param": PyLong_FromVoidPtr(<void *>t_param),
        "set_param": PyLong_FromVoidPtr(<void *>t_set_param),
        "log": PyLong_FromVoidPtr(<void *>t_log),
        "order": PyLong_FromVoidPtr(<void *>t_order),
    }


def layout():
    """The I/O area's offsets as compiled from meshrt.h (the loaders check them)."""
    cdef mr_io io
    cdef char *base = <char *>&io
    return {
        "abi_version": MESHRT_ABI_VERSION,
        "book": <char *>&io.book - base, "state": <char *>&io.state - base,
        "features": <char *>&io.features - base, "fill": <char *>&io.fill - base,
        "reject": <char *>&io.reject - base, "nbbo": <char *>&io.nbbo - base,
        "message": <char *>&io.message - base, "symbol": <char *>&io.symbol - base,
        "actions": <char *>&io.actions - base, "size": sizeof(mr_io),
        "host": sizeof(mr_host),
    }
