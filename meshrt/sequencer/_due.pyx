"""What falls due in a window: the order arrivals a venue takes, a deployment's inbound
deliveries and timers (timers first on ties), and what a stepped instance's mailbox does
with deliveries past its capacity (the window driver, _window.pyx, and the sequencer's
rounds as tasks, actor.py, both take them from here: one rule).
"""

import heapq

import trio

from meshrt.actors.protocol import CrashOut, Output


cdef list arrivals_before(list queue, object next_time, int64_t until):
    """The order arrivals (and feed switches) a venue takes before ``until``, or None
    when it has nothing to do in this window."""
    cdef Py_ssize_t due = 0, n = PyList_GET_SIZE(queue)
    if n and head_time(queue) < until:
        while due < n and first(<object>PyList_GET_ITEM(queue, due)) < until:
            due += 1
        arrivals = queue[:due]
        del queue[:due]
        return arrivals
    if next_time is not None and <int64_t>next_time < until:
        return []
    return None


cdef list deliveries_before(list inbound, list timers, int64_t until):
    """A deployment's inbound items and timers before ``until``, timers first on ties."""
    cdef Py_ssize_t due = 0, n = PyList_GET_SIZE(inbound)
    while due < n and delivery_time(<object>PyList_GET_ITEM(inbound, due)) < until:
        due += 1
    cdef list items
    if due == 0:
        items = []
    else:
        items = inbound[:due]
        del inbound[:due]
    if PyList_GET_SIZE(timers) and head_time(timers) < until:
        fired = []
        while PyList_GET_SIZE(timers) and head_time(timers) < until:
            fired.append(heapq.heappop(timers)[2])
        # timers go before inbound items of the same time (lifecycle before data)
        items = list(heapq.merge(fired, items, key=delivery_ts))
    return items


def delivery_ts(item):
    """A delivery's time (BookDelivery is no tuple)."""
    return delivery_time(item)


def due_arrivals(lane, int64_t until):
    """What ``lane``'s venue takes before ``until`` (None: it has nothing to do)."""
    return arrivals_before(lane.arrivals, lane.next_time, until)


def due_deliveries(dep, int64_t until):
    """What ``dep`` gets this window: its inbound items and timers before ``until``."""
    return deliveries_before(dep.inbound, dep.timers, until)


def hand_past_capacity(instance, list items not None):
    """Deliveries that do not pass straight through a stepped instance's mailbox: one by
    one under its policy when they overflow it; behind a full BLOCK mailbox the instance
    first takes what is queued, as its task would while the sender waits."""
    box = instance.mailbox
    if len(box) + len(items) <= box.capacity:
        box.send_many_nowait(items)
        return
    for item in items:
        try:
            box.send_nowait(item)
        except trio.WouldBlock:
            instance.step(box.take_all())
            box.send_nowait(item)


def crash_overflowed(list outputs not None, list overflowed not None, int64_t now):
    """A deployment whose FAIL mailbox overflowed crashes at ``now``, in merge order."""
    cdef Py_ssize_t k
    for dep, error in overflowed:
        k = 0
        while k < len(outputs) and outputs[k][0] < now:
            k += 1
        outputs.insert(k, Output(now, dep.instance.index, CrashOut(now, f"MailboxFull: {error}")))
