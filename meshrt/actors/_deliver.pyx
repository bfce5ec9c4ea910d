"""The algo instance's book delivery loop, its callback-duration histogram, and the
record of what is running that a crash or the watchdog names.

Book updates are nearly every delivery an instance gets, and the Python loop around
one on_book call (set the clock, remember the book, time the call, count it, move the
actions out) cost more than many algos' own on_book. ``deliver_books`` does exactly that
for a run of consecutive book deliveries and hands everything else back to the instance
actor (meshrt/actors/instance.py), which owns the rules for it. The fatal-signal handler
and the watchdog thread run without the GIL and are plain C (_crashwatch.c).
"""

from cpython.unicode cimport PyUnicode_AsUTF8, PyUnicode_AsUTF8AndSize
from libc.stdint cimport int64_t, uint64_t
from libc.string cimport memcpy
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

from meshrt.actors._deliveries cimport BookDelivery
from meshrt.contract._ranges cimport is_order_id
from meshrt.sdk._actions cimport Actions, with_pending


cdef extern from "_crashwatch.h" nogil:
    void crashwatch_set_callback(const char *name)
    void crashwatch_batch(const char *label, size_t size, int wasm)
    void crashwatch_idle()
    int crashwatch_guard(int crash_fd, int log_fd, const char *resume_hint,
                         double watchdog_seconds, int exit_code)
    void crashwatch_unguard()
    enum:
        CRASHWATCH_OK
        CRASHWATCH_ALREADY_GUARDED


cdef extern from *:
    int __builtin_clzll(unsigned long long value) nogil


cdef inline int64_t now_ns() noexcept nogil:
    cdef timespec t
    clock_gettime(CLOCK_MONOTONIC, &t)  # what time.perf_counter_ns reads on Linux
    return <int64_t>t.tv_sec * 1000000000 + t.tv_nsec


# -- callback durations ---------------------------------------------------------------

# A log-linear histogram of durations in ns (HdrHistogram's layout): exact below 256,
# then 128 buckets per power of two, so any value is known to within 1/256 and a run of
# any length keeps 58 KB per instance instead of 8 bytes per callback.
cdef enum:
    EXACT = 256
    PER_OCTAVE = 128
    BUCKETS = EXACT + 55 * PER_OCTAVE  # values up to 2**63 - 1


cdef inline int bucket_of(int64_t v) noexcept nogil:
    if v < EXACT:
        return 0 if v < 0 else <int>v
    cdef int e = 64 - __builtin_clzll(<uint64_t>v) - 8  # >= 1: v >> e is in [128, 256)
    return EXACT + (e - 1) * PER_OCTAVE + <int>((v >> e) - PER_OCTAVE)


cdef inline int64_t value_of(int bucket) noexcept nogil:
    """The middle of a bucket (its only value below EXACT)."""
    if bucket < EXACT:
        return bucket
    cdef int e = (bucket - EXACT) // PER_OCTAVE + 1
    cdef int64_t m = (bucket - EXACT) % PER_OCTAVE + PER_OCTAVE
    return (m << e) + ((<int64_t>1) << (e - 1))


