# The intent desk's records (meshrt/log/_intents.pyx), called from C by the desk
# (meshrt/sequencer/desk.pyx) and from Python by the tests.

cpdef bytes intent(object seq, object ts, object source, object venue, object symbol,
                   object action)
cpdef bytes order_created(object seq, object ts, object venue, object symbol, object order_id,
                          object label, object client_id)
cpdef bytes replace_sent(object seq, object ts, object venue, object symbol, object order_id,
                         object label, object price, object size)
cpdef bytes cancel_sent(object seq, object ts, object venue, object symbol, object order_id,
                        object label, object cause, object before, object after)
cpdef bytes intent_rejected(object seq, object ts, object venue, object label,
                            object client_id, object reason, object detail)
