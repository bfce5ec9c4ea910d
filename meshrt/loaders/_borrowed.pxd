# Borrowed access: the dispatcher's hot path reads tuples and slots without reference
# counting.
#
# Cython's ``<object>``/``<tuple>`` values own a reference (an incref and a decref per
# item read); on_book reads ~15 items per call, each converted to a C int at once. These
# are the public C API declared on ``PyObject *``: the reference stays borrowed.

from cpython.object cimport PyObject
from libc.stdint cimport int64_t

cdef extern from "Python.h":
    PyObject *item "PyTuple_GET_ITEM" (PyObject *t, Py_ssize_t i) noexcept
    Py_ssize_t size "PyTuple_GET_SIZE" (PyObject *t) noexcept
    bint is_tuple "PyTuple_Check" (PyObject *o) noexcept
    PyObject *dict_get "PyDict_GetItemWithError" (object d, PyObject *key) except? NULL
    ctypedef struct PyMemberDef:
        const char *name
        int type
        Py_ssize_t offset
    enum:
        Py_tp_members
    void *PyType_GetSlot(type cls, int slot) except? NULL

cdef extern from "structmember.h":
    enum:
        T_OBJECT_EX


cdef inline int64_t i64(PyObject *o) except? -1:
    """A borrowed int's value (Cython's conversion: OverflowError/TypeError as int())."""
    return <int64_t><object>o
