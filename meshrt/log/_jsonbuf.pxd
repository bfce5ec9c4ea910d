# A replay-log line built in C, as orjson.dumps writes it: a growable byte buffer (on the
# stack until a line outgrows it), int64s in decimal, and strings that need no escaping
# copied between quotes. Anything else is left to orjson by the caller, so the bytes are
# orjson's by construction. Inline, so each compiled record builder gets its own copy
# (meshrt/log/_intents.pyx).

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport PyUnicode_GET_LENGTH
from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.string cimport memcpy


cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object s)
    const char *PyUnicode_DATA(object s)


cdef extern from *:
    """
    static const char MESHRT_DIGITS[201] =
        "0001020304050607080910111213141516171819202122232425262728293031323334353637383940"
        "4142434445464748495051525354555657585960616263646566676869707172737475767778798081"
        "828384858687888990919293949596979899";
    """
    const char *MESHRT_DIGITS


cdef inline void put2(char *p, uint32_t n) noexcept nogil:
    """The two digits of n < 100 at p."""
    memcpy(p, MESHRT_DIGITS + 2 * n, 2)


cdef inline void put8(char *p, uint32_t v) noexcept nogil:
    """Exactly eight digits, zero-padded."""
    cdef uint32_t hi = v // 10000, lo = v % 10000
    put2(p, hi // 100)
    put2(p + 2, hi % 100)
    put2(p + 4, lo // 100)
    put2(p + 6, lo % 100)


cdef inline int put_small(char *p, uint32_t v) noexcept nogil:
    """v < 10**8 without leading zeros; returns the count."""
    cdef int n
    if v < 10000:
        n = (1 if v < 10 else 2) if v < 100 else (3 if v < 1000 else 4)
    else:
        n = (5 if v < 100000 else 6) if v < 1000000 else (7 if v < 10000000 else 8)
    cdef int i = n
    while v >= 100:
        i -= 2
        put2(p + i, v % 100)
        v //= 100
    if v >= 10:
        put2(p, v)
    else:
        p[0] = <char>(48 + v)  # '0' + v
    return n


cdef inline int fmt_u64(char *p, uint64_t v) noexcept nogil:
    """The decimal digits of v at p (room for 20); returns the count."""
    if v < 100000000:
        return put_small(p, <uint32_t>v)
    cdef uint64_t q = v // 100000000
    cdef int n
    if q < 100000000:
        n = put_small(p, <uint32_t>q)
    else:
        n = put_small(p, <uint32_t>(q // 100000000))
        put8(p + n, <uint32_t>(q % 100000000))
        n += 8
    put8(p + n, <uint32_t>(v % 100000000))
    return n + 8


cdef inline int fmt_i64(char *p, int64_t v) noexcept nogil:
    if v >= 0:
        return fmt_u64(p, <uint64_t>v)
    p[0] = b'-'
    return 1 + fmt_u64(p + 1, <uint64_t>0 - <uint64_t>v)  # -2**63 too


cdef struct Buf:
    char *p
    Py_ssize_t len, cap
    char stack[512]


cdef inline void buf_init(Buf *b) noexcept:
    b.p = b.stack
    b.len = 0
    b.cap = sizeof(b.stack)


cdef inline void buf_free(Buf *b) noexcept:
    if b.p != b.stack:
        PyMem_Free(b.p)


cdef inline int buf_reserve(Buf *b, Py_ssize_t need) except -1:
    cdef Py_ssize_t cap = b.cap
    cdef char *p
    if b.len + need <= cap:
        return 0
    while cap < b.len + need:
        cap *= 2
    p = <char *>PyMem_Malloc(<size_t>cap)
    if p == NULL:
        raise MemoryError()
    memcpy(p, b.p, <size_t>b.len)
    buf_free(b)
    b.p = p
    b.cap = cap
    return 0


cdef inline int buf_put(Buf *b, const char *s, Py_ssize_t n) except -1:
    buf_reserve(b, n)
    memcpy(b.p + b.len, s, <size_t>n)
    b.len += n
    return 0


cdef inline int buf_char(Buf *b, char c) except -1:
    buf_reserve(b, 1)
    b.p[b.len] = c
    b.len += 1
    return 0


cdef inline int buf_bytes(Buf *b, bytes text) except -1:
    return buf_put(b, PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text))


cdef inline int put_i64(Buf *b, object value) except -1:
    """An int that fits an int64 (an int subclass by its value): 0 written, 1 not."""
    cdef int overflow
    cdef long long x = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow:
        return 1
    buf_reserve(b, 20)
    b.len += fmt_i64(b.p + b.len, x)
    return 0


cdef inline int put_plain_str(Buf *b, str text) except -1:
    """An exact str of printable ASCII without '"' or '\\' between quotes: 0 written,
    1 not (orjson escapes it)."""
    cdef Py_ssize_t i, n = PyUnicode_GET_LENGTH(text)
    cdef const char *s
    cdef char c
    if not PyUnicode_IS_ASCII(text):
        return 1
    s = PyUnicode_DATA(text)
    for i in range(n):
        c = s[i]
        if c < 32 or c == 34 or c == 92:  # control, '"', '\\'
            return 1
    buf_reserve(b, n + 2)
    b.p[b.len] = b'"'
    memcpy(b.p + b.len + 1, s, <size_t>n)
    b.p[b.len + n + 1] = b'"'
    b.len += n + 2
    return 0