cdef class LatencyHistogram:
    """LatencyHistogram(): callback durations in ns, log-linear (1/256 precision)."""

    cdef int64_t counts[BUCKETS]
    cdef readonly int64_t count  # durations recorded
    cdef readonly int64_t max  # the longest, exactly (0: none)

    def __init__(self):
        pass  # takes no arguments; the counts start zeroed, as the object's memory does

    cdef inline void add(self, int64_t ns) noexcept:
        self.counts[bucket_of(ns)] += 1
        self.count += 1
        if ns > self.max:
            self.max = ns

    def record(self, int64_t ns):
        """Count one duration."""
        self.add(ns)

    def percentile(self, double fraction):
        """The duration at that rank, to within 1/256 (exact below 256 ns and never above
        the max); 0 when empty."""
        if not (0.0 <= fraction <= 1.0):
            raise ValueError(f"percentile fraction {fraction!r} is not in [0, 1]")
        if not self.count:
            return 0
        # the value at 0-based rank min(count - 1, int(fraction * count)), as for a sorted list
        cdef int64_t rank = min(<int64_t>(fraction * <double>self.count), self.count - 1)
        cdef int64_t seen = 0
        cdef int bucket
        for bucket in range(BUCKETS):
            seen += self.counts[bucket]
            if seen > rank:
                return min(value_of(bucket), self.max)
        return self.max

    def buckets(self):
        """The non-empty buckets as (duration ns, count), shortest first: each bucket's
        middle (exact below 256 ns, never above the max), for drawing the histogram."""
        cdef int bucket
        return [
            (min(value_of(bucket), self.max), self.counts[bucket])
            for bucket in range(BUCKETS)
            if self.counts[bucket]
        ]

    def __reduce__(self):
        counts = (<char *>self.counts)[:sizeof(self.counts)]
        return (LatencyHistogram, (), (counts, self.count, self.max))

    def __setstate__(self, tuple state not None):
        cdef bytes counts = state[0]
        if len(counts) != sizeof(self.counts):
            raise ValueError(f"latency histogram state has {len(counts)} bytes of counts, "
                             f"expected {sizeof(self.counts)}")
        memcpy(self.counts, <const char *>counts, sizeof(self.counts))
        self.count = state[1]
        self.max = state[2]


# -- what is running: named by a fatal signal and by the watchdog ---------------------

# The str whose UTF-8 _crashwatch.c points at while a non-book callback runs: held here
# so the pointer stays valid whatever the caller keeps.
cdef object running_callback_name = None


cdef int set_running(str name) except -1:
    global running_callback_name
    if name is None:
        crashwatch_set_callback(NULL)
    else:
        crashwatch_set_callback(PyUnicode_AsUTF8(name))
    running_callback_name = name  # the old name is released only once nothing points at it
    return 0


def guard(int crash_fd, int log_fd, str resume_hint not None, double watchdog_seconds,
          int exit_code):
    """From now until unguard(), a fatal signal or a batch that runs longer than
    watchdog_seconds (0: no watchdog) names the deployment and callback on stderr and
    in crash_fd (-1: none), after fsync(log_fd) (-1: none)."""
    cdef bytes hint = resume_hint.encode()
    cdef int outcome = crashwatch_guard(crash_fd, log_fd, hint, watchdog_seconds, exit_code)
    if outcome == CRASHWATCH_ALREADY_GUARDED:
        raise RuntimeError("guard: a run is already guarded in this process")
    if outcome != CRASHWATCH_OK:
        raise OSError("guard: cannot start the watchdog thread")


def unguard():
    """Undo guard()."""
    with nogil:  # joins the watchdog thread
        crashwatch_unguard()


# -- the delivery loop ----------------------------------------------------------------

def deliver_books(list items not None, Py_ssize_t start, object state,
                  Actions actions not None, object instance, object on_book, object flush,
                  LatencyHistogram latencies not None):
    """Run consecutive book deliveries from ``items[start]``: (next index, callbacks made,
    the exception a callback raised or None).

    Calls on_book(book, state, features, actions) for each BookDelivery: sets
    state.now, records the book in state.books, records the call's duration
    in ``latencies`` and calls flush(ts) when the callback left actions in
    actions._buffer or sent messages. Stops at the first other item, or right after a
    callback that raised: its exception is returned, not raised, and its actions are
    left for the caller to judge.
    """
    if start < 0:
        raise ValueError(f"deliver_books: start index {start} is negative")
    return run_books(items, start, state, actions, instance, on_book, flush, latencies)


