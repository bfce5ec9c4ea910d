/*
 * meshrt.loaders._dispatch — the hot path of the WASM and native loaders.
 *
 * Why a CPython extension: the runtime hands an algo Python values (a Book tuple, the
 * AlgoState object). Packing those into the contract's 656-byte book from Python costs
 * microseconds; here it is one C call that packs the book (only the sides that changed:
 * the venue caches each side's tuples), state and features into the algo's I/O area,
 * sets the fuel, calls the algo (wasmtime_func_call_unchecked or a native vtable entry)
 * and reads the actions back. It also holds the host-call trampolines that WASM imports
 * and the native host table point at.
 *
 * It links against nothing but Python: wasmtime's C functions arrive as addresses from
 * the cffi binding of the wasmtime wheel's own library (meshrt/loaders/wasmtime_api.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

#include "../_cpython.h"
#include "../include/meshrt.h"

#define N_CALLBACKS 13
#define CB_ON_BOOK 0
#define CB_ON_FILL 1
#define CB_ON_SHUTDOWN 12
#define N_EXPORTS 17 /* callbacks, then create, destroy, io, abi_version */
#define IO_SIZE ((Py_ssize_t)sizeof(mr_io))

/* fault codes understood by meshrt.loaders.errors.fault() */
enum { F_TRAP = 1, F_FUEL = 2, F_MEMORY = 3, F_ACTION = 4, F_RETURN = 5, F_INPUT = 6 };

/* ---- wasmtime C API, by address ------------------------------------------------------ */

typedef struct { uint64_t store_id; void *p; } wt_func;
typedef struct { struct { uint64_t store_id; uint32_t p1; } a; uint32_t p2; } wt_memory;
typedef union { int32_t i32; int64_t i64; float f32; double f64; uint8_t v128[16];
                uint32_t ref; void *funcref; } wt_val;
typedef struct { size_t size; char *data; } wt_vec;
typedef void wt_error, wt_trap, wt_context, wt_caller;

static struct {
    wt_error *(*call_unchecked)(wt_context *, const wt_func *, wt_val *, size_t, wt_trap **);
    wt_error *(*set_fuel)(wt_context *, uint64_t);
    uint8_t *(*memory_data)(const wt_context *, const wt_memory *);
    size_t (*memory_data_size)(const wt_context *, const wt_memory *);
    _Bool (*trap_code)(const wt_trap *, uint8_t *);
    void (*trap_message)(const wt_trap *, wt_vec *);
    void (*trap_delete)(wt_trap *);
    void (*error_message)(const wt_error *, wt_vec *);
    void (*error_delete)(wt_error *);
    void (*vec_delete)(wt_vec *);
    wt_trap *(*trap_new)(const char *, size_t);
} wt;

#define TRAP_OUT_OF_FUEL 11

/* ---- the dispatcher ---------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    int wasm;
    uint8_t *io_native;  /* native: host-owned I/O area */
    uint32_t io_offset;  /* wasm: the I/O area's offset in linear memory */
    void *instance;      /* native: what create() returned */
    void (*destroy)(void *);
    int32_t (*native_cb[N_CALLBACKS])(void *);
    wt_context *context;
    wt_func funcs[N_EXPORTS];
    unsigned char has[N_EXPORTS];
    wt_memory memory;
    uint8_t *mem_base;
    size_t mem_size;
    size_t mem_cap;
    uint64_t fuel;
    mr_host host;
    PyObject *symbols, *venues;          /* dict name -> id */
    PyObject *sym_obj, *venue_obj, *osym_obj; /* last looked-up names (strong) */
    long sym_id, venue_id, osym_id;
    PyObject *host_call, *replay, *fault, *ledger_fn;
    PyObject *ledger;                    /* the ledger the cached figures belong to */
    int ledger_dirty;
    int64_t l_position, l_cash, l_realized, l_fees;
    PyObject *holdings;                  /* tuple of (symbol, position, cost basis) */
    PyObject *open_orders;               /* during a call: state.open_orders (strong) */
    PyObject *pending;                   /* exception a host call raised during a call */
    uint8_t book[sizeof(mr_book)];       /* packed shadow of the last book */
    PyObject *sides[4];                  /* the side tuples the shadow was packed from */
} Dispatcher;

/* AlgoState's __slots__ offsets: read directly (a getattr each costs ~10 ns) when a
 * state is exactly the type they were resolved on */
static PyTypeObject *state_type;
static Py_ssize_t off_now, off_next_order_id, off_open_orders, off_ledger, off_books;

static PyObject *s_now, *s_next_order_id, *s_open_orders, *s_ledger, *s_books;
static PyObject *s_send, *s_subscribe, *s_unsubscribe, *s_symbol, *s_position, *s_param,
    *s_set_param, *s_log;

/* ---- small helpers ---------------------------------------------------------------- */

