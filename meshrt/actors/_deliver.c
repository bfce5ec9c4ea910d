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
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <structmember.h>
#include <time.h>
#include <unistd.h>

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

/* -- what is running: named by a fatal signal and by the watchdog ------------------ */

/* The instance actor marks each batch it delivers (once per window, not per callback:
   watch_batch / watch_idle) and the callback it is in (two stores around on_book here,
   watch_callback around the others). Only plain stores: a fatal-signal handler and the
   watchdog thread read them without the GIL, which a stuck native callback holds. A
   torn read can garble a name in the line they write, never crash them. */
static char running_label[128];
static const char *volatile running_callback; /* NULL: between callbacks */
static volatile uint64_t batches_started;
static volatile int delivering; /* a batch is being delivered: the watchdog is armed */
static volatile int delivering_wasm; /* to a WASM algo: wasmtime's traps are signals too */

static PyObject *watch_batch(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "watch_batch() takes 2 arguments");
        return NULL;
    }
    Py_ssize_t size;
    const char *text = PyUnicode_AsUTF8AndSize(args[0], &size);
    if (!text)
        return NULL;
    if (size > (Py_ssize_t)sizeof running_label - 1)
        size = sizeof running_label - 1;
    memcpy(running_label, text, size);
    running_label[size] = 0;
    delivering_wasm = PyObject_IsTrue(args[1]) == 1;
    batches_started++;
    delivering = 1;
    Py_RETURN_NONE;
}

static PyObject *watch_idle(PyObject *module, PyObject *unused) {
    delivering = 0;
    running_callback = NULL;
    Py_RETURN_NONE;
}

/* `name` must live as long as the module: the instance passes constant strings. */
static PyObject *watch_callback(PyObject *module, PyObject *name) {
    if (name == Py_None) {
        running_callback = NULL;
        Py_RETURN_NONE;
    }
    const char *text = PyUnicode_AsUTF8(name);
    if (!text)
        return NULL;
    running_callback = text;
    Py_RETURN_NONE;
}

/* Async-signal-safe output: write(2) only. */
static void put(int fd, const char *text) {
    size_t n = strlen(text);
    while (n) {
        ssize_t w = write(fd, text, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        text += w;
        n -= (size_t)w;
    }
}

static int crash_fd = -1, log_fd = -1;
static char resume_hint[4096]; /* "; resume with: ..." or why not, set by the runtime */

static void say_running(int fd, const char *what) {
    const char *callback = running_callback;
    put(fd, "meshrt: ");
    put(fd, what);
    if (running_label[0]) {
        put(fd, callback ? " in deployment '" : " (no algo callback running; last deployment '");
        put(fd, running_label);
        put(fd, callback ? "', callback " : "')");
        if (callback)
            put(fd, callback);
    }
    put(fd, resume_hint);
    put(fd, "\n");
}

static void say_everywhere(const char *what) {
    say_running(2, what);
    if (crash_fd >= 0)
        say_running(crash_fd, what);
    if (log_fd >= 0)
        fsync(log_fd); /* every window written so far, as a checkpoint would */
}

/* -- fatal signals ----------------------------------------------------------------- */

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define N_FATAL (sizeof fatal_signals / sizeof fatal_signals[0])
static struct sigaction previous[N_FATAL];
static int fatal_installed;
static void report_fatal(int signum);

/* Handlers installed before this one (wasmtime's, which turns a WASM algo's fault into a
   trap and returns; faulthandler's, which dumps the Python tracebacks and re-raises) get
   the signal after the line is written; a default action is restored and the faulting
   instruction re-runs into it (exit status 128 + signum). A fault while a WASM algo runs
   is wasmtime's to judge: no line. */
static void on_fatal(int signum, siginfo_t *info, void *context) {
    struct sigaction *before = NULL;
    for (size_t i = 0; i < N_FATAL; i++)
        if (fatal_signals[i] == signum)
            before = &previous[i];
    if (!(delivering && delivering_wasm))
        report_fatal(signum);
    if (before->sa_flags & SA_SIGINFO)
        before->sa_sigaction(signum, info, context);
    else if (before->sa_handler != SIG_DFL && before->sa_handler != SIG_IGN)
        before->sa_handler(signum);
    else {
        sigaction(signum, before, NULL);
        if (signum == SIGABRT || (info && info->si_code <= 0))
            raise(signum); /* sent, not a faulting instruction: it would not re-run */
    }
}

static void report_fatal(int signum) {
    const char *what = signum == SIGSEGV ? "fatal signal SIGSEGV"
                       : signum == SIGBUS ? "fatal signal SIGBUS"
                       : signum == SIGFPE ? "fatal signal SIGFPE"
                       : signum == SIGILL ? "fatal signal SIGILL" : "fatal signal SIGABRT";
    say_everywhere(what);
}

/* -- the watchdog ------------------------------------------------------------------- */

static pthread_t watchdog_thread;
static pthread_mutex_t watchdog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watchdog_wake = PTHREAD_COND_INITIALIZER;
static int watchdog_running, watchdog_stopping, watchdog_exit_code;
static int64_t watchdog_timeout_ns;
static char watchdog_what[96];

static void *watchdog_main(void *unused) {
    uint64_t seen = batches_started;
    int64_t since = now_ns(), period = watchdog_timeout_ns / 4;
    if (period > 250000000)
        period = 250000000;
    pthread_mutex_lock(&watchdog_lock);
    while (!watchdog_stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + period;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&watchdog_wake, &watchdog_lock, &until);
        int64_t now = now_ns();
        if (!delivering || batches_started != seen) {
            seen = batches_started;
            since = now;
        } else if (now - since >= watchdog_timeout_ns && !watchdog_stopping) {
            say_everywhere(watchdog_what);
            _exit(watchdog_exit_code); /* a stuck C call cannot be interrupted */
        }
    }
    pthread_mutex_unlock(&watchdog_lock);
    return NULL;
}

