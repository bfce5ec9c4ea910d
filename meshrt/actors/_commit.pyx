"""The sequencer's commit loop for venue feed events, and the one builder of feed records.

Why compiled: every book update and trade print a venue replays passes through the
sequencer once, in order, on the one thread that owns the timeline. In Python that
iteration cost ~0.7 us, most of it ``orjson.dumps`` building the replay-log line from a
fresh list. Here the line is formatted directly: its constant part (source, venue,
instrument and kind, escaped once per symbol by orjson itself in ``feed_fragments``) is
copied, and only ints are formatted here. Anything that is not an int64, None or a
tuple/list of those (never, from the bundled sources) is handed to the ``dumps`` passed
in (orjson.dumps), so the bytes are orjson's by construction; tests/test_replaylog.py
checks them against orjson on random records, tests/test_log_schema.py against the
record types of meshrt/log/schema.py.

``commit_feed`` does for each OUT_BOOK / OUT_TRADE event what the Python loop did:
assign the seq id, append the log line, record the last book, call the quote hook for
consolidated symbols, draw the feed latency (the rule of LatencyStream.deliver_at, with
the stream's own ``draw``; tests/test_runtime.py compares the two on random streams) and
append one shared delivery tuple to every subscriber's inbound list. It stops at the
first OUT_REPORT: reports change order state and are committed by the sequencer.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_CheckExact
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.string cimport memcpy

import orjson

# The constants have their one home in Python; the compiled loop reads them once, here.
from meshrt.actors.protocol import D_BOOK, OUT_BOOK, OUT_REPORT
from meshrt.log.schema import FEED_BY_KIND, TRADE

cdef extern from *:
    # gcc/clang builtin: a signed add that reports int64 overflow
    bint add_overflow "__builtin_add_overflow"(int64_t a, int64_t b, int64_t *res) noexcept nogil

cdef long K_BOOK = OUT_BOOK
cdef long K_REPORT = OUT_REPORT
cdef object DELIVER_BOOK = D_BOOK  # the int object each delivery tuple carries


def feed_fragments(str source, str venue, symbols):
    """Per symbol, what a feed record holds between its times and its payload:
    ``"source","venue","symbol","kind",`` per feed kind (by number), then for a trade,
    escaped by orjson itself (the ``fragments`` argument of ``commit_feed``); the kinds
    are the record types of meshrt/log/schema.py."""
    head = orjson.dumps(source) + b"," + orjson.dumps(venue) + b","
    kinds = [FEED_BY_KIND[kind].name for kind in range(len(FEED_BY_KIND))] + [TRADE.name]
    return [tuple([head + orjson.dumps(symbol) + b"," + orjson.dumps(kind) + b","
                   for kind in kinds]) for symbol in symbols]


# ---- ints as orjson writes them ------------------------------------------------------

cdef const char *DIGITS = (
    b"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    b"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    b"8081828384858687888990919293949596979899")


cdef inline void put2(char *p, uint32_t n) noexcept nogil:
    """The two digits of n < 100 at p."""
    memcpy(p, DIGITS + 2 * n, 2)


cdef inline void put8(char *p, uint32_t v) noexcept nogil:
    """Exactly eight digits, zero-padded: short dependency chains, unlike digit by digit."""
    cdef uint32_t hi = v // 10000, lo = v % 10000
    put2(p, hi // 100)
    put2(p + 2, hi % 100)
    put2(p + 4, lo // 100)
    put2(p + 6, lo % 100)


cdef inline int put_small(char *p, uint32_t v) noexcept nogil:
    """v < 10**8 without leading zeros; returns the count."""
    cdef int n
    if v < 10000:
        n = (1 if v < 10 else 2) if v < 100 else (3 if v < 1000 else 4)
    else:
        n = (5 if v < 100000 else 6) if v < 1000000 else (7 if v < 10000000 else 8)
    cdef int i = n
    while v >= 100:
        i -= 2
        put2(p + i, v % 100)
        v //= 100
    if v >= 10:
        put2(p, v)
    else:
        p[0] = <char>(48 + v)  # '0' + v
    return n


cdef inline int fmt_u64(char *p, uint64_t v) noexcept nogil:
    """The decimal digits of v at p (room for 20); returns the count."""
    if v < 100000000:
        return put_small(p, <uint32_t>v)
    cdef uint64_t q = v // 100000000
    cdef int n
    if q < 100000000:
        n = put_small(p, <uint32_t>q)
    else:
        n = put_small(p, <uint32_t>(q // 100000000))
        put8(p + n, <uint32_t>(q % 100000000))
        n += 8
    put8(p + n, <uint32_t>(v % 100000000))
    return n + 8


cdef inline int fmt_i64(char *p, int64_t v) noexcept nogil:
    if v >= 0:
        return fmt_u64(p, <uint64_t>v)
    p[0] = b'-'
    return 1 + fmt_u64(p + 1, <uint64_t>0 - <uint64_t>v)  # -2**63 too


# ---- a growable byte buffer: on the stack until a line outgrows it -------------------

cdef struct Buf:
    char *p
    Py_ssize_t len, cap
    char stack[512]


cdef inline void buf_init(Buf *b) noexcept:
    b.p = b.stack
    b.len = 0
    b.cap = sizeof(b.stack)


cdef inline void buf_free(Buf *b) noexcept:
    if b.p != b.stack:
        PyMem_Free(b.p)


cdef int buf_grow(Buf *b, Py_ssize_t need) except -1:
    cdef Py_ssize_t cap = b.cap
    while cap < b.len + need:
        cap *= 2
    cdef char *p = <char *>PyMem_Malloc(<size_t>cap)
    if p == NULL:
        raise MemoryError()
    memcpy(p, b.p, <size_t>b.len)
    buf_free(b)
    b.p = p
    b.cap = cap
    return 0


cdef inline int buf_reserve(Buf *b, Py_ssize_t need) except -1:
    if b.len + need > b.cap:
        buf_grow(b, need)
    return 0


cdef inline int buf_put(Buf *b, const char *s, Py_ssize_t n) except -1:
    buf_reserve(b, n)
    memcpy(b.p + b.len, s, <size_t>n)
    b.len += n
    return 0


cdef inline int buf_char(Buf *b, char c) except -1:
    buf_reserve(b, 1)
    b.p[b.len] = c
    b.len += 1
    return 0


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


cdef int put_payload(Buf *b, object feed, object dumps) except -1:
    """feed[2:] (a tuple or list) as orjson.dumps writes it."""
    cdef Py_ssize_t mark = b.len
    if put_items(b, feed, 2, 0) == 0:
        return 0
    # something orjson must judge: the same call the Python loop made
    b.len = mark
    json = dumps(feed[2:])
    if not isinstance(json, bytes):
        raise TypeError("dumps must return bytes")
    return buf_put(b, PyBytes_AS_STRING(json), PyBytes_GET_SIZE(json))


cdef bytes feed_record(int64_t seq, int64_t ts, object fragment, object feed, object dumps):
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
        put_payload(&b, feed, dumps)
        buf_reserve(&b, 22)
        p = b.p + b.len
        p[0] = b','
        p += 1
        p += fmt_i64(p, seq)
        p[0] = b']'
        return PyBytes_FromStringAndSize(b.p, p + 1 - b.p)
    finally:
        buf_free(&b)


# ---- deliveries ----------------------------------------------------------------------

cdef inline int64_t deliver_at(int64_t ts, int64_t base, int64_t span, object draw,
                               int64_t last) except? -1:
    """LatencyStream.deliver_at(ts), compiled: ts + base + int(draw() * span), never
    before ``last`` (FIFO)."""
    cdef int64_t at, jitter
    cdef double x
    if add_overflow(ts, base, &at):
        raise OverflowError("feed delivery time beyond 64 bits")
    if span:
        r = draw()
        if PyFloat_CheckExact(r):
            # float * int is a double multiply; int() truncates toward zero
            x = PyFloat_AS_DOUBLE(r) * <double>span
            if not (-9223372036854775808.0 < x < 9223372036854775808.0):
                raise OverflowError("feed delivery time beyond 64 bits")
            jitter = <int64_t>x
        else:  # whatever draw() returns, Python arithmetic decides
            jitter = int(r * span)
        if add_overflow(at, jitter, &at):
            raise OverflowError("feed delivery time beyond 64 bits")
    return at if at > last else last


cdef inline object item_at(object items, Py_ssize_t i, str what):
    """items[i] of a per-symbol list (or tuple), with no negative indexing."""
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{what} must be a list")
    if not 0 <= i < size_of(items):
        raise IndexError(f"symbol index {i} out of range of {what}")
    return <object>item_of(items, i)


# ---- the loop ------------------------------------------------------------------------

cdef int64_t commit_event(tuple event, long kind, int64_t ts, int64_t seq, object lines,
                          object fragments, object dumps, object last_book,
                          object consolidated, object quote, object subscribers,
                          int64_t base, int64_t span, object draw, int64_t last) except? -1:
    """One feed event; returns the feed's last delivery time."""
    cdef Py_ssize_t size = PyTuple_GET_SIZE(event), index, nkinds
    cdef int overflow = 0
    if size < (6 if kind == K_BOOK else 4):
        raise IndexError("tuple index out of range")
    symbol_obj = <object>PyTuple_GET_ITEM(event, 2)
    cdef Py_ssize_t symbol = <int64_t>symbol_obj
    if lines is not None:
        feed = <object>PyTuple_GET_ITEM(event, 3)
        frags = item_at(fragments, symbol, "fragments")
        if not isinstance(frags, tuple) or PyTuple_GET_SIZE(frags) < 2:
            raise TypeError("a symbol's fragments: (per feed kind..., trade)")
        nkinds = PyTuple_GET_SIZE(frags) - 1
        index = nkinds  # trade
        if kind == K_BOOK:
            if not isinstance(feed, (tuple, list)) or size_of(feed) < 2:
                raise TypeError("a feed event must be a tuple (ts, kind, ...)")
            feed_kind = <object>item_of(feed, 1)
            index = -1
            if isinstance(feed_kind, int):
                index = <Py_ssize_t>PyLong_AsLongLongAndOverflow(feed_kind, &overflow)
            if overflow or not 0 <= index < nkinds:
                raise KeyError(feed_kind)
        lines.append(feed_record(seq, ts, <object>PyTuple_GET_ITEM(frags, index), feed,
                                 dumps))
    if kind != K_BOOK:
        return last
    book = <object>PyTuple_GET_ITEM(event, 4)
    if book is None:
        return last  # the feed to the algos is down: committed, not shown
    if not isinstance(last_book, list):
        raise TypeError("last_book must be a list")
    if not 0 <= symbol < PyList_GET_SIZE(last_book):
        raise IndexError("list assignment index out of range")
    last_book[symbol] = book
    if item_at(consolidated, symbol, "consolidated"):
        quote(symbol_obj, <object>PyTuple_GET_ITEM(event, 0), book)
    subs = item_at(subscribers, symbol, "subscribers")
    if not isinstance(subs, list):
        raise TypeError("subscribers must be lists")
    if not subs:
        return last
    last = deliver_at(ts, base, span, draw, last)
    item = (last, DELIVER_BOOK, book, <object>PyTuple_GET_ITEM(event, 5))
    for dep in <list>subs:
        dep.inbound.append(item)
    return last