static inline __int128 floordiv128(__int128 a, __int128 b) {
    __int128 q = a / b;
    return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* contract.notional: price * size / 1e8, truncated toward zero */
static inline int64_t notional(int64_t price, int64_t size) {
    return (int64_t)(((__int128)price * size) / MR_SIZE_SCALE);
}

static int raise_fault(Dispatcher *d, int code, const char *fmt, ...) {
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    PyObject *exc = PyObject_CallFunction(d->fault, "is", code, text);
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return -1;
}

static inline uint8_t *io_ptr(Dispatcher *d) {
    return d->wasm ? d->mem_base + d->io_offset : d->io_native;
}

/* id of a name in a dict, with a one-entry cache keyed by object identity */
static long lookup_id(Dispatcher *d, PyObject *dict, PyObject *name, PyObject **cache_obj,
                      long *cache_id, int register_missing) {
    if (name == *cache_obj) return *cache_id;
    PyObject *id = PyDict_GetItemWithError(dict, name);
    if (id == NULL) {
        if (PyErr_Occurred() || !register_missing) {
            if (!PyErr_Occurred()) raise_fault(d, F_INPUT, "unknown venue %R", name);
            return -1;
        }
        PyObject *r = PyObject_CallFunctionObjArgs(d->host_call, s_symbol, name, NULL);
        if (r == NULL) return -1;
        long v = PyLong_AsLong(r);
        Py_DECREF(r);
        if (v < 0 && PyErr_Occurred()) return -1;
        Py_INCREF(name);
        Py_XSETREF(*cache_obj, name);
        return *cache_id = v;
    }
    long v = PyLong_AsLong(id);
    if (v == -1 && PyErr_Occurred()) return -1;
    Py_INCREF(name);
    Py_XSETREF(*cache_obj, name);
    return *cache_id = v;
}

/* ---- packing ----------------------------------------------------------------------- */

static int pack_levels(Dispatcher *d, PyObject *values, mr_level *levels, int part,
                       uint16_t *count) {
    if (!PyTuple_Check(values)) {
        PyErr_SetString(PyExc_TypeError, "book levels must be tuples");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(values);
    if (n > MR_BOOK_DEPTH)
        return raise_fault(d, F_INPUT, "book has %zd levels on a side; at most %d", n,
                           MR_BOOK_DEPTH);
    int err = 0;
    PyObject **items = &PyTuple_GET_ITEM(values, 0);
    int64_t *out = part ? &levels[0].size : &levels[0].price; /* stride: 2 int64 per level */
    Py_ssize_t i = 0;
    for (; i < n; i++) out[2 * i] = as_i64(items[i], &err);
    for (; i < MR_BOOK_DEPTH; i++) out[2 * i] = 0;
    if (err) return -1;
    *count = (uint16_t)n;
    return 0;
}

/* Pack a Book tuple into the shadow; only sides whose tuples changed are repacked. */
static int pack_book(Dispatcher *d, PyObject *book) {
    if (!PyTuple_Check(book) || PyTuple_GET_SIZE(book) < 7) {
        PyErr_SetString(PyExc_TypeError, "on_book expects a meshrt Book");
        return -1;
    }
    mr_book *b = (mr_book *)d->book;
    int err = 0;
    b->ts = as_i64(PyTuple_GET_ITEM(book, 0), &err);
    if (err) return -1;
    long sym = lookup_id(d, d->symbols, PyTuple_GET_ITEM(book, 1), &d->sym_obj, &d->sym_id, 1);
    if (sym < 0) return -1;
    long venue = lookup_id(d, d->venues, PyTuple_GET_ITEM(book, 2), &d->venue_obj,
                           &d->venue_id, 0);
    if (venue < 0) return -1;
    b->symbol = (uint16_t)sym;
    b->venue = (uint16_t)venue;
    for (int k = 0; k < 4; k++) {
        PyObject *t = PyTuple_GET_ITEM(book, 3 + k);
        if (t == d->sides[k]) continue;
        uint16_t count = 0;
        mr_level *levels = k < 2 ? b->bids : b->asks;
        if (pack_levels(d, t, levels, k & 1, &count) < 0) {
            Py_CLEAR(d->sides[k]);
            return -1;
        }
        if (k == 0) b->bid_count = count;
        if (k == 2) b->ask_count = count;
        Py_INCREF(t);
        Py_XSETREF(d->sides[k], t);
    }
    if (PyTuple_GET_SIZE(d->sides[0]) != PyTuple_GET_SIZE(d->sides[1]) ||
        PyTuple_GET_SIZE(d->sides[2]) != PyTuple_GET_SIZE(d->sides[3]))
        return raise_fault(d, F_INPUT, "book prices and sizes differ in length");
    return 0;
}

/* Features: the book-derived ones computed exactly as meshrt.sdk.Features does. */
static int pack_features(Dispatcher *d, PyObject *features, mr_features *f) {
    const mr_book *b = (const mr_book *)d->book;
    if (!PyTuple_Check(features) || PyTuple_GET_SIZE(features) < 3) {
        PyErr_SetString(PyExc_TypeError, "on_book expects meshrt Features");
        return -1;
    }
    int err = 0;
    f->volatility = as_i64(PyTuple_GET_ITEM(features, 1), &err);
    f->trade_flow = as_i64(PyTuple_GET_ITEM(features, 2), &err);
    if (err) return -1;
    if (b->bid_count == 0 || b->ask_count == 0) {
        f->mid = f->microprice = f->spread = f->imbalance = 0;
        return 0;
    }
    int64_t bp = b->bids[0].price, ap = b->asks[0].price;
    int64_t bs = b->bids[0].size, as = b->asks[0].size;
    __int128 total = (__int128)bs + as;
    f->mid = (int64_t)floordiv128((__int128)bp + ap, 2);
    f->spread = ap - bp;
    f->microprice = total == 0 ? f->mid
        : (int64_t)floordiv128((__int128)bp * as + (__int128)ap * bs, total);
    f->imbalance = total == 0 ? 0
        : (int64_t)floordiv128(((__int128)bs - as) * MR_PRICE_SCALE, total);
    return 0;
}

static int refresh_ledger(Dispatcher *d, PyObject *state, PyObject *ledger) {
    PyObject *r = PyObject_CallOneArg(d->ledger_fn, state);
    if (r == NULL) return -1;
    int err = 0;
    if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != 5 || !PyTuple_Check(PyTuple_GET_ITEM(r, 4))) {
        Py_DECREF(r);
        PyErr_SetString(PyExc_TypeError, "ledger snapshot must be a 5-tuple");
        return -1;
    }
    d->l_position = as_i64(PyTuple_GET_ITEM(r, 0), &err);
    d->l_cash = as_i64(PyTuple_GET_ITEM(r, 1), &err);
    d->l_realized = as_i64(PyTuple_GET_ITEM(r, 2), &err);
    d->l_fees = as_i64(PyTuple_GET_ITEM(r, 3), &err);
    PyObject *holdings = PyTuple_GET_ITEM(r, 4);
    Py_INCREF(holdings);
    Py_XSETREF(d->holdings, holdings);
    Py_DECREF(r);
    if (err) return -1;
    Py_INCREF(ledger);
    Py_XSETREF(d->ledger, ledger);
    d->ledger_dirty = 0;
    return 0;
}

static inline PyObject *state_attr(PyObject *state, Py_ssize_t offset, PyObject *name);

/* unrealized PnL exactly as AlgoState.unrealized_pnl: held symbols at the mid of the
 * last book this instance received */
static int unrealized(Dispatcher *d, PyObject *state, int64_t *out) {
    *out = 0;
    Py_ssize_t n = PyTuple_GET_SIZE(d->holdings);
    if (n == 0) return 0;
    PyObject *books = state_attr(state, off_books, s_books);
    if (books == NULL) return -1;
    int err = 0;
    int64_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *h = PyTuple_GET_ITEM(d->holdings, i);
        PyObject *book = PyDict_GetItemWithError(books, PyTuple_GET_ITEM(h, 0));
        if (book == NULL) {
            if (PyErr_Occurred()) { Py_DECREF(books); return -1; }
            continue;
        }
        PyObject *bids = PyTuple_GET_ITEM(book, 3), *asks = PyTuple_GET_ITEM(book, 5);
        if (PyTuple_GET_SIZE(bids) == 0 || PyTuple_GET_SIZE(asks) == 0) continue;
        __int128 sum = (__int128)as_i64(PyTuple_GET_ITEM(bids, 0), &err) +
                       as_i64(PyTuple_GET_ITEM(asks, 0), &err);
        int64_t mid = (int64_t)floordiv128(sum, 2);
        total += notional(mid, as_i64(PyTuple_GET_ITEM(h, 1), &err)) -
                 as_i64(PyTuple_GET_ITEM(h, 2), &err);
    }
    Py_DECREF(books);
    if (err) return -1;
    *out = total;
    return 0;
}

