/* The displayed L2 book of one symbol on a simulated venue, and the venue's feed loop.
 *
 * Every book update of every run passes through here, so both live in C: `L2Book`
 * holds the feed's displayed levels (best first) and caches each side's top-`depth`
 * view as tuples until a level inside the view changes; `play` applies one symbol's
 * feed events and emits the venue's output tuples (see meshrt/actors/protocol.py).
 * What the book does not decide stays in Python, in meshrt/venues/matching.py: the
 * matching engine owns the resting algo orders and is called only when an event can
 * reach one (a trade print, a snapshot, or a level change at a resting price or
 * through the best resting price on the other side).
 *
 * Levels keep the feed's own int objects beside an int64 copy, so a view is built
 * with reference increments only and the book never allocates an int per level.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

/* meshrt.contract.Side, meshrt.events.FEED_*, meshrt.actors.protocol.OUT_*; a test
   checks these against the Python definitions */
#define BUY 1
#define SELL 2
#define FEED_SNAPSHOT 0
#define FEED_DELTA 1
#define FEED_TRADE 2
#define OUT_BOOK 0
#define OUT_TRADE 1
#define OUT_REPORT 2

/* best resting prices when a side has no resting order: no valid price (> 0) is
   <= NO_BUY, and a level at NO_SELL (INT64_MAX) only costs a needless engine call */
#define NO_BUY 0
#define NO_SELL INT64_MAX

typedef struct {
    int64_t *px, *sz;     /* best first: bids descending, asks ascending */
    PyObject **pxo, **szo; /* the same values as int objects (strong references) */
    Py_ssize_t n, cap;
    /* cached top-`depth` tuples, or NULL; a size change keeps the prices tuple, so a
       subscriber that packs a book (the compiled loaders) repacks only what changed */
    PyObject *view_px, *view_sz;
} Side;

typedef struct {
    PyObject_HEAD
    Side sides[2]; /* [0] bids, [1] asks */
    Py_ssize_t depth;
    long long buy_max, sell_min; /* best resting algo prices, kept by the engine */
    PyObject *buys, *sells;      /* the engine's resting orders: price -> orders */
} L2Book;

static PyTypeObject L2BookType;

/* -- levels --------------------------------------------------------------------- */

static void side_drop_view(Side *s) {
    Py_CLEAR(s->view_px);
    Py_CLEAR(s->view_sz);
}

static void side_clear(Side *s) {
    for (Py_ssize_t i = 0; i < s->n; i++) {
        Py_DECREF(s->pxo[i]);
        Py_DECREF(s->szo[i]);
    }
    s->n = 0;
    side_drop_view(s);
}

static void side_free(Side *s) {
    side_clear(s);
    PyMem_Free(s->px);
    PyMem_Free(s->sz);
    PyMem_Free(s->pxo);
    PyMem_Free(s->szo);
    s->px = s->sz = NULL;
    s->pxo = s->szo = NULL;
    s->cap = 0;
}

static int side_reserve(Side *s, Py_ssize_t need) {
    if (need <= s->cap)
        return 0;
    Py_ssize_t cap = s->cap ? s->cap : 32;
    while (cap < need)
        cap *= 2;
    int64_t *px = PyMem_Realloc(s->px, cap * sizeof(int64_t));
    if (px) s->px = px;
    int64_t *sz = PyMem_Realloc(s->sz, cap * sizeof(int64_t));
    if (sz) s->sz = sz;
    PyObject **pxo = PyMem_Realloc(s->pxo, cap * sizeof(PyObject *));
    if (pxo) s->pxo = pxo;
    PyObject **szo = PyMem_Realloc(s->szo, cap * sizeof(PyObject *));
    if (szo) s->szo = szo;
    if (!px || !sz || !pxo || !szo) {
        PyErr_NoMemory();
        return -1;
    }
    s->cap = cap;
    return 0;
}

