/* The algo instance's book delivery loop and its callback-duration histogram, in C.
 *
 * Book updates are nearly every delivery an instance gets, and the Python loop around
 * one on_book call (set the clock, remember the book, time the call, count it, move the
 * actions out) cost more than many algos' own on_book. `deliver_books` does exactly that
 * for a run of consecutive book deliveries and hands everything else back to the
 * instance actor (meshrt/actors/instance.py), which owns the rules for it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <structmember.h>
#include <time.h>

#define D_BOOK 0 /* meshrt.actors.protocol.D_BOOK; a test checks it */

static PyObject *str_now, *str_messages_this_callback;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t); /* what time.perf_counter_ns reads on Linux */
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* -- callback durations ---------------------------------------------------------- */

/* A log-linear histogram of durations in ns (HdrHistogram's layout): exact below 256,
   then 128 buckets per power of two, so any value is known to within 1/256 and a run
   of any length keeps 58 KB per instance instead of 8 bytes per callback. */
#define EXACT 256
#define PER_OCTAVE 128
#define BUCKETS (EXACT + 55 * PER_OCTAVE) /* values up to 2**63 - 1 */

typedef struct {
    PyObject_HEAD
    int64_t counts[BUCKETS];
    int64_t count, max;
} Histogram;

static PyTypeObject HistogramType;

static int bucket_of(int64_t v) {
    if (v < EXACT)
        return v < 0 ? 0 : (int)v;
    int e = 64 - __builtin_clzll((uint64_t)v) - 8; /* >= 1: v >> e is in [128, 256) */
    return EXACT + (e - 1) * PER_OCTAVE + (int)((v >> e) - PER_OCTAVE);
}

/* The middle of a bucket (its only value below EXACT). */
static int64_t value_of(int bucket) {
    if (bucket < EXACT)
        return bucket;
    int e = (bucket - EXACT) / PER_OCTAVE + 1;
    int64_t m = (bucket - EXACT) % PER_OCTAVE + PER_OCTAVE;
    return (m << e) + ((int64_t)1 << (e - 1));
}

static void histogram_record(Histogram *h, int64_t v) {
    h->counts[bucket_of(v)]++;
    h->count++;
    if (v > h->max)
        h->max = v;
}

static PyObject *Histogram_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    if (PyTuple_GET_SIZE(args) || (kwds && PyDict_GET_SIZE(kwds))) {
        PyErr_SetString(PyExc_TypeError, "LatencyHistogram() takes no arguments");
        return NULL;
    }
    return type->tp_alloc(type, 0); /* zeroed */
}

static PyObject *Histogram_record(Histogram *h, PyObject *arg) {
    int64_t v = PyLong_AsLongLong(arg);
    if (v == -1 && PyErr_Occurred())
        return NULL;
    histogram_record(h, v);
    Py_RETURN_NONE;
}

static PyObject *Histogram_percentile(Histogram *h, PyObject *arg) {
    double fraction = PyFloat_AsDouble(arg);
    if (fraction == -1.0 && PyErr_Occurred())
        return NULL;
    if (!(fraction >= 0.0 && fraction <= 1.0)) {
        PyErr_Format(PyExc_ValueError, "percentile fraction %R is not in [0, 1]", arg);
        return NULL;
    }
    if (!h->count)
        return PyLong_FromLong(0);
    /* the value at 0-based rank min(count - 1, int(fraction * count)), as for a sorted list */
    int64_t rank = (int64_t)(fraction * (double)h->count);
    if (rank > h->count - 1)
        rank = h->count - 1;
    int64_t seen = 0;
    for (int b = 0; b < BUCKETS; b++) {
        seen += h->counts[b];
        if (seen > rank) {
            int64_t v = value_of(b);
            return PyLong_FromLongLong(v < h->max ? v : h->max);
        }
    }
    return PyLong_FromLongLong(h->max);
}

static PyObject *Histogram_reduce(Histogram *h, PyObject *unused) {
    return Py_BuildValue("O()(y#LL)", Py_TYPE(h), (const char *)h->counts,
                         (Py_ssize_t)sizeof h->counts, h->count, h->max);
}

static PyObject *Histogram_setstate(Histogram *h, PyObject *state) {
    const char *counts;
    Py_ssize_t size;
    long long count, max;
    if (!PyArg_ParseTuple(state, "y#LL:__setstate__", &counts, &size, &count, &max))
        return NULL;
    if (size != (Py_ssize_t)sizeof h->counts) {
        PyErr_Format(PyExc_ValueError, "latency histogram state has %zd bytes of counts, "
                     "expected %zd", size, (Py_ssize_t)sizeof h->counts);
        return NULL;
    }
    memcpy(h->counts, counts, sizeof h->counts);
    h->count = count;
    h->max = max;
    Py_RETURN_NONE;
}

static PyMethodDef Histogram_methods[] = {
    {"record", (PyCFunction)Histogram_record, METH_O, "record(ns): count one duration"},
    {"percentile", (PyCFunction)Histogram_percentile, METH_O,
     "percentile(fraction) -> ns: the duration at that rank, to within 1/256 (exact below "
     "256 ns and never above the max); 0 when empty"},
    {"__reduce__", (PyCFunction)Histogram_reduce, METH_NOARGS, NULL},
    {"__setstate__", (PyCFunction)Histogram_setstate, METH_O, NULL},
    {NULL}};

static PyMemberDef Histogram_members[] = {
    {"count", T_LONGLONG, offsetof(Histogram, count), READONLY, "durations recorded"},
    {"max", T_LONGLONG, offsetof(Histogram, max), READONLY, "the longest, exactly (0: none)"},
    {NULL}};