/* guard(crash_fd, log_fd, resume_hint, watchdog_seconds, exit_code): from now until
   unguard(), a fatal signal or a batch that runs longer than watchdog_seconds (0: no
   watchdog) names the deployment and callback on stderr and in crash_fd (-1: none). */
static PyObject *guard(PyObject *module, PyObject *args) {
    int crash, log, exit_code;
    const char *hint;
    double seconds;
    if (!PyArg_ParseTuple(args, "iisdi:guard", &crash, &log, &hint, &seconds, &exit_code))
        return NULL;
    if (fatal_installed || watchdog_running) {
        PyErr_SetString(PyExc_RuntimeError, "guard: a run is already guarded in this process");
        return NULL;
    }
    crash_fd = crash;
    log_fd = log;
    snprintf(resume_hint, sizeof resume_hint, "%s", hint);
    running_label[0] = 0;
    running_callback = NULL;
    delivering = 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fatal;
    action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < N_FATAL; i++)
        sigaction(fatal_signals[i], &action, &previous[i]);
    fatal_installed = 1;
    if (seconds > 0) {
        watchdog_timeout_ns = (int64_t)(seconds * 1e9);
        watchdog_exit_code = exit_code;
        watchdog_stopping = 0;
        snprintf(watchdog_what, sizeof watchdog_what,
                 "watchdog: a window made no progress for %g s", seconds);
        if (pthread_create(&watchdog_thread, NULL, watchdog_main, NULL) != 0) {
            PyErr_SetString(PyExc_OSError, "guard: cannot start the watchdog thread");
            return NULL;
        }
        watchdog_running = 1;
    }
    Py_RETURN_NONE;
}

static PyObject *unguard(PyObject *module, PyObject *unused) {
    if (watchdog_running) {
        pthread_mutex_lock(&watchdog_lock);
        watchdog_stopping = 1;
        pthread_cond_signal(&watchdog_wake);
        pthread_mutex_unlock(&watchdog_lock);
        Py_BEGIN_ALLOW_THREADS
        pthread_join(watchdog_thread, NULL);
        Py_END_ALLOW_THREADS
        watchdog_running = 0;
    }
    if (fatal_installed) {
        for (size_t i = 0; i < N_FATAL; i++)
            sigaction(fatal_signals[i], &previous[i], NULL);
        fatal_installed = 0;
    }
    crash_fd = log_fd = -1;
    Py_RETURN_NONE;
}

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
        running_callback = "on_book";
        int64_t started = now_ns();
        PyObject *result = PyObject_Vectorcall(on_book, call_args, 4, NULL);
        histogram_record(durations, now_ns() - started);
        running_callback = NULL;
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
    {"watch_batch", (PyCFunction)(void (*)(void))watch_batch, METH_FASTCALL,
     "watch_batch(label, wasm): a deployment starts delivering a batch (arms the watchdog)"},
    {"watch_idle", watch_idle, METH_NOARGS, "watch_idle(): the batch is done (disarms it)"},
    {"watch_callback", watch_callback, METH_O,
     "watch_callback(name or None): the callback being called (a constant string)"},
    {"guard", guard, METH_VARARGS,
     "guard(crash_fd, log_fd, resume_hint, watchdog_seconds, exit_code): name the running "
     "deployment and callback on a fatal signal, and end a stuck batch, until unguard()"},
    {"unguard", unguard, METH_NOARGS, "unguard(): undo guard()"},
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