/* a new reference to state.<name>: straight from its slot for the resolved type */
static inline PyObject *state_attr(PyObject *state, Py_ssize_t offset, PyObject *name) {
    if (Py_TYPE(state) == state_type && offset >= 0) {
        PyObject *v = *(PyObject **)((char *)state + offset);
        if (v != NULL) { Py_INCREF(v); return v; }
    }
    return PyObject_GetAttr(state, name);
}

static void resolve_state_type(PyObject *state) {
    PyTypeObject *type = Py_TYPE(state);
    if (type == state_type) return;
    Py_ssize_t a = slot_offset(type, s_now), b = slot_offset(type, s_next_order_id),
               c = slot_offset(type, s_open_orders), e = slot_offset(type, s_ledger),
               f = slot_offset(type, s_books);
    if (a < 0 || b < 0 || c < 0 || e < 0 || f < 0) return; /* not slotted: use getattr */
    Py_INCREF(type);
    Py_XSETREF(state_type, type);
    off_now = a, off_next_order_id = b, off_open_orders = c, off_ledger = e, off_books = f;
}

/* Pack the AlgoState; keeps state.open_orders for the order() host call. */
static int pack_state(Dispatcher *d, PyObject *state, mr_state *s) {
    int err = 0;
    if (Py_TYPE(state) != state_type) resolve_state_type(state);
    PyObject *v = state_attr(state, off_now, s_now);
    if (v == NULL) return -1;
    s->now = as_i64(v, &err);
    Py_DECREF(v);
    v = state_attr(state, off_next_order_id, s_next_order_id);
    if (v == NULL) return -1;
    s->next_order_id = (uint64_t)as_i64(v, &err);
    Py_DECREF(v);
    if (err) return -1;
    PyObject *orders = state_attr(state, off_open_orders, s_open_orders);
    if (orders == NULL) return -1;
    if (!PyDict_Check(orders)) {
        Py_DECREF(orders);
        PyErr_SetString(PyExc_TypeError, "state.open_orders must be a dict");
        return -1;
    }
    Py_XSETREF(d->open_orders, orders);
    s->open_orders = (uint32_t)PyDict_GET_SIZE(orders);
    PyObject *ledger = state_attr(state, off_ledger, s_ledger);
    if (ledger == NULL) return -1;
    if ((ledger != d->ledger || d->ledger_dirty) && refresh_ledger(d, state, ledger) < 0) {
        Py_DECREF(ledger);
        return -1;
    }
    Py_DECREF(ledger);
    s->position = d->l_position;
    s->cash = d->l_cash;
    s->realized_pnl = d->l_realized;
    s->fees = d->l_fees;
    s->_pad0 = 0;
    return unrealized(d, state, &s->unrealized_pnl);
}

/* ---- calling the algo -------------------------------------------------------------- */

static PyObject *vec_text(wt_vec *v) {
    Py_ssize_t n = (Py_ssize_t)v->size;
    while (n > 0 && v->data[n - 1] == '\0') n--;
    PyObject *s = PyUnicode_DecodeUTF8(v->data, n, "replace");
    wt.vec_delete(v);
    return s;
}

static void refresh_memory(Dispatcher *d) {
    size_t size = wt.memory_data_size(d->context, &d->memory);
    if (size != d->mem_size) {
        d->mem_size = size;
        d->mem_base = wt.memory_data(d->context, &d->memory);
    }
}

static int raise_pending(Dispatcher *d) {
    PyObject *exc = d->pending;
    d->pending = NULL;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return -1;
}

/* Call export/callback `index` with its inputs already in place; *result is its i32. */
static int invoke(Dispatcher *d, int index, int32_t *result) {
    if (!d->wasm) {
        *result = d->native_cb[index](d->instance);
        return d->pending ? raise_pending(d) : 0;
    }
    wt_val raw[1];
    raw[0].i64 = 0;
    wt_trap *trap = NULL;
    wt_error *err = wt.set_fuel(d->context, d->fuel);
    if (err != NULL) wt.error_delete(err);
    err = wt.call_unchecked(d->context, &d->funcs[index], raw, 1, &trap);
    refresh_memory(d);
    if (d->mem_size > d->mem_cap) {
        if (trap) wt.trap_delete(trap);
        if (err) wt.error_delete(err);
        Py_CLEAR(d->pending);
        return raise_fault(d, F_MEMORY, "linear memory grew to %zu bytes, over the cap of %zu",
                           d->mem_size, d->mem_cap);
    }
    if (d->pending) {
        if (trap) wt.trap_delete(trap);
        if (err) wt.error_delete(err);
        return raise_pending(d);
    }
    if (trap != NULL || err != NULL) {
        wt_vec v = {0, NULL};
        uint8_t code = 255;
        int has_code = 0;
        if (trap != NULL) {
            has_code = wt.trap_code(trap, &code);
            wt.trap_message(trap, &v);
            wt.trap_delete(trap);
        } else {
            wt.error_message(err, &v);
            wt.error_delete(err);
        }
        PyObject *text = vec_text(&v);
        if (text == NULL) return -1;
        int fcode = (has_code && code == TRAP_OUT_OF_FUEL) ? F_FUEL : F_TRAP;
        /* the export's index too: the one-line reason names the callback */
        PyObject *exc = PyObject_CallFunction(d->fault, "iOi", fcode, text, index);
        Py_DECREF(text);
        if (exc != NULL) {
            PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
            Py_DECREF(exc);
        }
        return -1;
    }
    *result = raw[0].i32;
    return 0;
}