/* First index whose price is not better than `price` (bids: descending order). */
static Py_ssize_t side_find(const Side *s, int bids, int64_t price) {
    Py_ssize_t lo = 0, hi = s->n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) >> 1;
        if (bids ? s->px[mid] > price : s->px[mid] < price)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void side_remove(Side *s, Py_ssize_t i) {
    Py_DECREF(s->pxo[i]);
    Py_DECREF(s->szo[i]);
    Py_ssize_t tail = s->n - i - 1;
    memmove(s->px + i, s->px + i + 1, tail * sizeof(int64_t));
    memmove(s->sz + i, s->sz + i + 1, tail * sizeof(int64_t));
    memmove(s->pxo + i, s->pxo + i + 1, tail * sizeof(PyObject *));
    memmove(s->szo + i, s->szo + i + 1, tail * sizeof(PyObject *));
    s->n--;
}

static int64_t as_int64(PyObject *value, const char *what) {
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow) {
        PyErr_Format(PyExc_OverflowError, "%s %R does not fit in int64", what, value);
        return -1;
    }
    return v;
}

/* Set one displayed level (size <= 0 removes it). Returns 1 when resting algo orders
   may be affected (the engine must look), 0 when not, -1 on error. */
static int book_set(L2Book *b, int side, PyObject *price_obj, PyObject *size_obj) {
    if (side != BUY && side != SELL) {
        PyErr_Format(PyExc_ValueError, "book side %d is neither BUY (1) nor SELL (2)", side);
        return -1;
    }
    int64_t price = as_int64(price_obj, "price");
    if (price == -1 && PyErr_Occurred())
        return -1;
    int64_t size = as_int64(size_obj, "size");
    if (size == -1 && PyErr_Occurred())
        return -1;
    int bids = side == BUY;
    Side *s = &b->sides[bids ? 0 : 1];
    Py_ssize_t i = side_find(s, bids, price);
    int found = i < s->n && s->px[i] == price;
    if (found) {
        if (size > 0) {
            Py_INCREF(size_obj);
            Py_SETREF(s->szo[i], size_obj);
            s->sz[i] = size;
            if (i < b->depth)
                Py_CLEAR(s->view_sz);
        } else {
            side_remove(s, i);
            if (i < b->depth)
                side_drop_view(s);
        }
    } else if (size > 0) {
        if (side_reserve(s, s->n + 1) < 0)
            return -1;
        Py_ssize_t tail = s->n - i;
        memmove(s->px + i + 1, s->px + i, tail * sizeof(int64_t));
        memmove(s->sz + i + 1, s->sz + i, tail * sizeof(int64_t));
        memmove(s->pxo + i + 1, s->pxo + i, tail * sizeof(PyObject *));
        memmove(s->szo + i + 1, s->szo + i, tail * sizeof(PyObject *));
        s->px[i] = price;
        s->sz[i] = size;
        Py_INCREF(price_obj);
        Py_INCREF(size_obj);
        s->pxo[i] = price_obj;
        s->szo[i] = size_obj;
        s->n++;
        if (i < b->depth)
            side_drop_view(s);
    }
    /* a queue at this price shrinks, or the level now crosses the other side's orders */
    if (bids) {
        if (size > 0 && price >= b->sell_min)
            return 1;
        return b->buy_max != NO_BUY ? PyDict_Contains(b->buys, price_obj) : 0;
    }
    if (size > 0 && price <= b->buy_max)
        return 1;
    return b->sell_min != NO_SELL ? PyDict_Contains(b->sells, price_obj) : 0;
}

static PyObject *view_of(PyObject **values, Py_ssize_t m) {
    PyObject *view = PyTuple_New(m);
    if (view)
        for (Py_ssize_t i = 0; i < m; i++)
            PyTuple_SET_ITEM(view, i, Py_NewRef(values[i]));
    return view;
}

static int side_view(L2Book *b, Side *s) {
    Py_ssize_t m = s->n < b->depth ? s->n : b->depth;
    if (!s->view_px && !(s->view_px = view_of(s->pxo, m)))
        return -1;
    if (!s->view_sz && !(s->view_sz = view_of(s->szo, m)))
        return -1;
    return 0;
}

