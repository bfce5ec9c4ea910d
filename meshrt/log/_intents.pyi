"""Types of the Cython module meshrt/log/_intents.pyx: each builder writes the bytes of
its namesake in meshrt/log/records.py."""

from typing import Any

def intent(
    seq: int, ts: int, source: str, venue: str, symbol: Any, action: tuple[Any, ...]
) -> bytes:
    """records.intent(seq, ts, source, venue, symbol, action[:7])."""

def order_created(
    seq: int, ts: int, venue: str, symbol: str, order_id: int, label: str, client_id: int
) -> bytes: ...
def replace_sent(
    seq: int,
    ts: int,
    venue: str,
    symbol: str,
    order_id: int,
    label: str,
    price: int | None,
    size: int,
) -> bytes: ...
def cancel_sent(
    seq: int,
    ts: int,
    venue: str,
    symbol: str,
    order_id: int,
    label: str,
    cause: str,
    before: str,
    after: str,
) -> bytes: ...
def intent_rejected(
    seq: int, ts: int, venue: str, label: str, client_id: Any, reason: str, detail: str
) -> bytes: ...
