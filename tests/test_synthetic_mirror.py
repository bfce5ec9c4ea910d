"""The compiled synthetic source walks exactly as its rules' reference.

The rules live in meshrt/venues/synthetic.py (SyntheticWalk); meshrt/venues/_synthetic.pyx
mirrors them. Whole event streams of random specs, read in random windows, must agree,
and so must the errors a walk beyond 64 bits raises.
"""

from __future__ import annotations

import attrs
from hypothesis import given, settings, strategies as st

from meshrt.venues._synthetic import SyntheticSource
from meshrt.venues.specs import SyntheticSpec
from meshrt.venues.synthetic import SyntheticWalk

INT64_MAX = 2**63 - 1


@st.composite
def specs(draw: st.DrawFn) -> SyntheticSpec:
    tick = draw(st.sampled_from([1, 7, 10_000_000, 2**40]))
    levels = draw(st.integers(min_value=1, max_value=30))
    smin = draw(st.sampled_from([1, 2, 50_000_000, 2**62]))
    smax = smin + draw(st.sampled_from([0, 1, 2, 999, 2**32, 2**62]))
    return SyntheticSpec(
        symbol="S",
        seed=draw(st.integers(min_value=-(2**63), max_value=INT64_MAX)),
        start_price=draw(st.integers(min_value=levels * tick, max_value=levels * tick * 50)),
        tick=tick,
        levels=levels,
        level_size=(smin, min(smax, INT64_MAX)),
        interval_ns=draw(st.sampled_from([1, 2, 3, 20_000, 2**40])),
        updates=draw(st.integers(min_value=1, max_value=400)),
        trade_every=draw(st.integers(min_value=0, max_value=12)),
        move_probability=draw(st.sampled_from([0, 0.0, 0.3, 0.5, 0.999, 1, 1.0])),
    )


def read(source: SyntheticSource | SyntheticWalk, windows: list[int]) -> list:
    """Events window by window, then the rest; an error ends the list with its text."""
    out: list = []
    until = -5
    try:
        for width in windows:
            until += width
            out.append(source.batch(until))
            out.append((source.peek_time(), source.exhausted))
        out.append(source.batch(2**63))
    except OverflowError as e:
        out.append(str(e))
    return out


@settings(max_examples=150, deadline=None)
@given(specs(), st.integers(min_value=-(2**62), max_value=2**62),
       st.lists(st.integers(min_value=0, max_value=200_000), max_size=20))  # fmt: skip
def test_compiled_source_streams_as_the_reference_rules(
    spec: SyntheticSpec, start_ns: int, windows: list[int]
) -> None:
    assert read(SyntheticSource(spec, start_ns), windows) == read(
        SyntheticWalk(spec, start_ns), windows
    )


@settings(max_examples=40, deadline=None)
@given(specs(), st.integers(min_value=0, max_value=60))
def test_walks_near_the_int64_top_stop_alike(spec: SyntheticSpec, gap_ticks: int) -> None:
    # the book starts a few ticks below 2**63 - 1: an up move or the clock fails alike
    top = attrs.evolve(spec, start_price=INT64_MAX - (spec.levels + gap_ticks) * spec.tick,
                       interval_ns=2**62 if gap_ticks % 2 else spec.interval_ns)  # fmt: skip
    assert read(SyntheticSource(top, 2**62), []) == read(SyntheticWalk(top, 2**62), [])
