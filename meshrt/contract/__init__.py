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
import re
import struct
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

ABI_VERSION: Final = 1

INT64_MAX: Final = 2**63 - 1  # prices, sizes and money are i64 on the wire
UINT64_MAX: Final = 2**64 - 1  # client order ids are u64 on the wire

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


def is_int(value: object) -> bool:
    """An integer as the contract means it: an ``int`` (an ``IntEnum`` member too), never a
    ``bool``, whatever Python would allow."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_order_id(value: object) -> bool:
    """A client order id as the contract holds it: an integer that fits a u64."""
    return is_int(value) and 0 <= value <= UINT64_MAX  # type: ignore[operator]


def price_to_int(price: float | str) -> int:
    """Convert a human price to fixed point, rounded half-even to the nearest 1e-9.

    A string is converted exactly (``"12345678.123456789"`` stays exact); a float
    goes through its shortest repr, so ``0.1`` means one tenth.
    """
    return int((Decimal(str(price)) * PRICE_SCALE).to_integral_value(ROUND_HALF_EVEN))


def size_to_int(size: float | str) -> int:
    """Convert a human size to fixed point, rounded half-even to the nearest 1e-8."""
    return int((Decimal(str(size)) * SIZE_SCALE).to_integral_value(ROUND_HALF_EVEN))


def mid_price(bid: int, ask: int) -> int:
    """The mid of a best bid and a best ask, floor((bid + ask) / 2) in price units: the one
    mid rule (features, risk references, equity marks). The compiled mirrors, which must
    agree: ``mid_of`` in meshrt/venues/_feed.pxd (the feed's features, the risk gate's
    ``mid``) and the features in meshrt/loaders/_pack.pyx (tests/test_book.py,
    tests/test_risk.py, tests/test_compiled_rules.py)."""
    return (bid + ask) // 2


def notional(price: int, size: int) -> int:
    """Value of ``size`` at ``price`` in price units (1e-9 quote), truncated toward zero:
    the one notional rule. Its compiled mirror, ``notional`` in
    meshrt/loaders/_pack.pyx (a compiled algo's unrealized PnL), is compared with it
    by tests/test_compiled_rules.py."""
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


# -- structs added for compiled algos (C SDK, WASM and native loaders) -------------

MAX_LABEL: Final = 64  # bytes of a sender label a compiled algo can receive

# client order id u64, price i64 (0 for a market order), size i64, filled i64,
# symbol id u16, side u8, flags u8 (ORDER_ACCEPTED | ORDER_PENDING | ORDER_HAS_PRICE), pad u32
ORDER = struct.Struct("<QqqqHBBI")
ORDER_ACCEPTED: Final = 1
ORDER_PENDING: Final = 2
ORDER_HAS_PRICE: Final = 4

# ts i64, sender length u16, payload length u16, pad u32, sender 64 bytes, payload 256 bytes
MESSAGE = struct.Struct(f"<qHHI{MAX_LABEL}s{MAX_PAYLOAD}s")

# count u32, refused u32, then MAX_ACTIONS ACTION structs
ACTIONS_HEADER = struct.Struct("<II")
ACTIONS_SIZE: Final = ACTIONS_HEADER.size + MAX_ACTIONS * ACTION.size

SYMBOL_DEFAULT: Final = 0  # action symbol id 0: the deployment's first symbol
SYMBOL_ALL: Final = 0xFFFF  # cancel-all symbol id: every symbol

# The I/O area a compiled algo shares with its host: each callback's inputs are written
# at fixed offsets before the call, and the algo writes its actions into ``actions``.
# (name, size) in order; every member starts 8-byte aligned.
IO_MEMBERS: Final = (
    ("book", BOOK.size),
    ("state", ALGO_STATE.size),
    ("features", FEATURES.size),
    ("fill", FILL.size),
    ("reject", REJECT.size),
    ("nbbo", NBBO_SIZE),
    ("message", MESSAGE.size),
    ("symbol", 8),  # u32 symbol id for on_subscribed / on_unsubscribed, pad u32
    ("actions", ACTIONS_SIZE),
)


def _offsets(members: tuple[tuple[str, int], ...]) -> dict[str, int]:
    offsets, at = {}, 0
    for name, size in members:
        assert at % 8 == 0, name
        offsets[name] = at
        at += size
    offsets["size"] = at
    return offsets


IO_OFFSETS: Final = _offsets(IO_MEMBERS)
IO_SIZE: Final = IO_OFFSETS["size"]

# Callback indexes shared by the host table, the WASM exports and the native vtable:
# the three required callbacks, then the optional ones (sdk.REQUIRED_CALLBACKS and
# sdk.OPTIONAL_CALLBACKS are its two parts; capability bit i is optional callback i).
CALLBACK_NAMES: Final = (
    "on_book",
    "on_fill",
    "on_reject",
    "on_nbbo",
    "on_message",
    "on_heartbeat",
    "on_start",
    "on_stop",
    "on_pause",
    "on_resume",
    "on_subscribed",
    "on_unsubscribed",
    "on_shutdown",
)


# -- field tables: the C names of every field, for checking meshrt.h -------------------


def _names(prefix: str, names: str) -> list[str]:
    return [f"{prefix}{name}" for name in names.split()]


def _levels(side: str) -> list[str]:
    return [f"{side}[{i}].{part}" for i in range(BOOK_DEPTH) for part in ("price", "size")]


def _nbbo_fields() -> list[str]:
    names = _names(
        "", "ts symbol venue_count bid_venue ask_venue bid_price bid_size ask_price ask_size"
    )
    for i in range(MAX_NBBO_VENUES):
        names += _names(f"venues[{i}].", "venue _pad0 _pad1 bid_price bid_size ask_price ask_size")
    return names


_ACTION_NAMES = _names(
    "", "kind side tif _pad0 symbol _pad1 client_order_id target_order_id price size"
)

# C struct name -> (struct.Struct, C field names in format order; names starting with
# "_pad" (or containing "._pad") are padding and are not checked)
FIELD_TABLES: Final = {
    "mr_book": (
        BOOK,
        _names("", "ts symbol venue bid_count ask_count") + _levels("bids") + _levels("asks"),
    ),
    "mr_action": (ACTION, _ACTION_NAMES),
    "mr_fill": (
        FILL,
        _names("", "ts order_id symbol venue side liquidity _pad0 price size fee remaining"),
    ),
    "mr_reject": (REJECT, _names("", "ts order_id reason action _pad0 _pad1")),
    "mr_state": (
        ALGO_STATE,
        _names(
            "", "now position cash realized_pnl unrealized_pnl fees next_order_id open_orders _pad0"
        ),
    ),
    "mr_features": (FEATURES, _names("", "mid microprice spread imbalance volatility trade_flow")),
    "mr_nbbo": (
        struct.Struct(NBBO_HEADER.format + NBBO_VENUE.format[1:] * MAX_NBBO_VENUES),
        _nbbo_fields(),
    ),
    "mr_open_order": (ORDER, _names("", "order_id price size filled symbol side flags _pad0")),
    "mr_message": (MESSAGE, _names("", "ts sender_len payload_len _pad0 sender payload")),
    "mr_actions": (
        struct.Struct(ACTIONS_HEADER.format + ACTION.format[1:] * MAX_ACTIONS),
        ["count", "refused"]
        + [f"items[{i}].{name}" for i in range(MAX_ACTIONS) for name in _ACTION_NAMES],
    ),
}


def field_offsets(table: str) -> dict[str, tuple[int, int]]:
    """C field name -> (offset, size) of one struct in FIELD_TABLES, padding left out."""
    layout, names = FIELD_TABLES[table]
    codes = re.findall(r"\d*[a-zA-Z]", layout.format[1:])
    assert len(codes) == len(names), table
    out: dict[str, tuple[int, int]] = {}
    prefix = layout.format[0]
    for code, name in zip(codes, names, strict=True):
        offset = struct.calcsize(prefix)
        prefix += code
        if not name.startswith("_pad") and "._pad" not in name:
            out[name] = (offset, struct.calcsize(prefix) - offset)
    return out


assert ORDER.size == 40
assert MESSAGE.size == 336
assert ACTIONS_SIZE == 648
assert IO_SIZE == 2208
