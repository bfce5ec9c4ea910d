# What is due in a window, at C level (_due.pyx): the window driver (_window.pyx) reads a
# timed item's time and takes a venue's arrivals and a deployment's deliveries through it.

from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.tuple cimport PyTuple_Check, PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport INT64_MAX, int64_t

from meshrt.actors._deliveries cimport BookDelivery


cdef inline object first(object item):
    """A (time, ...) tuple's (or NamedTuple's) time."""
    if not PyTuple_Check(item) or PyTuple_GET_SIZE(item) < 1:
        raise TypeError(f"{type(item).__name__} is not a timed tuple")
    return <object>PyTuple_GET_ITEM(item, 0)


cdef inline int64_t delivery_time(object item) except? -1:
    """A delivery's time: a BookDelivery's field, a NamedTuple's first item."""
    if type(item) is BookDelivery:
        return (<BookDelivery>item).ts
    return first(item)


cdef inline int64_t head_time(list items) except? -1:
    """The time of a sorted list of (time, ...) tuples' first item, INT64_MAX when empty."""
    if not PyList_GET_SIZE(items):
        return INT64_MAX  # nothing: later than any time
    return first(<object>PyList_GET_ITEM(items, 0))


cdef list arrivals_before(list queue, object next_time, int64_t until)
cdef list deliveries_before(list inbound, list timers, int64_t until)
