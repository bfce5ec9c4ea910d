"""A set of u64 ids held as sorted, disjoint, inclusive ranges.

Ids an algo or the runtime hands out mostly increase by one, so the set of every id
ever used is a handful of ranges however long a run is: memory follows the gaps, not
the count. The last range, where the next id almost always lands, is held in the object
itself, so the common question (``in``) and the common add (one past its end) read and
write one object and compare machine words; the ranges below it are (first, last) pairs
in one C array, found by bisection. A checkpoint holds two machine-word arrays
(``array('Q')``).

Compiled because every new order asks for and adds two ids (its order id and its
deployment's client id, meshrt/sequencer/orders.pyx, through id_ranges.pxd).
"""

from cpython.long cimport PyLong_Check
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from libc.stdint cimport uint64_t
from libc.string cimport memmove

from array import array


cdef class IdRanges:
    """Used ids; adding one merges it with the ranges it touches."""

    def __dealloc__(self):
        PyMem_Free(self.spans)

    def __contains__(self, value):
        return self.holds(value)

    def __len__(self):
        """The number of ranges (not of ids): what the set costs."""
        return self.n + self.used

    def add(self, value):
        """Add an id; raises ValueError if it is already in the set (OverflowError for
        an int outside 0..2**64-1)."""
        self.put(value)

    def __reduce__(self):
        starts, ends = array("Q"), array("Q")
        cdef Py_ssize_t i
        for i in range(self.n):
            starts.append(self.spans[2 * i])
            ends.append(self.spans[2 * i + 1])
        if self.used:
            starts.append(self.first)
            ends.append(self.last)
        return IdRanges, (), (starts, ends)

    def __setstate__(self, tuple state not None):
        starts, ends = state
        if len(starts) != len(ends):
            raise ValueError("id ranges state: as many starts as ends needed")
        self.used = False
        self.n = 0
        cdef uint64_t first, last
        for first, last in zip(starts, ends):
            if first > last or (self.used and (first <= self.last or first - self.last == 1)):
                raise ValueError("id ranges state: ranges must ascend, apart")
            if self.used:
                self.push(self.first, self.last)
            self.used = True
            self.first = first
            self.last = last

    cdef bint holds(self, object value) except -1:
        """Whether ``value`` is an id in the set (anything but an int in 0..2**64-1 is
        not)."""
        cdef uint64_t v
        if not PyLong_Check(value):
            return False
        try:
            v = value
        except OverflowError:
            return False
        return self.has(v)

    cdef int put(self, object value) except -1:
        if not PyLong_Check(value):
            raise TypeError(f"an id is an int, not {type(value).__name__}")
        cdef uint64_t v = value
        if self.used and v > self.last:
            if v == self.last + 1:  # the common case
                self.last = v
                return 0
            self.push(self.first, self.last)
            self.first = self.last = v
        elif not self.used:
            self.used = True
            self.first = self.last = v
        elif self.has(v):
            raise ValueError(f"id {value} is already used")
        else:  # below the last range: into the array with it, and the last one out again
            self.reserve(self.n + 2)
            self.push(self.first, self.last)
            self.insert(v)
            self.n -= 1
            self.first = self.spans[2 * self.n]
            self.last = self.spans[2 * self.n + 1]
        return 0

    cdef bint has(self, uint64_t value) noexcept:
        if self.used and value >= self.first:
            return value <= self.last
        cdef Py_ssize_t i = self.below(value)
        return i >= 0 and value <= self.spans[2 * i + 1]

    cdef Py_ssize_t below(self, uint64_t value) noexcept:
        """The index of the last pair in ``spans`` starting at or before ``value``, -1 if
        none does."""
        cdef Py_ssize_t lo = 0, hi = self.n, mid
        while lo < hi:
            mid = (lo + hi) >> 1
            if self.spans[2 * mid] <= value:
                lo = mid + 1
            else:
                hi = mid
        return lo - 1

    cdef int reserve(self, Py_ssize_t pairs) except -1:
        """Room in ``spans`` for ``pairs`` pairs."""
        cdef Py_ssize_t room = max(pairs, 2 * self.room, 4)
        cdef uint64_t *grown
        if pairs > self.room:
            grown = <uint64_t *>PyMem_Realloc(self.spans, 2 * room * sizeof(uint64_t))
            if grown == NULL:
                raise MemoryError()
            self.spans = grown
            self.room = room
        return 0

    cdef int push(self, uint64_t first, uint64_t last) except -1:
        """Append a range above every pair in ``spans``."""
        self.reserve(self.n + 1)
        self.spans[2 * self.n] = first
        self.spans[2 * self.n + 1] = last
        self.n += 1
        return 0

    cdef int insert(self, uint64_t value) except -1:
        """Add an id below the last pair of ``spans`` and in none, merging it with the
        pairs it touches (the caller reserved a pair of room)."""
        cdef uint64_t *spans = self.spans
        cdef Py_ssize_t i = self.below(value), right = i + 1  # right < n: value is below it
        cdef bint joins_left = i >= 0 and spans[2 * i + 1] + 1 == value
        cdef bint joins_right = spans[2 * right] == value + 1
        if joins_left and joins_right:
            spans[2 * i + 1] = spans[2 * right + 1]
            memmove(&spans[2 * right], &spans[2 * right + 2],
                    2 * (self.n - right - 1) * sizeof(uint64_t))
            self.n -= 1
        elif joins_left:
            spans[2 * i + 1] = value
        elif joins_right:
            spans[2 * right] = value
        else:
            memmove(&spans[2 * right + 2], &spans[2 * right],
                    2 * (self.n - right) * sizeof(uint64_t))
            spans[2 * right] = spans[2 * right + 1] = value
            self.n += 1
        return 0
