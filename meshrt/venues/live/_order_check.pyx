"""The order check of a paper venue (docs/live.md, "Reference data"): why the venue would
refuse an order's price and size, by its instrument's ``Reference``
(meshrt/venues/live/refdata.py), or None when it would accept it.

Compiled because it runs on every Submit and Replace a live venue receives
(meshrt/actors/_live_venue.pyx calls it in C, through _order_check.pxd): the order's
price and size and the reference's rules are the contract's int64s, compared as C
integers (the notional in 128 bits); the words are written only for a refusal.
"""

cimport cython
from libc.stdint cimport int64_t

from decimal import Decimal

from meshrt.contract import PRICE_SCALE, SIZE_SCALE, RejectReason
from meshrt.venues.live.refdata import Refusal

cdef extern from *:
    ctypedef long long int128 "__int128"  # gcc/clang: a price x size product never overflows

cdef int64_t SIZE_UNIT = SIZE_SCALE
cdef object INVALID_PRICE = RejectReason.INVALID_PRICE
cdef object INVALID_SIZE = RejectReason.INVALID_SIZE


@cython.cdivision(False)  # a tick or lot of 0 raises ZeroDivisionError, as Python's % does
cpdef object check_order(object ref, object price, int64_t size):
    """Why the venue would refuse an order at ``price`` (None: a market order, whose
    price and notional the venue judges at execution) for ``size`` (fixed point), or
    None when it would accept it. Off the tick: ``INVALID_PRICE``; off the lot, below
    the minimum size or below the minimum notional: ``INVALID_SIZE``."""
    cdef bint limit = price is not None
    cdef int64_t p = price if limit else 0, tick, lot, min_size
    if limit and p <= 0:
        return refusal(ref, INVALID_PRICE, "price must be positive")
    if size <= 0:
        return refusal(ref, INVALID_SIZE, "size must be positive")
    if limit:
        tick = ref.tick
        if p % tick:
            return refusal(
                ref,
                INVALID_PRICE,
                f"price {shown(p, PRICE_SCALE)} is not a multiple of the tick "
                f"{shown(tick, PRICE_SCALE)}",
            )
    lot = ref.lot
    if size % lot:
        return refusal(
            ref,
            INVALID_SIZE,
            f"size {shown(size, SIZE_SCALE)} is not a multiple of the lot "
            f"{shown(lot, SIZE_SCALE)}",
        )
    min_size = ref.min_size
    if size < min_size:
        return refusal(
            ref,
            INVALID_SIZE,
            f"size {shown(size, SIZE_SCALE)} is below the minimum {shown(min_size, SIZE_SCALE)}",
        )
    min_notional = ref.min_notional if limit else None
    if min_notional is not None and <int128>p * size < <int128><int64_t>min_notional * SIZE_UNIT:
        notional = shown(p * <object>size // SIZE_SCALE, PRICE_SCALE)
        return refusal(
            ref,
            INVALID_SIZE,
            f"notional {notional} is below the minimum {shown(min_notional, PRICE_SCALE)}",
        )
    return None


cdef object refusal(object ref, object reason, str rule):
    """The refusal, its words naming the venue's instrument."""
    return Refusal(reason, f"{ref.exchange} {ref.exchange_symbol}: {rule}")


cdef str shown(object value, object scale):
    """Fixed point as plain decimal text (``100.5``), for reasons a user reads."""
    text = format(Decimal(value) / scale, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
