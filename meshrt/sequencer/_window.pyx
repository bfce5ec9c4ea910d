"""The window driver: virtual time's windows run back to back in C.

Why compiled: on sparse data a window holds about one event, and the loop around it in
Python (when the next window starts, where it ends, what each actor is due, stepping
it, the merge, the log's write check) cost as much as the event's own work. Here a
window is a few C loops over the lanes and deployments; ``run_windows`` only returns to
Python (and Trio) every 64th window (Ctrl-C, progress), when a checkpoint falls due, or
at the end. Actors are stepped through their Python API (a venue's ``advance``, an
instance's ``step``), with the same mailboxes and overflow policies as their tasks.

The rules live here, once: when a window starts (``next_time``) and ends
(``window_end``), the merge order (``commit``), when the mesh has something to route
and when the replay log writes; what a venue or deployment takes in a window is
meshrt/sequencer/_due.pyx's. The lanes' and deployments' lists are read in place: they
are mutated, never replaced, so the driver (rebuilt by every run) holds them.
"""

from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from libc.stdint cimport INT64_MAX, int64_t
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

from operator import itemgetter

from meshrt.actors._deliver cimport step as step_instance
from meshrt.sequencer._due cimport (
    arrivals_before,
    deliveries_before,
    delivery_time,
    first,
    head_time,
)
from meshrt.sequencer._merge cimport VenueMerge

from meshrt.actors.mailbox import MailboxFull
from meshrt.actors.protocol import Output
from meshrt.sequencer._due import crash_overflowed, hand_past_capacity
from meshrt.log.writer import WRITE_EVERY_S, WRITE_LINES
from meshrt.sequencer.schedule import Restart

cdef int64_t NONE = INT64_MAX  # nothing to do: later than any time (as in _due.pxd)
cdef object _ts = itemgetter(0)
cdef object tuple_new = tuple.__new__
cdef type T_OUTPUT = Output
cdef double write_every_s = WRITE_EVERY_S
cdef Py_ssize_t write_lines = WRITE_LINES


cdef inline double monotonic() noexcept nogil:
    cdef timespec t
    clock_gettime(CLOCK_MONOTONIC, &t)  # what time.monotonic reads on Linux
    return <double>t.tv_sec + <double>t.tv_nsec * 1e-9


