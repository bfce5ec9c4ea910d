"""The read-only view of a resting algo order. The engine's own mutable state of a live
order is ``LiveOrder`` in the compiled matching engine (meshrt/venues/_matching.pyx)."""

from __future__ import annotations

import attrs


@attrs.frozen(slots=True)
class RestingOrder:
    """A read-only view of one resting algo order (checkpoints, tests, debugging)."""

    order_id: int
    side: int
    price: int
    remaining: int
    queue_ahead: int
