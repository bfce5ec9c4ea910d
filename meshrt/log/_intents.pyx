"""The intent desk's replay-log records, built in C: ``intent``, ``order_created``,
``replace_sent``, ``cancel_sent`` and ``intent_rejected`` (meshrt/log/schema.py).

Why compiled: every action an algo takes writes one of these lines, often two, and
building each from a fresh list through ``orjson.dumps`` was a third of what an action
cost to commit. Here a line is written straight into a buffer: ints that fit an int64,
None, and strings orjson would not escape. Any other value (a float, a bool, an object an
algo passed, a str subclass, an int outside int64) sends the whole record to its Python
builder in meshrt/log/records.py, so the bytes are orjson's by construction;
tests/test_intent_records.py holds each builder here to its Python twin on random
values.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.string cimport memcpy

from meshrt.log._jsonbuf cimport (
    Buf,
    buf_bytes,
    buf_char,
    buf_free,
    buf_init,
    buf_put,
    buf_reserve,
    put_i64,
    put_plain_str,
)

import orjson

from meshrt.contract import ActionKind, Side, TimeInForce
from meshrt.log import records, schema

cdef object dumps = orjson.dumps
# int subclasses whose value is what the log shows (records.loggable's int(value))
cdef object T_KIND = ActionKind, T_SIDE = Side, T_TIF = TimeInForce
cdef bytes ALGO_HEAD = b'"sequencer",'


cdef bytes record_name(object record):
    """``"name",`` of a record type, escaped by orjson."""
    return dumps(record.name) + b","


cdef bytes INTENT = record_name(schema.INTENT)
cdef bytes ORDER_CREATED = record_name(schema.ORDER_CREATED)
cdef bytes REPLACE_SENT = record_name(schema.REPLACE_SENT)
cdef bytes CANCEL_SENT = record_name(schema.CANCEL_SENT)
cdef bytes INTENT_REJECTED = record_name(schema.INTENT_REJECTED)
cdef bytes CREATED_SUBMITTED = b',"CREATED","SUBMITTED"'


# ---- values: 0 written, 1 left to the Python builder ---------------------------------

cdef inline int put_str(Buf *b, object text) except -1:
    """An exact str, escaped as orjson does (orjson itself when it needs escaping)."""
    if type(text) is not str:
        return 1
    if put_plain_str(b, <str>text) == 0:
        return 0
    return buf_bytes(b, dumps(text))


cdef inline int put_int(Buf *b, object value) except -1:
    """An exact int or a contract enum member, if it fits an int64."""
    kind = type(value)
    if kind is int or kind is T_KIND or kind is T_SIDE or kind is T_TIF:
        return put_i64(b, value)
    return 1


cdef inline int put_scalar(Buf *b, object value) except -1:
    """An intent field as records.loggable logs it: None, an int, a str."""
    if value is None:
        return buf_put(b, b"null", 4)
    if type(value) is str:
        return put_str(b, value)
    return put_int(b, value)


cdef int put_head(Buf *b, object seq, object ts) except -1:
    """``[seq,ts,ts,``, the times every record of the desk's is committed at (``ts``
    formatted once, copied)."""
    cdef Py_ssize_t start
    buf_char(b, b"[")
    if put_int(b, seq) or buf_char(b, b","):
        return 1
    start = b.len
    if put_int(b, ts):
        return 1
    cdef Py_ssize_t n = b.len - start
    buf_reserve(b, n + 2)
    b.p[b.len] = b","
    memcpy(b.p + b.len + 1, b.p + start, <size_t>n)
    b.p[b.len + n + 1] = b","
    b.len += n + 2
    return 0


cdef int put_place(Buf *b, object venue, object symbol) except -1:
    """``"venue",symbol,``: the symbol a str or None (null)."""
    if put_str(b, venue) or buf_char(b, b","):
        return 1
    if symbol is None:
        buf_put(b, b"null", 4)
    elif put_str(b, symbol):
        return 1
    return buf_char(b, b",")


cdef inline bytes finish(Buf *b):
    """``]`` and ``,null]`` (no key) after the payload: the line."""
    buf_put(b, b"],null]", 7)
    return PyBytes_FromStringAndSize(b.p, b.len)


# ---- the records ---------------------------------------------------------------------

cpdef bytes intent(object seq, object ts, object source, object venue, object symbol,
                   object action):
    """records.intent(seq, ts, source, venue, symbol, action[:7]): an algo's action as it
    gave it (``action`` a tuple of at least seven fields)."""
    cdef Buf b
    cdef Py_ssize_t i
    cdef tuple fields
    if type(action) is not tuple or len(<tuple>action) < 7 or not (
        symbol is None or type(symbol) is str
    ):
        return records.intent(seq, ts, source, venue, symbol, action[:7])
    fields = <tuple>action
    buf_init(&b)
    try:
        if (
            put_head(&b, seq, ts)
            or put_str(&b, source)
            or buf_char(&b, b",")
            or put_place(&b, venue, symbol if symbol else None)  # records.text: "" is null
            or buf_bytes(&b, INTENT)
            or buf_char(&b, b"[")
        ):
            return records.intent(seq, ts, source, venue, symbol, action[:7])
        for i in range(7):
            if i:
                buf_char(&b, b",")
            if put_scalar(&b, fields[i]):
                return records.intent(seq, ts, source, venue, symbol, action[:7])
        return finish(&b)
    finally:
        buf_free(&b)


cpdef bytes order_created(object seq, object ts, object venue, object symbol, object order_id,
                          object label, object client_id):
    """records.order_created: a checked intent became order ``order_id``."""
    cdef Buf b
    buf_init(&b)
    try:
        if (
            put_head(&b, seq, ts)
            or buf_bytes(&b, ALGO_HEAD)
            or put_place(&b, venue, symbol)
            or buf_bytes(&b, ORDER_CREATED)
            or buf_char(&b, b"[")
            or put_int(&b, order_id)
            or buf_char(&b, b",")
            or put_str(&b, label)
            or buf_char(&b, b",")
            or put_int(&b, client_id)
        ):
            return records.order_created(seq, ts, venue, symbol, order_id, label, client_id)
        buf_bytes(&b, CREATED_SUBMITTED)
        return finish(&b)
    finally:
        buf_free(&b)


cpdef bytes replace_sent(
    object seq,
    object ts,
    object venue,
    object symbol,
    object order_id,
    object label,
    object price,
    object size,
):
    """records.replace_sent: a checked replace left for the venue."""
    cdef Buf b
    buf_init(&b)
    try:
        if (
            put_head(&b, seq, ts)
            or buf_bytes(&b, ALGO_HEAD)
            or put_place(&b, venue, symbol)
            or buf_bytes(&b, REPLACE_SENT)
            or buf_char(&b, b"[")
            or put_int(&b, order_id)
            or buf_char(&b, b",")
            or put_str(&b, label)
            or buf_char(&b, b",")
            or (buf_put(&b, b"null", 4) if price is None else put_int(&b, price))
            or buf_char(&b, b",")
            or put_int(&b, size)
        ):
            return records.replace_sent(seq, ts, venue, symbol, order_id, label, price, size)
        return finish(&b)
    finally:
        buf_free(&b)


cpdef bytes cancel_sent(
    object seq,
    object ts,
    object venue,
    object symbol,
    object order_id,
    object label,
    object cause,
    object before,
    object after,
):
    """records.cancel_sent: a cancel left for the venue (``cause``: intent, cancel_all,
    crash), the order's status before and after."""
    cdef Buf b
    buf_init(&b)
    try:
        if (
            put_head(&b, seq, ts)
            or buf_bytes(&b, ALGO_HEAD)
            or put_place(&b, venue, symbol)
            or buf_bytes(&b, CANCEL_SENT)
            or buf_char(&b, b"[")
            or put_int(&b, order_id)
            or buf_char(&b, b",")
            or put_str(&b, label)
            or buf_char(&b, b",")
            or put_str(&b, cause)
            or buf_char(&b, b",")
            or put_str(&b, before)
            or buf_char(&b, b",")
            or put_str(&b, after)
        ):
            return records.cancel_sent(
                seq, ts, venue, symbol, order_id, label, cause, before, after
            )
        return finish(&b)
    finally:
        buf_free(&b)


cpdef bytes intent_rejected(object seq, object ts, object venue, object label,
                            object client_id, object reason, object detail):
    """records.intent_rejected: an intent refused, with the reason's name and why."""
    cdef Buf b
    buf_init(&b)
    try:
        if (
            put_head(&b, seq, ts)
            or buf_bytes(&b, ALGO_HEAD)
            or put_place(&b, venue, None)
            or buf_bytes(&b, INTENT_REJECTED)
            or buf_char(&b, b"[")
            or put_str(&b, label)
            or buf_char(&b, b",")
            or put_scalar(&b, client_id)
            or buf_char(&b, b",")
            or put_str(&b, reason)
            or buf_char(&b, b",")
            or put_str(&b, detail)
        ):
            return records.intent_rejected(seq, ts, venue, label, client_id, reason, detail)
        return finish(&b)
    finally:
        buf_free(&b)
