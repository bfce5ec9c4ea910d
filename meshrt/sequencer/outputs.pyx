"""Instance output ingress: what an algo did in a window, committed by its type.

Actions go to the intent desk, subscriptions and messages to the mesh bridge, crashes
to supervision; ``set_param`` and ``log`` are recorded here. What a crashed instance
did after its crash is not committed.

Compiled so an action, by far the most common output, reaches the desk in C.
"""

from cpython.tuple cimport PyTuple_GET_ITEM

from meshrt.sequencer.desk cimport IntentDesk

from meshrt.actors.protocol import (
    ActionOut,
    CrashOut,
    MessageOut,
    SetParamOut,
    SubscribeOut,
    UndeliveredOut,
)
from meshrt.log import records

cdef type T_ACTION = ActionOut


cdef class OutputIngress:
    """OutputIngress(journal, lanes, deployed, desk, bridge, supervisor)"""

    cdef public object journal
    cdef public list lanes, deployed
    cdef public IntentDesk desk
    cdef public object bridge, supervisor

    def __init__(self, journal, list lanes not None, list deployed not None,
                 IntentDesk desk not None, bridge, supervisor):
        self.journal = journal
        self.lanes = lanes
        self.deployed = deployed
        self.desk = desk
        self.bridge = bridge
        self.supervisor = supervisor

    def commit(self, list events not None, Py_ssize_t start, Py_ssize_t stop):
        """Commit instance outputs events[start:stop], each by its type."""
        deployed = self.deployed
        desk = self.desk
        for k in range(start, stop):
            ts, index, out = events[k]
            dep = deployed[index]
            if type(out) is T_ACTION:  # the common case, in C
                if dep.crashed is None:
                    desk.commit_action(ts, dep, <object>PyTuple_GET_ITEM(out, 1))
            elif isinstance(out, UndeliveredOut):
                self.bridge.receiver_down(out.sender, dep.label)
            elif isinstance(out, CrashOut):
                self.supervisor.commit_crash(ts, dep, out.error)
            elif dep.crashed is not None:
                continue  # what a crashed instance did after its crash is not committed
            elif isinstance(out, SubscribeOut):
                self.bridge.commit_subscription(ts, dep, out.symbol, out.on)
            elif isinstance(out, MessageOut):
                self.bridge.commit_message(ts, dep, out.label, out.payload)
            else:
                journal = self.journal
                journal.seq += 1
                venue = self.lanes[dep.venue].name
                journal.log.lines.append(
                    records.set_param(journal.seq, ts, dep.source, venue, out.name, out.value)
                    if isinstance(out, SetParamOut)
                    else records.algo_log(journal.seq, ts, dep.source, venue, out.message)
                )
