# The contract's range checks on what an algo gives, in C (their Python home, beside this
# file: is_int, is_order_id and the quantities' range in __init__.py), for the intent desk
# and the SDK's action buffer: inline, so each check reads the int in place and nothing
# is imported at run time.

from cpython.bool cimport PyBool_Check
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_AsUnsignedLongLong, PyLong_Check
from libc.stdint cimport int64_t


cdef enum IntKind:
    NOT_INT = 0  # not an int, or a bool (contract.is_int)
    NEGATIVE = 1  # below 0
    ZERO = 2
    POSITIVE_I64 = 3  # 1 ..= INT64_MAX
    ABOVE_I64 = 4  # beyond INT64_MAX


cdef inline IntKind int_kind(object value, int64_t *out) noexcept:
    """Where an algo's value falls for the contract's range checks; ``*out`` its value
    when it fits an int64."""
    cdef int overflow
    cdef long long x
    if not PyLong_Check(value) or PyBool_Check(value):
        return NOT_INT
    x = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow:
        return ABOVE_I64 if overflow > 0 else NEGATIVE
    out[0] = x
    return POSITIVE_I64 if x > 0 else ZERO if x == 0 else NEGATIVE


cdef inline bint is_int(object value) noexcept:
    """contract.is_int: an int (an IntEnum member too), never a bool."""
    return PyLong_Check(value) and not PyBool_Check(value)


cdef inline bint is_quantity(object value) noexcept:
    """A price or size as the contract holds it: a positive integer that fits an i64."""
    cdef int64_t x
    return int_kind(value, &x) == POSITIVE_I64


cdef inline bint is_order_id(object value) except -1:
    """contract.is_order_id: an integer that fits a u64."""
    cdef int64_t x
    cdef IntKind kind = int_kind(value, &x)
    if kind == ABOVE_I64:
        try:
            PyLong_AsUnsignedLongLong(value)
        except OverflowError:
            return False
        return True
    return kind == ZERO or kind == POSITIVE_I64
