"""Paper mode's compiled window pieces (meshrt/sequencer/_live.pyx, _arrivals.pyx): the
``live_window`` record is the bytes of its Python builder, the clock only moves forward,
and what the sessions hand over is cut into windows whole, in arrival order, a full
venue blocking its sender rather than dropping."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
import trio
import trio.testing
from hypothesis import given, strategies as st

from meshrt.log import records
from meshrt.sequencer._arrivals import SINK_CAPACITY, Arrivals
from meshrt.sequencer._live import WallClock, live_window
from meshrt.venues.live.verdicts import Received

I64 = st.one_of(
    st.sampled_from([0, 1, 9, 10, 10**8 - 1, 10**8, 2**63 - 1, -1, -(2**63)]),
    st.integers(-(2**63), 2**63 - 1),
)


@pytest.mark.property
@given(I64, I64, I64)
def test_the_live_window_record_is_the_python_builders_bytes(
    seq: int, start: int, until: int
) -> None:
    assert live_window(seq, start, until) == records.live_window(seq, start, until)


def test_the_live_window_record_refuses_what_no_int64_holds() -> None:
    with pytest.raises(OverflowError):
        live_window(1, 2**63, 2**63 + 1)


def test_the_wall_clock_starts_at_zero_anchored_to_wall_time_and_never_goes_back() -> None:
    before = time.time_ns()
    clock = WallClock()
    after = time.time_ns()
    assert before <= clock.wall_ns <= after
    readings = [clock() for _ in range(1000)]
    assert 0 <= readings[0] < 1_000_000_000
    assert readings == sorted(readings)
    time.sleep(0.002)
    assert clock() - readings[-1] >= 2_000_000


# -- what the sessions hand over (meshrt/sequencer/_arrivals.pyx) ----------------------


class Driver:
    """A window driver's ``next_time`` and ``write_check``, as the arrivals call them."""

    def __init__(self, due: int | None = None) -> None:
        self.due = due
        self.checks = 0

    def next_time(self) -> int | None:
        return self.due

    def write_check(self) -> None:
        self.checks += 1


def bound(venues: int, due: int | None = None, end: int | None = None) -> Arrivals:
    arrivals = Arrivals(WallClock(), venues)
    sequencer = SimpleNamespace(
        interrupted=False,
        controls=SimpleNamespace(heartbeats=[]),
        clock=SimpleNamespace(end_ns=end),
    )
    arrivals.bind(sequencer, Driver(due))
    return arrivals


def test_a_cut_takes_every_venues_items_in_arrival_order_and_ends_after_their_receipt() -> None:
    arrivals = bound(2)
    first, second, third = (Received(ts, ()) for ts in (1, 2, 3))
    arrivals.sink(1).send_nowait(first)
    arrivals.sink(0).send_nowait(second)
    arrivals.sink(1).send_nowait(third)
    assert arrivals.wake.is_set()  # no stepper lent: the waiting loop is woken to cut
    cut = arrivals.cut()
    assert cut is not None
    start, until, items = cut
    assert start == 0 and until > 0
    assert items == [[second], [first, third]]
    assert until <= arrivals.clock() + 1 and arrivals.start == until
    assert arrivals.cut() is None  # nothing arrived or fell due since
    assert arrivals.pending == [[], []]


def test_a_cut_is_made_for_work_fallen_due_and_never_past_the_runs_end() -> None:
    assert bound(1, due=0).cut() is not None
    assert bound(1, due=10**15).cut() is None
    ended = bound(1, end=0)
    ended.sink(0).send_nowait(Received(1, ()))
    assert ended.cut() is None


def test_a_full_venue_blocks_its_sender_until_a_cut_drains_it_and_drops_nothing() -> None:
    arrivals = bound(1)
    sink = arrivals.sink(0)
    for ts in range(SINK_CAPACITY):
        sink.send_nowait(Received(ts, ()))
    late = Received(SINK_CAPACITY, ())
    with pytest.raises(trio.WouldBlock):
        sink.send_nowait(late)
    got: list[list[list[Received]]] = []

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sink.send, late)
            await trio.testing.wait_all_tasks_blocked()
            assert arrivals.blocked == 1
            cut = arrivals.cut()  # frees the sender
            assert cut is not None
            got.append(cut[2])
        cut = arrivals.cut()
        assert cut is not None
        got.append(cut[2])

    trio.run(main)
    assert len(got[0][0]) == SINK_CAPACITY and got[1] == [[late]]
    assert arrivals.blocked == 0


def test_a_sink_names_a_venue_of_its_arrivals() -> None:
    with pytest.raises(IndexError, match="venue 2 of 2"):
        bound(2).sink(2)
