"""The ids ever used, as ranges (meshrt/sequencer/id_ranges.pyx): each way an id meets
the ranges (past the last one, joining it, below it: alone, on the left, on the right or
both), the ends of the u64 range, refusals, and the pickle a checkpoint holds."""

from __future__ import annotations

import itertools
import pickle
from array import array

import pytest
from hypothesis import given, strategies as st

from meshrt.contract import UINT64_MAX
from meshrt.sequencer.id_ranges import IdRanges


def ranges(ids: IdRanges) -> list[tuple[int, int]]:
    """The (first, last) ranges, as the pickled state holds them."""
    starts, ends = ids.__reduce__()[2]
    return list(zip(starts, ends, strict=True))


def made(*values: int) -> IdRanges:
    ids = IdRanges()
    for value in values:
        ids.add(value)
    return ids


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((), []),
        ((5, 6, 7), [(5, 7)]),  # each one past the last range's end
        ((5, 9), [(5, 5), (9, 9)]),  # past it with a gap: a new last range
        ((9, 5), [(5, 5), (9, 9)]),  # below it, alone
        ((9, 8), [(8, 9)]),  # joins the last range on its left
        ((5, 9, 6), [(5, 6), (9, 9)]),  # joins the range below on its right
        ((5, 9, 8), [(5, 5), (8, 9)]),  # joins the last range, a range below it
        ((5, 7, 6), [(5, 7)]),  # fills the gap under the last range: both merge
        ((1, 5, 9, 20, 6), [(1, 1), (5, 6), (9, 9), (20, 20)]),  # below: merges left
        ((1, 5, 9, 20, 8), [(1, 1), (5, 5), (8, 9), (20, 20)]),  # below: merges right
        ((1, 5, 7, 20, 6), [(1, 1), (5, 7), (20, 20)]),  # below: merges both
        ((1, 5, 9, 20, 3), [(1, 1), (3, 3), (5, 5), (9, 9), (20, 20)]),  # below, alone
        ((1, 5, 9, 20, 0), [(0, 1), (5, 5), (9, 9), (20, 20)]),  # the lowest
        ((9, 7, 5, 3, 1), [(1, 1), (3, 3), (5, 5), (7, 7), (9, 9)]),  # the array grows
    ],
)
def test_an_id_merges_with_the_ranges_it_touches(
    values: tuple[int, ...], expected: list[tuple[int, int]]
) -> None:
    ids = made(*values)
    assert ranges(ids) == expected and len(ids) == len(expected)
    assert all((v in ids) == any(a <= v <= b for a, b in expected) for v in range(-1, 23))


def test_the_ends_of_the_u64_range() -> None:
    ids = made(0, UINT64_MAX)
    assert ranges(ids) == [(0, 0), (UINT64_MAX, UINT64_MAX)]
    ids.add(UINT64_MAX - 1)  # joins the last range from below
    ids.add(1)
    assert ranges(ids) == [(0, 1), (UINT64_MAX - 1, UINT64_MAX)]
    assert 0 in ids and UINT64_MAX in ids and UINT64_MAX - 2 not in ids
    assert -1 not in ids and 2**64 not in ids and "1" not in ids and 1.0 not in ids
    for outside in (-1, 2**64):
        with pytest.raises(OverflowError):
            ids.add(outside)
    with pytest.raises(TypeError, match="an id is an int, not str"):
        ids.add("2")  # type: ignore[arg-type]
    assert ranges(ids) == [(0, 1), (UINT64_MAX - 1, UINT64_MAX)]


@pytest.mark.parametrize("used", [5, 7, 1, 3])  # in the last range, in ranges below it
def test_an_id_already_used_is_refused_and_changes_nothing(used: int) -> None:
    ids = made(1, 2, 3, 5, 7, 8)
    before = ranges(ids)
    with pytest.raises(ValueError, match=f"id {used} is already used"):
        ids.add(used)
    assert ranges(ids) == before


def test_increasing_ids_are_one_range() -> None:
    ids = IdRanges()
    for value in range(1, 10_001):
        ids.add(value)
    ids.add(UINT64_MAX)
    assert len(ids) == 2 and 1 in ids and 10_000 in ids and 10_001 not in ids
    assert UINT64_MAX in ids and 0 not in ids


@pytest.mark.parametrize("values", [(), (4,), (1, 2, 3, 9, 5, UINT64_MAX, 0)])
def test_a_pickle_round_trip_keeps_the_ranges_and_takes_more(values: tuple[int, ...]) -> None:
    ids = made(*values)
    copy = pickle.loads(pickle.dumps(ids))
    assert type(copy) is IdRanges and ranges(copy) == ranges(ids)
    for value in (6, 7, 8, 10):  # past, joining and merging what was restored
        ids.add(value)
        copy.add(value)
    assert ranges(copy) == ranges(ids)


@pytest.mark.parametrize(
    "state",
    [
        ([1, 5], [2]),  # more starts than ends
        ([1, 5], [3, 4]),  # a range ending before it starts
        ([1, 4], [3, 6]),  # adjacent: one range
        ([5, 1], [5, 1]),  # descending
        ([0, 7], [UINT64_MAX, UINT64_MAX]),  # overlapping at the top of the u64 range
    ],
)
def test_a_state_whose_ranges_do_not_ascend_apart_is_refused(
    state: tuple[list[int], list[int]],
) -> None:
    ids = IdRanges()
    with pytest.raises(ValueError, match="id ranges state"):
        ids.__setstate__((array("Q", state[0]), array("Q", state[1])))


@pytest.mark.property
@given(st.lists(st.integers(0, 200), unique=True), st.integers(0, 200))
def test_ranges_hold_exactly_the_ids_added(added: list[int], probe: int) -> None:
    ids = made(*added)
    assert (probe in ids) == (probe in added)
    ordered = sorted(added)
    gaps = sum(1 for a, b in itertools.pairwise(ordered) if b != a + 1)
    assert len(ids) == (gaps + 1 if added else 0)
    assert ranges(pickle.loads(pickle.dumps(ids))) == ranges(ids)
