"""What a deployment is allowed: its pre-trade risk limits, its WASM sandbox and its
mailbox. Plain values a scenario holds; the sequencer's ``RiskGate``, the WASM loader
and the actors' ``Mailbox`` apply them."""

from __future__ import annotations

import enum

import attrs

from meshrt.validators import count, instance_of, integer


@attrs.frozen(slots=True)
class RiskLimits:
    """All optional (None = unlimited), in contract units.

    ``max_order_size``/``max_position``: size (1e-8); ``max_notional``: money (1e-9
    quote); ``max_open_orders``: live orders; ``max_orders_per_second``: new orders and
    replaces per rolling second. How each is checked: meshrt/sequencer/risk.pyx.
    """

    max_order_size: int | None = attrs.field(default=None, validator=count)
    max_position: int | None = attrs.field(default=None, validator=count)
    max_notional: int | None = attrs.field(default=None, validator=count)
    max_open_orders: int | None = attrs.field(default=None, validator=count)
    max_orders_per_second: int | None = attrs.field(default=None, validator=count)


@attrs.frozen(slots=True)
class SandboxLimits:
    """Fuel per callback and the linear-memory cap of a WASM deployment.

    Fuel is roughly one unit per WebAssembly instruction; the default lets a callback run
    for several milliseconds, far beyond any sane on_book, while an endless loop ends in
    FuelExhausted. The memory cap bounds the module's linear memory (initial size
    included); growing past it terminates the instance. Native algos are trusted code and
    run without these limits.
    """

    fuel_per_callback: int = attrs.field(
        default=10_000_000, validator=integer("a positive integer (within 64 bits)", 1)
    )
    memory_bytes: int = attrs.field(
        default=16 * 1024 * 1024,
        validator=integer(
            "a positive integer of bytes, at most 4 GiB (32-bit WebAssembly)", 1, 2**32
        ),
    )


class Overflow(enum.Enum):
    """What a full mailbox does with one more droppable item."""

    BLOCK = "block"  # the sender waits for room
    DROP_NEWEST = "drop_newest"  # the new item is dropped and counted
    DROP_OLDEST = "drop_oldest"  # the oldest droppable item is dropped and counted
    CONFLATE = "conflate"  # the queued item with the same key is replaced by the new one
    FAIL = "fail"  # the sender gets MailboxFull


@attrs.frozen(slots=True)
class MailboxConfig:
    """A mailbox's capacity and what it does when full (meshrt/actors/mailbox.py)."""

    capacity: int = attrs.field(
        default=65536, validator=integer("an integer of items in [1, 2**31 - 1]", 1, 2**31 - 1)
    )
    overflow: Overflow = attrs.field(
        default=Overflow.BLOCK,
        validator=instance_of(
            Overflow, "an Overflow (BLOCK, DROP_NEWEST, DROP_OLDEST, CONFLATE or FAIL)"
        ),
    )