/* After a callback: its return code, then its actions replayed through `actions`. */
static PyObject *finish(Dispatcher *d, int index, int32_t result, PyObject *actions) {
    if (result != 0) {
        raise_fault(d, F_RETURN, "callback returned error code %d", (int)result);
        return NULL;
    }
    mr_actions *a = (mr_actions *)(io_ptr(d) + offsetof(mr_io, actions));
    uint32_t count = a->count, refused = a->refused;
    if (count == 0 && refused == 0) Py_RETURN_NONE;
    if (count > MR_MAX_ACTIONS) {
        raise_fault(d, F_ACTION, "action count %u is over the limit of %d", count,
                    MR_MAX_ACTIONS);
        return NULL;
    }
    if (actions == Py_None) {
        raise_fault(d, F_ACTION, "%s cannot place actions",
                    index == CB_ON_SHUTDOWN ? "on_shutdown" : "this callback");
        return NULL;
    }
    PyObject *items = PyTuple_New(count);
    if (items == NULL) return NULL;
    for (uint32_t i = 0; i < count; i++) {
        const mr_action *x = &a->items[i];
        PyObject *item = Py_BuildValue("(iiiKKLLi)", x->kind, x->side, x->tif,
                                       (unsigned long long)x->client_order_id,
                                       (unsigned long long)x->target_order_id,
                                       (long long)x->price, (long long)x->size, x->symbol);
        if (item == NULL) { Py_DECREF(items); return NULL; }
        PyTuple_SET_ITEM(items, i, item);
    }
    PyObject *r = PyObject_CallFunction(d->replay, "OIO", items, refused, actions);
    Py_DECREF(items);
    return r;
}

static int ready(Dispatcher *d) {
    if (d->wasm ? d->context == NULL : d->instance == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "algo slot is closed");
        return -1;
    }
    return 0;
}

static inline void reset_actions(uint8_t *io) {
    mr_actions *a = (mr_actions *)(io + offsetof(mr_io, actions));
    a->count = 0;
    a->refused = 0;
}

/* on_book(book, state, features, actions): the hot path */
static PyObject *Dispatcher_on_book(Dispatcher *d, PyObject *const *args, Py_ssize_t n) {
    if (n != 4) {
        PyErr_SetString(PyExc_TypeError, "on_book(book, state, features, actions)");
        return NULL;
    }
    if (ready(d) < 0 || pack_book(d, args[0]) < 0) return NULL;
    mr_state state;
    mr_features features;
    if (pack_state(d, args[1], &state) < 0 || pack_features(d, args[2], &features) < 0)
        return NULL;
    uint8_t *io = io_ptr(d);
    memcpy(io + offsetof(mr_io, book), d->book, sizeof(mr_book));
    memcpy(io + offsetof(mr_io, state), &state, sizeof state);
    memcpy(io + offsetof(mr_io, features), &features, sizeof features);
    reset_actions(io);
    int32_t result;
    int rc = invoke(d, CB_ON_BOOK, &result);
    Py_CLEAR(d->open_orders);
    if (rc < 0) return NULL;
    return finish(d, CB_ON_BOOK, result, args[3]);
}

/* call(index, state, actions, payload, offset): any other callback; `payload` (bytes or
 * None) is its packed input, written at `offset` of the I/O area. */
static PyObject *Dispatcher_call(Dispatcher *d, PyObject *const *args, Py_ssize_t n) {
    if (n != 5) {
        PyErr_SetString(PyExc_TypeError, "call(index, state, actions, payload, offset)");
        return NULL;
    }
    long index = PyLong_AsLong(args[0]);
    if (index < 0 || index >= N_CALLBACKS) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad callback index");
        return NULL;
    }
    if (ready(d) < 0) return NULL;
    if (index == CB_ON_FILL) d->ledger_dirty = 1; /* a fill is the only ledger change */
    mr_state state;
    if (args[1] != Py_None && pack_state(d, args[1], &state) < 0) return NULL;
    uint8_t *io = io_ptr(d);
    if (args[3] != Py_None) {
        char *data;
        Py_ssize_t len;
        if (PyBytes_AsStringAndSize(args[3], &data, &len) < 0) return NULL;
        long offset = PyLong_AsLong(args[4]);
        if (offset < 0 || offset + len > IO_SIZE) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "payload out of the I/O area");
            return NULL;
        }
        memcpy(io + offset, data, (size_t)len);
    }
    if (args[1] != Py_None) memcpy(io + offsetof(mr_io, state), &state, sizeof state);
    reset_actions(io);
    int32_t result;
    int rc = invoke(d, (int)index, &result);
    Py_CLEAR(d->open_orders);
    if (rc < 0) return NULL;
    return finish(d, (int)index, result, args[2]);
}

/* invoke(index) -> int: a WASM export without inputs (create, destroy, io, abi version) */
static PyObject *Dispatcher_invoke(Dispatcher *d, PyObject *arg) {
    long index = PyLong_AsLong(arg);
    if (index < 0 || index >= N_EXPORTS || !d->wasm || !d->has[index]) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "no such export");
        return NULL;
    }
    if (d->context == NULL) return PyErr_Format(PyExc_RuntimeError, "algo slot is closed");
    int32_t result;
    if (invoke(d, (int)index, &result) < 0) return NULL;
    return PyLong_FromLong(result);
}

/* ---- host calls --------------------------------------------------------------------- */

/* Run a Python host call; an exception is kept for after the algo call returns. */
static PyObject *host_python(Dispatcher *d, PyObject *name, PyObject *a, PyObject *b) {
    PyObject *r = a == NULL ? NULL :
        PyObject_CallFunctionObjArgs(d->host_call, name, a, b, NULL);
    if (r == NULL && PyErr_Occurred()) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (tb != NULL) PyException_SetTraceback(value, tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
        if (d->pending == NULL) d->pending = value; else Py_XDECREF(value);
    }
    return r;
}

static PyObject *text(const char *p, uint32_t n) {
    PyObject *s = PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, "strict");
    if (s == NULL) PyErr_Clear();
    return s;
}

static int64_t result_int(PyObject *r, int64_t fallback) {
    if (r == NULL) return fallback;
    int err = 0;
    int64_t v = PyLong_Check(r) ? as_i64(r, &err) : fallback;
    if (err) { PyErr_Clear(); v = fallback; }
    Py_DECREF(r);
    return v;
}

static int32_t h_send(void *ctx, const char *label, uint32_t label_len, const void *payload,
                      uint32_t len) {
    Dispatcher *d = ctx;
    PyObject *l = text(label, label_len);
    if (l == NULL) return MR_BAD_ARG;
    PyObject *p = PyBytes_FromStringAndSize(payload, len);
    PyObject *r = host_python(d, s_send, l, p);
    Py_DECREF(l);
    Py_XDECREF(p);
    return (int32_t)result_int(r, MR_BAD_ARG);
}

