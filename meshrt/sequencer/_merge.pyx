"""The venues' streams of one window, committed as one stream in the merge order.

Why compiled: when venues interleave, a window's venue streams alternate every event or
two, and choosing the next stream in Python (a ``min`` over every stream for every run
of events, then a Python call per run) made the cost per event grow with the number
of venues: about 6.5x from 1 to 16 venues. Here the next venue is a scan over a C array
of head times, and each run is handed to the venue's ``FeedCommit`` without a Python
call; only order reports go back to Python (report ingress). The order is the clock's
(meshrt/sequencer/clock.py): by event time, then venue index, then the venue's own order.
"""

from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport int64_t

from meshrt.actors._commit cimport FeedCommit, time_of

from meshrt.venues.outputs import OrderReport

cdef type T_REPORT = OrderReport

cdef int64_t NONE = 0x7FFFFFFFFFFFFFFF  # an exhausted venue's head


cdef class VenueMerge:
    """VenueMerge(commits, lanes, commit_report, commit_note, journal)

    One per sequencer: ``commits`` and ``lanes`` per venue index, ``commit_report(lane,
    symbol, report)`` for an order report, ``commit_note(lane, note)`` for a live venue's
    ``LiveNote``, and the ``journal`` whose ``seq`` it advances and whose
    ``counts["venue_events"]`` it adds to. ``load`` takes a window's streams. (Its fields
    are declared in _merge.pxd: the window driver calls it at C level.)"""

    def __cinit__(
        self, list commits not None, list lanes not None, commit_report, commit_note, journal
    ):
        self.n = len(commits)
        if len(lanes) != self.n:
            raise ValueError("VenueMerge: one lane per FeedCommit")
        self.positions = <Py_ssize_t *>PyMem_Malloc(max(self.n, 1) * sizeof(Py_ssize_t))
        self.heads = <int64_t *>PyMem_Malloc(max(self.n, 1) * sizeof(int64_t))
        if self.positions == NULL or self.heads == NULL:
            raise MemoryError()
        for i in range(self.n):
            self.heads[i] = NONE
            self.positions[i] = 0
        self.streams = [[] for _ in range(self.n)]

    def __init__(
        self, list commits not None, list lanes not None, commit_report, commit_note, journal
    ):
        for commit in commits:
            if not isinstance(commit, FeedCommit):
                raise TypeError("VenueMerge: commits must be FeedCommit")
        self.commits = list(commits)
        self.lanes = list(lanes)
        self.commit_report = commit_report
        self.commit_note = commit_note
        self.journal = journal

    def __dealloc__(self):
        PyMem_Free(self.positions)
        PyMem_Free(self.heads)

    def __reduce__(self):
        raise TypeError("a VenueMerge is rebuilt by the sequencer, never pickled")

    cpdef load(self, list streams, list lines):
        """Take a window's venue streams (one sorted list per venue index) and the replay
        log's line list (None when nothing is logged)."""
        if streams is None or len(streams) != self.n:
            raise ValueError(f"VenueMerge: {len(streams)} streams for {self.n} venues")
        cdef int64_t last = -1
        cdef Py_ssize_t i, size
        self.streams = streams
        for i in range(self.n):
            events = <list?>PyList_GET_ITEM(streams, i)
            size = PyList_GET_SIZE(events)
            self.positions[i] = 0
            if size:
                self.heads[i] = time_of(<object>PyList_GET_ITEM(events, 0))
                tail = time_of(<object>PyList_GET_ITEM(events, size - 1))
                if tail > last:
                    last = tail
            else:
                self.heads[i] = NONE
        self.lines = lines
        self.last = None if last < 0 else last

    cpdef head(self):
        """The time of the next event to commit, or None when none is left."""
        cdef int64_t best = NONE
        for i in range(self.n):
            if self.heads[i] < best:
                best = self.heads[i]
        return None if best == NONE else best

    cpdef commit_until(self, limit):
        """Commit every loaded event before ``limit`` (None: all) in the merge order."""
        cdef int64_t until = NONE if limit is None else limit
        cdef int64_t seq, run_limit, h
        cdef Py_ssize_t best, j, k, stop, committed = 0
        cdef list events
        cdef FeedCommit commit
        cdef list lines = self.lines
        journal = self.journal
        seq = journal.seq
        while True:
            best = -1
            for j in range(self.n):  # ties: the lower venue index first
                if self.heads[j] < until and (best < 0 or self.heads[j] < self.heads[best]):
                    best = j
            if best < 0:
                break
            # this venue's run ends where another venue's next event must go first
            run_limit = until
            for j in range(self.n):
                h = self.heads[j]
                if j == best or h == NONE:
                    continue
                if j > best:
                    h += 1  # at equal times the lower index goes first
                if h < run_limit:
                    run_limit = h
            events = <list>PyList_GET_ITEM(self.streams, best)
            stop = PyList_GET_SIZE(events)
            commit = <FeedCommit>PyList_GET_ITEM(self.commits, best)
            k = commit.run(events, self.positions[best], stop, run_limit, &seq, lines)
            committed += k - self.positions[best]
            if k < stop and time_of(<object>PyList_GET_ITEM(events, k)) < run_limit:
                # run() stopped at an order report (or a live note): Python commits it
                report = <object>PyList_GET_ITEM(events, k)
                journal.seq = seq
                lane = <object>PyList_GET_ITEM(self.lanes, best)
                if type(report) is T_REPORT:
                    self.commit_report(lane, report.symbol, report.report)
                else:
                    self.commit_note(lane, report)
                seq = journal.seq
                k += 1
                committed += 1
            self.positions[best] = k
            self.heads[best] = time_of(<object>PyList_GET_ITEM(events, k)) if k < stop else NONE
        journal.seq = seq
        journal.counts["venue_events"] += committed
