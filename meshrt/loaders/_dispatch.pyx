"""The hot path of the WASM and native loaders: one compiled algo instance's calls.

Why compiled: the runtime hands an algo Python values (a Book tuple, the AlgoState
object). Here ``on_book`` is one call that packs the book, state and features into the
algo's I/O area (``Packer``, _pack.pyx), sets the fuel, calls the algo
(``wasmtime_func_call_unchecked`` or a native vtable entry) and hands the actions it wrote
back to Python (``replay``). The host calls the algo makes meanwhile are ``Host``'s
(_host.pyx), the base of ``Packer``: one object, so every call reads its fields directly.

It links against nothing but Python: the contract's layout is meshrt/include/meshrt.h, and
wasmtime's C functions arrive as addresses of the wasmtime wheel's own library
(meshrt/loaders/wasmtime_api.py, bound in _wasmtime.pyx). What stays in Python: the names
behind ids (``host_call``), replaying actions (``replay``), building a fault (``fault``)
and the ledger's figures (``ledger``, called only after a fill).
"""

cimport cython
from cpython.buffer cimport PyBUF_READ
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.long cimport PyLong_AsVoidPtr
from cpython.mem cimport PyMem_Calloc, PyMem_Free
from cpython.memoryview cimport PyMemoryView_FromMemory
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy

from meshrt.loaders._meshrt_h cimport (
    CB_ON_BOOK,
    CB_ON_FILL,
    CB_ON_SHUTDOWN,
    F_ACTION,
    F_FUEL,
    F_MEMORY,
    F_RETURN,
    F_TRAP,
    MESHRT_ABI_VERSION,
    MR_MAX_ACTIONS,
    N_CALLBACKS,
    N_EXPORTS,
    mr_action,
    mr_actions,
    mr_host,
    mr_io,
    mr_state,
    native_callback,
    native_create,
    native_destroy,
    native_restore,
    native_snapshot,
)
from meshrt.loaders._pack cimport Packer
from meshrt.loaders._wasmtime cimport (
    error_text,
    trap_is_out_of_fuel,
    trap_text,
    wasm_trap_t,
    wasmtime_context_t,
    wasmtime_error_t,
    wasmtime_func_t,
    wasmtime_memory_t,
    wasmtime_val_raw_t,
    wt,
)

cdef Py_ssize_t IO_SIZE = sizeof(mr_io)


cdef inline void *address(object value) except? NULL:
    return PyLong_AsVoidPtr(value)


@cython.final
@cython.binding(False)  # plain method descriptors, as a C type's: CPython's specialised
cdef class Dispatcher(Packer):  # call instructions call them directly (a cyfunction is generic)
    """One compiled algo instance's calls: packing, dispatch, host calls."""

    cdef uint8_t *io_native  # native: host-owned I/O area
    cdef uint32_t io_offset  # wasm: the I/O area's offset in linear memory
    cdef void *instance  # native: what create() returned
    cdef native_destroy destroy
    cdef native_callback native_cb[N_CALLBACKS]
    cdef wasmtime_func_t funcs[N_EXPORTS]
    cdef bint has[N_EXPORTS]
    cdef size_t mem_cap
    cdef uint64_t fuel
    cdef object replay

    def __init__(self, bint wasm, dict symbols not None, dict venues not None, host_call,
                 replay, fault, ledger) -> None:
        Packer.__init__(self, wasm, symbols, venues, host_call, fault, ledger)
        self.replay = replay

    def __dealloc__(self) -> None:
        if not self.wasm and self.instance != NULL and self.destroy != NULL:
            self.destroy(self.instance)
        self.instance = NULL
        PyMem_Free(self.io_native)

    # -- small helpers -------------------------------------------------------------------

    cdef inline uint8_t *io(self) noexcept:
        return self.mem_base + self.io_offset if self.wasm else self.io_native

    cdef int ready(self) except -1:
        if (self.context == NULL) if self.wasm else (self.instance == NULL):
            raise RuntimeError("algo slot is closed")
        return 0

    cdef int raise_pending(self) except -1:
        exc, self.pending = self.pending, None
        raise exc

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
        cdef int32_t result
        self.ready()
        try:  # pack_state keeps state.open_orders for the order() host call
            self.pack_inputs(book, state, features, <mr_io *>self.io())
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
