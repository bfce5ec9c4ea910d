# IntentDesk's C face: the output ingress (meshrt/sequencer/outputs.pyx) commits actions
# through it in C.

from meshrt.sequencer.orders cimport OrderStateMachine
from meshrt.sequencer.seat cimport Seat


cdef class IntentDesk:
    cdef public object journal
    cdef object replay_log  # journal.log
    cdef public list lanes
    cdef public OrderStateMachine orders
    cdef public set cancel_on_accept
    cdef dict seats  # deployment -> its Seat

    cdef Seat seat(self, object dep)
    cpdef commit_action(self, object ts, object dep, object action)
    cdef new_order(self, object ts, object dep, Seat seat, list lines, int code, object kind,
                   object side, object tif, object client_id, object price, object size,
                   object symbol)
    cdef cancel(self, object ts, object dep, Seat seat, object target)
    cdef replace(self, object ts, object dep, Seat seat, list lines, object target,
                 object price, object size)
    cdef cancel_all(self, object ts, object dep, Seat seat, object symbol)
    cdef object named_order(self, object ts, object dep, Seat seat, object target, int kind)
    cdef refuse_ended(self, object ts, object dep, object target, int kind, str state)
    cdef object next_seq(self)
    cdef log(self, bytes line)
    cpdef send_cancel(self, object ts, object dep, object order, str cause,
                      object already_pending=*)
    cpdef reject(self, object ts, object dep, object client_id, object kind, object reason,
                 str detail)