static int parse_side(PyObject *arg, int *bids) {
    long side = PyLong_AsLong(arg);
    if (side == -1 && PyErr_Occurred())
        return -1;
    if (side != BUY && side != SELL) {
        PyErr_Format(PyExc_ValueError, "book side %ld is neither BUY (1) nor SELL (2)", side);
        return -1;
    }
    *bids = side == BUY;
    return 0;
}

/* -- the type ------------------------------------------------------------------- */

static PyObject *L2Book_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *names[] = {"buys", "sells", "depth", NULL};
    PyObject *buys, *sells;
    Py_ssize_t depth;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!n:L2Book", names, &PyDict_Type, &buys,
                                     &PyDict_Type, &sells, &depth))
        return NULL;
    if (depth < 0) {
        PyErr_SetString(PyExc_ValueError, "book view depth must be >= 0");
        return NULL;
    }
    L2Book *b = (L2Book *)type->tp_alloc(type, 0);
    if (!b)
        return NULL;
    b->depth = depth;
    b->buy_max = NO_BUY;
    b->sell_min = NO_SELL;
    Py_INCREF(buys);
    b->buys = buys;
    Py_INCREF(sells);
    b->sells = sells;
    return (PyObject *)b;
}

static int L2Book_traverse(L2Book *b, visitproc visit, void *arg) {
    Py_VISIT(b->buys);
    Py_VISIT(b->sells);
    for (int k = 0; k < 2; k++) {
        Py_VISIT(b->sides[k].view_px);
        Py_VISIT(b->sides[k].view_sz);
    }
    return 0;
}

static int L2Book_clear(L2Book *b) {
    Py_CLEAR(b->buys);
    Py_CLEAR(b->sells);
    side_drop_view(&b->sides[0]);
    side_drop_view(&b->sides[1]);
    return 0;
}

static void L2Book_dealloc(L2Book *b) {
    PyObject_GC_UnTrack(b);
    L2Book_clear(b);
    side_free(&b->sides[0]);
    side_free(&b->sides[1]);
    Py_TYPE(b)->tp_free((PyObject *)b);
}

static PyObject *L2Book_set(L2Book *b, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "set(side, price, size) takes 3 arguments");
        return NULL;
    }
    long side = PyLong_AsLong(args[0]);
    if (side == -1 && PyErr_Occurred())
        return NULL;
    int touched = book_set(b, (int)side, args[1], args[2]);
    if (touched < 0)
        return NULL;
    return PyBool_FromLong(touched);
}

/* Check one side's levels: sorted best first, sizes > 0, int64. */
static int side_check(int bids, PyObject *p, PyObject *z) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(p);
    if (PySequence_Fast_GET_SIZE(z) != n) {
        PyErr_SetString(PyExc_ValueError, "book prices and sizes differ in length");
        return -1;
    }
    int64_t last = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t price = as_int64(PySequence_Fast_GET_ITEM(p, i), "price");
        int64_t size = price == -1 && PyErr_Occurred()
                           ? -1 : as_int64(PySequence_Fast_GET_ITEM(z, i), "size");
        if (PyErr_Occurred())
            return -1;
        if (size <= 0 || (i && (bids ? price >= last : price <= last))) {
            PyErr_Format(PyExc_ValueError, "book level %zd (%lld, %lld) is empty or out of order",
                         i, (long long)price, (long long)size);
            return -1;
        }
        last = price;
    }
    return 0;
}

/* Replace one side with checked levels. */
static int side_fill(Side *s, PyObject *p, PyObject *z) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(p);
    side_clear(s);
    if (side_reserve(s, n) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *po = PySequence_Fast_GET_ITEM(p, i), *so = PySequence_Fast_GET_ITEM(z, i);
        s->px[i] = PyLong_AsLongLong(po);
        s->sz[i] = PyLong_AsLongLong(so);
        s->pxo[i] = Py_NewRef(po);
        s->szo[i] = Py_NewRef(so);
    }
    s->n = n;
    return 0;
}

/* Replace both sides with normalised levels (sorted best first, sizes > 0), or change
   nothing and raise. */
