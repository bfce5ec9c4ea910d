"""Paper mode's stepped window in C: the clock, and a live window's hand-over, rounds and
close (the live loop around it, which waits and cuts, is meshrt/sequencer/live.py).

Why compiled: every frame from an exchange opens a window, and in Python its hand-over,
the ``live_window`` record and its close cost more than a sparse window's own work, on the
path from the frame to the algo's intent. The record is written straight into a buffer;
tests/test_live_records.py holds it to records.live_window byte for byte.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport int64_t

from meshrt.log._jsonbuf cimport (
    Buf,
    buf_bytes,
    buf_free,
    buf_init,
    buf_put,
    buf_reserve,
    fmt_i64,
)

import time

import orjson

from meshrt.log import schema

# what a live_window line holds between its times and its bounds, escaped by orjson
cdef bytes WINDOW_MIDDLE = (
    b"," + orjson.dumps(["control", None, None, schema.LIVE_WINDOW.name])[1:-1] + b",["
)


cdef extern from "<time.h>" nogil:
    ctypedef int clockid_t
    cdef struct timespec:
        long tv_sec
        long tv_nsec
    int clock_gettime(clockid_t clk, timespec *tp)
    clockid_t CLOCK_MONOTONIC


cdef inline int64_t monotonic_ns() noexcept nogil:
    """time.monotonic_ns(), without a call through Python."""
    cdef timespec t
    clock_gettime(CLOCK_MONOTONIC, &t)
    return <int64_t>t.tv_sec * 1_000_000_000 + t.tv_nsec


cdef class WallClock:
    """ns since the run began, from the monotonic clock, anchored to wall time once (a
    clock step never makes it run backwards). ``wall_ns``: time 0 on the wall clock (epoch
    ns)."""

    def __init__(self):
        self.wall_ns = time.time_ns()
        self.zero = monotonic_ns()

    def __call__(self):
        return monotonic_ns() - self.zero

    cdef int64_t now(self) noexcept:
        return monotonic_ns() - self.zero


cdef inline int put_int(Buf *b, int64_t value) except -1:
    buf_reserve(b, 20)
    b.len += fmt_i64(b.p + b.len, value)
    return 0


cpdef bytes live_window(int64_t seq, int64_t start, int64_t until):
    """records.live_window(seq, start, until), written in C."""
    cdef Buf b
    buf_init(&b)
    try:
        buf_put(&b, b"[", 1)
        put_int(&b, seq)
        buf_put(&b, b",", 1)
        put_int(&b, start)
        buf_put(&b, b",", 1)
        put_int(&b, start)
        buf_bytes(&b, WINDOW_MIDDLE)
        put_int(&b, start)
        buf_put(&b, b",", 1)
        put_int(&b, until)
        buf_put(&b, b"],null]", 7)
        return PyBytes_FromStringAndSize(b.p, b.len)
    finally:
        buf_free(&b)


cdef class LiveStepper:
    """LiveStepper(sequencer, live)

    One live window of a stepped run: each live venue (``live``: its actor by lane, None
    for a lane no session feeds) handed what arrived for it and the window's bounds
    logged (``hand``), then rounds of the window driver until nothing more falls due
    before its end (a book committed at feed latency 0 reaches its algos, and their
    intents the desk, in the frame's own window), then the close: equity marks when due,
    the window counted (``close``). No await: a session's task may run it. ``end``: the
    last window's end, where the run shuts down."""

    def __init__(self, sequencer, list live not None):
        self.driver = sequencer.driver
        self.clock = sequencer.clock
        self.journal = sequencer.journal
        self.books = sequencer.books
        self.counts = sequencer.journal.counts
        self.lines = sequencer.journal.log.lines
        self.lanes = list(sequencer.lanes)
        self.live = live
        self.n = len(live)
        self.end = 0
        if len(self.lanes) != self.n:
            raise ValueError(f"{self.n} live actors for {len(self.lanes)} lanes")

    def __reduce__(self):
        raise TypeError("a LiveStepper is rebuilt by the live loop, never pickled")

    cpdef hand(self, int64_t start, int64_t until, list items):
        """Give each live venue its items (``items``: a list per lane) and log the
        window's bounds."""
        cdef Py_ssize_t i
        cdef list got
        if len(items) != self.n:
            raise ValueError(f"a window's items for {len(items)} lanes, not {self.n}")
        for i in range(self.n):
            got = <list>items[i]
            if got:
                actor = self.live[i]
                if actor is None:
                    raise ValueError(f"items for lane {i}, which no session feeds")
                actor.hand(got)
                self.lanes[i].next_time = got[0].ts_ns
        self.clock.now = start
        journal = self.journal
        seq = journal.seq + 1
        journal.seq = seq
        self.lines.append(live_window(seq, start, until))

    cpdef window(self, int64_t start, int64_t until, list items):
        """The whole window: hand-over, rounds, close."""
        driver = self.driver
        self.hand(start, until, items)
        driver.round(until, driver.take_due(until))
        while driver.due_before(until):
            driver.round(until, driver.take_due(until))
        self.close(start, until)

    cpdef close(self, int64_t start, int64_t until):
        """Equity marks when due, the window counted."""
        clock = self.clock
        if start >= <int64_t>clock.next_mark and clock.mark_due(start):
            self.books.mark_all()
        clock.windows += 1
        self.counts["live_windows"] += 1
        self.end = until