static int32_t h_named(Dispatcher *d, PyObject *op, const char *name, uint32_t len) {
    PyObject *s = text(name, len);
    if (s == NULL) return MR_BAD_ARG;
    PyObject *r = host_python(d, op, s, NULL);
    Py_DECREF(s);
    return (int32_t)result_int(r, MR_BAD_ARG);
}

static int32_t h_subscribe(void *ctx, const char *s, uint32_t n) { return h_named(ctx, s_subscribe, s, n); }
static int32_t h_unsubscribe(void *ctx, const char *s, uint32_t n) { return h_named(ctx, s_unsubscribe, s, n); }
static int32_t h_symbol(void *ctx, const char *s, uint32_t n) { return h_named(ctx, s_symbol, s, n); }
static int32_t h_log(void *ctx, const char *s, uint32_t n) { return h_named(ctx, s_log, s, n); }

static int64_t h_position(void *ctx, uint32_t symbol) {
    Dispatcher *d = ctx;
    PyObject *id = PyLong_FromUnsignedLong(symbol);
    PyObject *r = host_python(d, s_position, id, NULL);
    Py_XDECREF(id);
    return result_int(r, 0);
}

static int32_t h_param(void *ctx, const char *name, uint32_t len, int64_t *out) {
    Dispatcher *d = ctx;
    PyObject *s = text(name, len);
    if (s == NULL) return MR_BAD_ARG;
    PyObject *r = host_python(d, s_param, s, NULL);
    Py_DECREF(s);
    if (r == NULL) return MR_BAD_ARG;
    int32_t found = MR_NOT_FOUND;
    if (PyLong_Check(r)) {
        int err = 0;
        int64_t v = as_i64(r, &err);
        if (err) PyErr_Clear(); else { *out = v; found = MR_FOUND; }
    }
    Py_DECREF(r);
    return found;
}

static int32_t h_set_param(void *ctx, const char *name, uint32_t len, int64_t value) {
    Dispatcher *d = ctx;
    PyObject *s = text(name, len);
    if (s == NULL) return MR_BAD_ARG;
    PyObject *v = PyLong_FromLongLong(value);
    PyObject *r = host_python(d, s_set_param, s, v);
    Py_DECREF(s);
    Py_XDECREF(v);
    return (int32_t)result_int(r, MR_BAD_ARG);
}

/* order(): state.open_orders[client id] as an mr_open_order, read directly (no Python call) */
static int32_t h_order(void *ctx, uint64_t order_id, mr_open_order *out) {
    Dispatcher *d = ctx;
    if (d->open_orders == NULL) return MR_NOT_FOUND;
    PyObject *key = PyLong_FromUnsignedLongLong(order_id);
    if (key == NULL) { PyErr_Clear(); return MR_NOT_FOUND; }
    PyObject *o = PyDict_GetItemWithError(d->open_orders, key);
    Py_DECREF(key);
    if (o == NULL || !PyTuple_Check(o) || PyTuple_GET_SIZE(o) < 8) {
        PyErr_Clear();
        return MR_NOT_FOUND;
    }
    int err = 0;
    PyObject *price = PyTuple_GET_ITEM(o, 3);
    long sym = lookup_id(d, d->symbols, PyTuple_GET_ITEM(o, 1), &d->osym_obj, &d->osym_id, 1);
    if (sym < 0) { PyErr_Clear(); sym = 0; }
    out->order_id = order_id;
    out->price = price == Py_None ? 0 : as_i64(price, &err);
    out->size = as_i64(PyTuple_GET_ITEM(o, 4), &err);
    out->filled = as_i64(PyTuple_GET_ITEM(o, 5), &err);
    out->symbol = (uint16_t)sym;
    out->side = (uint8_t)as_i64(PyTuple_GET_ITEM(o, 2), &err);
    out->flags = (uint8_t)((PyObject_IsTrue(PyTuple_GET_ITEM(o, 6)) == 1 ? MR_ORDER_ACCEPTED : 0) |
                           (PyObject_IsTrue(PyTuple_GET_ITEM(o, 7)) == 1 ? MR_ORDER_PENDING : 0) |
                           (price == Py_None ? 0 : MR_ORDER_HAS_PRICE));
    out->_pad0 = 0;
    if (err) { PyErr_Clear(); return MR_NOT_FOUND; }
    return MR_FOUND;
}

/* ---- WASM trampolines: bounds-check guest pointers, then the same host calls ------- */

static wt_trap *guest_fault(Dispatcher *d, const char *what) {
    if (d->pending == NULL) {
        PyObject *exc = PyObject_CallFunction(d->fault, "is", F_TRAP, what);
        if (exc == NULL) PyErr_Clear(); else d->pending = exc;
    }
    return wt.trap_new(what, strlen(what));
}

static inline int guest_span(Dispatcher *d, uint32_t ptr, uint64_t len, uint8_t **out) {
    refresh_memory(d);
    if ((uint64_t)ptr + len > d->mem_size) return -1;
    *out = d->mem_base + ptr;
    return 0;
}

#define GUEST(d, ptr, len, out, call)                                                     \
    if (guest_span(d, ptr, len, out) < 0)                                                 \
        return guest_fault(d, "host call " call ": pointer out of linear memory bounds");

static wt_trap *t_send(void *env, wt_caller *c, wt_val *a, size_t n) {
    Dispatcher *d = env; uint8_t *label, *payload; (void)c; (void)n;
    GUEST(d, (uint32_t)a[0].i32, (uint32_t)a[1].i32, &label, "send");
    GUEST(d, (uint32_t)a[2].i32, (uint32_t)a[3].i32, &payload, "send");
    a[0].i32 = h_send(d, (const char *)label, (uint32_t)a[1].i32, payload, (uint32_t)a[3].i32);
    return d->pending ? wt.trap_new("host call send failed", 21) : NULL;
}

#define NAMED_TRAMPOLINE(fn, impl, call)                                                  \
    static wt_trap *fn(void *env, wt_caller *c, wt_val *a, size_t n) {                     \
        Dispatcher *d = env; uint8_t *p; (void)c; (void)n;                                 \
        GUEST(d, (uint32_t)a[0].i32, (uint32_t)a[1].i32, &p, call);                        \
        a[0].i32 = impl(d, (const char *)p, (uint32_t)a[1].i32);                           \
        return d->pending ? wt.trap_new("host call " call " failed", sizeof("host call " call " failed") - 1) : NULL; \
    }
