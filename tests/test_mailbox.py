"""The actor mailbox: every overflow policy, never-droppable items, and the metrics."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from meshrt.actors.mailbox import Mailbox, MailboxFull, MailboxMetrics
from meshrt.scenario.limits import MailboxConfig, Overflow

# Items are (kind, key, n): "book" items are droppable under their key, "report" items
# must never be lost (key None), as in the algo instance's mailbox.


def book(key: str, n: int) -> tuple[str, str, int]:
    return ("book", key, n)


def report(n: int) -> tuple[str, None, int]:
    return ("report", None, n)


def droppable(item: tuple[str, Any, int]) -> Any:
    return item[1] if item[0] == "book" else None


def mailbox(capacity: int, overflow: Overflow, name: str = "box") -> Mailbox[Any]:
    return Mailbox(name, MailboxConfig(capacity=capacity, overflow=overflow), droppable)


def queued(box: Mailbox[Any]) -> list[Any]:
    return list(box._items)


# -- block --------------------------------------------------------------------------------


def test_block_send_nowait_raises_would_block_at_capacity() -> None:
    box = mailbox(2, Overflow.BLOCK)
    box.send_nowait(book("a", 1))
    box.send_nowait(book("a", 2))
    with pytest.raises(trio.WouldBlock):
        box.send_nowait(book("a", 3))
    assert queued(box) == [book("a", 1), book("a", 2)]
    assert box.dropped == 0 and box.received == 2


async def test_block_sender_waits_for_room_then_resumes() -> None:
    box = mailbox(2, Overflow.BLOCK)
    box.send_nowait(book("a", 1))
    box.send_nowait(book("a", 2))
    sent = trio.Event()

    async def sender() -> None:
        await box.send(book("a", 3))
        sent.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sender)
        await trio.testing.wait_all_tasks_blocked()
        assert not sent.is_set(), "the sender must wait while the mailbox is full"
        assert len(box) == 2
        assert await box.receive_batch() == [book("a", 1), book("a", 2)]
        await sent.wait()
    assert await box.receive_batch() == [book("a", 3)]
    assert box.dropped == 0 and box.received == 3 and box.processed == 3


async def test_block_send_many_larger_than_capacity_arrives_whole_and_in_order() -> None:
    box = mailbox(2, Overflow.BLOCK)
    items = [book("a", n) for n in range(7)]
    received: list[Any] = []

    async with trio.open_nursery() as nursery:
        nursery.start_soon(box.send_many, items)
        while len(received) < len(items):
            batch = await box.receive_batch()
            assert len(batch) <= 2, "the blocked sender never overfills the mailbox"
            received.extend(batch)
    assert received == items
    assert box.high_water == 2
    assert box.dropped == 0 and box.received == 7 and box.processed == 7


# -- drop newest / drop oldest ----------------------------------------------------------------


def test_drop_newest_drops_the_new_item_and_counts_it() -> None:
    box = mailbox(2, Overflow.DROP_NEWEST)
    for n in range(1, 5):
        box.send_nowait(book("a", n))
    assert queued(box) == [book("a", 1), book("a", 2)]
    assert box.dropped == 2
    assert box.received == 2, "a dropped new item never entered the queue"


def test_drop_oldest_drops_the_oldest_droppable_item() -> None:
    box = mailbox(3, Overflow.DROP_OLDEST)
    box.send_nowait(report(1))
    box.send_nowait(book("a", 1))
    box.send_nowait(book("b", 1))
    box.send_nowait(book("b", 2))  # full: the oldest *droppable* item (a1) goes
    assert queued(box) == [report(1), book("b", 1), book("b", 2)]
    assert box.dropped == 1 and box.received == 4


def test_drop_oldest_with_nothing_droppable_queued_drops_the_new_item() -> None:
    box = mailbox(2, Overflow.DROP_OLDEST)
    box.send_nowait(report(1))
    box.send_nowait(report(2))
    box.send_nowait(book("a", 1))
    assert queued(box) == [report(1), report(2)]
    assert box.dropped == 1


# -- conflate -------------------------------------------------------------------------------


def test_conflate_drops_the_stale_item_and_queues_the_latest_in_time_order() -> None:
    box = mailbox(3, Overflow.CONFLATE)
    box.send_nowait(book("a", 1))
    box.send_nowait(book("b", 1))
    box.send_nowait(report(1))
    box.send_nowait(book("a", 2))  # full: a1 goes, a2 joins at the back (after the report)
    assert queued(box) == [book("b", 1), report(1), book("a", 2)]
    box.send_nowait(book("a", 3))
    assert queued(box) == [book("b", 1), report(1), book("a", 3)]
    assert box.conflated == 2
    assert box.dropped == 0
    assert len(box) == 3 and box.high_water == 3
    assert box.received == 5


def test_conflate_replaces_the_newest_queued_item_of_that_key() -> None:
    box = mailbox(2, Overflow.CONFLATE)
    box.send_nowait(book("a", 1))
    box.send_nowait(book("a", 2))
    box.send_nowait(book("a", 3))
    assert queued(box) == [book("a", 1), book("a", 3)]
    assert box.conflated == 1


def test_conflate_without_a_same_key_item_drops_the_oldest_droppable() -> None:
    box = mailbox(2, Overflow.CONFLATE)
    box.send_nowait(book("a", 1))
    box.send_nowait(book("b", 1))
    box.send_nowait(book("c", 1))
    assert queued(box) == [book("b", 1), book("c", 1)]
    assert box.dropped == 1 and box.conflated == 0


# -- fail -----------------------------------------------------------------------------------


def test_fail_raises_mailbox_full_naming_the_mailbox() -> None:
    box = mailbox(2, Overflow.FAIL, name="algo:mm-1")
    box.send_nowait(book("a", 1))
    box.send_nowait(book("a", 2))
    with pytest.raises(MailboxFull, match=r"mailbox 'algo:mm-1' is full \(2 items\)"):
        box.send_nowait(book("a", 3))
    assert queued(box) == [book("a", 1), book("a", 2)]
    assert box.dropped == 0 and box.received == 2


async def test_fail_raises_from_the_async_send_too() -> None:
    box = mailbox(1, Overflow.FAIL, name="x")
    await box.send(book("a", 1))
    with pytest.raises(MailboxFull, match="'x'"):
        await box.send(book("a", 2))


# -- items that must never be lost ----------------------------------------------------------


@pytest.mark.parametrize("overflow", list(Overflow))
def test_items_without_a_key_are_accepted_past_capacity_under_every_policy(
    overflow: Overflow,
) -> None:
    box = mailbox(2, overflow)
    box.send_nowait(book("a", 1))
    for n in range(5):
        box.send_nowait(report(n))  # never raises, never blocks, never dropped
    assert queued(box) == [book("a", 1)] + [report(n) for n in range(5)]
    assert len(box) == 6 and box.high_water == 6
    assert box.dropped == 0 and box.conflated == 0 and box.received == 6


@pytest.mark.parametrize(
    "overflow", [Overflow.DROP_NEWEST, Overflow.DROP_OLDEST, Overflow.CONFLATE]
)
def test_dropping_policies_never_drop_a_queued_item_without_a_key(overflow: Overflow) -> None:
    box = mailbox(3, overflow)
    box.send_nowait(report(1))
    box.send_nowait(book("a", 1))
    box.send_nowait(report(2))
    for n in range(2, 10):
        box.send_nowait(book("b", n))
    reports = [item for item in queued(box) if item[0] == "report"]
    assert reports == [report(1), report(2)]


def test_a_mailbox_without_a_droppable_function_never_drops() -> None:
    box: Mailbox[int] = Mailbox("plain", MailboxConfig(capacity=1, overflow=Overflow.DROP_NEWEST))
    for n in range(4):
        box.send_nowait(n)
    assert list(box._items) == [0, 1, 2, 3]
    assert box.dropped == 0


# -- receiving and metrics ------------------------------------------------------------------


async def test_receive_batch_waits_for_an_item_and_takes_everything() -> None:
    box = mailbox(10, Overflow.BLOCK)
    got: list[Any] = []

    async def receiver() -> None:
        got.extend(await box.receive_batch())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(receiver)
        await trio.testing.wait_all_tasks_blocked()
        assert got == []
        box.send_many_nowait([book("a", 1), report(1)])
    assert got == [book("a", 1), report(1)]
    assert len(box) == 0


def test_send_many_nowait_applies_the_policy_per_item_when_it_does_not_fit() -> None:
    box = mailbox(2, Overflow.DROP_NEWEST)
    box.send_many_nowait([book("a", 1), report(1), book("a", 2), report(2)])
    assert queued(box) == [book("a", 1), report(1), report(2)]
    assert box.dropped == 1


async def test_metrics_track_depth_high_water_received_processed_dropped_conflated() -> None:
    box = mailbox(2, Overflow.CONFLATE, name="algo:x")
    box.send_nowait(book("a", 1))
    box.send_nowait(book("b", 1))
    box.send_nowait(book("a", 2))  # conflated: a1 goes, a2 at the back
    box.send_nowait(book("c", 1))  # no c queued: drops the oldest droppable (b1)
    box.send_nowait(report(1))  # accepted past capacity
    metrics = box.metrics()
    assert metrics == MailboxMetrics(
        name="algo:x",
        capacity=2,
        overflow="conflate",
        depth=3,
        high_water=3,
        received=5,
        processed=0,
        dropped=1,
        conflated=1,
    )
    assert await box.receive_batch() == [book("a", 2), book("c", 1), report(1)]
    box.send_nowait(book("d", 1))
    metrics = box.metrics()
    assert (metrics.depth, metrics.high_water, metrics.received, metrics.processed) == (1, 3, 6, 3)
    # everything that entered the queue is accounted for
    assert metrics.received == (
        metrics.processed + metrics.depth + metrics.conflated + metrics.dropped
    )


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"MailboxConfig.capacity must be an integer of items"):
        MailboxConfig(capacity=0)


def test_default_config_is_65536_items_blocking() -> None:
    config = MailboxConfig()
    assert (config.capacity, config.overflow) == (65536, Overflow.BLOCK)


async def test_a_second_receiver_is_refused_and_a_cancelled_wait_leaves_the_mailbox_usable() -> (
    None
):
    box: Mailbox[int] = Mailbox("m")
    with trio.move_on_after(0.01):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(box.receive_batch)
            await trio.testing.wait_all_tasks_blocked()
            with pytest.raises(trio.BusyResourceError, match="'m' has one receiver"):
                await box.receive_batch()
    # the waiting receiver was cancelled: the owner may wait again and is woken
    async with trio.open_nursery() as nursery:
        got: list[list[int]] = []

        async def receive() -> None:
            got.append(await box.receive_batch())

        nursery.start_soon(receive)
        await trio.testing.wait_all_tasks_blocked()
        box.send_nowait(7)
    assert got == [[7]]
