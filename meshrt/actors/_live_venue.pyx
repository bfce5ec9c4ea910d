"""The live venue's window step, compiled: ``LiveVenueCore`` is the base of
meshrt/actors/live_venue.py's ``LiveVenueActor`` (beside its ``VenueActor``) and holds
``advance``, ``next_time`` and ``hand``, which the sequencer and the live loop call every
window.

The common item, one frame's ``Feed`` for a symbol that is up, runs here in C: its
events go through the symbol's lane (meshrt/venues/_feed.pyx) as the adapter stamped
them (with the receive time; an event stamped otherwise is restamped), and the order
arrivals are interleaved by time and handed to the matching engine at C level
(meshrt/actors/_venue.pyx's ``order``), each checked against its symbol's reference
first. The subclass provides the rare rest as Python methods: ``_rise(ts, symbol,
events, out)`` (a feed of a symbol that is down), ``_note(ts, note, out)`` (any output
but a ``Feed``), ``_refuse(op, refusal, out)`` (an order the reference refuses) and
``_order(op, out)`` (a ``FeedSwitch``).
"""

from cpython.long cimport PyLong_AsLongLong
from libc.stdint cimport int64_t

from meshrt.actors._venue cimport VenueCore, order
from meshrt.venues._feed cimport VenueSymbol
from meshrt.venues.live._order_check cimport check_order

# The types have their one home in Python; the compiled step reads them once.
from meshrt.actors.protocol import Cancel, Replace, Submit
from meshrt.venues.live.playback import Inbox
from meshrt.venues.live.verdicts import Feed

cdef type T_SUBMIT = Submit
cdef type T_CANCEL = Cancel
cdef type T_REPLACE = Replace
cdef type T_FEED = Feed
cdef type T_INBOX = Inbox


cdef inline int64_t time_of(object item) except? -1:
    """The time (field 0) of an event or arrival tuple."""
    if not isinstance(item, tuple) or len(<tuple>item) < 1:
        raise TypeError(f"{item!r} is not an event or arrival tuple")
    return PyLong_AsLongLong((<tuple>item)[0])


cdef list stamped(object events, int64_t ts, object ts_obj):
    """A feed's events at ``ts``: as they are when stamped so (the adapter stamps them
    with the receive time), else each rebuilt at ``ts``."""
    cdef list out = list(events)
    cdef Py_ssize_t k
    for k in range(len(out)):
        event = out[k]
        if time_of(event) != ts:
            out[k] = (ts_obj,) + (<tuple>event)[1:]
    return out


cdef class LiveVenueCore(VenueCore):
    """The compiled part of a live venue actor (see the module docstring)."""

    cdef public object feed  # the ReceivedInput: an Inbox (paper mode) or a ReceivedSource
    cdef public dict index_of  # scenario symbol -> index
    cdef public list up  # per symbol: up from a snapshot to a resync
    cdef public list references  # per symbol: its latest Reference, or None
    cdef public int64_t last  # the latest time handled: the venue's stream never goes back

    def next_time(self):
        """The next item's time, None when there is none (yet)."""
        feed = self.feed
        if type(feed) is T_INBOX:
            items = feed.items
            return items[0].ts_ns if items else None
        return feed.peek_time()

    def hand(self, list items not None):
        """Paper mode: what arrived for this venue, for the window the live loop is about
        to send it (meshrt/sequencer/live.py)."""
        feed = self.feed
        if type(feed) is not T_INBOX:
            raise TypeError("hand: only a paper venue (fed by an Inbox) is handed items")
        feed.items.extend(items)

    def advance(self, until, list arrivals not None):
        """The items before ``until`` in arrival order, each at its receive time (or the
        venue's latest time, if it arrived later than something handled after it was
        stamped), with the order arrivals interleaved by time (feed first on ties)."""
        cdef list items = self.take(until), out = []
        cdef Py_ssize_t j = 0, m = len(arrivals)
        cdef int64_t ts
        for item in items:
            ts_obj = item.ts_ns
            ts = PyLong_AsLongLong(ts_obj)
            if ts <= self.last:
                ts = self.last
                ts_obj = ts
            while j < m and time_of(arrivals[j]) < ts:
                self.arrive(arrivals[j], out)
                j += 1
            self.last = ts
            for output in item.outputs:
                if type(output) is T_FEED:
                    self.play_feed(output, ts, ts_obj, out)
                else:
                    self._note(ts_obj, output, out)
        while j < m:
            self.arrive(arrivals[j], out)
            j += 1
        return out

    cdef list take(self, until):
        """The items before ``until``: all a paper venue was handed (its Inbox), else the
        source's batch."""
        feed = self.feed
        if type(feed) is T_INBOX:
            items = feed.items
            if items:
                feed.items = []
        else:
            items = feed.batch(until)
        if not isinstance(items, list):
            raise TypeError("a live venue input's batch must be a list")
        return <list>items

    cdef int play_feed(self, object feed, int64_t ts, object ts_obj, list out) except -1:
        """One frame's feed events of a symbol, at ``ts``; a symbol the venue does not
        list (the session's adapter serves more) is passed over."""
        symbol = self.index_of.get(feed.symbol)
        if symbol is None:
            return 0
        cdef Py_ssize_t k = symbol
        if not (0 <= k < len(self.up) and k < len(self.lanes)):
            raise IndexError(f"symbol index {k} of {feed.symbol!r} is out of range")
        cdef list events = stamped(feed.events, ts, ts_obj)
        if self.up[k]:
            self.segment(<VenueSymbol?>self.lanes[k], events, 0, len(events), out)
        else:
            self._rise(ts_obj, symbol, events, out)
        return 0

    cdef int arrive(self, object op, list out) except -1:
        """An order operation reaching the venue: at its time, or at the venue's latest
        if the live loop handed the venue later items before it (a slow window). A Submit
        or Replace its symbol's reference refuses never reaches the matching engine."""
        cdef int64_t at = time_of(op)
        if at > self.last:
            self.last = at
        elif at < self.last:
            op = op._replace(ts=self.last)
        cdef type cls = type(op)
        if cls is not T_SUBMIT and cls is not T_CANCEL and cls is not T_REPLACE:
            self._order(op, out)
            return 0
        cdef Py_ssize_t symbol = (<tuple>op)[2], price  # an order operation's third field
        if not (0 <= symbol < len(self.lanes) and symbol < len(self.references)):
            raise IndexError(f"symbol index {symbol} of {op!r} is out of range")
        if cls is not T_CANCEL:
            ref = self.references[symbol]
            if ref is not None:
                price = 4 if cls is T_SUBMIT else 3  # the price's field; the size's is next
                refusal = check_order(ref, (<tuple>op)[price], (<tuple>op)[price + 1])
                if refusal is not None:
                    self._refuse(op, refusal, out)
                    return 0
        order(<VenueSymbol?>self.lanes[symbol], cls, <tuple>op, out)
        return 0
