/*
 * meshrt.actors._commit — the sequencer's commit loop for venue feed events.
 *
 * Why a CPython extension: every book update and trade print a venue replays passes
 * through the sequencer once, in order, on the one thread that owns the timeline. In
 * Python that iteration cost ~0.7 us, most of it orjson.dumps building the replay-log
 * line from a fresh list. Here the line is formatted directly: the constant part of
 * each line (source, venue, instrument and kind as JSON, escaped once in Python by
 * orjson itself) is passed in per symbol, and only ints are formatted in C. Anything
 * that is not a plain 64-bit int tree (never, from the bundled sources) is handed to
 * the orjson.dumps passed in, so the bytes are orjson's by construction.
 *
 * commit_feed() does for each OUT_BOOK / OUT_TRADE event exactly what the Python loop
 * did: assign the seq id, append the log line, record the last book, call the quote
 * hook for consolidated symbols, draw the feed latency (LatencyStream.deliver_at: the
 * Python draw() is called here, so the random stream is the same) and append one shared
 * delivery tuple to every subscriber's inbound list. It stops at the first OUT_REPORT:
 * reports change order state and are committed by Sequencer._commit_report.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

#include "../_cpython.h"

/* from meshrt.actors.protocol, read at import */
static long out_book, out_report;
static PyObject *d_book; /* the D_BOOK int object */
static PyObject *s_inbound, *s_append;

/* ---- small helpers ---------------------------------------------------------------- */

static const char DIGITS[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* the two digits of n < 100 at p */
static inline void put2(char *p, uint32_t n) { memcpy(p, DIGITS + 2 * n, 2); }

/* exactly eight digits, zero-padded: short dependency chains, unlike digit by digit */
static inline void put8(char *p, uint32_t v) {
    uint32_t hi = v / 10000, lo = v % 10000;
    put2(p, hi / 100), put2(p + 2, hi % 100), put2(p + 4, lo / 100), put2(p + 6, lo % 100);
}

/* v < 10**8 without leading zeros; returns the count */
static inline int put_small(char *p, uint32_t v) {
    int n = v < 10000 ? (v < 100 ? (v < 10 ? 1 : 2) : (v < 1000 ? 3 : 4))
                      : (v < 1000000 ? (v < 100000 ? 5 : 6) : (v < 10000000 ? 7 : 8));
    int i = n;
    while (v >= 100) {
        i -= 2;
        put2(p + i, v % 100);
        v /= 100;
    }
    if (v >= 10) put2(p, v);
    else p[0] = (char)('0' + v);
    return n;
}

/* Decimal digits of v at p (room for 20); returns the count. */
static inline int fmt_u64(char *p, uint64_t v) {
    if (v < 100000000) return put_small(p, (uint32_t)v);
    uint64_t q = v / 100000000;
    int n;
    if (q < 100000000) {
        n = put_small(p, (uint32_t)q);
    } else {
        n = put_small(p, (uint32_t)(q / 100000000));
        put8(p + n, (uint32_t)(q % 100000000));
        n += 8;
    }
    put8(p + n, (uint32_t)(v % 100000000));
    return n + 8;
}

static inline int fmt_i64(char *p, int64_t v) {
    if (v >= 0) return fmt_u64(p, (uint64_t)v);
    *p = '-';
    return 1 + fmt_u64(p + 1, (uint64_t)0 - (uint64_t)v); /* -2**63 too */
}

/* A growable byte buffer: on the stack until a line outgrows it. */
typedef struct {
    char *p;
    Py_ssize_t len, cap;
    char stack[512];
} Buf;

static void buf_init(Buf *b) { b->p = b->stack, b->len = 0, b->cap = sizeof b->stack; }
static void buf_free(Buf *b) { if (b->p != b->stack) PyMem_Free(b->p); }

static int buf_grow(Buf *b, Py_ssize_t need) {
    Py_ssize_t cap = b->cap;
    while (cap < b->len + need) cap *= 2;
    char *p = PyMem_Malloc((size_t)cap);
    if (p == NULL) { PyErr_NoMemory(); return -1; }
    memcpy(p, b->p, (size_t)b->len);
    buf_free(b);
    b->p = p, b->cap = cap;
    return 0;
}

static inline int buf_reserve(Buf *b, Py_ssize_t need) {
    return b->len + need <= b->cap ? 0 : buf_grow(b, need);
}

static inline int buf_put(Buf *b, const char *s, Py_ssize_t n) {
    if (buf_reserve(b, n) < 0) return -1;
    memcpy(b->p + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}

/* ---- the payload ------------------------------------------------------------------- */

/* orjson's form of one value, if it is an int (any int subclass but bool, as orjson
 * serializes them: by value) or an exact tuple/list of such; 1: not one of those (or an
 * int beyond 64 bits), let orjson.dumps say what it is; -1: an error is set. */
static int put_value(Buf *b, PyObject *v, int depth) {
    if (PyLong_Check(v) && !PyBool_Check(v)) {
        if (buf_reserve(b, 21) < 0) return -1;
        int64_t small;
        if (small_int(v, &small)) {
            b->len += fmt_i64(b->p + b->len, small);
            return 0;
        }
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow == 0) {
            if (x == -1 && PyErr_Occurred()) return -1;
            b->len += fmt_i64(b->p + b->len, (int64_t)x);
            return 0;
        }
        if (overflow < 0) return 1;
        unsigned long long u = PyLong_AsUnsignedLongLong(v);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_OverflowError)) return -1;
            PyErr_Clear();
            return 1; /* orjson: "Integer exceeds 64-bit range" */
        }
        b->len += fmt_u64(b->p + b->len, (uint64_t)u);
        return 0;
    }
    if ((PyTuple_CheckExact(v) || PyList_CheckExact(v)) && depth < 16) {
        if (buf_put(b, "[", 1) < 0) return -1;
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(v); i++) {
            if (i && buf_put(b, ",", 1) < 0) return -1;
            /* a list could change under us only through code we do not call */
            int rc = put_value(b, PySequence_Fast_GET_ITEM(v, i), depth + 1);
            if (rc) return rc;
        }
        return buf_put(b, "]", 1);
    }
    return 1;
}

