"""Paper mode's compiled window pieces (meshrt/sequencer/_live.pyx): the ``live_window``
record is the bytes of its Python builder, and the clock only moves forward."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, strategies as st

from meshrt.log import records
from meshrt.sequencer._live import WallClock, live_window

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
