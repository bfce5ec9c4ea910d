"""A bounded mailbox with a per-mailbox overflow policy and metrics.

Trio's memory channels can block or fail a sender but cannot drop the oldest item or
conflate, so actors use this small deque-based mailbox instead. Receivers take
everything queued in one call (``receive_batch``): one awaited hop costs ~7 µs, so
actors must work in batches.

The owner is the only receiver, so a waiting receiver is one task woken directly with
``trio.lowlevel.reschedule``: a ParkingLot's bookkeeping is for many waiters and cost
about 4 µs of every window.

Which items may be dropped is the owner's decision, given by ``droppable``: it maps an
item to a conflation key (e.g. ``(venue, symbol)`` for a book) or None for items that
must never be lost (order reports, lifecycle). Items that must not be lost are always
accepted, even past capacity; the overflow policy governs the droppable ones.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

import attrs
import trio
from trio.lowlevel import Abort, ParkingLot, Task, current_task, reschedule, wait_task_rescheduled

from meshrt.scenario.limits import MailboxConfig, Overflow

T = TypeVar("T")


class MailboxFull(Exception):
    """Raised to the sender of a mailbox whose policy is FAIL."""


@attrs.frozen(slots=True)
class MailboxMetrics:
    name: str
    capacity: int
    overflow: str
    depth: int
    high_water: int
    received: int
    processed: int
    dropped: int
    conflated: int


def _never_droppable(item: object) -> Hashable | None:
    return None


class Mailbox(Generic[T]):
    """A bounded FIFO owned by one actor."""

    def __init__(
        self,
        name: str,
        config: MailboxConfig = MailboxConfig(),
        droppable: Callable[[T], Hashable | None] = _never_droppable,
    ) -> None:
        self.name = name
        self.capacity = config.capacity
        self.overflow = config.overflow
        self._droppable = droppable
        self._items: deque[T] = deque()
        self._receiver: Task | None = None  # the owner, while it waits for items
        self._senders = ParkingLot()
        self.high_water = 0
        self.received = 0
        self.processed = 0
        self.dropped = 0
        self.conflated = 0

    def __len__(self) -> int:
        return len(self._items)

    def __getstate__(self) -> dict[str, object]:
        # a checkpoint is taken between windows, when nobody waits on a mailbox: the
        # waiters (Trio objects) are not state and are made anew on restore
        state = self.__dict__.copy()
        del state["_receiver"], state["_senders"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._receiver = None
        self._senders = ParkingLot()

    def send_nowait(self, item: T) -> None:
        """Enqueue one item, applying the overflow policy; BLOCK raises trio.WouldBlock."""
        items = self._items
        if len(items) >= self.capacity:
            key = self._droppable(item)
            if key is not None and not self._overflow(item, key):
                return
        items.append(item)
        self._accepted(1)

    def send_many_nowait(self, batch: Iterable[T]) -> None:
        """Enqueue many items; the fast path is one ``extend`` while there is room."""
        items = self._items
        if not isinstance(batch, list):
            batch = list(batch)
        if len(items) + len(batch) <= self.capacity:
            items.extend(batch)
            self._accepted(len(batch))
            return
        for item in batch:
            self.send_nowait(item)

    async def send(self, item: T) -> None:
        """Enqueue one item, waiting for room when the policy is BLOCK."""
        while True:
            try:
                self.send_nowait(item)
                return
            except trio.WouldBlock:
                await self._senders.park()

    async def send_many(self, batch: list[T]) -> None:
        """Enqueue many items, waiting for room when the policy is BLOCK."""
        if len(self._items) + len(batch) <= self.capacity:
            self._items.extend(batch)
            self._accepted(len(batch))
            return
        for item in batch:
            await self.send(item)

    async def receive_batch(self) -> list[T]:
        """Wait until something is queued, then take all of it."""
        while not self._items:
            if self._receiver is not None:
                raise trio.BusyResourceError(f"mailbox {self.name!r} has one receiver, its owner")
            self._receiver = current_task()
            await wait_task_rescheduled(self._abort_receive)
        return self.take_all()

    def take_all(self) -> list[T]:
        """Take everything queued now (maybe nothing): how a stepped actor receives."""
        items = self._items
        batch = list(items)
        items.clear()
        self.processed += len(batch)
        if self._senders:
            self._senders.unpark_all()
        return batch

    def metrics(self) -> MailboxMetrics:
        return MailboxMetrics(
            name=self.name,
            capacity=self.capacity,
            overflow=self.overflow.value,
            depth=len(self._items),
            high_water=self.high_water,
            received=self.received,
            processed=self.processed,
            dropped=self.dropped,
            conflated=self.conflated,
        )

    def _abort_receive(self, _: object) -> Abort:
        self._receiver = None
        return Abort.SUCCEEDED

    def _accepted(self, n: int) -> None:
        self.received += n
        depth = len(self._items)
        if depth > self.high_water:
            self.high_water = depth
        receiver = self._receiver
        if receiver is not None:
            self._receiver = None
            reschedule(receiver)

    def _overflow(self, item: T, key: Hashable) -> bool:
        """Apply the policy to a droppable item at capacity; True means 'append it'."""
        policy = self.overflow
        if policy is Overflow.BLOCK:
            raise trio.WouldBlock
        if policy is Overflow.FAIL:
            raise MailboxFull(f"mailbox {self.name!r} is full ({self.capacity} items)")
        if policy is Overflow.DROP_NEWEST:
            self.dropped += 1
            return False
        items = self._items
        if policy is Overflow.CONFLATE:
            for index in range(len(items) - 1, -1, -1):
                if self._droppable(items[index]) == key:
                    # the stale item goes and the latest joins at the back, so the
                    # receiver still sees everything in time order
                    del items[index]
                    self.conflated += 1
                    return True
        # DROP_OLDEST, or CONFLATE with nothing to replace: drop the oldest droppable item
        for index, queued in enumerate(items):
            if self._droppable(queued) is not None:
                del items[index]
                self.dropped += 1
                return True
        self.dropped += 1  # nothing droppable queued: the new item is the one to go
        return False