/* feed[2:] as orjson.dumps writes it */
static int put_payload(Buf *b, PyObject *feed, PyObject *dumps) {
    Py_ssize_t mark = b->len, n = PySequence_Fast_GET_SIZE(feed);
    if (buf_put(b, "[", 1) < 0) return -1;
    int rc = 0;
    for (Py_ssize_t i = 2; i < n && rc == 0; i++) {
        if (i > 2 && buf_put(b, ",", 1) < 0) return -1;
        rc = put_value(b, PySequence_Fast_GET_ITEM(feed, i), 0);
    }
    if (rc < 0) return -1;
    if (rc == 0) return buf_put(b, "]", 1);
    /* something orjson must judge: the same call the Python loop made */
    b->len = mark;
    PyObject *rest = PySequence_GetSlice(feed, 2, PY_SSIZE_T_MAX);
    if (rest == NULL) return -1;
    PyObject *json = PyObject_CallOneArg(dumps, rest);
    Py_DECREF(rest);
    if (json == NULL) return -1;
    if (!PyBytes_Check(json)) {
        Py_DECREF(json);
        PyErr_SetString(PyExc_TypeError, "dumps must return bytes");
        return -1;
    }
    rc = buf_put(b, PyBytes_AS_STRING(json), PyBytes_GET_SIZE(json));
    Py_DECREF(json);
    return rc;
}

/* [seq,ts,ts,<fragment><payload>,seq] appended to lines; fragment ends with a comma */
static int log_line(PyObject *lines, int64_t seq, int64_t ts, PyObject *fragment,
                    PyObject *feed, PyObject *dumps) {
    if (!PyBytes_Check(fragment)) {
        PyErr_SetString(PyExc_TypeError, "log fragments must be bytes");
        return -1;
    }
    if (!PyTuple_Check(feed) && !PyList_Check(feed)) {
        PyErr_Format(PyExc_TypeError, "a feed event must be a tuple, not %.100s",
                     Py_TYPE(feed)->tp_name);
        return -1;
    }
    Buf b;
    buf_init(&b);
    Py_ssize_t nfrag = PyBytes_GET_SIZE(fragment);
    int rc = buf_reserve(&b, 4 + 3 * 21 + nfrag);
    if (rc == 0) {
        char *p = b.p;
        *p++ = '[';
        p += fmt_i64(p, seq);
        *p++ = ',';
        p += fmt_i64(p, ts);
        *p++ = ',';
        p += fmt_i64(p, ts);
        *p++ = ',';
        memcpy(p, PyBytes_AS_STRING(fragment), (size_t)nfrag), p += nfrag;
        b.len = p - b.p;
        rc = put_payload(&b, feed, dumps);
    }
    if (rc == 0 && (rc = buf_reserve(&b, 23)) == 0) {
        b.p[b.len++] = ',';
        b.len += fmt_i64(b.p + b.len, seq);
        b.p[b.len++] = ']';
    }
    if (rc == 0) {
        PyObject *line = PyBytes_FromStringAndSize(b.p, b.len);
        rc = line == NULL ? -1 : PyList_Append(lines, line);
        Py_XDECREF(line);
    }
    buf_free(&b);
    return rc;
}

