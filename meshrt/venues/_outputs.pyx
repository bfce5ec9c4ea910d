"""``BookUpdate``, the venue output of nearly every feed event, as a compiled value.

Why compiled: one is built per book update and freed after the sequencer commits it. A
NamedTuple (a tuple subclass) is allocated and freed through the generic object
allocator, about 235 instructions more than a plain tuple from the tuple free list; this
class comes from its own free list and costs slightly less than a tuple (measured with
callgrind, docs/performance.md). The other venue outputs are rarer and are NamedTuples
(meshrt/venues/outputs.py).
"""

cimport cython


@cython.final
@cython.freelist(64)
cdef class BookUpdate:
    """BookUpdate(ts, symbol, event, book, features): a snapshot or delta applied to the
    displayed book, with the Book and Features algos see; both None while the venue's
    feed is down (fault injection): the event is committed and logged, not shown.
    ``symbol`` is the index into the venue's symbols, ``event`` the feed event."""

    def __init__(self, ts, symbol, event, book, features):
        self.ts = ts
        self.symbol = symbol
        self.event = event
        self.book = book
        self.features = features

    def __eq__(self, other):
        if type(other) is not BookUpdate:
            return NotImplemented
        cdef BookUpdate o = other
        return (self.ts, self.symbol, self.event, self.book, self.features) == (
            o.ts, o.symbol, o.event, o.book, o.features)

    def __repr__(self):
        return (f"BookUpdate(ts={self.ts!r}, symbol={self.symbol!r}, event={self.event!r}, "
                f"book={self.book!r}, features={self.features!r})")