static int book_load(L2Book *b, PyObject *bp, PyObject *bs, PyObject *ap, PyObject *as) {
    PyObject *seq[4] = {NULL, NULL, NULL, NULL}, *src[4] = {bp, bs, ap, as};
    int rc = -1;
    for (int k = 0; k < 4; k++)
        if (!(seq[k] = PySequence_Fast(src[k], "book levels must be sequences")))
            goto done;
    if (side_check(1, seq[0], seq[1]) < 0 || side_check(0, seq[2], seq[3]) < 0)
        goto done;
    if (side_fill(&b->sides[0], seq[0], seq[1]) < 0 || side_fill(&b->sides[1], seq[2], seq[3]) < 0)
        goto done;
    rc = 0;
done:
    for (int k = 0; k < 4; k++)
        Py_XDECREF(seq[k]);
    return rc;
}

static PyObject *L2Book_load(L2Book *b, PyObject *args) {
    PyObject *bp, *bs, *ap, *as;
    if (!PyArg_ParseTuple(args, "OOOO:load", &bp, &bs, &ap, &as))
        return NULL;
    if (book_load(b, bp, bs, ap, as) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *L2Book_top(L2Book *b, PyObject *unused) {
    if (side_view(b, &b->sides[0]) < 0 || side_view(b, &b->sides[1]) < 0)
        return NULL;
    return PyTuple_Pack(4, b->sides[0].view_px, b->sides[0].view_sz, b->sides[1].view_px,
                        b->sides[1].view_sz);
}

static PyObject *L2Book_best(L2Book *b, PyObject *arg) {
    int bids;
    if (parse_side(arg, &bids) < 0)
        return NULL;
    Side *s = &b->sides[bids ? 0 : 1];
    if (!s->n)
        Py_RETURN_NONE;
    return PyTuple_Pack(2, s->pxo[0], s->szo[0]);
}

static PyObject *L2Book_size_at(L2Book *b, PyObject *const *args, Py_ssize_t nargs) {
    int bids;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "size_at(side, price) takes 2 arguments");
        return NULL;
    }
    if (parse_side(args[0], &bids) < 0)
        return NULL;
    int64_t price = as_int64(args[1], "price");
    if (price == -1 && PyErr_Occurred())
        return NULL;
    Side *s = &b->sides[bids ? 0 : 1];
    Py_ssize_t i = side_find(s, bids, price);
    if (i < s->n && s->px[i] == price)
        return Py_NewRef(s->szo[i]);
    return PyLong_FromLong(0);
}

/* Take `qty` from the best level of `side`; the level goes at 0. Returns what is left
   there (<= 0 when the level went). */
static PyObject *L2Book_consume_best(L2Book *b, PyObject *const *args, Py_ssize_t nargs) {
    int bids;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "consume_best(side, qty) takes 2 arguments");
        return NULL;
    }
    if (parse_side(args[0], &bids) < 0)
        return NULL;
    int64_t qty = as_int64(args[1], "qty");
    if (qty == -1 && PyErr_Occurred())
        return NULL;
    Side *s = &b->sides[bids ? 0 : 1];
    if (!s->n) {
        PyErr_SetString(PyExc_ValueError, "consume_best on an empty side");
        return NULL;
    }
    int64_t left = s->sz[0] - qty;
    PyObject *left_obj = PyLong_FromLongLong(left);
    if (!left_obj)
        return NULL;
    if (left > 0) {
        Py_INCREF(left_obj);
        Py_SETREF(s->szo[0], left_obj);
        s->sz[0] = left;
        Py_CLEAR(s->view_sz);
    } else {
        side_remove(s, 0);
        side_drop_view(s);
    }
    return left_obj;
}

static PyObject *side_levels(Side *s) {
    PyObject *p = PyList_New(s->n), *z = PyList_New(s->n);
    if (!p || !z) {
        Py_XDECREF(p);
        Py_XDECREF(z);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < s->n; i++) {
        PyList_SET_ITEM(p, i, Py_NewRef(s->pxo[i]));
        PyList_SET_ITEM(z, i, Py_NewRef(s->szo[i]));
    }
    return Py_BuildValue("(NN)", p, z);
}

static PyObject *L2Book_levels(L2Book *b, PyObject *arg) {
    int bids;
    if (parse_side(arg, &bids) < 0)
        return NULL;
    return side_levels(&b->sides[bids ? 0 : 1]);
}