cdef tuple run_books(list items, Py_ssize_t start, object state, Actions actions,
                     object instance, object on_book, object flush,
                     LatencyHistogram latencies):
    """deliver_books at C level (the instance's step calls it once a window)."""
    cdef dict books = state.books
    if books is None or actions is None or actions._buffer is None:
        raise TypeError("deliver_books: state.books must be a dict and actions an Actions")
    cdef list buffer = actions._buffer
    cdef Py_ssize_t k = start, callbacks = 0
    cdef int64_t began
    cdef BookDelivery item
    cdef object entry, ts, book
    cdef object error = None
    while k < len(items):
        entry = items[k]
        if type(entry) is not BookDelivery:
            break
        item = <BookDelivery>entry
        ts, book = item.ts, item.book
        if not isinstance(book, tuple) or len(<tuple>book) < 2:
            raise TypeError(f"book delivery {item!r} carries no Book")
        state.now = ts
        books[(<tuple>book)[1]] = book
        crashwatch_set_callback("on_book")
        began = now_ns()
        try:
            on_book(book, state, item.features, actions)
        except BaseException as exc:
            # Whatever on_book raises is the algo's, BaseException too (a stray
            # sys.exit()): a real Ctrl-C arrives as a signal Trio receives, never as an
            # exception here (meshrt/runtime/interrupts.py), and a synchronous call cannot raise
            # Trio's Cancelled.
            error = exc
        latencies.add(now_ns() - began)
        crashwatch_set_callback(NULL)
        callbacks += 1
        k += 1
        if error is not None:
            break
        if buffer or instance.messages_this_callback:
            if flush is None:
                flush_actions(instance, buffer, ts)
            else:
                flush(ts)
    return k, callbacks, error


# -- the instance's step, its other deliveries and the flush of a callback's actions -------

# protocol, contract and instance types, imported on first use: instance.py imports
# this module
cdef bint types_loaded = False
cdef str RUNNING = "running"
cdef type T_WINDOW_END, T_STOP, T_RESTART, T_MESSAGE, T_UNDELIVERED, T_ACTION_OUT
cdef type T_FILL, T_REJECT, T_ORDER, T_LIFECYCLE, T_NBBO, T_HEARTBEAT, T_KILL
cdef type T_SUBSCRIBED, T_SHUTDOWN
cdef object tuple_new = tuple.__new__
cdef object NEW_ORDERS, INJECTED_FAULT
cdef dict CALLBACK_OF


cdef int load_types() except -1:
    global types_loaded, T_WINDOW_END, T_STOP, T_RESTART, T_MESSAGE, T_UNDELIVERED
    global T_ACTION_OUT, T_FILL, T_REJECT, T_ORDER, T_LIFECYCLE, T_NBBO, T_HEARTBEAT
    global T_KILL, T_SUBSCRIBED, T_SHUTDOWN, NEW_ORDERS, INJECTED_FAULT
    global CALLBACK_OF
    from meshrt.actors import instance, protocol
    from meshrt.contract import ActionKind

    T_WINDOW_END, T_STOP, T_RESTART = protocol.WindowEnd, protocol.Stop, protocol.RestartDelivery
    T_MESSAGE, T_UNDELIVERED = protocol.MessageDelivery, protocol.UndeliveredOut
    T_ACTION_OUT, T_FILL, T_REJECT = protocol.ActionOut, protocol.FillDelivery, protocol.RejectDelivery
    T_ORDER, T_LIFECYCLE, T_NBBO = protocol.OrderDelivery, protocol.LifecycleDelivery, protocol.NbboDelivery
    T_HEARTBEAT, T_KILL = protocol.HeartbeatDelivery, protocol.KillDelivery
    T_SUBSCRIBED, T_SHUTDOWN = protocol.SubscribedDelivery, protocol.ShutdownDelivery
    NEW_ORDERS = (ActionKind.LIMIT, ActionKind.MARKET)
    INJECTED_FAULT = instance.InjectedFault
    CALLBACK_OF = instance.CALLBACK_OF
    types_loaded = True
    return 0


cdef int flush_actions(object instance, list buffer, object ts) except -1:
    instance.messages_this_callback = 0
    if buffer:
        outputs = instance.outputs
        for action in buffer:
            outputs.append(tuple_new(T_ACTION_OUT, (ts, action)))
        del buffer[:]
    return 0


def flush(instance, ts):
    """AlgoInstance._flush: move this callback's actions into the window's outputs, in
    order."""
    if not types_loaded:
        load_types()
    flush_actions(instance, instance.actions._buffer, ts)


