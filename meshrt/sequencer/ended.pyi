"""Types of the Cython module meshrt/sequencer/ended.pyx."""

from collections import Counter
from typing import final

from meshrt.sequencer.order import Order, OrderStatus

@final
class Tombstone:
    """What stays of a settled order until its horizon (the strings are shared, not copies)."""

    def __init__(
        self,
        order_id: int,
        deployment: str,
        client_id: int,
        venue: str,
        status: OrderStatus,
        cum: int,
    ) -> None: ...
    @property
    def order_id(self) -> int: ...
    @property
    def deployment(self) -> str: ...
    @property
    def client_id(self) -> int: ...
    @property
    def venue(self) -> str: ...
    @property
    def status(self) -> OrderStatus: ...
    @property
    def cum(self) -> int:
        """The venue's final cumulative fill."""

@final
class EndedOrders:
    """Tombstones by order id and by (deployment, client id), with their horizons."""

    @property
    def by_status(self) -> Counter[str]: ...
    @property
    def net_filled(self) -> Counter[tuple[str, str]]: ...
    def __init__(self) -> None: ...
    def add(self, order: Order, horizon: int) -> None:
        """A settled order leaves; its tombstone stands while the timeline is at or
        before ``horizon``."""
    def expire(self, now: int) -> None:
        """Tombstones whose horizon is before ``now`` go."""
    def get(self, order_id: int) -> Tombstone | None: ...
    def find(self, deployment: str, client_id: int) -> Tombstone | None: ...
    def __len__(self) -> int:
        """Tombstones standing."""