NAMED_TRAMPOLINE(t_subscribe, h_subscribe, "subscribe")
NAMED_TRAMPOLINE(t_unsubscribe, h_unsubscribe, "unsubscribe")
NAMED_TRAMPOLINE(t_symbol, h_symbol, "symbol")
NAMED_TRAMPOLINE(t_log, h_log, "log")

static wt_trap *t_position(void *env, wt_caller *c, wt_val *a, size_t n) {
    Dispatcher *d = env; (void)c; (void)n;
    a[0].i64 = h_position(d, (uint32_t)a[0].i32);
    return d->pending ? wt.trap_new("host call position failed", 25) : NULL;
}

static wt_trap *t_param(void *env, wt_caller *c, wt_val *a, size_t n) {
    Dispatcher *d = env; uint8_t *name, *out; (void)c; (void)n;
    GUEST(d, (uint32_t)a[0].i32, (uint32_t)a[1].i32, &name, "param");
    GUEST(d, (uint32_t)a[2].i32, 8, &out, "param");
    int64_t value = 0;
    int32_t r = h_param(d, (const char *)name, (uint32_t)a[1].i32, &value);
    if (r == MR_FOUND) memcpy(out, &value, 8);
    a[0].i32 = r;
    return d->pending ? wt.trap_new("host call param failed", 22) : NULL;
}

static wt_trap *t_set_param(void *env, wt_caller *c, wt_val *a, size_t n) {
    Dispatcher *d = env; uint8_t *name; (void)c; (void)n;
    GUEST(d, (uint32_t)a[0].i32, (uint32_t)a[1].i32, &name, "set_param");
    a[0].i32 = h_set_param(d, (const char *)name, (uint32_t)a[1].i32, a[2].i64);
    return d->pending ? wt.trap_new("host call set_param failed", 26) : NULL;
}

static wt_trap *t_order(void *env, wt_caller *c, wt_val *a, size_t n) {
    Dispatcher *d = env; uint8_t *out; (void)c; (void)n;
    GUEST(d, (uint32_t)a[1].i32, sizeof(mr_open_order), &out, "order");
    mr_open_order o;
    int32_t r = h_order(d, (uint64_t)a[0].i64, &o);
    if (r == MR_FOUND) memcpy(out, &o, sizeof o);
    a[0].i32 = r;
    return NULL;
}

/* ---- Python-facing construction ------------------------------------------------------ */

static void *address(PyObject *o) {
    void *p = PyLong_AsVoidPtr(o);
    return (p == NULL && PyErr_Occurred()) ? NULL : p;
}

static int Dispatcher_init(Dispatcher *d, PyObject *args, PyObject *kw) {
    static char *names[] = {"wasm", "symbols", "venues", "host_call", "replay", "fault",
                            "ledger", NULL};
    int wasm;
    PyObject *symbols, *venues, *host_call, *replay, *fault, *ledger_fn;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "pO!O!OOOO", names, &wasm, &PyDict_Type,
                                     &symbols, &PyDict_Type, &venues, &host_call, &replay,
                                     &fault, &ledger_fn))
        return -1;
    d->wasm = wasm;
    Py_INCREF(symbols); Py_XSETREF(d->symbols, symbols);
    Py_INCREF(venues); Py_XSETREF(d->venues, venues);
    Py_INCREF(host_call); Py_XSETREF(d->host_call, host_call);
    Py_INCREF(replay); Py_XSETREF(d->replay, replay);
    Py_INCREF(fault); Py_XSETREF(d->fault, fault);
    Py_INCREF(ledger_fn); Py_XSETREF(d->ledger_fn, ledger_fn);
    d->sym_id = d->venue_id = d->osym_id = -1;
    d->ledger_dirty = 1;
    if (d->holdings == NULL) d->holdings = PyTuple_New(0);
    d->host.abi_version = MESHRT_ABI_VERSION;
    d->host.ctx = d;
    d->host.send = h_send;
    d->host.subscribe = h_subscribe;
    d->host.unsubscribe = h_unsubscribe;
    d->host.symbol = h_symbol;
    d->host.position = h_position;
    d->host.param = h_param;
    d->host.set_param = h_set_param;
    d->host.log = h_log;
    d->host.order = h_order;
    return d->holdings == NULL ? -1 : 0;
}

/* bind_native(create, destroy, callbacks[, restore, snapshot, io]) -> bool: allocate the
 * I/O area and create the instance; callbacks is a tuple of 13 addresses (0 for an absent
 * optional one). With `restore` (the vtable entry's address), the instance is rebuilt
 * from a checkpoint instead: the I/O area gets the saved `io` bytes, then
 * restore(host, io, snapshot bytes) makes the instance and create is not called. */
static PyObject *Dispatcher_bind_native(Dispatcher *d, PyObject *args) {
    PyObject *create_o, *destroy_o, *cbs, *restore_o = Py_None, *result = NULL;
    Py_buffer data = {0}, io = {0};
    if (!PyArg_ParseTuple(args, "OOO!|Oy*y*", &create_o, &destroy_o, &PyTuple_Type, &cbs,
                          &restore_o, &data, &io))
        return NULL;
    if (d->wasm || d->instance != NULL || PyTuple_GET_SIZE(cbs) != N_CALLBACKS ||
        (io.obj != NULL && io.len != IO_SIZE)) {
        PyErr_Format(PyExc_ValueError, "bind_native: bad state, callbacks or I/O image");
        goto done;
    }
    void *(*create)(const mr_host *, mr_io *) = (void *(*)(const mr_host *, mr_io *))address(create_o);
    void *(*restore)(const mr_host *, mr_io *, const void *, uint64_t) = NULL;
    if (restore_o != Py_None)
        restore = (void *(*)(const mr_host *, mr_io *, const void *, uint64_t))address(restore_o);
    d->destroy = (void (*)(void *))address(destroy_o);
    if (PyErr_Occurred()) goto done;
    for (int i = 0; i < N_CALLBACKS; i++) {
        d->native_cb[i] = (int32_t (*)(void *))address(PyTuple_GET_ITEM(cbs, i));
        if (PyErr_Occurred()) goto done;
    }
    if (d->io_native == NULL) d->io_native = PyMem_Calloc(1, sizeof(mr_io));
    if (d->io_native == NULL) { PyErr_NoMemory(); goto done; }
    if (restore != NULL) {
        if (io.obj != NULL) memcpy(d->io_native, io.buf, sizeof(mr_io));
        d->instance = restore(&d->host, (mr_io *)d->io_native,
                              data.obj != NULL ? data.buf : NULL,
                              data.obj != NULL ? (uint64_t)data.len : 0);
    } else {
        d->instance = create(&d->host, (mr_io *)d->io_native);
    }
    Py_CLEAR(d->open_orders);
    if (d->pending) { d->instance = NULL; raise_pending(d); goto done; }
    result = PyBool_FromLong(d->instance != NULL);
done:
    if (data.obj != NULL) PyBuffer_Release(&data);
    if (io.obj != NULL) PyBuffer_Release(&io);
    return result;
}