/* ---- deliveries -------------------------------------------------------------------- */

/* Deployed is a slotted attrs class: dep.inbound straight from its slot */
static PyTypeObject *dep_type;
static Py_ssize_t off_inbound = -1;

static int deliver(PyObject *dep, PyObject *item) {
    PyTypeObject *type = Py_TYPE(dep);
    if (type != dep_type) {
        Py_INCREF(type);
        Py_XSETREF(dep_type, type);
        off_inbound = slot_offset(type, s_inbound);
    }
    PyObject *inbound = NULL;
    if (off_inbound >= 0) {
        inbound = *(PyObject **)((char *)dep + off_inbound);
        Py_XINCREF(inbound);
    }
    if (inbound == NULL && (inbound = PyObject_GetAttr(dep, s_inbound)) == NULL) return -1;
    int rc;
    if (PyList_CheckExact(inbound)) {
        rc = PyList_Append(inbound, item);
    } else {
        PyObject *r = PyObject_CallMethodOneArg(inbound, s_append, item);
        rc = r == NULL ? -1 : 0;
        Py_XDECREF(r);
    }
    Py_DECREF(inbound);
    return rc;
}

/* LatencyStream.deliver_at(ts), inlined: ts + base + int(draw() * span), FIFO */
static int feed_latency(int64_t ts, int64_t base, int64_t span, PyObject *draw,
                        int64_t *last) {
    int64_t at, jitter = 0;
    if (__builtin_add_overflow(ts, base, &at)) goto overflow;
    if (span) {
        PyObject *r = PyObject_CallNoArgs(draw);
        if (r == NULL) return -1;
        if (PyFloat_CheckExact(r)) {
            /* float * int is a double multiply; int() truncates toward zero */
            double x = PyFloat_AS_DOUBLE(r) * (double)span;
            Py_DECREF(r);
            if (!(x > -9223372036854775808.0 && x < 9223372036854775808.0)) goto overflow;
            jitter = (int64_t)x;
        } else { /* whatever draw() returns, Python arithmetic decides */
            PyObject *s = PyLong_FromLongLong(span), *x = NULL, *i = NULL;
            if (s != NULL) x = PyNumber_Multiply(r, s);
            if (x != NULL) i = PyNumber_Long(x);
            Py_DECREF(r);
            Py_XDECREF(s);
            Py_XDECREF(x);
            if (i == NULL) return -1;
            int err = 0;
            jitter = as_i64(i, &err);
            Py_DECREF(i);
            if (err) return -1;
        }
        if (__builtin_add_overflow(at, jitter, &at)) goto overflow;
    }
    if (at < *last) at = *last;
    *last = at;
    return 0;
overflow:
    PyErr_SetString(PyExc_OverflowError, "feed delivery time beyond 64 bits");
    return -1;
}

/* ---- the loop ---------------------------------------------------------------------- */

/* seq[i] of a per-symbol list (or tuple), borrowed */
static inline PyObject *item_at(PyObject *seq, Py_ssize_t i, const char *what) {
    if (!PyList_Check(seq) && !PyTuple_Check(seq)) {
        PyErr_Format(PyExc_TypeError, "%s must be a list", what);
        return NULL;
    }
    if (i < 0 || i >= PySequence_Fast_GET_SIZE(seq)) {
        PyErr_Format(PyExc_IndexError, "symbol index %zd out of range of %s", i, what);
        return NULL;
    }
    return PySequence_Fast_GET_ITEM(seq, i);
}

