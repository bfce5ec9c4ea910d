"""What the live venues' sessions hand the live loop, in C: each venue's pending items,
the window cut from them, and the windows run at once in the sender's task while the
loop waits (meshrt/sequencer/live.py has the waiting, and the loop around it).

Why compiled: every frame from an exchange passes here between its receipt and its
algo. In Python this glue was a dozen interpreted calls per frame, and with the caches
cold at the captures' pace each touches memory of its own (docs/performance.md, "Why
the paper path is cold").
"""

from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from libc.stdint cimport INT64_MAX, int64_t

from meshrt.sequencer._live cimport LiveStepper, WallClock

import trio

SINK_CAPACITY = 4096  # items a venue's sessions may be ahead of the live loop
cdef Py_ssize_t capacity = SINK_CAPACITY
cdef int64_t NONE = INT64_MAX  # nothing falls due


cdef class Arrivals:
    """Arrivals(clock, venues)

    What the ``venues`` live venues' sessions sent since the last window (``pending``, a
    list per venue, in arrival order), and where the next window starts (``start``).
    While the live loop waits between stepped windows it lends its stepper (``lend``):
    an arrival then runs the windows due at once, with no task switch on the way."""

    cdef readonly WallClock clock
    cdef public list pending
    cdef public int64_t start
    cdef public int64_t wait_until  # when the waiting loop wakes by itself
    cdef public Py_ssize_t blocked  # senders waiting for room
    cdef public object wake  # set when the waiting loop has a window to cut
    cdef public object drained  # set (and replaced) when a cut frees a blocked sender
    cdef LiveStepper stepper  # lent while the loop waits (None: the loop cuts)
    cdef object sequencer, driver
    cdef list heartbeats
    cdef int64_t end, start_of_cut
    cdef Py_ssize_t n

    def __init__(self, WallClock clock not None, Py_ssize_t venues):
        self.clock = clock
        self.n = venues
        self.pending = [[] for _ in range(venues)]
        self.wake = trio.Event()
        self.drained = trio.Event()
        self.blocked = 0
        self.start = 0
        self.wait_until = 0
        self.stepper = None
        self.end = NONE

    @property
    def wall_ns(self):
        """Time 0 on the wall clock (epoch ns)."""
        return self.clock.wall_ns

    def bind(self, sequencer, driver):
        """The run whose windows these are (its end, interrupt flag, due work)."""
        self.sequencer = sequencer
        self.driver = driver
        self.heartbeats = list(sequencer.controls.heartbeats)
        end = sequencer.clock.end_ns
        self.end = NONE if end is None else end

    cpdef lend(self, LiveStepper stepper):
        """The loop waits (``stepper``) or cuts again itself (None)."""
        self.stepper = stepper

    def sink(self, Py_ssize_t index):
        """What venue ``index``'s sessions send into."""
        if not 0 <= index < self.n:
            raise IndexError(f"venue {index} of {self.n}")
        return VenueSink(self, index)

    cdef arrived(self):
        cdef LiveStepper stepper = self.stepper
        if stepper is None:
            self.wake.set()
            return
        self.stepper = None  # the windows below must not start another inline run
        try:
            while (items := self.take()) is not None:
                stepper.window(self.start_of_cut, self.start, items)
            self.driver.write_check()
        finally:
            self.stepper = stepper
        due = next_due(self.driver, self.heartbeats)
        if due is not None and <int64_t>due < self.wait_until:
            self.wake.set()  # work falls due before the loop would wake: it waits less

    cdef list take(self):
        """What the window to run now gets, its bounds ``start_of_cut`` and ``start``
        (None: nothing has arrived or fallen due, or the run is over)."""
        cdef int64_t now = self.clock.now()
        cdef Py_ssize_t i
        cdef bint any_pending = False
        if self.over(now):
            return None
        for i in range(self.n):
            if PyList_GET_SIZE(<list>PyList_GET_ITEM(self.pending, i)):
                any_pending = True
                break
        if not any_pending:
            due = next_due(self.driver, self.heartbeats)
            if due is None or <int64_t>due > now:
                return None
        items = self.pending
        self.pending = [[] for _ in range(self.n)]
        if self.blocked:
            self.drained.set()
            self.drained = trio.Event()
        self.start_of_cut = self.start
        self.start = (now if now > self.start else self.start) + 1  # after every receipt
        return items

    cpdef bint over(self, int64_t now) except -1:
        """Whether the run is over at ``now``: Ctrl-C, or its end reached."""
        return self.sequencer.interrupted or now >= self.end

    def cut(self):
        """The window to run now as (start, until, items), if anything has arrived or
        fallen due (None otherwise, and at the end of the run)."""
        items = self.take()
        return None if items is None else (self.start_of_cut, self.start, items)

    def next_due(self):
        """When work falls due (None: nothing does)."""
        return next_due(self.driver, self.heartbeats)


cdef class VenueSink:
    """What one live venue's sessions send into (``ReceivedSink``): each item goes
    straight into the live loop's pending items for the venue, and while the loop waits
    the windows due then run at once, in the sender's task. A stepped window never
    awaits, so the sequencer's work stays serialized whichever task runs it. A venue more
    than ``SINK_CAPACITY`` items ahead blocks its sessions (never drops)."""

    cdef Arrivals arrivals
    cdef Py_ssize_t index

    def __cinit__(self, Arrivals arrivals not None, Py_ssize_t index):
        self.arrivals = arrivals
        self.index = index

    cpdef send_nowait(self, item):
        """Hand over ``item``; raises ``trio.WouldBlock`` when the venue is full."""
        cdef Arrivals arrivals = self.arrivals
        cdef list pending = <list>PyList_GET_ITEM(arrivals.pending, self.index)
        if PyList_GET_SIZE(pending) >= capacity:
            raise trio.WouldBlock
        pending.append(item)
        arrivals.arrived()

    async def send(self, item):
        """Hand over ``item``, waiting while the venue is full."""
        arrivals = self.arrivals
        while True:
            try:
                return self.send_nowait(item)
            except trio.WouldBlock:
                arrivals.blocked += 1
                try:
                    await arrivals.drained.wait()
                finally:
                    arrivals.blocked -= 1


cdef object next_due(driver, list heartbeats):
    """When work falls due, heartbeats included: on the wall clock a run without a
    duration still beats while it waits for the feed (the window driver's ``next_time``
    leaves them out then, since in virtual time they alone would never end such a run)."""
    due = driver.next_time()
    cdef int64_t best = NONE if due is None else due
    for dep in heartbeats:
        if dep.crashed is None and <int64_t>dep.next_heartbeat < best:
            best = dep.next_heartbeat
    return None if best == NONE else best