def commit_feed(events, start, stop, seq, last, lines, fragments, dumps, last_book,
                consolidated, quote, subscribers, base, span, draw):
    """commit_feed(events, start, stop, seq, last, lines, fragments, dumps, last_book,
    consolidated, quote, subscribers, base, span, draw) -> (index, seq, last)

    Commit the venue feed events events[start:stop] up to the first OUT_REPORT, whose
    index is returned (stop when there is none) with the last seq id assigned and the
    feed stream's last delivery time. lines: the replay log's line list, or None when
    nothing is logged; fragments: ``feed_fragments``; dumps: orjson.dumps, for payloads
    that are not 64-bit ints; quote(symbol, ts, book): the hook for consolidated symbols;
    base, span, draw: the feed's LatencyStream."""
    if not isinstance(events, list):
        raise TypeError("events must be a list")
    if lines is not None and not isinstance(lines, list):
        raise TypeError("lines must be a list or None")
    cdef Py_ssize_t k = start, end = stop
    cdef int64_t c_seq = seq, c_last = last, c_base = base, c_span = span, ts
    cdef long kind
    cdef tuple event
    while k < end:
        if not 0 <= k < PyList_GET_SIZE(events):
            raise IndexError("event index out of range")
        item = <object>PyList_GET_ITEM(events, k)  # held while Python code runs
        if not isinstance(item, tuple) or PyTuple_GET_SIZE(item) < 3:
            raise TypeError(f"event {k} is not a venue output tuple")
        event = <tuple>item
        kind = <int64_t>(<object>PyTuple_GET_ITEM(event, 1))
        if kind == K_REPORT:
            break
        ts = <object>PyTuple_GET_ITEM(event, 0)
        c_last = commit_event(event, kind, ts, c_seq + 1, lines, fragments, dumps,
                              last_book, consolidated, quote, subscribers, c_base, c_span,
                              draw, c_last)
        c_seq += 1
        k += 1
    return k, c_seq, c_last
