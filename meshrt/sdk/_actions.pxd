# The action buffer's C face: the instance's delivery loop (meshrt/actors/_deliver.pyx)
# reads a callback's buffer and marks a refused request's order in C.

cdef class Actions:
    cdef readonly list _buffer
    cdef object _state, _default_symbol
    cdef public Py_ssize_t refused

    cdef int reserve(self) except -1
    cdef object new_id(self)
    cdef object place(self, object kind, object side, object tif, object price, object size,
                      object symbol)
    cdef int mark_pending(self, object order_id) except -1


cpdef object with_pending(object order, bint pending)
