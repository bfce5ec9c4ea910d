"""Reads ``.mrec`` recordings: the compiled source behind a binary ``RecordedSpec``.

Why compiled: a recording is read at book rate, and decoding a fixed layout in C costs
tens of nanoseconds per event where a text line costs microseconds of Python. The layout
and its constants live in meshrt/venues/recording.py (imported here, never copied); the
events are the tuples meshrt/venues/recorded.py makes from the same data, which
tests/test_recording.py checks. Each record is checked as it is decoded (kind, side,
reserved bytes, positive prices, sizes, time order, snapshot order and crossing), so a
damaged file is a ``SourceError`` naming the record and its byte offset.
"""

cimport cython
from libc.stdint cimport INT64_MAX, INT64_MIN, int64_t, uint64_t

import os

from meshrt.contract import Side
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE
from meshrt.venues.recorded import SourceError
from meshrt.venues.recording import EVENT, HEADER, LEVEL, MAGIC, SNAPSHOT, VERSION

cdef object BUY = Side.BUY, SELL = Side.SELL
cdef object DELTA = FEED_DELTA, TRADE = FEED_TRADE, SNAP = FEED_SNAPSHOT
cdef int C_BUY = Side.BUY, C_SELL = Side.SELL
cdef int C_DELTA = FEED_DELTA, C_TRADE = FEED_TRADE, C_SNAPSHOT = FEED_SNAPSHOT
cdef Py_ssize_t HEAD = HEADER.size, EVENT_SIZE = EVENT.size, SNAP_SIZE = SNAPSHOT.size
cdef Py_ssize_t LEVEL_SIZE = LEVEL.size
cdef Py_ssize_t CHUNK = 1 << 18


cdef inline uint64_t le(const unsigned char *p, int n) noexcept:
    """An n-byte little-endian unsigned integer (the compiler makes it one load)."""
    cdef uint64_t v = 0
    cdef int i
    for i in range(n):
        v |= (<uint64_t>p[i]) << (8 * i)
    return v


cdef inline int64_t i64(const unsigned char *p) noexcept:
    return <int64_t>le(p, 8)