cpdef bint step(object instance, list batch) except -1:
    """AlgoInstance.step (meshrt/actors/instance.py): deliver ``batch`` in order,
    replying at each WindowEnd; True once told to stop. Runs of books to a running algo
    go through the book loop, every other delivery through ``deliver``. (The window
    driver calls it at C level: _deliver.pxd.)"""
    if batch is None:
        raise TypeError("step: batch must be a list")
    if not types_loaded:
        load_types()
    cdef str label = instance.label
    cdef Py_ssize_t size
    cdef const char *text = PyUnicode_AsUTF8AndSize(label, &size)
    # once a window: named by a crash or the watchdog
    crashwatch_batch(text, <size_t>size, 1 if instance.wasm else 0)
    cdef Py_ssize_t k = 0, n = len(batch), callbacks
    state = instance.state
    cdef Actions actions = instance.actions
    cdef LatencyHistogram latencies = instance.latencies_ns
    while k < n:
        if type(batch[k]) is BookDelivery and (
            instance.lifecycle == RUNNING and instance.crashed is None
        ):
            # the hot path: a run of books to a running algo
            k, callbacks, error = run_books(
                batch, k, state, actions, instance, instance.on_book, None, latencies
            )
            instance.book_callbacks += callbacks
            if error is not None:
                ts = (<BookDelivery>batch[k - 1]).ts
                instance._callback_failed(ts, error)
                flush_actions(instance, actions._buffer, ts)
                continue
            if k == n:
                break
        item = batch[k]
        k += 1
        kind = type(item)
        if kind is T_WINDOW_END:
            instance._reply()
        elif kind is T_STOP:
            crashwatch_idle()
            return True
        elif instance.crashed is not None:
            if kind is T_RESTART:
                instance._restart(item)
            else:
                instance.discarded += 1
                if kind is T_MESSAGE:  # the link's statistics must hear of it
                    instance.outputs.append(T_UNDELIVERED(item.ts, item.message.sender))
        else:
            deliver_one(instance, item)
    crashwatch_idle()
    return False


def deliver(instance, item):
    """AlgoInstance._deliver: one delivery other than a book to a running algo, to a
    live (not crashed) instance: its view updated, its callback called, what it raised
    judged, its actions flushed."""
    if not types_loaded:
        load_types()
    deliver_one(instance, item)


cdef int deliver_one(object instance, object item) except -1:
    state = instance.state
    ts = item.ts
    state.now = ts
    kind = type(item)
    set_running(CALLBACK_OF.get(kind))
    try:
        if kind is BookDelivery:
            instance.skipped += 1  # the running case never gets here: see step()
            return 0
        elif kind is T_FILL:
            instance._on_fill(item.fill)
        elif kind is T_REJECT:
            reject = item.reject
            open_orders = state.open_orders
            if not is_order_id(reject.order_id):
                pass  # a refused action named no order id an order can have
            elif reject.action in NEW_ORDERS:
                open_orders.pop(reject.order_id, None)
            else:  # the sequencer says whether another request is still outstanding
                order = open_orders.get(reject.order_id)
                if order is not None and order.pending != item.pending:
                    open_orders[reject.order_id] = with_pending(order, item.pending)
            instance.slot.on_reject(reject, state, instance.actions)
        elif kind is T_ORDER:
            if item.order is None:
                state.open_orders.pop(item.client_id, None)
            else:
                state.open_orders[item.client_id] = item.order
        elif kind is T_LIFECYCLE:
            instance._lifecycle(item.transition)
        elif kind is T_NBBO or kind is T_MESSAGE or kind is T_HEARTBEAT:
            if instance.lifecycle != RUNNING:
                instance.skipped += 1
                return 0
            if kind is T_NBBO:
                instance.on_nbbo(item.nbbo, state, instance.actions)
            elif kind is T_MESSAGE:
                instance.messages_received += 1
                instance.on_message(item.message, state, instance.actions)
            else:
                instance.on_heartbeat(state, instance.actions)
        elif kind is T_KILL:
            raise INJECTED_FAULT(item.reason)
        elif kind is T_SUBSCRIBED:
            callback = instance.slot.optional("on_subscribed" if item.on else "on_unsubscribed")
            if callback is not None:
                callback(item.symbol, state, instance.actions)
        elif kind is T_SHUTDOWN:
            callback = instance.slot.optional("on_shutdown")
            if callback is not None:
                callback(state)
    except BaseException as exc:
        # algo code may raise anything, even SystemExit: a real Ctrl-C is no exception
        # here (meshrt/runtime/interrupts.py)
        instance._callback_failed(ts, exc)
    finally:
        set_running(None)
    flush_actions(instance, instance.actions._buffer, ts)
    return 0