static PyObject *L2Book_reduce(L2Book *b, PyObject *unused) {
    PyObject *bids = side_levels(&b->sides[0]);
    PyObject *asks = bids ? side_levels(&b->sides[1]) : NULL;
    if (!asks) {
        Py_XDECREF(bids);
        return NULL;
    }
    return Py_BuildValue("O(OOn)(NNLL)", Py_TYPE(b), b->buys, b->sells, b->depth, bids, asks,
                         b->buy_max, b->sell_min);
}

static PyObject *L2Book_setstate(L2Book *b, PyObject *state) {
    PyObject *bids, *asks, *bp, *bs, *ap, *as;
    long long buy_max, sell_min;
    if (!PyArg_ParseTuple(state, "O!O!LL:__setstate__", &PyTuple_Type, &bids, &PyTuple_Type,
                          &asks, &buy_max, &sell_min) ||
        !PyArg_ParseTuple(bids, "OO:bids", &bp, &bs) ||
        !PyArg_ParseTuple(asks, "OO:asks", &ap, &as))
        return NULL;
    if (book_load(b, bp, bs, ap, as) < 0)
        return NULL;
    b->buy_max = buy_max;
    b->sell_min = sell_min;
    Py_RETURN_NONE;
}

static PyMethodDef L2Book_methods[] = {
    {"set", (PyCFunction)(void (*)(void))L2Book_set, METH_FASTCALL,
     "set(side, price, size) -> bool: set one level (size <= 0 removes it); True when "
     "resting algo orders may be affected (a resting price, or a cross)"},
    {"load", (PyCFunction)L2Book_load, METH_VARARGS,
     "load(bid_prices, bid_sizes, ask_prices, ask_sizes): replace both sides, best first"},
    {"top", (PyCFunction)L2Book_top, METH_NOARGS,
     "(bid prices, bid sizes, ask prices, ask sizes) of the top `depth` levels, as tuples"},
    {"best", (PyCFunction)L2Book_best, METH_O, "best(side) -> (price, size) or None"},
    {"size_at", (PyCFunction)(void (*)(void))L2Book_size_at, METH_FASTCALL,
     "size_at(side, price) -> displayed size at exactly price (0 if none)"},
    {"consume_best", (PyCFunction)(void (*)(void))L2Book_consume_best, METH_FASTCALL,
     "consume_best(side, qty) -> size left at the best level (<= 0: the level went)"},
    {"levels", (PyCFunction)L2Book_levels, METH_O,
     "levels(side) -> (prices, sizes) lists, best first"},
    {"__reduce__", (PyCFunction)L2Book_reduce, METH_NOARGS, NULL},
    {"__setstate__", (PyCFunction)L2Book_setstate, METH_O, NULL},
    {NULL}};

static PyMemberDef L2Book_members[] = {
    {"buy_max", T_LONGLONG, offsetof(L2Book, buy_max), 0,
     "best resting algo buy price (0: none)"},
    {"sell_min", T_LONGLONG, offsetof(L2Book, sell_min), 0,
     "best resting algo sell price (INT64_MAX: none)"},
    {"depth", T_PYSSIZET, offsetof(L2Book, depth), READONLY, "levels per side in top()"},
    {NULL}};

static PyTypeObject L2BookType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "meshrt.venues._book.L2Book",
    .tp_basicsize = sizeof(L2Book),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "L2Book(buys, sells, depth): the displayed levels of one symbol, best first.\n\n"
              "buys/sells are the matching engine's resting orders by price; the book reads "
              "them to say when a level change reaches one.",
    .tp_new = L2Book_new,
    .tp_dealloc = (destructor)L2Book_dealloc,
    .tp_traverse = (traverseproc)L2Book_traverse,
    .tp_clear = (inquiry)L2Book_clear,
    .tp_methods = L2Book_methods,
    .tp_members = L2Book_members,
};

/* -- the venue's feed loop ------------------------------------------------------ */

