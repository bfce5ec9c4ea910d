"""``BookDelivery``, nearly every delivery an instance gets, as a compiled value.

Why compiled: one is built per book update and subscriber group and freed once the
instance has called on_book. A NamedTuple (a tuple subclass) is allocated and freed
through the generic object allocator, about 235 instructions more than a plain tuple
from the tuple free list; this class comes from its own free list and costs slightly
less than a tuple (measured with callgrind, docs/performance.md). The other deliveries
are NamedTuples (meshrt/actors/protocol.py).
"""

cimport cython


@cython.final
@cython.freelist(64)
cdef class BookDelivery:
    """BookDelivery(ts, book, features): a book update for on_book, at its delivery
    time."""

    def __init__(self, ts, book, features):
        self.ts = ts
        self.book = book
        self.features = features

    def __eq__(self, other):
        if type(other) is not BookDelivery:
            return NotImplemented
        cdef BookDelivery o = other
        return (self.ts, self.book, self.features) == (o.ts, o.book, o.features)

    def __repr__(self):
        return f"BookDelivery(ts={self.ts!r}, book={self.book!r}, features={self.features!r})"
