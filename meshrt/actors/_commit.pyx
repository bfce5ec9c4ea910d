"""The sequencer's commit loop for venue feed events, and the one builder of feed records.

Why compiled: every book update and trade print a venue replays passes through the
sequencer once, in order, on the one thread that owns the timeline. In Python that
iteration cost ~0.7 us, most of it ``orjson.dumps`` building the replay-log line from a
fresh list. Here the line is formatted directly: its constant part (source, venue,
instrument and kind, escaped once per symbol by orjson itself in ``feed_fragments``) is
copied, and only ints are formatted here. Anything that is not an int64, None or a
tuple/list of those (never, from the bundled sources) is handed to orjson.dumps, so the
bytes are orjson's by construction; tests/test_replaylog.py checks them against orjson
on random records, tests/test_log_schema.py against the record types of
meshrt/log/schema.py.

``FeedCommit.commit`` does for each BookUpdate / TradePrint what the Python loop did:
assign the seq id, append the log line, record the last book, call the quote hook for
consolidated symbols, draw the feed latency (LatencyStream's rule, ``deliver_at`` of
meshrt/scenario/_latency.pxd, on the stream's state held in locals) and
append one shared BookDelivery to every subscriber's inbound list. It stops at the
first OrderReport (or a live venue's LiveNote): reports change order state and are
committed by the sequencer, which also logs the notes.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.object cimport PyObject
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport int64_t
from libc.string cimport memcpy

from meshrt.actors._deliveries cimport BookDelivery
from meshrt.log._jsonbuf cimport (
    Buf,
    buf_char,
    buf_free,
    buf_init,
    buf_put,
    buf_reserve,
    fmt_i64,
)
from meshrt.scenario._latency cimport deliver_at  # the stream's rule, on its state in locals
from meshrt.venues._outputs cimport BookUpdate

import orjson

# The types and constants have their one home in Python; the compiled loop reads them
# once, here.
from meshrt.log.schema import FEED_BY_KIND, TRADE
from meshrt.venues.outputs import LiveNote, OrderReport, TradePrint

cdef int64_t INT64_MAX = 0x7FFFFFFFFFFFFFFF
cdef type T_TRADE = TradePrint
cdef type T_REPORT = OrderReport
cdef type T_NOTE = LiveNote
cdef object dumps = orjson.dumps


def feed_fragments(str source, str venue, symbols):
    """Per symbol, what a feed record holds between its times and its payload:
    ``"source","venue","symbol","kind",`` per feed kind (by number), then for a trade,
    escaped by orjson itself (the ``fragments`` of a ``FeedCommit``); the kinds are the
    record types of meshrt/log/schema.py."""
    head = orjson.dumps(source) + b"," + orjson.dumps(venue) + b","
    kinds = [FEED_BY_KIND[kind].name for kind in range(len(FEED_BY_KIND))] + [TRADE.name]
    return [tuple([head + orjson.dumps(symbol) + b"," + orjson.dumps(kind) + b","
                   for kind in kinds]) for symbol in symbols]


# ---- the feed record -----------------------------------------------------------------

cdef inline PyObject *item_of(object items, Py_ssize_t i) noexcept:
    """items[i] of a tuple or list the caller has checked, borrowed."""
    return PyTuple_GET_ITEM(items, i) if isinstance(items, tuple) else PyList_GET_ITEM(items, i)


cdef inline Py_ssize_t size_of(object items) noexcept:
    """len(items) of a tuple or list the caller has checked."""
    return PyTuple_GET_SIZE(items) if isinstance(items, tuple) else PyList_GET_SIZE(items)


cdef int put_items(Buf *b, object items, Py_ssize_t first, int depth) except -1:
    """items[first:] (a tuple or list) as a JSON array: 0 written, 1 not (see put_value)."""
    cdef Py_ssize_t i
    buf_char(b, b'[')
    # a list could change under us only through code this loop never calls
    for i in range(first, size_of(items)):
        if i > first:
            buf_char(b, b',')
        if put_value(b, <object>item_of(items, i), depth):
            return 1
    return buf_char(b, b']')


cdef int put_value(Buf *b, object value, int depth) except -1:
    """orjson's form of one value: 0 written; 1 not an int64, None or exact tuple/list
    of those: orjson.dumps judges it (a uint64, or an error)."""
    cdef int overflow
    cdef long long x
    if isinstance(value, int) and not isinstance(value, bool):  # int subclasses by value
        # the public API: overflow is a flag, not an exception (a try block costs a walk
        # of the exception stack, deep under Trio's coroutines)
        x = PyLong_AsLongLongAndOverflow(value, &overflow)
        if overflow:
            return 1
        buf_reserve(b, 20)
        b.len += fmt_i64(b.p + b.len, x)
        return 0
    if value is None:
        return buf_put(b, b"null", 4)
    if (type(value) is tuple or type(value) is list) and depth < 16:
        return put_items(b, value, 0, depth + 1)
    return 1


cdef int put_payload(Buf *b, object feed) except -1:
    """feed[2:] (a tuple or list) as orjson.dumps writes it."""
    cdef Py_ssize_t mark = b.len
    if put_items(b, feed, 2, 0) == 0:
        return 0
    # something orjson must judge: the same call the Python loop made
    b.len = mark
    cdef bytes json = dumps(feed[2:])
    return buf_put(b, PyBytes_AS_STRING(json), PyBytes_GET_SIZE(json))


cdef bytes feed_record(int64_t seq, int64_t ts, object fragment, object feed):
    """The one builder of a feed record's replay-log line (docs/replay.md):
    ``[seq,ts,ts,<fragment><feed[2:]>,seq]``, orjson's bytes; ``fragment`` is one of
    ``feed_fragments``."""
    if not isinstance(fragment, bytes):
        raise TypeError("log fragments must be bytes")
    if not isinstance(feed, (tuple, list)):
        raise TypeError(f"a feed event must be a tuple, not {type(feed).__name__}")
    cdef Buf b
    cdef Py_ssize_t nfrag = PyBytes_GET_SIZE(fragment)
    cdef char *p
    buf_init(&b)
    try:
        buf_reserve(&b, 4 + 3 * 20 + nfrag)
        p = b.p
        p[0] = b'['
        p += 1
        p += fmt_i64(p, seq)
        p[0] = b','
        p += 1
        p += fmt_i64(p, ts)
        p[0] = b','
        p += 1
        p += fmt_i64(p, ts)
        p[0] = b','
        p += 1
        memcpy(p, PyBytes_AS_STRING(fragment), <size_t>nfrag)
        b.len = p + nfrag - b.p
        put_payload(&b, feed)
        buf_reserve(&b, 22)
        p = b.p + b.len
        p[0] = b','
        p += 1
        p += fmt_i64(p, seq)
        p[0] = b']'
        return PyBytes_FromStringAndSize(b.p, p + 1 - b.p)
    finally:
        buf_free(&b)


cdef inline object item_at(list items, Py_ssize_t i, str what):
    """items[i] of a per-symbol list, with no negative indexing."""
    if not 0 <= i < PyList_GET_SIZE(items):
        raise IndexError(f"symbol index {i} out of range of {what}")
    return <object>PyList_GET_ITEM(items, i)


# ---- the loop ------------------------------------------------------------------------

cdef int64_t time_of(object event) except? -1:
    """The event time of a venue output: a BookUpdate's field, a NamedTuple's first item."""
    if type(event) is BookUpdate:
        return (<BookUpdate>event).ts
    if not isinstance(event, tuple) or PyTuple_GET_SIZE(event) < 1:
        raise TypeError(f"{type(event).__name__} is not a venue output")
    return <object>PyTuple_GET_ITEM(event, 0)


cdef class FeedCommit:
    """FeedCommit(fragments, last_book, consolidated, subscribers, quote, stream)

    What the commit loop needs of one venue lane, built once per lane: per symbol the
    ``feed_fragments``, the last book shown (written here), whether it is consolidated,
    its subscribers (each with an ``inbound`` list); the quote hook quote(symbol, ts,
    book) for consolidated symbols; the feed's LatencyStream (base, span, draw, last).
    The lists are the lane's own, shared, not copies."""

    def __init__(self, list fragments not None, list last_book not None,
                 list consolidated not None, list subscribers not None, quote, stream):
        self.fragments = fragments
        self.last_book = last_book
        self.consolidated = consolidated
        self.subscribers = subscribers
        self.quote = quote
        self.stream = stream
        self.base = stream.base
        self.span = stream.span
        self.draw = stream.draw

    def commit(self, list events not None, Py_ssize_t start, Py_ssize_t stop, int64_t seq,
               list lines):
        """commit(events, start, stop, seq, lines) -> (index, seq)

        Commit events[start:stop] up to the first OrderReport or LiveNote, whose index is
        returned (stop when there is none) with the last seq id assigned; the stream's ``last``
        becomes the feed's last delivery time. lines: the replay log's line list, or
        None when nothing is logged."""
        k = self.run(events, start, stop, INT64_MAX, &seq, lines)
        return k, seq

    cdef Py_ssize_t run(self, list events, Py_ssize_t k, Py_ssize_t stop, int64_t limit,
                        int64_t *seq, list lines) except -1:
        """Commit events[k:stop] while their time is below ``limit``, up to the first
        OrderReport; returns the index it stopped at. *seq: the last seq id assigned."""
        stream = self.stream
        cdef int64_t base = self.base, span = self.span, last = stream.last
        draw = self.draw
        cdef bint bounded = limit != INT64_MAX  # else times are never read here
        while k < stop:
            if not 0 <= k < PyList_GET_SIZE(events):
                raise IndexError("event index out of range")
            event = <object>PyList_GET_ITEM(events, k)  # held while Python code runs
            kind = type(event)
            if kind is T_REPORT or kind is T_NOTE or (bounded and time_of(event) >= limit):
                break
            seq[0] += 1
            if kind is BookUpdate:
                last = self.book(<BookUpdate>event, seq[0], lines, base, span, draw, last)
            elif kind is T_TRADE:
                self.trade(<tuple>event, seq[0], lines)
            else:
                raise TypeError(f"event {k} is a {kind.__name__}, not a venue output")
            k += 1
        stream.last = last
        return k

    cdef int trade(self, tuple event, int64_t seq, list lines) except -1:
        """One TradePrint (ts, symbol, feed event): logged only."""
        if lines is None:
            return 0
        if PyTuple_GET_SIZE(event) < 3:
            raise IndexError("tuple index out of range")  # a NamedTuple built by hand
        frags = self.fragments_of(<object>PyTuple_GET_ITEM(event, 1))
        lines.append(feed_record(seq, <object>PyTuple_GET_ITEM(event, 0),
                                 <object>PyTuple_GET_ITEM(frags, PyTuple_GET_SIZE(frags) - 1),
                                 <object>PyTuple_GET_ITEM(event, 2)))
        return 0

    cdef tuple fragments_of(self, object symbol):
        frags = item_at(self.fragments, symbol, "fragments")
        if not isinstance(frags, tuple) or PyTuple_GET_SIZE(frags) < 2:
            raise TypeError("a symbol's fragments: (per feed kind..., trade)")
        return <tuple>frags

    cdef int64_t book(self, BookUpdate event, int64_t seq, list lines, int64_t base,
                      int64_t span, object draw, int64_t last) except? -1:
        """One BookUpdate: logged, then shown to the subscribers unless the feed is down;
        returns the feed's last delivery time."""
        cdef Py_ssize_t index, nkinds
        cdef int overflow = 0
        cdef int64_t ts = event.ts
        cdef Py_ssize_t symbol = <int64_t>event.symbol
        if lines is not None:
            feed = event.event
            frags = self.fragments_of(event.symbol)
            nkinds = PyTuple_GET_SIZE(frags) - 1
            if not isinstance(feed, (tuple, list)) or size_of(feed) < 2:
                raise TypeError("a feed event must be a tuple (ts, kind, ...)")
            feed_kind = <object>item_of(feed, 1)
            index = -1
            if isinstance(feed_kind, int):
                index = <Py_ssize_t>PyLong_AsLongLongAndOverflow(feed_kind, &overflow)
            if overflow or not 0 <= index < nkinds:
                raise KeyError(feed_kind)
            lines.append(feed_record(seq, ts, <object>PyTuple_GET_ITEM(frags, index), feed))
        book = event.book
        if book is None:
            return last  # the feed to the algos is down: committed, not shown
        item_at(self.last_book, symbol, "last_book")  # the bounds check
        self.last_book[symbol] = book
        if item_at(self.consolidated, symbol, "consolidated"):
            self.quote(event.symbol, event.ts, book)
        subs = item_at(self.subscribers, symbol, "subscribers")
        if not isinstance(subs, list):
            raise TypeError("subscribers must be lists")
        if not subs:
            return last
        last = deliver_at(ts, base, span, draw, last)
        cdef BookDelivery delivery = BookDelivery.__new__(BookDelivery)  # free list, no __init__
        delivery.ts = last
        delivery.book = book
        delivery.features = event.features
        for dep in <list>subs:
            dep.inbound.append(delivery)
        return last