/* One feed event (borrowed tuple); 0 or -1 with an error set. */
static int commit_event(PyObject *event, long kind, int64_t ts, int64_t seq, PyObject **a,
                        int64_t base, int64_t span, int64_t *last) {
    PyObject *lines = a[5], *fragments = a[6], *dumps = a[7], *last_book = a[8],
             *consolidated = a[9], *quote = a[10], *subscribers = a[11], *draw = a[14];
    Py_ssize_t size = PyTuple_GET_SIZE(event);
    if (size < (kind == out_book ? 6 : 4)) {
        PyErr_SetString(PyExc_IndexError, "tuple index out of range");
        return -1;
    }
    PyObject *symbol_obj = PyTuple_GET_ITEM(event, 2);
    int err = 0;
    Py_ssize_t symbol = (Py_ssize_t)as_i64(symbol_obj, &err);
    if (err) return -1;
    if (lines != Py_None) {
        PyObject *feed = PyTuple_GET_ITEM(event, 3), *frags = item_at(fragments, symbol,
                                                                      "fragments");
        if (frags == NULL) return -1;
        if (!PyTuple_Check(frags) || PyTuple_GET_SIZE(frags) < 2) {
            PyErr_SetString(PyExc_TypeError, "a symbol's fragments: (per feed kind..., trade)");
            return -1;
        }
        Py_ssize_t nkinds = PyTuple_GET_SIZE(frags) - 1, index = nkinds; /* trade */
        if (kind == out_book) {
            if ((!PyTuple_Check(feed) && !PyList_Check(feed)) ||
                PySequence_Fast_GET_SIZE(feed) < 2) {
                PyErr_SetString(PyExc_TypeError, "a feed event must be a tuple (ts, kind, ...)");
                return -1;
            }
            PyObject *feed_kind = PySequence_Fast_GET_ITEM(feed, 1);
            index = PyLong_Check(feed_kind) ? PyLong_AsSsize_t(feed_kind) : -1;
            if (index == -1 && PyErr_Occurred()) PyErr_Clear();
            if (index < 0 || index >= nkinds) {
                PyErr_SetObject(PyExc_KeyError, feed_kind);
                return -1;
            }
        }
        if (log_line(lines, seq, ts, PyTuple_GET_ITEM(frags, index), feed, dumps) < 0)
            return -1;
    }
    if (kind != out_book) return 0;
    PyObject *book = PyTuple_GET_ITEM(event, 4);
    if (book == Py_None) return 0; /* the feed to the algos is down: committed, not shown */
    if (!PyList_Check(last_book)) {
        PyErr_SetString(PyExc_TypeError, "last_book must be a list");
        return -1;
    }
    Py_INCREF(book);
    if (PyList_SetItem(last_book, symbol, book) < 0) return -1; /* drops the old book */
    PyObject *flag = item_at(consolidated, symbol, "consolidated");
    if (flag == NULL) return -1;
    int on = PyObject_IsTrue(flag);
    if (on < 0) return -1;
    if (on) {
        PyObject *ts_obj = PyTuple_GET_ITEM(event, 0);
        PyObject *args[3] = {symbol_obj, ts_obj, book};
        PyObject *r = PyObject_Vectorcall(quote, args, 3, NULL);
        if (r == NULL) return -1;
        Py_DECREF(r);
    }
    PyObject *subs = item_at(subscribers, symbol, "subscribers");
    if (subs == NULL) return -1;
    if (!PyList_Check(subs)) {
        PyErr_SetString(PyExc_TypeError, "subscribers must be lists");
        return -1;
    }
    if (PyList_GET_SIZE(subs) == 0) return 0;
    Py_INCREF(subs);
    int rc = -1;
    PyObject *item = NULL;
    if (feed_latency(ts, base, span, draw, last) < 0) goto done;
    PyObject *at = PyLong_FromLongLong(*last);
    if (at == NULL) goto done;
    item = PyTuple_New(4);
    if (item == NULL) { Py_DECREF(at); goto done; }
    Py_INCREF(d_book);
    Py_INCREF(book);
    PyObject *features = PyTuple_GET_ITEM(event, 5);
    Py_INCREF(features);
    PyTuple_SET_ITEM(item, 0, at);
    PyTuple_SET_ITEM(item, 1, d_book);
    PyTuple_SET_ITEM(item, 2, book);
    PyTuple_SET_ITEM(item, 3, features);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(subs); i++)
        if (deliver(PyList_GET_ITEM(subs, i), item) < 0) goto done;
    rc = 0;
