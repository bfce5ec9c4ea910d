"""The simulated venue's window step, compiled: ``VenueCore`` is the base of
meshrt/actors/venue.py's ``VenueActor`` and holds ``advance`` and ``next_time``, which
the sequencer calls every window.

A single-source venue's window runs here in C: the feed events through the symbol's
lane (meshrt/venues/_feed.pyx) with the order arrivals interleaved by time, each order
operation handed to the matching engine (meshrt/venues/_matching.pyx) at C level and its
reports following it. The subclass provides the rare rest as Python methods:
``_merged(until, arrivals)`` (several sources), ``_play_dark(events, start, stop,
symbol, out)`` (the feed is down: fault injection) and ``_order(op, out)`` (an arrival
that is not an order operation: a ``FeedSwitch``).
"""

from cpython.long cimport PyLong_AsLongLong
from libc.stdint cimport int64_t

from meshrt.venues._feed cimport VenueSymbol, drain
from meshrt.venues._matching cimport MatchingEngine

# The arrival types have their one home in Python; the compiled step reads them once.
from meshrt.actors.protocol import Cancel, Replace, Submit

cdef type T_SUBMIT = Submit
cdef type T_CANCEL = Cancel
cdef type T_REPLACE = Replace


cdef int order(VenueSymbol lane, type cls, tuple op, list out) except -1:  # (in _venue.pxd)
    """An order operation (Submit, Cancel or Replace) reaching the lane's engine; its
    reports follow it in ``out``."""
    if op[2] != lane.symbol:
        raise IndexError(f"order arrival {op!r} is not for symbol {lane.symbol!r}")
    cdef MatchingEngine engine = lane.engine
    if cls is T_SUBMIT:
        engine.submit_c(op[0], op[1], op[3], op[4], op[5], op[6])
    elif cls is T_CANCEL:
        engine.cancel_c(op[0], op[1])
    else:
        engine.replace_c(op[0], op[1], op[3], op[4])
    if len(engine.reports):
        drain(engine.reports, lane.symbol, out)
    return 0


cdef class VenueCore:
    """The compiled part of a simulated venue actor (see the module docstring; its
    fields are declared in _venue.pxd)."""

    def next_time(self):
        """Time of the next feed event on any symbol, None when every source is done."""
        cdef list sources = self.sources
        if len(sources) == 1:
            return sources[0].peek_time()
        times = [t for t in [source.peek_time() for source in sources] if t is not None]
        return min(times) if times else None

    def advance(self, until, list arrivals not None):
        """Everything that happens before ``until``, in time order: each arrival after the
        feed events at or before its time (a market data event is already public when an
        order lands)."""
        cdef list sources = self.sources
        if len(sources) != 1:
            return self._merged(until, arrivals)
        batch = sources[0].batch(until)
        if not isinstance(batch, list):
            raise TypeError("a source's batch must be a list")
        cdef list events = batch, out = []
        cdef VenueSymbol lane = self.lanes[0]
        cdef Py_ssize_t position = 0, stop, k, n = len(events), m = len(arrivals)
        cdef int64_t at
        cdef type cls
        for k in range(m):
            op = arrivals[k]
            if not isinstance(op, tuple) or len(<tuple>op) < 2:
                raise TypeError(f"arrival {op!r} is not an arrival tuple")
            at = PyLong_AsLongLong((<tuple>op)[0])
            stop = position
            while stop < n and PyLong_AsLongLong(events[stop][0]) <= at:
                stop += 1
            self.segment(lane, events, position, stop, out)
            position = stop
            cls = type(op)
            if cls is T_SUBMIT or cls is T_CANCEL or cls is T_REPLACE:
                order(lane, cls, <tuple>op, out)
            else:
                self._order(op, out)
        self.segment(lane, events, position, n, out)
        return out

    cdef int segment(self, VenueSymbol lane, list events, Py_ssize_t start, Py_ssize_t stop,
                     list out) except -1:
        """Feed events[start:stop] of the lane's symbol: to the algos, or dark."""
        if start >= stop:
            return 0
        if self.feed_up:
            lane.play_c(events, start, stop, out)
        else:
            self._play_dark(events, start, stop, lane.symbol, out)
        return 0