cdef class WindowDriver:
    """WindowDriver(sequencer, venues, commit_control)

    One per run, made when the run starts (never pickled): the sequencer's components,
    ``venues`` (its VenueMerge) and ``commit_control`` (the controls' commit, bound to
    the run's spawn)."""

    cdef object clock, journal, schedule, controls, bridge, log, books
    cdef VenueMerge venues
    cdef object commit_control, commit_outputs
    cdef list lanes, actors, arrivals, deployed, instances, mailboxes, inbound, timers
    cdef list heartbeats
    cdef list schedule_controls, lines
    cdef Py_ssize_t n_lanes, n_deployed
    cdef bint has_end, logging, fsync  # fsync: the log syncs (and so writes) every window
    cdef public bint writes_deferred  # paper mode: the live loop calls write_check
    cdef int64_t end_ns, lookahead

    def __init__(self, sequencer, venues, commit_control):
        self.clock = sequencer.clock
        self.journal = sequencer.journal
        self.schedule = sequencer.schedule
        self.controls = sequencer.controls
        self.bridge = sequencer.bridge
        self.log = sequencer.log
        self.books = sequencer.books
        self.venues = venues
        self.commit_control = commit_control
        self.commit_outputs = sequencer.outputs.commit
        self.lanes = list(sequencer.lanes)
        self.actors = [lane.actor for lane in self.lanes]
        self.arrivals = [lane.arrivals for lane in self.lanes]
        self.deployed = list(sequencer.deployed)
        self.instances = [dep.instance for dep in self.deployed]
        self.mailboxes = [instance.mailbox for instance in self.instances]
        self.inbound = [dep.inbound for dep in self.deployed]
        self.timers = [dep.timers for dep in self.deployed]
        self.heartbeats = list(self.controls.heartbeats)
        self.schedule_controls = self.schedule.controls
        self.n_lanes = len(self.lanes)
        self.n_deployed = len(self.deployed)
        self.lines = self.log.lines
        self.logging = self.log.path is not None
        self.fsync = self.log.fsync_interval_s is not None
        end = self.clock.end_ns
        self.has_end = end is not None
        self.end_ns = end if end is not None else NONE
        self.lookahead = self.clock.lookahead

    def __reduce__(self):
        raise TypeError("a WindowDriver is rebuilt by the sequencer, never pickled")

    # -- when windows start and end ------------------------------------------------------

    cpdef object next_time(self):
        """When the next window starts: the earliest thing anything has to do (None:
        nothing left; heartbeats alone never extend a run without a duration)."""
        cdef int64_t best = head_time(self.schedule_controls), at
        cdef Py_ssize_t i
        cdef list inbound
        for i in range(self.n_lanes):
            next_time = (<object>PyList_GET_ITEM(self.lanes, i)).next_time
            if next_time is not None and <int64_t>next_time < best:
                best = next_time
            at = head_time(<list>PyList_GET_ITEM(self.arrivals, i))
            if at < best:
                best = at
        for i in range(self.n_deployed):
            inbound = <list>PyList_GET_ITEM(self.inbound, i)
            if PyList_GET_SIZE(inbound):
                at = delivery_time(<object>PyList_GET_ITEM(inbound, 0))
                if at < best:
                    best = at
            at = head_time(<list>PyList_GET_ITEM(self.timers, i))
            if at < best:
                best = at
        if best == NONE and not self.has_end:
            return None
        # a heartbeat due before the next event starts its own window, so it is never
        # delivered later than the events after it
        for dep in self.heartbeats:
            if dep.crashed is None and <int64_t>dep.next_heartbeat < best:
                best = dep.next_heartbeat
        return None if best == NONE else best

    cpdef bint due_before(self, int64_t until) except -1:
        """Something falls due before ``until``: a live window's round made work for its
        own window (a book committed at feed latency 0 is due at once)."""
        at = self.next_time()
        return at is not None and <int64_t>at < until

    cpdef int64_t window_end(self, int64_t start) except? -1:
        """The window's end: the lookahead on, cut at the run's end and at a supervised
        restart (it starts a window of its own, so the restarted instance starts from
        the books exactly as of its restart time)."""
        cdef int64_t until = start + self.lookahead, at
        if until > self.end_ns:
            until = self.end_ns
        for entry in self.schedule_controls:
            at = entry[0]
            if at >= until:
                break
            if isinstance(entry[3], Restart) and at > start:
                return at
        return until

    cpdef list take_due(self, int64_t until):
        """The controls (and heartbeats) due in the window, taken by ``Controls.take_due``
        when there are any."""
        if head_time(self.schedule_controls) < until:
            return self.controls.take_due(until)
        for dep in self.heartbeats:
            if <int64_t>dep.next_heartbeat < until:
                return self.controls.take_due(until)
        return []

    def open_window(self):
        """The next window, opened: (start, until, its controls), or None at the end."""
        start = self.next_time()
        if start is None or <int64_t>start >= self.end_ns:
            return None
        until = self.window_end(start)
        self.clock.now = start
        return start, until, self.take_due(until)

    cpdef close_window(self, int64_t start):
        """A window is done: equity marks when due, the window counted."""
        clock = self.clock
        if start >= <int64_t>clock.next_mark and clock.mark_due(start):
            self.books.mark_all()
        clock.windows += 1

    def run_windows(self, int64_t stop_seq):
        """Run stepped windows until the run's end (None), a 64th window or a seq id at
        ``stop_seq`` or past it (a checkpoint due): the last window's start."""
        clock = self.clock
        journal = self.journal
        cdef int64_t start, until, windows = clock.windows
        cdef int64_t next_mark = clock.next_mark
        while True:
            start_at = self.next_time()
            if start_at is None:
                return None
            start = start_at
            if start >= self.end_ns:
                return None
            until = self.window_end(start)
            clock.now = start_at
            self.round(until, self.take_due(until))
            if start >= next_mark:
                if clock.mark_due(start):
                    self.books.mark_all()
                next_mark = clock.next_mark
            windows += 1
            clock.windows = windows
            if not windows & 63 or (stop_seq != NONE and <int64_t>journal.seq >= stop_seq):
                return start_at

    # -- one window ------------------------------------------------------------------------

    cpdef round(self, int64_t until, list control):
        """One stepped window: each venue's ``advance`` and each instance's ``step`` (on
        what its mailbox holds, under its overflow policy), in topology order; then the
        commit in the merge order, the mesh's routing and the log's write check."""
        cdef Py_ssize_t i, n, producers = 0
        cdef list venue_events = [], outputs = [], items, batch, produced
        cdef list overflowed = None
        for i in range(self.n_lanes):
            lane = <object>PyList_GET_ITEM(self.lanes, i)
            arrivals = arrivals_before(
                <list>PyList_GET_ITEM(self.arrivals, i), lane.next_time, until
            )
            if arrivals is None:
                venue_events.append([])
                continue
            venue = <object>PyList_GET_ITEM(self.actors, i)
            venue_events.append(venue.advance(until, arrivals))
            lane.next_time = venue.next_time()
        for i in range(self.n_deployed):
            items = deliveries_before(
                <list>PyList_GET_ITEM(self.inbound, i), <list>PyList_GET_ITEM(self.timers, i),
                until,
            )
            n = PyList_GET_SIZE(items)
            if not n:
                continue
            instance = <object>PyList_GET_ITEM(self.instances, i)
            box = <object>PyList_GET_ITEM(self.mailboxes, i)
            if not len(box._items) and n <= <Py_ssize_t>box.capacity:
                # passes straight through: received and processed without being queued
                box.received += n
                box.processed += n
                if n > <Py_ssize_t>box.high_water:
                    box.high_water = n
                batch = items
            else:
                try:
                    hand_past_capacity(instance, items)
                except MailboxFull as exc:
                    # the policy says fail: this instance could not keep up, it crashes
                    if overflowed is None:
                        overflowed = []
                    overflowed.append((<object>PyList_GET_ITEM(self.deployed, i), str(exc)))
                    instance.crashed = f"MailboxFull: {exc}"
                batch = box.take_all()
            step_instance(instance, batch)
            if instance.outputs:
                produced = instance.take_outputs()
                index = instance.index
                for out in produced:
                    outputs.append(tuple_new(T_OUTPUT, (first(out), index, out)))
                producers += 1
        if producers > 1:
            outputs.sort(key=_ts)  # stable: instance order, then callback order
        if overflowed is not None:
            crash_overflowed(outputs, overflowed, self.clock.now)
        self.commit(control, venue_events, outputs)
        if not self.bridge_idle():
            self.bridge.route_stepped()
        self.end_window()

    cdef bint bridge_idle(self) except -1:
        """Nothing to route at this window's end: no message or quote was committed and
        no coordinator died."""
        bridge = self.bridge
        cdef list segments = bridge.segments
        if not PyList_GET_SIZE(segments):
            return True
        if PyList_GET_SIZE(segments) != 1:
            return False
        segment = <tuple>PyList_GET_ITEM(segments, 0)
        return not segment[1] and segment[0] is bridge.cc

    cpdef end_window(self):
        """A window is committed: the log writes what waits (``write_check``), every
        window under an fsync policy; in paper mode the live loop checks once its
        reaction to what arrived is committed, so a write never delays an intent."""
        if self.fsync:
            if PyList_GET_SIZE(self.lines):
                self.log.flush()
        elif not self.writes_deferred:
            self.write_check()

    cpdef write_check(self):
        """The log writes what waits once it has waited ``WRITE_EVERY_S`` of wall time
        or ``WRITE_LINES`` wait."""
        cdef Py_ssize_t waiting = PyList_GET_SIZE(self.lines)
        if not waiting:
            return
        log = self.log
        if waiting >= write_lines or monotonic() - <double>log.last_write >= write_every_s:
            log.flush()

    # -- the merge -------------------------------------------------------------------------

    cpdef commit(self, list control, list venue_events, list outputs):
        """Commit one window's sorted streams in the deterministic order: by event time,
        then producer (control, the venues in index order, the instances' outputs), then
        the producer's own order."""
        cdef VenueMerge venues = self.venues
        venues.load(venue_events, self.lines if self.logging else None)
        last = venues.last
        clock = self.clock
        if not control and not outputs:  # most windows: only the venues' streams
            if last is not None:
                if last > clock.last_event_ts:
                    clock.last_event_ts = last
                venues.commit_until(None)
            return
        cdef int64_t latest = clock.last_event_ts
        cdef Py_ssize_t n_control = len(control), n_outputs = len(outputs)
        if n_control and <int64_t>control[n_control - 1][0] > latest:
            latest = control[n_control - 1][0]
        if last is not None and <int64_t>last > latest:
            latest = last
        if n_outputs and <int64_t>outputs[n_outputs - 1][0] > latest:
            latest = outputs[n_outputs - 1][0]
        clock.last_event_ts = latest
        cdef Py_ssize_t positions[3]
        cdef int64_t heads[3]
        cdef int64_t limit, h
        cdef int k, best, active
        positions[0] = positions[2] = 0
        cdef bint venues_left = last is not None
        while True:
            heads[0] = (
                first(<object>PyList_GET_ITEM(control, positions[0]))
                if positions[0] < n_control else NONE
            )
            if venues_left:
                head = venues.head()
                venues_left = head is not None
                heads[1] = head if venues_left else NONE
            else:
                heads[1] = NONE
            heads[2] = (
                first(<object>PyList_GET_ITEM(outputs, positions[2]))
                if positions[2] < n_outputs else NONE
            )
            active = 0
            best = -1
            for k in range(3):
                if heads[k] != NONE:
                    active += 1
                    if best < 0 or heads[k] < heads[best]:  # ties: the higher priority
                        best = k
            if active == 0:
                return
            limit = NONE
            if active > 1:
                for k in range(3):
                    if k != best and heads[k] != NONE:
                        h = heads[k] + (1 if k > best else 0)
                        if h < limit:
                            limit = h
            if best == 1:
                venues.commit_until(None if limit == NONE else limit)
            elif best == 0:
                positions[0] = commit_list(control, positions[0], limit, self.commit_control)
            else:
                positions[2] = commit_list(outputs, positions[2], limit, self.commit_outputs)


cdef Py_ssize_t commit_list(list events, Py_ssize_t start, int64_t limit, commit) except -1:
    """Commit a sorted (time, ...) stream's items before ``limit``; the next position."""
    cdef Py_ssize_t stop = start, n = PyList_GET_SIZE(events)
    while stop < n and <int64_t>first(<object>PyList_GET_ITEM(events, stop)) < limit:
        stop += 1
    commit(events, start, stop)
    return stop