done:
    Py_XDECREF(item);
    Py_DECREF(subs);
    return rc;
}

#define N_ARGS 15

PyDoc_STRVAR(commit_feed_doc,
"commit_feed(events, start, stop, seq, last, lines, fragments, dumps, last_book,\n"
"            consolidated, quote, subscribers, base, span, draw) -> (index, seq, last)\n"
"\n"
"Commit the venue feed events events[start:stop] up to the first OUT_REPORT, whose\n"
"index is returned (stop when there is none) with the last seq id assigned and the\n"
"feed stream's last delivery time. lines: the replay log's line list, or None when\n"
"nothing is logged; fragments[symbol]: per feed kind, then for OUT_TRADE, the bytes\n"
"'\"source\",\"venue\",\"symbol\",\"kind\",' as orjson writes them; dumps: orjson.dumps,\n"
"for payloads that are not 64-bit ints; quote(symbol, ts, book): the hook for\n"
"consolidated symbols; base, span, draw: the feed's LatencyStream.");

static PyObject *commit_feed(PyObject *self, PyObject *const *a, Py_ssize_t nargs) {
    (void)self;
    if (nargs != N_ARGS)
        return PyErr_Format(PyExc_TypeError, "commit_feed takes %d arguments (%zd given)",
                            N_ARGS, nargs);
    PyObject *events = a[0];
    if (!PyList_Check(events)) return PyErr_Format(PyExc_TypeError, "events must be a list");
    Py_ssize_t k = PyLong_AsSsize_t(a[1]), stop = PyLong_AsSsize_t(a[2]);
    int err = 0;
    int64_t seq = as_i64(a[3], &err), last = as_i64(a[4], &err), base = as_i64(a[12], &err),
            span = as_i64(a[13], &err);
    if (err || PyErr_Occurred()) return NULL;
    if (a[5] != Py_None && !PyList_Check(a[5]))
        return PyErr_Format(PyExc_TypeError, "lines must be a list or None");
    for (; k < stop; k++) {
        if (k < 0 || k >= PyList_GET_SIZE(events)) {
            PyErr_SetString(PyExc_IndexError, "event index out of range");
            return NULL;
        }
        PyObject *event = PyList_GET_ITEM(events, k);
        if (!PyTuple_Check(event) || PyTuple_GET_SIZE(event) < 3)
            return PyErr_Format(PyExc_TypeError, "event %zd is not a venue output tuple", k);
        long kind = (long)as_i64(PyTuple_GET_ITEM(event, 1), &err);
        if (err) return NULL;
        if (kind == out_report) break;
        int64_t ts = as_i64(PyTuple_GET_ITEM(event, 0), &err);
        if (err) return NULL;
        Py_INCREF(event); /* held while Python code (draw, quote, dumps) runs */
        int rc = commit_event(event, kind, ts, seq + 1, (PyObject **)a, base, span, &last);
        Py_DECREF(event);
        if (rc < 0) return NULL;
        seq++;
    }
    return Py_BuildValue("(nLL)", k, (long long)seq, (long long)last);
}

static PyMethodDef module_methods[] = {
    {"commit_feed", (PyCFunction)(void (*)(void))commit_feed, METH_FASTCALL, commit_feed_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "meshrt.actors._commit",
    "The sequencer's commit loop for venue feed events (see commit_feed).", -1,
    module_methods,
};

static int protocol_long(PyObject *protocol, const char *name, long *out) {
    PyObject *v = PyObject_GetAttrString(protocol, name);
    if (v == NULL) return -1;
    *out = PyLong_AsLong(v);
    Py_DECREF(v);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

PyMODINIT_FUNC PyInit__commit(void) {
    if ((s_inbound = PyUnicode_InternFromString("inbound")) == NULL) return NULL;
    if ((s_append = PyUnicode_InternFromString("append")) == NULL) return NULL;
    PyObject *protocol = PyImport_ImportModule("meshrt.actors.protocol");
    if (protocol == NULL) return NULL;
    if (protocol_long(protocol, "OUT_BOOK", &out_book) < 0 ||
        protocol_long(protocol, "OUT_REPORT", &out_report) < 0 ||
        (d_book = PyObject_GetAttrString(protocol, "D_BOOK")) == NULL) {
        Py_DECREF(protocol);
        return NULL;
    }
    Py_DECREF(protocol);
    return PyModule_Create(&module);
}
