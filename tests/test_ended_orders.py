"""Ended orders leave memory: settled orders retire to tombstones that expire at their
horizon, late reports are counted and ignored, and a long run's checkpoints stay the size
of its open state (the used ids, as ranges: tests/test_id_ranges.py)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from test_orders import Venue, make_order, submitted

from meshrt.log import checkpoint
from meshrt.runtime.run import RunOptions, run
from meshrt.scenario.definition import load_scenario
from meshrt.sequencer.order import InvariantViolation, OrderStatus
from meshrt.sequencer.orders import EXPIRED, OrderStateMachine

S = OrderStatus
BUNDLED = Path(__file__).resolve().parent.parent / "scenarios" / "market_maker.py"


def filled_and_retired(horizon: int) -> OrderStateMachine:
    sm, v = submitted(size=4), Venue(4)
    sm.apply_report(v.acc(), "a")
    sm.apply_report(v.fill(4), "f")
    sm.retire(1, horizon)
    return sm


def resends() -> Venue:
    """The venue of ``filled_and_retired``'s order, to make its reports again."""
    v = Venue(4)
    v.acc()
    return v


# -- the state machine ------------------------------------------------------------------


def test_a_settled_order_leaves_a_tombstone_until_its_horizon_then_only_its_ids() -> None:
    sm = filled_and_retired(horizon=100)
    assert 1 not in sm.orders and sm.find("mm-a", 1) is None
    assert sm.ended_state("mm-a", 1) == "FILLED"
    assert sm.ended.by_status == {"FILLED": 1} and sm.ended.net_filled == {("mm-a", "BTC-USD"): 4}
    sm.expire(100)  # the horizon itself still sees the tombstone
    assert sm.ended_state("mm-a", 1) == "FILLED" and len(sm.ended) == 1
    sm.expire(101)
    assert len(sm.ended) == 0 and sm.ended_state("mm-a", 1) == EXPIRED
    # the ids stay used: a reused client id or order id is still refused, exactly
    assert sm.client_id_used("mm-a", 1) and sm.issued(1) and sm.created == 1
    with pytest.raises(InvariantViolation, match="client id already used"):
        sm.create(make_order(2, client_id=1))
    with pytest.raises(InvariantViolation, match="order id already in use"):
        sm.create(make_order(1, client_id=9))
    assert sm.ended_state("mm-a", 2) is None and sm.ended_state("other", 1) is None


def test_a_late_report_for_an_expired_order_is_counted_and_ignored() -> None:
    sm = filled_and_retired(horizon=10)
    sm.expire(11)
    v = resends()
    assert sm.report_after_end(v.fill(4, ts=12), "sim") is None
    assert sm.report_after_end(v.cxl(ts=13), "sim") is None
    assert sm.late_reports == 2 and 1 not in sm.orders and len(sm.ended) == 0
    # an id never issued is still no such order, not a late report
    with pytest.raises(InvariantViolation, match="no such order"):
        sm.apply_report(Venue(oid=7).fill(1), "x")


def test_a_resend_within_the_horizon_is_checked_against_the_tombstone() -> None:
    sm = filled_and_retired(horizon=10)
    v = resends()
    last = v.fill(4)
    assert sm.report_after_end(last, "sim") is S.FILLED  # a resend: changes nothing
    assert sm.report_after_end(v.cxl(), "sim") is S.FILLED
    assert sm.late_reports == 0
    with pytest.raises(InvariantViolation, match="rejected after it ended FILLED"):
        sm.report_after_end(Venue(4).rej(), "sim")
    with pytest.raises(InvariantViolation, match="report from venue 'other'"):
        sm.report_after_end(last, "other")


def test_only_a_settled_order_retires() -> None:
    sm, v = submitted(size=4), Venue(4)
    sm.apply_report(v.acc(), "a")
    assert sm.request_cancel(1, 3) is None
    sm.apply_report(v.fill(4), "f")  # FILLED, but the cancel is still unanswered
    assert sm.orders[1].status == S.FILLED and not sm.orders[1].settled
    with pytest.raises(InvariantViolation, match="only a settled order"):
        sm.retire(1, 10)
    sm.apply_report(v.unknown(), "c")  # the venue answers the cancel: nothing can follow
    assert sm.orders[1].settled
    sm.retire(1, 10)
    assert sm.ended_state("mm-a", 1) == "FILLED" and sm.open_orders("mm-a") == 0


def test_a_terminal_report_overtaking_fills_settles_when_they_are_in() -> None:
    sm, v = submitted(size=4), Venue(4)
    sm.apply_report(v.acc(), "a")
    fill = v.fill(3)
    sm.apply_report(v.cxl(), "c")  # CANCELLED with final cum 3, none of it delivered yet
    assert not sm.orders[1].settled
    sm.apply_report(fill, "f")
    assert sm.orders[1].settled


# -- a run ------------------------------------------------------------------------------


@pytest.mark.e2e
def test_checkpoints_of_a_long_run_stay_the_size_of_its_open_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before ended orders retired, each order ever made (about 1 KB) was in every
    checkpoint: this run's last checkpoint was hundreds of KB above its first."""
    sizes: list[int] = []
    write = checkpoint.write

    def measured(*args: object) -> Path:
        path = write(*args)  # type: ignore[arg-type]
        sizes.append(path.stat().st_size)
        return path

    monkeypatch.setattr(checkpoint, "write", measured)
    scenario = load_scenario(BUNDLED)
    result = run(
        attrs.evolve(scenario, duration_ns=None),
        tmp_path / "run",
        options=RunOptions(checkpoint_every=40_000),
    )
    assert result.ok and result.summary["orders"] > 1_000
    assert result.summary["late_reports"] == 0
    assert len(sizes) >= 5
    assert max(sizes) - min(sizes[1:]) < 16_384, sizes  # open state comes and goes