/* snapshot_native(snapshot) -> bytes: the native instance's own state, from its vtable's
 * snapshot entry (an address): snapshot(instance, NULL, 0) gives the size, a second call
 * with a buffer that large writes it. RuntimeError when the entry returns an error. */
static PyObject *Dispatcher_snapshot_native(Dispatcher *d, PyObject *arg) {
    int64_t (*snapshot)(void *, void *, uint64_t) =
        (int64_t (*)(void *, void *, uint64_t))address(arg);
    if (PyErr_Occurred()) return NULL;
    if (d->wasm || d->instance == NULL || snapshot == NULL)
        return PyErr_Format(PyExc_RuntimeError, "no native instance or snapshot entry");
    int64_t need = snapshot(d->instance, NULL, 0);
    for (int attempt = 0; attempt < 4; attempt++) {
        if (need < 0)
            return PyErr_Format(PyExc_RuntimeError, "its snapshot entry returned error %lld",
                                (long long)need);
        PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)need);
        if (out == NULL) return NULL;
        int64_t wrote = snapshot(d->instance, PyBytes_AS_STRING(out), (uint64_t)need);
        if (wrote >= 0 && wrote <= need) {
            if (wrote < need && _PyBytes_Resize(&out, (Py_ssize_t)wrote) < 0) return NULL;
            return out;
        }
        Py_DECREF(out);
        need = wrote; /* it asked for more than it said at first: try that size */
    }
    return PyErr_Format(PyExc_RuntimeError, "its snapshot entry kept asking for more room");
}

/* bind_wasm(context, funcs, memory, fuel, memory_cap): funcs maps export index -> the
 * 16-byte wasmtime_func_t; memory is the 24-byte wasmtime_memory_t. */
static PyObject *Dispatcher_bind_wasm(Dispatcher *d, PyObject *args) {
    PyObject *ctx, *funcs;
    Py_buffer mem;
    unsigned long long fuel, cap;
    if (!PyArg_ParseTuple(args, "OO!y*KK", &ctx, &PyDict_Type, &funcs, &mem, &fuel, &cap))
        return NULL;
    if (!d->wasm || mem.len != sizeof(wt_memory)) {
        PyBuffer_Release(&mem);
        return PyErr_Format(PyExc_ValueError, "bind_wasm: bad state or memory");
    }
    memcpy(&d->memory, mem.buf, sizeof(wt_memory));
    PyBuffer_Release(&mem);
    d->context = address(ctx);
    if (PyErr_Occurred()) return NULL;
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(funcs, &pos, &key, &value)) {
        long i = PyLong_AsLong(key);
        char *buf;
        Py_ssize_t len;
        if (i < 0 || i >= N_EXPORTS || PyBytes_AsStringAndSize(value, &buf, &len) < 0 ||
            len != sizeof(wt_func)) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bind_wasm: bad func");
            return NULL;
        }
        memcpy(&d->funcs[i], buf, sizeof(wt_func));
        d->has[i] = 1;
    }
    d->fuel = fuel;
    d->mem_cap = (size_t)cap;
    d->mem_size = 0;
    refresh_memory(d);
    Py_RETURN_NONE;
}

/* set_io(offset): where the module's mr_io lives in linear memory (checked in bounds) */
static PyObject *Dispatcher_set_io(Dispatcher *d, PyObject *arg) {
    long long offset = PyLong_AsLongLong(arg);
    if (offset == -1 && PyErr_Occurred()) return NULL;
    refresh_memory(d);
    if (offset < 0 || (unsigned long long)offset + sizeof(mr_io) > d->mem_size || offset % 8)
        return PyErr_Format(PyExc_ValueError, "I/O area at %lld is not inside linear memory "
                            "(%zu bytes) or not 8-byte aligned", offset, d->mem_size);
    d->io_offset = (uint32_t)offset;
    Py_RETURN_NONE;
}

static PyObject *Dispatcher_io_view(Dispatcher *d, PyObject *unused) {
    (void)unused;
    if (ready(d) < 0) return NULL;
    if (d->wasm) refresh_memory(d);
    return PyMemoryView_FromMemory((char *)io_ptr(d), IO_SIZE, PyBUF_READ);
}

/* close(): destroy a native instance (before its library is released); detach WASM */
static PyObject *Dispatcher_close(Dispatcher *d, PyObject *unused) {
    (void)unused;
    if (!d->wasm && d->instance != NULL) {
        void *instance = d->instance;
        d->instance = NULL;
        if (d->destroy) d->destroy(instance);
        Py_CLEAR(d->pending);
    }
    d->context = NULL;
    d->mem_base = NULL;
    d->mem_size = 0;
    Py_RETURN_NONE;
}

static PyObject *Dispatcher_host_address(Dispatcher *d, PyObject *unused) {
    (void)unused;
    return PyLong_FromVoidPtr(&d->host);
}

static int Dispatcher_traverse(Dispatcher *d, visitproc visit, void *arg) {
    Py_VISIT(d->symbols); Py_VISIT(d->venues); Py_VISIT(d->host_call); Py_VISIT(d->replay);
    Py_VISIT(d->fault); Py_VISIT(d->ledger_fn); Py_VISIT(d->ledger); Py_VISIT(d->holdings);
    Py_VISIT(d->open_orders); Py_VISIT(d->pending);
    return 0;
}

static int Dispatcher_clear(Dispatcher *d) {
    Py_CLEAR(d->symbols); Py_CLEAR(d->venues); Py_CLEAR(d->host_call); Py_CLEAR(d->replay);
    Py_CLEAR(d->fault); Py_CLEAR(d->ledger_fn); Py_CLEAR(d->ledger); Py_CLEAR(d->holdings);
    Py_CLEAR(d->open_orders); Py_CLEAR(d->pending); Py_CLEAR(d->sym_obj);
    Py_CLEAR(d->venue_obj); Py_CLEAR(d->osym_obj);
    for (int k = 0; k < 4; k++) Py_CLEAR(d->sides[k]);
    return 0;
}

