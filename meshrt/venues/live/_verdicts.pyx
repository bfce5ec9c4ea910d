"""``Feed`` values (meshrt/venues/live/verdicts.py) built in C, for the compiled book rules.

Why: a frame's rule makes one ``Feed``, and the attrs class's generated ``__init__``,
which only sets its two slots, cost more in Python than the rest of a common frame's
rule. Here the slots are set directly; tests/test_coinbase_scan.py checks the values are
``Feed``s equal, hashing and pickling as the class makes them. If ``Feed`` gains a field,
a validator or a converter, ``feed`` follows.
"""

from cpython.object cimport PyObject_GenericSetAttr
from cpython.type cimport PyType_GenericAlloc

from meshrt.venues.live.verdicts import Feed

cdef object FEED = Feed
cdef object SYMBOL = "symbol"
cdef object EVENTS = "events"


cdef object feed(object symbol, tuple events):
    """``Feed(symbol, events)``, its two slots set directly."""
    value = PyType_GenericAlloc(FEED, 0)
    PyObject_GenericSetAttr(value, SYMBOL, symbol)
    PyObject_GenericSetAttr(value, EVENTS, events)
    return value