static PyTypeObject HistogramType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "meshrt.actors._deliver.LatencyHistogram",
    .tp_basicsize = sizeof(Histogram),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "LatencyHistogram(): callback durations in ns, log-linear (1/256 precision).",
    .tp_new = Histogram_new,
    .tp_methods = Histogram_methods,
    .tp_members = Histogram_members,
};

/* -- the delivery loop ------------------------------------------------------------ */

/* deliver_books(items, start, state, actions, instance, on_book, flush, latencies)
       -> (next index, callbacks made, exception or None)

   Calls on_book(book, state, features, actions) for items[start], items[start + 1], ...
   while they are (ts, D_BOOK, Book, Features) tuples: sets state.now, records the book
   in state.books, records each call's duration in `latencies` (a LatencyHistogram) and
   calls flush(ts) when the callback left actions in actions._buffer or sent messages.
   Stops at the first other item, or right after a callback that raised: its exception
   is returned, not raised, and its actions are left for the caller to judge. */
static PyObject *deliver_books(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "deliver_books() takes 8 arguments");
        return NULL;
    }
    PyObject *items = args[0], *state = args[2], *actions = args[3], *instance = args[4];
    PyObject *on_book = args[5], *flush = args[6], *latencies = args[7];
    if (!PyList_Check(items) || !PyObject_TypeCheck(latencies, &HistogramType)) {
        PyErr_SetString(PyExc_TypeError, "deliver_books: items must be a list and latencies "
                                         "a LatencyHistogram");
        return NULL;
    }
    Histogram *durations = (Histogram *)latencies;
    Py_ssize_t k = PyLong_AsSsize_t(args[1]);
    if (k == -1 && PyErr_Occurred())
        return NULL;
    PyObject *books = PyObject_GetAttrString(state, "books");
    PyObject *buffer = books ? PyObject_GetAttrString(actions, "_buffer") : NULL;
    if (!buffer)
        goto fail_early;
    if (!PyDict_Check(books) || !PyList_Check(buffer)) {
        PyErr_SetString(PyExc_TypeError, "deliver_books: state.books must be a dict and "
                                         "actions._buffer a list");
        goto fail_early;
    }
    Py_ssize_t n = PyList_GET_SIZE(items), callbacks = 0;
    PyObject *error = NULL;
    for (; k < n; k++) {
        PyObject *item = PyList_GET_ITEM(items, k);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 4 ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(item, 1)) ||
            PyLong_AsLong(PyTuple_GET_ITEM(item, 1)) != D_BOOK)
            break;
        PyObject *ts = PyTuple_GET_ITEM(item, 0), *book = PyTuple_GET_ITEM(item, 2);
        if (!PyTuple_Check(book) || PyTuple_GET_SIZE(book) < 2) {
            PyErr_Format(PyExc_TypeError, "book delivery %R carries no Book", item);
            goto fail;
        }
        if (PyObject_SetAttr(state, str_now, ts) < 0 ||
            PyDict_SetItem(books, PyTuple_GET_ITEM(book, 1), book) < 0)
            goto fail;
        PyObject *call_args[4] = {book, state, PyTuple_GET_ITEM(item, 3), actions};
        int64_t started = now_ns();
        PyObject *result = PyObject_Vectorcall(on_book, call_args, 4, NULL);
        histogram_record(durations, now_ns() - started);
        callbacks++;
        if (!result) {
            /* Whatever on_book raises is the algo's, BaseException too (a stray sys.exit()):
               a real Ctrl-C arrives as a signal Trio receives, never as an exception here
               (meshrt/interrupts.py), and a synchronous call cannot raise Trio's Cancelled. */
            PyObject *type, *tb;
            PyErr_Fetch(&type, &error, &tb);
            PyErr_NormalizeException(&type, &error, &tb);
            if (tb)
                PyException_SetTraceback(error, tb);
            Py_XDECREF(type);
            Py_XDECREF(tb);
            k++;
            break;
        }
        Py_DECREF(result);
        int sent = 0;
        if (!PyList_GET_SIZE(buffer)) {
            PyObject *messages = PyObject_GetAttr(instance, str_messages_this_callback);
            if (!messages)
                goto fail;
            sent = PyObject_IsTrue(messages);
            Py_DECREF(messages);
            if (sent < 0)
                goto fail;
        }
        if (PyList_GET_SIZE(buffer) || sent) {
            PyObject *r = PyObject_CallOneArg(flush, ts);
            if (!r)
                goto fail;
            Py_DECREF(r);
        }
    }
    Py_DECREF(books);
    Py_DECREF(buffer);
    return Py_BuildValue("nnN", k, callbacks, error ? error : Py_NewRef(Py_None));
fail:
    Py_XDECREF(error);
fail_early:
    Py_XDECREF(books);
    Py_XDECREF(buffer);
    return NULL;
}

static PyMethodDef module_methods[] = {
    {"deliver_books", (PyCFunction)(void (*)(void))deliver_books, METH_FASTCALL,
     "deliver_books(items, start, state, actions, instance, on_book, flush, latencies) -> "
     "(next index, callbacks, exception or None): an instance's run of book deliveries"},
    {NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "meshrt.actors._deliver",
    "The algo instance's book delivery loop, in C.", -1, module_methods};

PyMODINIT_FUNC PyInit__deliver(void) {
    if (!(str_now = PyUnicode_InternFromString("now")) ||
        !(str_messages_this_callback = PyUnicode_InternFromString("messages_this_callback")) ||
        PyType_Ready(&HistogramType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    Py_INCREF(&HistogramType);
    if ((PyModule_AddIntConstant(m, "D_BOOK", D_BOOK) < 0 ||
              PyModule_AddObject(m, "LatencyHistogram", (PyObject *)&HistogramType) < 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