static void Dispatcher_dealloc(Dispatcher *d) {
    PyObject_GC_UnTrack(d);
    if (!d->wasm && d->instance != NULL && d->destroy) d->destroy(d->instance);
    d->instance = NULL;
    Dispatcher_clear(d);
    PyMem_Free(d->io_native);
    Py_TYPE(d)->tp_free((PyObject *)d);
}

static PyMethodDef Dispatcher_methods[] = {
    {"on_book", (PyCFunction)(void (*)(void))Dispatcher_on_book, METH_FASTCALL,
     "on_book(book, state, features, actions): pack, call the algo, replay its actions"},
    {"call", (PyCFunction)(void (*)(void))Dispatcher_call, METH_FASTCALL,
     "call(index, state, actions, payload, offset): any other callback"},
    {"invoke", (PyCFunction)Dispatcher_invoke, METH_O, "invoke(index) -> int: a WASM export"},
    {"bind_native", (PyCFunction)Dispatcher_bind_native, METH_VARARGS, NULL},
    {"snapshot_native", (PyCFunction)Dispatcher_snapshot_native, METH_O,
     "snapshot_native(entry address) -> bytes: a native instance's state (checkpoints)"},
    {"bind_wasm", (PyCFunction)Dispatcher_bind_wasm, METH_VARARGS, NULL},
    {"set_io", (PyCFunction)Dispatcher_set_io, METH_O, NULL},
    {"io_view", (PyCFunction)Dispatcher_io_view, METH_NOARGS,
     "a read-only view of the I/O area (tests, debugging)"},
    {"host_address", (PyCFunction)Dispatcher_host_address, METH_NOARGS, NULL},
    {"close", (PyCFunction)Dispatcher_close, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DispatcherType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "meshrt.loaders._dispatch.Dispatcher",
    .tp_basicsize = sizeof(Dispatcher),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "One compiled algo instance's calls: packing, dispatch, host calls.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Dispatcher_init,
    .tp_dealloc = (destructor)Dispatcher_dealloc,
    .tp_traverse = (traverseproc)Dispatcher_traverse,
    .tp_clear = (inquiry)Dispatcher_clear,
    .tp_methods = Dispatcher_methods,
};

/* ---- module functions --------------------------------------------------------------- */

static PyObject *set_wasm_api(PyObject *self, PyObject *api) {
    (void)self;
    if (!PyDict_Check(api)) return PyErr_Format(PyExc_TypeError, "a dict of addresses");
#define WT(field, name)                                                                 \
    do {                                                                                \
        PyObject *v = PyDict_GetItemString(api, name);                                  \
        if (v == NULL) return PyErr_Format(PyExc_KeyError, "missing %s", name);         \
        *(void **)&wt.field = address(v);                                               \
        if (PyErr_Occurred()) return NULL;                                              \
    } while (0)
    WT(call_unchecked, "wasmtime_func_call_unchecked");
    WT(set_fuel, "wasmtime_context_set_fuel");
    WT(memory_data, "wasmtime_memory_data");
    WT(memory_data_size, "wasmtime_memory_data_size");
    WT(trap_code, "wasmtime_trap_code");
    WT(trap_message, "wasm_trap_message");
    WT(trap_delete, "wasm_trap_delete");
    WT(error_message, "wasmtime_error_message");
    WT(error_delete, "wasmtime_error_delete");
    WT(vec_delete, "wasm_byte_vec_delete");
    WT(trap_new, "wasmtime_trap_new");
#undef WT
    Py_RETURN_NONE;
}

static PyObject *trampolines(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    return Py_BuildValue(
        "{sNsNsNsNsNsNsNsNsN}",
        "send", PyLong_FromVoidPtr((void *)t_send),
        "subscribe", PyLong_FromVoidPtr((void *)t_subscribe),
        "unsubscribe", PyLong_FromVoidPtr((void *)t_unsubscribe),
        "symbol", PyLong_FromVoidPtr((void *)t_symbol),
        "position", PyLong_FromVoidPtr((void *)t_position),
        "param", PyLong_FromVoidPtr((void *)t_param),
        "set_param", PyLong_FromVoidPtr((void *)t_set_param),
        "log", PyLong_FromVoidPtr((void *)t_log),
        "order", PyLong_FromVoidPtr((void *)t_order));
}

static PyObject *layout(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    return Py_BuildValue(
        "{sisisisisisisisisisisisi}", "abi_version", MESHRT_ABI_VERSION,
        "book", (int)offsetof(mr_io, book), "state", (int)offsetof(mr_io, state),
        "features", (int)offsetof(mr_io, features), "fill", (int)offsetof(mr_io, fill),
        "reject", (int)offsetof(mr_io, reject), "nbbo", (int)offsetof(mr_io, nbbo),
        "message", (int)offsetof(mr_io, message), "symbol", (int)offsetof(mr_io, symbol),
        "actions", (int)offsetof(mr_io, actions), "size", (int)sizeof(mr_io),
        "host", (int)sizeof(mr_host));
}

static PyMethodDef module_methods[] = {
    {"set_wasm_api", set_wasm_api, METH_O, "set_wasm_api(dict name -> address)"},
    {"trampolines", trampolines, METH_NOARGS, "WASM host-call trampolines: name -> address"},
    {"layout", layout, METH_NOARGS, "the I/O area's offsets as compiled (checked by loaders)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "meshrt.loaders._dispatch", NULL, -1, module_methods,
};

PyMODINIT_FUNC PyInit__dispatch(void) {
#define INTERN(var, name) if ((var = PyUnicode_InternFromString(name)) == NULL) return NULL
    INTERN(s_now, "now"); INTERN(s_next_order_id, "next_order_id");
    INTERN(s_open_orders, "open_orders"); INTERN(s_ledger, "ledger"); INTERN(s_books, "books");
    INTERN(s_send, "send"); INTERN(s_subscribe, "subscribe");
    INTERN(s_unsubscribe, "unsubscribe"); INTERN(s_symbol, "symbol");
    INTERN(s_position, "position"); INTERN(s_param, "param"); INTERN(s_set_param, "set_param");
    INTERN(s_log, "log");
#undef INTERN
    if (PyType_Ready(&DispatcherType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&DispatcherType);
    if (PyModule_AddObject(m, "Dispatcher", (PyObject *)&DispatcherType) < 0) {
        Py_DECREF(&DispatcherType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
