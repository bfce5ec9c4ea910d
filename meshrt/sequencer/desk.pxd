# IntentDesk's C face: the output ingress (meshrt/sequencer/outputs.pyx) commits actions
# through it in C.

from meshrt.sequencer.orders cimport OrderStateMachine

cdef class IntentDesk:
    cdef public object journal
    cdef public list lanes
    cdef public OrderStateMachine orders
    cdef public set cancel_on_accept

    cpdef commit_action(self, object ts, object dep, object action)
    cdef new_order(self, object ts, object dep, object lane, int code, object kind, object side,
                   object tif, object client_id, object price, object size, object symbol)
    cdef cancel(self, object ts, object dep, object target)
    cdef replace(self, object ts, object dep, object lane, object target, object price,
                 object size)
    cdef cancel_all(self, object ts, object dep, object symbol)
    cdef object named_order(self, object ts, object dep, object target, int kind)
    cdef refuse_ended(self, object ts, object dep, object target, int kind, str state)
    cdef object next_seq(self)
    cdef log(self, bytes line)
    cpdef send_cancel(self, object ts, object dep, object order, str cause,
                      object already_pending=*)
    cpdef reject(self, object ts, object dep, object client_id, object kind, object reason,
                 str detail)