static PyObject *str_after_delta, *str_apply_trade, *str_apply_snapshot, *str_reports;
static PyObject *str_last_mid, *str_volatility, *str_trade_flow;
static PyObject *int_out_book, *int_out_trade, *int_out_report;

static PyObject *new_tuple_of(PyTypeObject *type, Py_ssize_t n) {
    /* a NamedTuple instance without its Python-level __new__ (as tuple.__new__ does) */
    return type->tp_alloc(type, n);
}

/* Move the engine's reports into `out` as (ts, OUT_REPORT, symbol, report), in order. */
static int drain(PyObject *reports, PyObject *symbol, PyObject *out) {
    Py_ssize_t n = PyList_GET_SIZE(reports);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *report = PyList_GET_ITEM(reports, i);
        if (!PyTuple_Check(report) || PyTuple_GET_SIZE(report) < 1) {
            PyErr_Format(PyExc_TypeError, "engine report %R is not an event tuple", report);
            return -1;
        }
        PyObject *item = PyTuple_Pack(4, PyTuple_GET_ITEM(report, 0), int_out_report, symbol,
                                      report);
        if (!item || PyList_Append(out, item) < 0) {
            Py_XDECREF(item);
            return -1;
        }
        Py_DECREF(item);
    }
    return PyList_SetSlice(reports, 0, n, NULL);
}

static int read_feature(PyObject *tracker, PyObject *name, int64_t *value) {
    PyObject *v = PyObject_GetAttr(tracker, name);
    if (!v)
        return -1;
    *value = as_int64(v, "feature");
    Py_DECREF(v);
    return (*value == -1 && PyErr_Occurred()) ? -1 : 0;
}

static int write_feature(PyObject *tracker, PyObject *name, int64_t value) {
    PyObject *v = PyLong_FromLongLong(value);
    if (!v)
        return -1;
    int rc = PyObject_SetAttr(tracker, name, v);
    Py_DECREF(v);
    return rc;
}

/* play(book, engine, tracker, events, start, stop, symbol, symbol_name, venue_name, out,
        Book, Features): apply events[start:stop] of one symbol and append the venue's
   output for each, with the engine's reports after the event that caused them. */
