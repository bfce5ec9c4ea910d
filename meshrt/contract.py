"""The contract: the one definition of the data an algo sees.

Every loader (Python, WASM, native) sees exactly these values. The fixed-layout
little-endian structs below are the wire form handed to WASM and native code; the
Python loader hands the same fields as Python objects. Any layout change bumps
``ABI_VERSION``.

Units: prices are integers in 1e-9 quote units, sizes integers in 1e-8 base units,
times integers in nanoseconds of scenario time. Money (cash, fees, PnL) is in price
units, i.e. 1e-9 quote units.
"""

from __future__ import annotations

import enum
import struct
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

ABI_VERSION: Final = 1

PRICE_SCALE: Final = 1_000_000_000
SIZE_SCALE: Final = 100_000_000

BOOK_DEPTH: Final = 20
MAX_ACTIONS: Final = 16
MAX_MESSAGES: Final = 16
MAX_PAYLOAD: Final = 256
MAX_NBBO_VENUES: Final = 8


class Side(enum.IntEnum):
    BUY = 1
    SELL = 2


class ActionKind(enum.IntEnum):
    LIMIT = 1
    MARKET = 2
    CANCEL = 3
    REPLACE = 4
    CANCEL_ALL = 5


class TimeInForce(enum.IntEnum):
    GTC = 0
    IOC = 1
    POST_ONLY = 2


class Liquidity(enum.IntEnum):
    MAKER = 1
    TAKER = 2


class RejectReason(enum.IntEnum):
    """Why an intent or order was refused; the algo sees it in ``on_reject``."""

    INVALID_SIZE = 1
    INVALID_PRICE = 2
    UNKNOWN_SYMBOL = 3
    UNKNOWN_ORDER = 4
    DUPLICATE_ORDER_ID = 5
    ILLEGAL_TRANSITION = 6
    NOT_RUNNING = 7
    POST_ONLY_WOULD_CROSS = 8
    NO_LIQUIDITY = 9
    RISK_MAX_ORDER_SIZE = 10
    RISK_MAX_POSITION = 11
    RISK_MAX_NOTIONAL = 12
    RISK_MAX_OPEN_ORDERS = 13
    RISK_ORDER_RATE = 14
    INVALID_ACTION = 15


def price_to_int(price: float | str) -> int:
    """Convert a human price to fixed point, rounded half-even to the nearest 1e-9.

    A string is converted exactly (``"12345678.123456789"`` stays exact); a float
    goes through its shortest repr, so ``0.1`` means one tenth.
    """
    return int((Decimal(str(price)) * PRICE_SCALE).to_integral_value(ROUND_HALF_EVEN))


def size_to_int(size: float | str) -> int:
    """Convert a human size to fixed point, rounded half-even to the nearest 1e-8."""
    return int((Decimal(str(size)) * SIZE_SCALE).to_integral_value(ROUND_HALF_EVEN))



def notional(price: int, size: int) -> int:
    """Value of ``size`` at ``price`` in price units (1e-9 quote), truncated toward zero."""
    value = price * size
    return value // SIZE_SCALE if value >= 0 else -((-value) // SIZE_SCALE)


# -- wire layouts -------------------------------------------------------------------
# Each struct is little-endian with explicit padding so C sees the same offsets.

# header: timestamp i64, symbol id u16, venue id u16, bid count u16, ask count u16
BOOK_HEADER = struct.Struct("<qHHHH")
# 20 bid levels then 20 ask levels, each (price i64, size i64), best first
BOOK_LEVELS = struct.Struct("<" + "qq" * (2 * BOOK_DEPTH))
BOOK = struct.Struct("<qHHHH" + "qq" * (2 * BOOK_DEPTH))

# kind u8, side u8, tif u8, pad u8, symbol u16, pad u16,
# client order id u64, target order id u64, price i64, size i64
ACTION = struct.Struct("<BBBBHHQQqq")

# ts i64, client order id u64, symbol u16, venue u16, side u8, liquidity u8, pad u16,
# price i64, size i64, fee i64, remaining i64
FILL = struct.Struct("<qQHHBBHqqqq")

# ts i64, client order id u64, reason u16, action kind u8, pad u8, pad u32
REJECT = struct.Struct("<qQHBBI")

# now i64, position i64, cash i64, realized pnl i64, unrealized pnl i64, fees i64,
# next order id u64, open orders u32, pad u32
ALGO_STATE = struct.Struct("<qqqqqqQII")

# mid, microprice, spread, imbalance (1e-9, -1..1), volatility (1e-9 price units),
# trade flow (signed 1e-8 size), all i64
FEATURES = struct.Struct("<qqqqqq")

# ts i64, symbol u16, venue count u16, best bid venue u16, best ask venue u16,
# best bid price, best bid size, best ask price, best ask size (i64 each),
# then MAX_NBBO_VENUES x (venue u16, pad u16, pad u32, bid px, bid sz, ask px, ask sz)
NBBO_HEADER = struct.Struct("<qHHHHqqqq")
NBBO_VENUE = struct.Struct("<HHIqqqq")
NBBO_SIZE: Final = NBBO_HEADER.size + MAX_NBBO_VENUES * NBBO_VENUE.size

assert BOOK_HEADER.size == 16
assert BOOK.size == 656
assert ACTION.size == 40
assert FILL.size == 56
assert REJECT.size == 24
assert ALGO_STATE.size == 64
assert FEATURES.size == 48
assert NBBO_HEADER.size == 48
assert NBBO_VENUE.size == 40
assert NBBO_SIZE == 368
