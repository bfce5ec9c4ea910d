"""The calls a compiled algo makes back into the host, native and WASM.

The algo calls these in the middle of a callback: a native algo through the ``mr_host``
table (meshrt/include/meshrt.h) that ``Host`` carries, a WASM algo through the
trampolines wasmtime calls for its imports (``trampolines``), which check the guest's
pointers against linear memory first. ``Host`` is the base of the dispatcher
(_dispatch.pyx): the fields the calls read live here, so a host call reads them as struct
members of the object the algo was handed as its context.
"""

cimport cython
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy, strlen
from cpython.long cimport PyLong_FromVoidPtr
from cpython.object cimport PyObject

from meshrt.loaders._borrowed cimport i64, item
from meshrt.loaders._meshrt_h cimport (
    F_INPUT,
    F_TRAP,
    MESHRT_ABI_VERSION,
    MR_BAD_ARG,
    MR_FOUND,
    MR_NOT_FOUND,
    MR_ORDER_ACCEPTED,
    MR_ORDER_HAS_PRICE,
    MR_ORDER_PENDING,
    mr_open_order,
)
from meshrt.loaders._wasmtime cimport wasm_trap_t, wasmtime_caller_t, wasmtime_val_raw_t, wt

UNSET = object()
# Distinct from any value a host call returns (None means "not found" there).
cdef object FAILED = object()


cdef class Host:
    """The host an algo instance calls back into: names, Python host calls, its memory."""

    def __init__(self, bint wasm, dict symbols not None, host_call, fault) -> None:
        self.wasm = wasm
        self.symbols = symbols
        self.host_call, self.fault = host_call, fault
        self.osym_obj = UNSET
        self.osym_id = -1
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

    @cython.final
    cdef void refresh_memory(self) noexcept:
        """WASM: re-read linear memory's base and size (a call may have grown it)."""
        cdef size_t size = wt.memory_data_size(self.context, &self.memory)
        if size != self.mem_size:
            self.mem_size = size
            self.mem_base = wt.memory_data(self.context, &self.memory)

    cdef long name_id(self, dict ids, object name, bint register) except? -1:
        """The id of a name; with ``register``, a name not yet seen gets the next id."""
        found = ids.get(name)
        if found is not None:
            return found
        if not register:
            raise self.fault(F_INPUT, f"unknown venue {name!r}")
        return self.host_call("symbol", name)


# ---- host calls -------------------------------------------------------------------------
#
# The algo calls these in the middle of a callback, from native code or through a WASM
# trampoline, so none may raise: an exception from Python is kept in ``pending`` and
# raised once the algo call has returned; the algo sees a result code.

cdef object host_python(Host d, object name, object a, object b=UNSET):
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
    return <int32_t>result_int(host_python(<Host>ctx, op, s), MR_BAD_ARG)


cdef int32_t h_send(void *ctx, const char *label, uint32_t label_len, const void *payload,
                    uint32_t n) noexcept:
    l = text(label, label_len)
    if l is None:
        return MR_BAD_ARG
    p = (<const char *>payload)[:n]
    return <int32_t>result_int(host_python(<Host>ctx, "send", l, p), MR_BAD_ARG)


cdef int32_t h_subscribe(void *ctx, const char *s, uint32_t n) noexcept:
    return h_named(ctx, "subscribe", s, n)


cdef int32_t h_unsubscribe(void *ctx, const char *s, uint32_t n) noexcept:
    return h_named(ctx, "unsubscribe", s, n)


cdef int32_t h_symbol(void *ctx, const char *s, uint32_t n) noexcept:
    return h_named(ctx, "symbol", s, n)


cdef int32_t h_log(void *ctx, const char *s, uint32_t n) noexcept:
    return h_named(ctx, "log", s, n)


cdef int64_t h_position(void *ctx, uint32_t symbol) noexcept:
    return result_int(host_python(<Host>ctx, "position", symbol), 0)


cdef int32_t h_param(void *ctx, const char *name, uint32_t n, int64_t *out) noexcept:
    s = text(name, n)
    if s is None:
        return MR_BAD_ARG
    r = host_python(<Host>ctx, "param", s)
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
    return <int32_t>result_int(host_python(<Host>ctx, "set_param", s, value),
                               MR_BAD_ARG)


cdef int32_t h_order(void *ctx, uint64_t order_id, mr_open_order *out) noexcept:
    """state.open_orders[client id] as an mr_open_order, read without a Python call
    (but for the id of a symbol not seen before)."""
    cdef Host d = <Host>ctx
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

cdef wasm_trap_t *guest_fault(Host d, const char *what) noexcept:
    if d.pending is None:
        try:
            d.pending = d.fault(F_TRAP, what.decode("utf-8"))
        except Exception:
            pass
    return wt.trap_new(what, strlen(what))


cdef inline uint8_t *guest_span(Host d, uint32_t ptr, uint64_t n) noexcept:
    """The guest's bytes [ptr, ptr + n) in host memory, or NULL when out of bounds."""
    d.refresh_memory()
    if <uint64_t>ptr + n > d.mem_size:
        return NULL
    return d.mem_base + ptr


cdef inline wasm_trap_t *failed(Host d, const char *what) noexcept:
    return wt.trap_new(what, strlen(what)) if d.pending is not None else NULL


cdef wasm_trap_t *t_send(void *env, wasmtime_caller_t *c, wasmtime_val_raw_t *a,
                         size_t n) noexcept:
    cdef Host d = <Host>env
    cdef uint8_t *label = guest_span(d, <uint32_t>a[0].i32, <uint32_t>a[1].i32)
    cdef uint8_t *payload = guest_span(d, <uint32_t>a[2].i32, <uint32_t>a[3].i32)
    if label == NULL or payload == NULL:
        return guest_fault(d, b"host call send: pointer out of linear memory bounds")
    a[0].i32 = h_send(env, <const char *>label, <uint32_t>a[1].i32, payload,
                      <uint32_t>a[3].i32)
    return failed(d, b"host call send failed")


cdef inline wasm_trap_t *named(void *env, wasmtime_val_raw_t *a, str op, const char *bounds,
                               const char *fails) noexcept:
    cdef Host d = <Host>env
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
    return failed(<Host>env, b"host call position failed")


cdef wasm_trap_t *t_param(void *env, wasmtime_caller_t *c, wasmtime_val_raw_t *a,
                          size_t n) noexcept:
    cdef Host d = <Host>env
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
    cdef Host d = <Host>env
    cdef uint8_t *name = guest_span(d, <uint32_t>a[0].i32, <uint32_t>a[1].i32)
    if name == NULL:
        return guest_fault(d, b"host call set_param: pointer out of linear memory bounds")
    a[0].i32 = h_set_param(env, <const char *>name, <uint32_t>a[1].i32, a[2].i64)
    return failed(d, b"host call set_param failed")


cdef wasm_trap_t *t_order(void *env, wasmtime_caller_t *c, wasmtime_val_raw_t *a,
                          size_t n) noexcept:
    cdef Host d = <Host>env
    cdef uint8_t *out = guest_span(d, <uint32_t>a[1].i32, sizeof(mr_open_order))
    cdef mr_open_order o
    if out == NULL:
        return guest_fault(d, b"host call order: pointer out of linear memory bounds")
    cdef int32_t r = h_order(env, <uint64_t>a[0].i64, &o)
    if r == MR_FOUND:
        memcpy(out, &o, sizeof(o))
    a[0].i32 = r
    return NULL


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
