/* Small CPython helpers shared by meshrt's C extensions' hot loops.
 *
 * Ints: PyLong_AsLongLong costs a call and a few branches per int; every price, size
 * and time on the hot path is below 2**60, one or two 30-bit digits, read in place.
 * Slots: an attribute of a slotted class read at its offset, without a lookup.
 */
#ifndef MESHRT_CPYTHON_H
#define MESHRT_CPYTHON_H

#include <Python.h>
#include <structmember.h>
#include <stdint.h>

/* An int of at most two digits (below 2**60 in magnitude), read in place: 1 and its
 * value in *v, else 0. Any int subclass, bool too: the caller checks the type. */
static inline int small_int(PyObject *o, int64_t *v) {
#if PY_VERSION_HEX < 0x030C0000
    Py_ssize_t n = Py_SIZE(o);
    const digit *d = ((PyLongObject *)o)->ob_digit;
    switch (n) {
    case 0: *v = 0; return 1;
    case 1: *v = (int64_t)d[0]; return 1;
    case -1: *v = -(int64_t)d[0]; return 1;
    case 2: *v = (int64_t)d[0] | ((int64_t)d[1] << PyLong_SHIFT); return 1;
    case -2: *v = -((int64_t)d[0] | ((int64_t)d[1] << PyLong_SHIFT)); return 1;
    default: return 0;
    }
#else
    if (!PyUnstable_Long_IsCompact((PyLongObject *)o)) return 0;
    *v = (int64_t)PyUnstable_Long_CompactValue((PyLongObject *)o);
    return 1;
#endif
}

/* An int's value, or -1 with *err set (OverflowError / TypeError raised). */
static inline int64_t as_i64(PyObject *o, int *err) {
    int64_t v;
    if (PyLong_CheckExact(o) && small_int(o, &v)) return v;
    long long r = PyLong_AsLongLong(o);
    if (r == -1 && PyErr_Occurred()) *err = 1;
    return (int64_t)r;
}

/* The offset of a slotted class's attribute `name` (a T_OBJECT_EX member), or -1 when
 * it is not one: the caller then falls back to a normal attribute lookup. */
static Py_ssize_t slot_offset(PyTypeObject *type, PyObject *name) {
    PyObject *descr = PyObject_GetAttr((PyObject *)type, name);
    if (descr == NULL) { PyErr_Clear(); return -1; }
    Py_ssize_t offset = -1;
    if (Py_TYPE(descr) == &PyMemberDescr_Type) {
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type == T_OBJECT_EX) offset = member->offset;
    }
    Py_DECREF(descr);
    return offset;
}

#endif