@cython.final
cdef class BinarySource:
    """Replays a ``.mrec`` recording, decoding one record ahead of the caller.

    Opening checks the header and decodes the first record, so a bad file fails when the
    scenario starts; a bad record later on is raised by the ``batch`` or ``peek_time``
    call that reaches it, after every good event before it was returned. It pickles as
    its spec and where the next record starts, so a restored source seeks there.
    """

    cdef readonly str symbol
    cdef readonly object spec
    cdef str _path
    cdef object _file
    cdef bytes _buf
    cdef Py_ssize_t _pos  # the next record's position in _buf
    cdef int64_t _base  # file offset of _buf[0]
    cdef int64_t _size  # file size
    cdef int64_t _offset  # added to every timestamp
    cdef uint64_t _records  # the header's count
    cdef uint64_t _index  # records decoded
    cdef int64_t _last  # file time of the last record decoded
    cdef object _next
    cdef int64_t _next_ts  # _next's time, offset added
    cdef int64_t _resume_at, _resume_last  # where _next starts, the time before it
    cdef uint64_t _resume_index
    cdef object _error

    def __init__(self, spec, resume=None):
        self.spec = spec
        self.symbol = spec.symbol
        self._path = spec.path
        self._error = None
        try:
            self._file = open(self._path, "rb")
        except OSError as e:
            raise SourceError(self._path, None, "path", f"cannot open ({e.strerror or e})") from e
        self._size = os.fstat(self._file.fileno()).st_size
        self._header()
        self._offset = 0
        offset = spec.time_offset_ns
        if spec.start_at_zero:
            self._seek((HEAD, 0, INT64_MIN))
            first = self._advance()
            offset -= 0 if first is None else first[0]
        if not INT64_MIN <= offset <= INT64_MAX:
            raise SourceError(self._path, None, "time_offset_ns",
                              f"shifts the recording by {offset} ns, beyond 64 bits")
        self._offset = offset
        self._seek((HEAD, 0, INT64_MIN) if resume is None else resume)
        self._advance()

    def __reduce__(self):
        # an open file cannot be pickled: a checkpoint keeps where the next record starts
        return (BinarySource, (self.spec, (self._resume_at, self._resume_index, self._resume_last)))

    cdef _seek(self, tuple at):
        offset, index, last = at
        self._file.seek(offset)
        self._base, self._index, self._last = offset, index, last
        self._buf = b""
        self._pos = 0

    cdef bint _fill(self, Py_ssize_t need) except -1:
        """Make ``need`` bytes from the current record on available; False at the file's end."""
        cdef Py_ssize_t have = len(self._buf) - self._pos
        if have >= need:
            return True
        more = self._file.read(max(need - have, CHUNK))
        self._buf = self._buf[self._pos:] + more
        self._base += self._pos
        self._pos = 0
        return len(self._buf) >= need

    cdef _fail(self, str field, str reason):
        raise SourceError(self._path, self._index + 1, field, reason,
                          offset=self._base + self._pos)

    cdef _header(self):
        self._seek((0, 0, INT64_MIN))
        if not self._fill(HEAD):
            raise SourceError(self._path, None, "header",
                              f"truncated: {self._size} bytes, a recording's header is {HEAD}")
        magic, version, reserved, records = HEADER.unpack_from(self._buf, 0)
        if magic != MAGIC:
            raise SourceError(self._path, None, "header",
                              f"not a meshrt recording (magic {magic!r}, expected {MAGIC!r})")
        if version != VERSION:
            raise SourceError(self._path, None, "header", f"recording version {version} is "
                              f"not supported (this meshrt reads version {VERSION})")
        if reserved:
            raise SourceError(self._path, None, "header", "reserved bytes are not zero")
        self._records = records

    cdef object _advance(self):
        """Decode the next record into ``_next`` (None at the end), checking it."""
        cdef int64_t at = self._base + self._pos
        self._resume_at, self._resume_index, self._resume_last = at, self._index, self._last
        self._next = None
        if self._index == self._records:
            if at < self._size:
                self._fail("record", f"{self._size - at} bytes follow the last of the "
                                     f"header's {self._records} records")
            return None
        if not self._fill(16):
            self._truncated()
        cdef const unsigned char *p = <const unsigned char *>(<char *>self._buf) + self._pos
        cdef int kind = p[0], side = p[1]
        cdef int64_t ts = i64(p + 8), price, size
        cdef object event
        if kind == C_DELTA or kind == C_TRADE:
            if not self._fill(EVENT_SIZE):
                self._truncated()
            p = <const unsigned char *>(<char *>self._buf) + self._pos
            if le(p + 2, 6):
                self._fail("record", "reserved bytes are not zero")
            if side != C_BUY and side != C_SELL:
                self._fail("side", f"{side} is neither {C_BUY} (buy) nor {C_SELL} (sell)")
            price, size = i64(p + 16), i64(p + 24)
            if price <= 0:
                self._fail("price", f"price must be positive, got {price}")
            if size < 0 or (size == 0 and kind == C_TRADE):
                self._fail("size", f"size must be {'positive' if kind == C_TRADE else '>= 0'}"
                                   f", got {size}")
            ts = self._time(ts)
            event = (ts, DELTA if kind == C_DELTA else TRADE, BUY if side == C_BUY else SELL,
                     price, size)
            self._pos += EVENT_SIZE
        elif kind == C_SNAPSHOT:
            event = self._snapshot(ts)
        else:
            self._fail("kind", f"unknown record kind {kind} (expected {C_SNAPSHOT} snapshot, "
                               f"{C_DELTA} delta, {C_TRADE} trade)")
        self._index += 1
        self._next = event
        self._next_ts = ts if kind != C_SNAPSHOT else event[0]
        return event

    cdef int64_t _time(self, int64_t ts) except? -1:
        """Checks time order; returns ts with the offset added."""
        if ts < self._last:
            self._fail("ts", f"{ts} goes back in time (previous {self._last})")
        if (self._offset > 0 and ts > INT64_MAX - self._offset) or (
            self._offset < 0 and ts < INT64_MIN - self._offset
        ):
            self._fail("ts", f"{ts} shifted by {self._offset} ns does not fit 64 bits")
        self._last = ts
        return ts + self._offset

    cdef _truncated(self):
        self._fail("record", f"truncated: the file ends inside it (the header promises "
                             f"{self._records} records)")

    cdef tuple _snapshot(self, int64_t ts):
        if not self._fill(SNAP_SIZE):
            self._truncated()
        cdef const unsigned char *p = <const unsigned char *>(<char *>self._buf) + self._pos
        cdef int64_t bids = le(p + 4, 4), asks = le(p + 16, 4)
        if p[1] or le(p + 2, 2) or le(p + 20, 4):
            self._fail("record", "reserved bytes are not zero")
        cdef int64_t length = SNAP_SIZE + LEVEL_SIZE * (bids + asks)
        if self._base + self._pos + length > self._size or not self._fill(length):
            self._truncated()
        p = <const unsigned char *>(<char *>self._buf) + self._pos + SNAP_SIZE
        cdef list levels = []
        cdef int64_t i, price, size, previous = 0
        for i in range(bids + asks):
            price, size = i64(p + LEVEL_SIZE * i), i64(p + LEVEL_SIZE * i + 8)
            if price <= 0:
                self._fail("price", f"level {i}: price must be positive, got {price}")
            if size <= 0:
                self._fail("size", f"level {i}: size must be positive, got {size}")
            if i != 0 and i != bids:
                if i < bids and price >= previous:
                    self._fail("price", f"bid level {i}: {price} is not below {previous}")
                if i > bids and price <= previous:
                    self._fail("price", f"ask level {i - bids}: {price} is not above {previous}")
            if i == bids and bids and price <= levels[0][0]:
                self._fail("price", f"crossed snapshot: best bid {levels[0][0]} >= best ask "
                                    f"{price} (fixed point)")
            levels.append((price, size))
            previous = price
        ts = self._time(ts)
        self._pos += length
        return (ts, SNAP, tuple(levels[:bids]), tuple(levels[bids:]))

    @property
    def exhausted(self):
        return self._next is None and self._error is None

    def peek_time(self):
        if self._next is None:
            if self._error is not None:
                raise self._error
            return None
        return self._next_ts

    def batch(self, until):
        cdef list out = []
        if self._next is None:
            if self._error is not None:
                raise self._error
            return out
        cdef bint everything = until > INT64_MAX
        if not everything and until <= self._next_ts:
            return out
        cdef int64_t limit = INT64_MAX if everything else until
        try:
            while everything or self._next_ts < limit:
                out.append(self._next)
                if self._advance() is None:
                    break
        except SourceError as e:
            self._error = e
            self._next = None
        return out

    def close(self):
        """Release the file before the end of the data."""
        self._file.close()
        self._next = None