static PyObject *play(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 12) {
        PyErr_SetString(PyExc_TypeError, "play() takes 12 arguments");
        return NULL;
    }
    if (!PyObject_TypeCheck(args[0], &L2BookType) || !PyList_Check(args[3]) ||
        !PyList_Check(args[9]) || !PyType_Check(args[10]) || !PyType_Check(args[11])) {
        PyErr_SetString(PyExc_TypeError, "play(L2Book, engine, tracker, list, int, int, symbol, "
                                         "str, str, list, Book type, Features type)");
        return NULL;
    }
    L2Book *b = (L2Book *)args[0];
    PyObject *engine = args[1], *tracker = args[2], *events = args[3];
    Py_ssize_t start = PyLong_AsSsize_t(args[4]), stop = PyLong_AsSsize_t(args[5]);
    if (PyErr_Occurred())
        return NULL;
    PyObject *symbol = args[6], *symbol_name = args[7], *venue_name = args[8], *out = args[9];
    PyTypeObject *book_type = (PyTypeObject *)args[10], *features_type = (PyTypeObject *)args[11];
    if (start < 0 || stop > PyList_GET_SIZE(events)) {
        PyErr_SetString(PyExc_IndexError, "play: events range out of bounds");
        return NULL;
    }
    int64_t last_mid, volatility, flow;
    if (read_feature(tracker, str_last_mid, &last_mid) < 0 ||
        read_feature(tracker, str_volatility, &volatility) < 0 ||
        read_feature(tracker, str_trade_flow, &flow) < 0)
        return NULL;
    PyObject *reports = PyObject_GetAttr(engine, str_reports);
    if (!reports)
        return NULL;
    if (!PyList_Check(reports)) {
        PyErr_SetString(PyExc_TypeError, "engine.reports must be a list");
        goto fail;
    }
    Side *bids = &b->sides[0], *asks = &b->sides[1];
    for (Py_ssize_t k = start; k < stop; k++) {
        PyObject *ev = PyList_GET_ITEM(events, k);
        if (!PyTuple_Check(ev) || PyTuple_GET_SIZE(ev) < 4) {
            PyErr_Format(PyExc_TypeError, "feed event %R is not an event tuple", ev);
            goto fail;
        }
        PyObject *ts = PyTuple_GET_ITEM(ev, 0);
        long kind = PyLong_AsLong(PyTuple_GET_ITEM(ev, 1));
        if (kind == -1 && PyErr_Occurred())
            goto fail;
        if (kind == FEED_DELTA || kind == FEED_TRADE) {
            if (PyTuple_GET_SIZE(ev) != 5) {
                PyErr_Format(PyExc_TypeError, "feed event %R: expected 5 fields", ev);
                goto fail;
            }
            PyObject *side_obj = PyTuple_GET_ITEM(ev, 2), *price = PyTuple_GET_ITEM(ev, 3),
                     *size = PyTuple_GET_ITEM(ev, 4);
            long side = PyLong_AsLong(side_obj);
            if (side == -1 && PyErr_Occurred())
                goto fail;
            if (kind == FEED_TRADE) {
                PyObject *r = PyObject_CallMethodObjArgs(engine, str_apply_trade, ts, side_obj,
                                                         price, size, NULL);
                if (!r)
                    goto fail;
                Py_DECREF(r);
                int64_t qty = as_int64(size, "trade size");
                if (qty == -1 && PyErr_Occurred())
                    goto fail;
                if (side == BUY ? __builtin_add_overflow(flow, qty, &flow)
                                : __builtin_sub_overflow(flow, qty, &flow)) {
                    PyErr_Format(PyExc_OverflowError, "%U %U: trade flow overflows int64",
                                 venue_name, symbol_name);
                    goto fail;
                }
                PyObject *item = PyTuple_Pack(4, ts, int_out_trade, symbol, ev);
                if (!item || PyList_Append(out, item) < 0) {
                    Py_XDECREF(item);
                    goto fail;
                }
                Py_DECREF(item);
                if (PyList_GET_SIZE(reports) && drain(reports, symbol, out) < 0)
                    goto fail;
                continue;
            }
            int touched = book_set(b, (int)side, price, size);
            if (touched < 0)
                goto fail;
            if (touched) {
                PyObject *r = PyObject_CallMethodObjArgs(engine, str_after_delta, ts, side_obj,
                                                         price, size, NULL);
                if (!r)
                    goto fail;
                Py_DECREF(r);
            }
        } else if (kind == FEED_SNAPSHOT) {
            PyObject *r = PyObject_CallMethodObjArgs(engine, str_apply_snapshot, ts,
                                                     PyTuple_GET_ITEM(ev, 2),
                                                     PyTuple_GET_ITEM(ev, 3), NULL);
            if (!r)
                goto fail;
            Py_DECREF(r);
        } else {
            PyErr_Format(PyExc_ValueError, "feed event %R: unknown kind %ld", ev, kind);
            goto fail;
        }
        if (side_view(b, bids) < 0 || side_view(b, asks) < 0)
            goto fail;
        /* the feature rules of meshrt.venues.features */
        flow -= flow >> 5;
        if (bids->n && asks->n) {
            int64_t mid = (int64_t)(((__int128)bids->px[0] + asks->px[0]) >> 1);
            if (last_mid)
                volatility += ((mid >= last_mid ? mid - last_mid : last_mid - mid) - volatility)
                              >> 4;
            last_mid = mid;
        }
        PyObject *book = new_tuple_of(book_type, 7);
        if (!book)
            goto fail;
        PyTuple_SET_ITEM(book, 0, Py_NewRef(ts));
        PyTuple_SET_ITEM(book, 1, Py_NewRef(symbol_name));
        PyTuple_SET_ITEM(book, 2, Py_NewRef(venue_name));
        PyTuple_SET_ITEM(book, 3, Py_NewRef(bids->view_px));
        PyTuple_SET_ITEM(book, 4, Py_NewRef(bids->view_sz));
        PyTuple_SET_ITEM(book, 5, Py_NewRef(asks->view_px));
        PyTuple_SET_ITEM(book, 6, Py_NewRef(asks->view_sz));
        PyObject *features = new_tuple_of(features_type, 3);
        PyObject *vol = PyLong_FromLongLong(volatility), *fl = PyLong_FromLongLong(flow);
        if (!features || !vol || !fl) {
            Py_DECREF(book);
            Py_XDECREF(features);
            Py_XDECREF(vol);
            Py_XDECREF(fl);
            goto fail;
        }
        PyTuple_SET_ITEM(features, 0, Py_NewRef(book));
        PyTuple_SET_ITEM(features, 1, vol);
        PyTuple_SET_ITEM(features, 2, fl);
        PyObject *item = PyTuple_New(6);
        if (!item) {
            Py_DECREF(book);
            Py_DECREF(features);
            goto fail;
        }
        PyTuple_SET_ITEM(item, 0, Py_NewRef(ts));
        PyTuple_SET_ITEM(item, 1, Py_NewRef(int_out_book));
        PyTuple_SET_ITEM(item, 2, Py_NewRef(symbol));
        PyTuple_SET_ITEM(item, 3, Py_NewRef(ev));
        PyTuple_SET_ITEM(item, 4, book);
        PyTuple_SET_ITEM(item, 5, features);
        int rc = PyList_Append(out, item);
        Py_DECREF(item);
        if (rc < 0)
            goto fail;
        if (PyList_GET_SIZE(reports) && drain(reports, symbol, out) < 0)
            goto fail;
    }
    Py_DECREF(reports);
    if (write_feature(tracker, str_last_mid, last_mid) < 0 ||
        write_feature(tracker, str_volatility, volatility) < 0 ||
        write_feature(tracker, str_trade_flow, flow) < 0)
        return NULL;
    Py_RETURN_NONE;
fail:
    Py_DECREF(reports);
    return NULL;
}

static PyMethodDef module_methods[] = {
    {"play", (PyCFunction)(void (*)(void))play, METH_FASTCALL,
     "play(book, engine, tracker, events, start, stop, symbol, symbol_name, venue_name, out, "
     "Book, Features): the venue's feed loop for one symbol (see meshrt/actors/venue.py)"},
    {NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "meshrt.venues._book",
    "The displayed L2 book of a simulated venue and its feed loop, in C.", -1, module_methods};

PyMODINIT_FUNC PyInit__book(void) {
    if (PyType_Ready(&L2BookType) < 0)
        return NULL;
#define INTERN(var, text) \
    if (!(var = PyUnicode_InternFromString(text))) return NULL
    INTERN(str_after_delta, "after_delta");
    INTERN(str_apply_trade, "apply_trade");
    INTERN(str_apply_snapshot, "apply_snapshot");
    INTERN(str_reports, "reports");
    INTERN(str_last_mid, "last_mid");
    INTERN(str_volatility, "volatility");
    INTERN(str_trade_flow, "trade_flow");
#undef INTERN
    int_out_book = PyLong_FromLong(OUT_BOOK);
    int_out_trade = PyLong_FromLong(OUT_TRADE);
    int_out_report = PyLong_FromLong(OUT_REPORT);
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    Py_INCREF(&L2BookType);
    if (PyModule_AddObject(m, "L2Book", (PyObject *)&L2BookType) < 0 ||
        PyModule_AddIntConstant(m, "BUY", BUY) < 0 || PyModule_AddIntConstant(m, "SELL", SELL) < 0 ||
        PyModule_AddIntConstant(m, "FEED_SNAPSHOT", FEED_SNAPSHOT) < 0 ||
        PyModule_AddIntConstant(m, "FEED_DELTA", FEED_DELTA) < 0 ||
        PyModule_AddIntConstant(m, "FEED_TRADE", FEED_TRADE) < 0 ||
        PyModule_AddIntConstant(m, "OUT_BOOK", OUT_BOOK) < 0 ||
        PyModule_AddIntConstant(m, "OUT_TRADE", OUT_TRADE) < 0 ||
        PyModule_AddIntConstant(m, "OUT_REPORT", OUT_REPORT) < 0 ||
        PyModule_AddObject(m, "NO_SELL", PyLong_FromLongLong(NO_SELL)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
