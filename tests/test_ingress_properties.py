"""Arrival-order ingress (meshrt.sequencer.ingress) under duplicated, reordered, partial-fill report
streams of several orders: every invariant holds after every report, the outcome equals
in-order delivery's, and replaying the recorded ingress gives byte-identical records.

tests/test_orders.py checks one order's state machine alone; here several orders share
deployments, symbols and ledgers, local cancel and replace requests race the venue, and
the ingress record is replayed. A model clock drives delivery: the venue emits each
report at a time, it arrives after a random delay (so any order of one order's reports
can arrive, replaced orders' too: the order report contract orders them), and re-sent
copies arrive later still. The four reorderings the contract was made for, and any
permutation of one order's reports, have tests of their own (the contract section).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from meshrt.contract import ActionKind, Liquidity, RejectReason, Side, TimeInForce, notional
from meshrt.log.reader import read_log
from meshrt.log.schema import REPORT_BY_TYPE
from meshrt.runtime.replay import verify
from meshrt.runtime.run import run
from meshrt.scenario.definition import load_scenario
from meshrt.sequencer.ingress import IngressLedger, replay
from meshrt.sequencer.order import TERMINAL, InvariantViolation, Order, OrderStatus
from meshrt.venues.reports import (
    Accepted,
    Cancelled,
    CancelRejected,
    Filled,
    Rejected,
    Replaced,
    VenueReport,
)

ROOT = Path(__file__).resolve().parent.parent
PX = 100_000_000_000  # 100.00
TICK = 10_000_000  # 0.01
LATENCY = 5  # model clock: order latency to the venue (odd: local inputs are odd, reports even)
S = OrderStatus
_KIND = {record.name: cls for cls, record in REPORT_BY_TYPE.items()}
Untimed = Callable[[int], VenueReport]  # a report waiting for its time
CANCEL, REPLACE = int(ActionKind.CANCEL), int(ActionKind.REPLACE)


# -- the model: one order's life, its delivery, and what it must end as --------------------


@attrs.define
class Case:
    """One order: its venue history (emission time, key, report), how it is delivered,
    and the replace requests the algo sent (each just before the venue answered it)."""

    order: dict[str, Any]
    submit_at: int  # odd
    history: list[tuple[int, str, VenueReport]]
    copies: list[list[int]]  # per report: arrival time of each copy (first = the original)
    replace_at: list[int] = attrs.field(factory=list)  # odd: when each replace was sent
    cancel_at: int | None = None  # odd: when the algo asks to cancel
    cancel_sent: bool | None = None  # whether that request must pass the local checks

    def make_order(self) -> Order:
        return Order(created_ts=self.submit_at, **self.order)

    def expected(self) -> tuple[OrderStatus, int, int, int]:
        """(status, filled, size, fees) from the venue history alone."""
        reports = [r for _, _, r in self.history]
        kinds = {type(r) for r in reports}
        fills = [r for r in reports if type(r) is Filled]
        filled, fees = sum(r.size for r in fills), sum(r.fee for r in fills)
        sizes = [r.size for r in reports if type(r) is Replaced]
        size = sizes[-1] if sizes else self.order["size"]
        if Rejected in kinds:
            status = S.REJECTED
        elif Cancelled in kinds:
            status = S.CANCELLED
        elif filled == size:
            status = S.FILLED
        elif filled:
            status = S.PARTIALLY_FILLED
        elif {Accepted, Replaced, CancelRejected} & kinds:
            status = S.ACCEPTED
        else:
            status = S.SUBMITTED
        return status, filled, size, fees


def later(cls: type[VenueReport], *fields: int) -> Untimed:
    """A report of ``cls`` with these fields after ``ts``, waiting for its ts."""
    return lambda ts: cls(ts, *fields)


@st.composite
def venue_history(draw: st.DrawFn, oid: int, size: int, replaces: bool) -> list[Untimed]:
    """What the venue does with one order, untimed: reports waiting for their ts, with
    the order report contract (cum, leaves, exec_seq) as the venue fills it in."""
    outcome = draw(st.sampled_from(["full", "cancel", "open", "accept_reject", "reject"]))
    if outcome == "reject":
        return [later(Rejected, oid, RejectReason.NO_LIQUIDITY, 0, 0, 1)]
    if outcome == "accept_reject":
        return [
            later(Accepted, oid, 0, size, 1),
            later(Rejected, oid, RejectReason.POST_ONLY_WOULD_CROSS, 0, 0, 2),
        ]
    out: list[Untimed] = []
    if replaces or draw(st.booleans()):  # an IOC may fill with no ack; a replaced order was acked
        out.append(later(Accepted, oid, 0, size, 1))
    cur, cum, seq = size, 0, 1

    def fill(qty: int) -> Untimed:
        price = PX + draw(st.integers(-3, 3)) * TICK
        liq = draw(st.sampled_from([Liquidity.MAKER, Liquidity.TAKER]))
        fee = draw(st.integers(-3, 5))
        return later(Filled, oid, price, qty, liq, fee, cur - cum - qty, cum + qty, seq + 1)

    steps = ["fill", "replace", "replace_refused"] if replaces else ["fill"]
    for _ in range(draw(st.integers(0, 5))):
        step = draw(st.sampled_from(steps))
        if step == "fill" and cur - cum > 1:
            qty = draw(st.integers(1, cur - cum - 1))
            out.append(fill(qty))
            cum, seq = cum + qty, seq + 1
        elif step == "replace":  # the venue keeps something open: new size > filled
            cur, seq = draw(st.integers(cum + 1, 2 * cur)), seq + 1
            price = PX + draw(st.integers(-3, 3)) * TICK
            out.append(later(Replaced, oid, price, cur, cur - cum, cum, seq))
        elif step == "replace_refused":  # as of the order's last execution
            reason = RejectReason.INVALID_PRICE
            out.append(later(CancelRejected, oid, reason, REPLACE, cum, cur - cum, seq))
    if outcome == "full" and cur > cum:
        out.append(fill(cur - cum))
    elif outcome == "cancel":
        out.append(later(Cancelled, oid, cur - cum, cum, 0, seq + 1))
    return out


def _ends(report: VenueReport) -> bool:
    """Whether this report, in venue order, ends the order at the venue."""
    return type(report) in (Rejected, Cancelled) or (type(report) is Filled and report.leaves == 0)


def _answers_replace(report: VenueReport) -> bool:
    return type(report) is Replaced or (
        type(report) is CancelRejected and report.request == REPLACE
    )


@st.composite
def order_case(draw: st.DrawFn, oid: int) -> Case:
    size = draw(st.integers(1, 500))
    replaces = draw(st.integers(0, 3)) == 3
    order = {
        "order_id": oid,
        "deployment": draw(st.sampled_from(["mm-a", "mm-b"])),
        "client_id": oid,
        "venue": draw(st.sampled_from(["v1", "v2"])),
        "symbol": draw(st.sampled_from(["XYZ", "ABC"])),
        "side": draw(st.sampled_from([Side.BUY, Side.SELL])),
        "kind": ActionKind.LIMIT,
        "tif": TimeInForce.GTC,
        "price": PX,
        "size": size,
    }
    submit_at = 2 * draw(st.integers(0, 40)) + 1
    untimed = draw(venue_history(oid, size, replaces))
    history, t = [], submit_at + LATENCY
    for k, body in enumerate(untimed):
        history.append((t, f"{order['venue']}:{oid}.{k}", body(t)))
        t += 2 * draw(st.integers(1, 10))
    case = Case(order, submit_at, history, [])
    case.copies = [_arrivals(draw, case, t_emit) for t_emit, _, _ in history]
    case.replace_at = [t_emit - LATENCY for t_emit, _, r in history if _answers_replace(r)]
    if replaces or not draw(st.booleans()):
        return case
    # a cancel request: only once the algo has seen the order accepted, and the venue
    # answers it at cancel_at + LATENCY after whatever it did before the request came
    acks = [
        min(c)
        for (_, _, r), c in zip(history, case.copies, strict=True)
        if type(r) in (Accepted, Filled)
    ]
    if not acks:
        return case
    p = case.cancel_at = min(acks) + 1 + 2 * draw(st.integers(0, 30))
    arrived = [r for (_, _, r), c in zip(history, case.copies, strict=True) if min(c) < p]
    dead = any(_ends(r) for r in arrived)  # the contract tells the order ended at once
    case.cancel_sent = not dead
    if dead:
        return case  # refused locally: the venue never hears of it
    at = p + LATENCY
    keep = [i for i, (t_emit, _, _) in enumerate(history) if t_emit < at]
    ended = any(_ends(history[i][2]) for i in keep)
    case.history = [history[i] for i in keep]
    case.copies = [case.copies[i] for i in keep]
    cum = sum(r.size for _, _, r in case.history if type(r) is Filled)
    seq = max(r.exec_seq for _, _, r in case.history)
    answer: VenueReport = (
        CancelRejected(at, oid, RejectReason.UNKNOWN_ORDER, CANCEL, 0, 0, 0)
        if ended
        else Cancelled(at, oid, size - cum, cum, 0, seq + 1)
    )
    case.history.append((at, f"{order['venue']}:{oid}.c", answer))
    case.copies.append(_arrivals(draw, case, at))
    return case


def _arrivals(draw: st.DrawFn, case: Case, t_emit: int) -> list[int]:
    """Arrival times of a report's copies: the original, then 0-2 re-sends."""
    first = t_emit + 2 * draw(st.integers(0, 40))
    resends = draw(st.lists(st.integers(0, 60), max_size=2))
    return [first, *(max(first, t_emit + 2 * d) for d in resends)]


Input = tuple[int, int, str, Any]  # (time, tiebreak, what, args)


def deliveries(cases: list[Case], in_order: bool, tiebreak: list[int]) -> list[Input]:
    """Every input in arrival order; ``in_order``: no delay, no re-sends (venue order)."""
    items: list[Input] = []
    n = 0

    def add(t: int, what: str, args: Any) -> None:
        nonlocal n
        items.append((t, tiebreak[n % len(tiebreak)] if not in_order else n, what, args))
        n += 1

    for case in cases:
        add(case.submit_at, "submit", case)
        if case.cancel_at is not None:
            add(case.cancel_at, "cancel", case)
        for t in case.replace_at:
            add(t, "replace", case)
        for (t_emit, key, report), copies in zip(case.history, case.copies, strict=True):
            if in_order:
                add(t_emit, "report", (key, report))
                continue
            for t in copies:
                add(t, "report", (key, report))
    return sorted(items, key=lambda item: (item[0], item[1]))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Case], list[int]]:
    n = draw(st.integers(1, 6))
    cases = [draw(order_case(oid)) for oid in range(1, n + 1)]
    return cases, draw(st.lists(st.integers(0, 10**6), min_size=1, max_size=40))


# -- driving the ingress, with the per-step checks ----------------------------------------


@attrs.define
class Books:
    """What position and cash must be: the sum of the fills the ingress applied."""

    position: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    cash: Counter[str] = attrs.field(factory=Counter)


def feed(ingress: IngressLedger, inputs: list[Input], check: bool = True) -> None:
    books = Books()
    seen_keys: set[tuple[int, str]] = set()
    terminal: dict[int, OrderStatus] = {}
    for t, _, what, args in inputs:
        if what == "submit":
            ingress.submit(args.make_order(), args.submit_at)
            continue
        if what == "cancel":
            sent = ingress.cancel(args.order["order_id"], args.cancel_at)
            if check:
                assert sent == args.cancel_sent, "the local check disagrees with the model"
            continue
        if what == "replace":
            ingress.replace(args.order["order_id"], t)
            continue
        key, report = args
        order = ingress.orders.orders[report.order_id]
        filled_before, booked_before = order.filled, order.booked
        applied = ingress.report(order.venue, key, report, ingest_ts=t)
        if not check:
            continue
        assert applied == ((report.order_id, key) not in seen_keys)  # a re-send is a no-op
        seen_keys.add((report.order_id, key))
        if applied and type(report) is Filled:
            sign = 1 if order.side == Side.BUY else -1
            books.position[order.deployment, order.symbol] += sign * report.size
            books.cash[order.deployment] -= sign * notional(report.price, report.size) + report.fee
        # after every report: filled and booked never decrease, booked never exceeds
        # filled, nor filled size; terminal is terminal
        assert filled_before <= order.filled <= order.size
        assert booked_before <= order.booked <= order.filled
        if order.order_id in terminal:
            assert order.status == terminal[order.order_id]
        elif order.status in TERMINAL:
            terminal[order.order_id] = order.status
        # position and cash are conserved: exactly the sum of the fills applied
        ledger = ingress.ledgers[order.deployment]
        assert ledger.position(order.symbol) == books.position[order.deployment, order.symbol]
        assert ledger.cash == books.cash[order.deployment]
        record = orjson.loads(ingress.records[-1])
        assert record[6:10] == [
            order.status.name,
            order.filled,
            ledger.position(order.symbol),
            ledger.cash,
        ]
        assert record[10] == ("applied" if applied else "duplicate")


def final_state(ingress: IngressLedger) -> dict[str, Any]:
    orders = {
        oid: (o.status, o.filled, o.remaining, o.booked, o.size, o.price, o.fees, o.settled)
        for oid, o in ingress.orders.orders.items()
    }
    books = {}
    for label, ledger in ingress.ledgers.items():
        snap = ledger.snapshot()
        books[label] = (
            snap["cash"],
            snap["fees"],
            snap["fills"],
            snap["volume"],
            {s: p["position"] for s, p in snap["positions"].items()},
        )
    return {"orders": orders, "books": books}


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_arrival_order_ingress_keeps_every_invariant_and_replays_exactly(
    drawn: tuple[list[Case], list[int]],
) -> None:
    cases, tiebreak = drawn
    inputs = deliveries(cases, in_order=False, tiebreak=tiebreak)
    live = IngressLedger()
    feed(live, inputs)
    assert len(live.records) == len(inputs)

    reference = IngressLedger()
    feed(reference, deliveries(cases, in_order=True, tiebreak=tiebreak), check=False)
    assert final_state(live) == final_state(reference)
    for case in cases:
        o = live.orders.orders[case.order["order_id"]]
        assert (o.status, o.filled, o.size, o.fees) == case.expected()
        assert live.orders.open_orders(o.deployment) == sum(
            1
            for other in live.orders.orders.values()
            if other.deployment == o.deployment and other.status not in TERMINAL
        )

    # the recorded ingress, replayed in logged order, gives the same records byte for byte
    assert replay(live.records) == live.records
    assert [orjson.loads(r)[0] for r in live.records] == list(range(1, len(inputs) + 1))


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.data())
def test_an_impossible_stream_fails_closed_naming_the_order(
    drawn: tuple[list[Case], list[int]], data: st.DataObject
) -> None:
    cases, tiebreak = drawn
    rejected = [c for c in cases if any(type(r) is Rejected for _, _, r in c.history)]
    # an overfill is told at once where no replace may have changed the size
    plain = [c for c in cases if not c.replace_at]
    assume(plain or rejected)
    how = data.draw(
        st.sampled_from(
            [*(["overfill"] if plain else []), *(["fill_after_reject"] if rejected else [])]
        )
    )
    case = data.draw(st.sampled_from(rejected if how == "fill_after_reject" else plain))
    oid, size = case.order["order_id"], case.order["size"]
    qty = size + 1 if how == "overfill" else 1
    # the venue's next execution: it fills more than the order ever had open
    seq = max((r.exec_seq for _, _, r in case.history), default=0) + 1
    leaves = max(size - qty, 0)
    bad = Filled(case.submit_at + LATENCY, oid, PX, qty, Liquidity.TAKER, 0, leaves, qty, seq)
    inputs = deliveries(cases, in_order=False, tiebreak=tiebreak)
    submitted = next(i for i, item in enumerate(inputs) if item[2] == "submit" and item[3] is case)
    at = data.draw(st.integers(submitted + 1, len(inputs)))
    inputs.insert(at, (inputs[at - 1][0], 0, "report", (f"{case.order['venue']}:bad", bad)))

    ingress = IngressLedger()
    with pytest.raises(InvariantViolation) as err:
        feed(ingress, inputs, check=False)
    assert err.value.order_id == oid
    assert f"order {oid} (deployment {case.order['deployment']!r}" in str(err.value)
    if how == "overfill":  # refused at once, whatever the order's state
        assert len(ingress.records) == at
    # fail closed: nothing more is taken, and what was recorded still replays exactly
    with pytest.raises(RuntimeError, match="stopped after an invariant violation"):
        ingress.cancel(oid, 10**6)
    assert replay(ingress.records) == ingress.records


# -- plain examples ------------------------------------------------------------------------


def _order(oid: int = 1, size: int = 10, venue: str = "v1") -> Order:
    return Order(
        order_id=oid,
        deployment="mm-a",
        client_id=oid,
        venue=venue,
        symbol="XYZ",
        side=Side.BUY,
        kind=ActionKind.LIMIT,
        tif=TimeInForce.GTC,
        price=PX,
        size=size,
        created_ts=0,
    )


@pytest.mark.unit
def test_records_are_the_documented_layout() -> None:
    ingress = IngressLedger()
    ingress.submit(_order(), 1)
    ingress.report("v1", "e1", Accepted(3, 1, 0, 10, 1), ingest_ts=9)
    ingress.report("v1", "e2", Filled(4, 1, PX, 4, Liquidity.MAKER, -2, 6, 4, 2), ingest_ts=8)
    ingress.report("v1", "e2", Filled(4, 1, PX, 4, Liquidity.MAKER, -2, 6, 4, 2), ingest_ts=10)
    assert ingress.cancel(1, 11)
    cash = -notional(PX, 4) + 2
    assert [orjson.loads(r) for r in ingress.records] == [
        [
            1,
            1,
            1,
            "submitted",
            1,
            "CREATED",
            "SUBMITTED",
            0,
            0,
            0,
            "applied",
            "v1",
            None,
            ["mm-a", 1, "XYZ", 1, 1, 0, PX, 10],
        ],
        [
            2,
            3,
            9,
            "accepted",
            1,
            "SUBMITTED",
            "ACCEPTED",
            0,
            0,
            0,
            "applied",
            "v1",
            "e1",
            [0, 10, 1],
        ],
        [
            3,
            4,
            8,
            "fill",
            1,
            "ACCEPTED",
            "PARTIALLY_FILLED",
            4,
            4,
            cash,
            "applied",
            "v1",
            "e2",
            [PX, 4, 1, -2, 6, 4, 2],
        ],
        [
            4,
            4,
            10,
            "fill",
            1,
            "PARTIALLY_FILLED",
            "PARTIALLY_FILLED",
            4,
            4,
            cash,
            "duplicate",
            "v1",
            "e2",
            [PX, 4, 1, -2, 6, 4, 2],
        ],
        [
            5,
            11,
            11,
            "cancel_request",
            1,
            "PARTIALLY_FILLED",
            "CANCEL_PENDING",
            4,
            4,
            cash,
            "sent",
            "v1",
            None,
            [],
        ],
    ]
    assert replay(ingress.records) == ingress.records


@pytest.mark.unit
def test_a_report_from_another_venue_or_for_no_order_fails_closed() -> None:
    ingress = IngressLedger()
    ingress.submit(_order(), 1)
    with pytest.raises(InvariantViolation, match=r"order 1 .*'v2', but the order is on 'v1'"):
        ingress.report("v2", "e1", Accepted(3, 1, 0, 10, 1), ingest_ts=3)
    assert len(ingress.records) == 1
    other = IngressLedger()
    with pytest.raises(InvariantViolation, match=r"order 7: .*no such order"):
        other.report("v1", "e1", Accepted(3, 7, 0, 10, 1), ingest_ts=3)


@pytest.mark.unit
def test_replay_refuses_a_tampered_record() -> None:
    ingress = IngressLedger()
    ingress.submit(_order(size=5), 1)
    ingress.report("v1", "e1", Filled(3, 1, PX, 4, Liquidity.TAKER, 1, 1, 4, 1), ingest_ts=3)
    record = orjson.loads(ingress.records[1])
    record[13][5] = 6  # someone edits the fill's cum: the replay overfills
    with pytest.raises(InvariantViolation, match="overfill"):
        replay([ingress.records[0], orjson.dumps(record)])


# -- the order report contract: reorderings that converge ----------------------------------

OID = 1
Arrival = list[tuple[str, Any]]  # ("report", (key, report)), ("replace", None), ("cancel", None)


def _ingest(size: int, inputs: Arrival) -> IngressLedger:
    """One order of ``size`` submitted, then ``inputs`` in the order given; every report
    is applied (none is a duplicate, none refused: an overfill would raise)."""
    ingress = IngressLedger()
    ingress.submit(_order(OID, size), 1)
    for t, (what, args) in enumerate(inputs, start=2):
        if what == "replace":
            ingress.replace(OID, t)
        elif what == "cancel":
            assert ingress.cancel(OID, t)
        else:
            key, report = args
            assert ingress.report("v1", key, report, ingest_ts=t)
    return ingress


def _converges(size: int, in_order: Arrival, arrival: Arrival) -> dict[str, Any]:
    """Both deliveries end in the same state, settled; that state."""
    assert sorted(map(repr, in_order)) == sorted(map(repr, arrival))  # the same inputs
    ends = [_ingest(size, inputs) for inputs in (in_order, arrival)]
    assert final_state(ends[0]) == final_state(ends[1])
    assert not ends[1].orders.orders[OID].outstanding_fills
    return final_state(ends[1])


def _keyed(*reports: VenueReport) -> list[tuple[str, Any]]:
    """Reports with their idempotency keys (each report here has a ts of its own)."""
    return [("report", (f"v1:{r.ts}", r)) for r in reports]


@pytest.mark.unit
def test_a_fill_an_upsizing_replace_allowed_arriving_before_the_replace_is_no_overfill() -> None:
    """Order 10 replaced up to 20 (exec 2), then a fill of 15 (exec 3: cum 15, leaves 5).
    The fill arrives first: read against the old size 10 it was an overfill and failed
    the run; its cum and leaves say the venue's order is 20, with a replace outstanding.
    Both end PartiallyFilled, cum 15, leaves 5, at the replace's price."""
    up = Replaced(3, OID, PX + TICK, 20, 20, 0, 2)
    fill = Filled(4, OID, PX + TICK, 15, Liquidity.TAKER, 7, 5, 15, 3)
    accepted = _keyed(Accepted(2, OID, 0, 10, 1))
    state = _converges(
        10,
        [*accepted, ("replace", None), *_keyed(up, fill)],
        [*accepted, ("replace", None), *_keyed(fill, up)],
    )
    assert state["orders"][OID][:6] == (S.PARTIALLY_FILLED, 15, 5, 15, 20, PX + TICK)
    assert state["books"]["mm-a"][4] == {"XYZ": 15}  # position: the fill, booked once


@pytest.mark.unit
def test_two_replaces_out_of_order_end_with_the_newer() -> None:
    """Order 10 replaced to 6 at PX - 1 tick (exec 2), then to 14 at PX + 1 tick (exec 3),
    then a fill of 4 (exec 4). Arriving newer replace first, the older one used to win
    (size 6, the old price); the exec_seq tells them apart: size 14, PX + 1 tick, cum 4,
    leaves 10."""
    down = Replaced(3, OID, PX - TICK, 6, 6, 0, 2)
    up = Replaced(4, OID, PX + TICK, 14, 14, 0, 3)
    fill = Filled(5, OID, PX + TICK, 4, Liquidity.MAKER, -1, 10, 4, 4)
    requests = [("replace", None), ("replace", None)]
    accepted = _keyed(Accepted(2, OID, 0, 10, 1))
    state = _converges(
        10,
        [*accepted, *requests, *_keyed(down, up, fill)],
        [*accepted, *requests, *_keyed(up, fill, down)],
    )
    assert state["orders"][OID][:6] == (S.PARTIALLY_FILLED, 4, 10, 4, 14, PX + TICK)


@pytest.mark.unit
def test_cancelled_overtaking_a_replace_ends_cancelled_with_the_venues_cum() -> None:
    """Order 10 replaced up to 20 (exec 2), filled 12 (exec 3), then cancelled with 8
    remaining (exec 4: cum 12). The cancel arriving first was read against size 10 (cum
    2) and the fill then looked like an overfill of that final cum; its own cum is 12.
    Both end Cancelled, cum 12, leaves 0, size 20 at the replace's price, settled once
    the fill and the replace are in."""
    up = Replaced(3, OID, PX + TICK, 20, 20, 0, 2)
    fill = Filled(4, OID, PX + TICK, 12, Liquidity.MAKER, -1, 8, 12, 3)
    cancelled = Cancelled(5, OID, 8, 12, 0, 4)
    accepted = _keyed(Accepted(2, OID, 0, 10, 1))
    requests = [("replace", None), ("cancel", None)]
    state = _converges(
        10,
        [*accepted, *requests, *_keyed(up, fill, cancelled)],
        [*accepted, *requests, *_keyed(cancelled, fill, up)],
    )
    assert state["orders"][OID] == (S.CANCELLED, 12, 0, 12, 20, PX + TICK, -1, True)


@pytest.mark.unit
def test_a_stale_downsizing_replace_arriving_after_the_final_fill() -> None:
    """Order 10 filled 4 (exec 2), replaced down to 6 (exec 3: cum 4, leaves 2), then
    filled the last 2 (exec 4: cum 6, leaves 0). The replace arrives after that final
    fill. The right final state is the in-order one: Filled, cum 6 = the replaced size 6,
    leaves 0, at the replace's price. Checked against the code before the contract: a
    single stale downsizing replace did end the order Filled, and rightly; what was
    wrong was the time between: the final fill left it PartiallyFilled with a phantom 4
    open (risk counted it, the algo could cancel it) until the replace came. A wrong
    Filled came from fills overtaking an upsizing replace (they reached the old size),
    the first test here. Now the final fill ends the order at once (leaves 0), and the
    late replace only sets the price it was the newest replace for."""
    first = Filled(3, OID, PX, 4, Liquidity.MAKER, -1, 6, 4, 2)
    down = Replaced(4, OID, PX - TICK, 6, 2, 4, 3)
    last = Filled(5, OID, PX - TICK, 2, Liquidity.MAKER, -1, 0, 6, 4)
    accepted = _keyed(Accepted(2, OID, 0, 10, 1))
    arrival = [*accepted, ("replace", None), *_keyed(first, last)]
    ingress = _ingest(10, arrival)
    assert ingress.orders.orders[OID].status == S.FILLED  # at once, before the replace
    state = _converges(
        10,
        [*accepted, ("replace", None), *_keyed(first, down, last)],
        [*arrival, *_keyed(down)],
    )
    assert state["orders"][OID] == (S.FILLED, 6, 0, 6, 6, PX - TICK, -2, True)


@st.composite
def one_order(draw: st.DrawFn) -> tuple[int, list[VenueReport], int, bool]:
    """One order's reports in venue order, as the venue fills the contract in: (size,
    reports, replace requests, whether the algo cancelled it)."""
    size = draw(st.integers(1, 40))
    cur, cum, seq, replaces = size, 0, 1, 0
    reports: list[VenueReport] = [Accepted(2, OID, 0, size, 1)]
    for t, step in enumerate(
        draw(st.lists(st.sampled_from(["fill", "replace", "refused"]), max_size=7)), start=3
    ):
        if step == "fill" and cur - cum > 1:
            qty = draw(st.integers(1, cur - cum - 1))
            cum, seq = cum + qty, seq + 1
            fee = draw(st.integers(-3, 5))
            reports.append(Filled(t, OID, PX, qty, Liquidity.MAKER, fee, cur - cum, cum, seq))
        elif step == "replace":
            cur, seq, replaces = draw(st.integers(cum + 1, 2 * cur)), seq + 1, replaces + 1
            price = PX + draw(st.integers(-3, 3)) * TICK
            reports.append(Replaced(t, OID, price, cur, cur - cum, cum, seq))
        elif step == "refused":
            replaces += 1
            reason = RejectReason.POST_ONLY_WOULD_CROSS
            reports.append(CancelRejected(t, OID, reason, REPLACE, cum, cur - cum, seq))
    end = draw(st.sampled_from(["open", "filled", "cancelled", "cancel_too_late"]))
    if end in ("filled", "cancel_too_late"):
        reports.append(Filled(50, OID, PX, cur - cum, Liquidity.TAKER, 1, 0, cur, seq + 1))
    if end == "cancelled":
        reports.append(Cancelled(51, OID, cur - cum, cum, 0, seq + 1))
    elif end == "cancel_too_late":
        reports.append(CancelRejected(51, OID, RejectReason.UNKNOWN_ORDER, CANCEL, 0, 0, 0))
    return size, reports, replaces, end.startswith("cancel")


@pytest.mark.property
@settings(max_examples=400, deadline=None)
@given(one_order(), st.data())
def test_any_permutation_of_an_orders_reports_converges_to_the_in_order_state(
    drawn: tuple[int, list[VenueReport], int, bool], data: st.DataObject
) -> None:
    """The algo's requests leave once it has seen the order accepted (a cancel needs
    that), in the order the venue answers them; the venue's reports then arrive in any
    order, some twice: every invariant holds after each (``IngressLedger`` checks them),
    and the end is the in-order state, settled when terminal, nothing left outstanding."""
    size, reports, replaces, cancel = drawn
    keyed = _keyed(*reports)
    requests: Arrival = [("replace", None)] * replaces + ([("cancel", None)] if cancel else [])
    in_order = [keyed[0], *requests, *keyed[1:]]
    expected = _ingest(size, in_order)
    shuffled = data.draw(st.permutations(keyed[1:]))
    again = data.draw(st.lists(st.sampled_from(keyed), max_size=3))
    live = IngressLedger()
    live.submit(_order(OID, size), 1)
    for t, (what, args) in enumerate([keyed[0], *requests, *shuffled, *again], start=2):
        if what == "replace":
            live.replace(OID, t)
        elif what == "cancel":
            assert live.cancel(OID, t)
        else:
            live.report("v1", args[0], args[1], ingest_ts=t)
    assert final_state(live) == final_state(expected)
    order = live.orders.orders[OID]
    assert order.settled == order.is_terminal and not order.requests
    assert replay(live.records) == live.records


# -- end to end: a real run's log ------------------------------------------------------------

SCENARIO = """\
import sys
sys.path[:0] = [{root!r}, {tests!r}]
from helpers import TICK, UNIT, deployment, synthetic
from meshrt import FeeSchedule, Scenario, Venue, micros, start, stop
from scenarios.algos.market_maker import MarketMaker

scenario = Scenario(
    name="ingress-property", seed={seed},
    venues=[Venue(name="v1", sources=[synthetic(updates=1_500, seed={feed_seed})],
                  feed_latency=micros(200, jitter_us=50), order_latency=micros(300, jitter_us=50),
                  fees=FeeSchedule(maker_ppm=-100, taker_ppm=400))],
    deployments=[
        deployment(MarketMaker, label="mm-1", schedule=[start(0), stop(20_000_000)]),
        deployment(MarketMaker, label="mm-2",
                   params={{"size": 2 * UNIT, "tick": TICK, "max_inventory": 4 * UNIT,
                           "skew_ticks": 2}}),
    ],
)
"""


def log_ingress(run_dir: Path) -> list[tuple[int, str, Any]]:
    """A run's order inputs in log order: (ts, what, args).

    The log's report records leave out the order report contract: a simulated venue
    reports in order, so it is re-derived here as a replay would, per order: the
    exec_seq counts its reports, cum sums its fills, the size follows its replaces, and a
    cancel reject answers its oldest request (the venue answers them in order), as of
    the order's last report or with nothing while the venue no longer holds it.
    """
    inputs: list[tuple[int, str, Any]] = []
    intent = None
    size: dict[int, int] = {}
    cum: Counter[int] = Counter()
    seq: Counter[int] = Counter()
    requests: dict[int, list[int]] = {}
    done: set[int] = set()
    _, records = read_log(run_dir / "replay.jsonl")
    for r in records:
        if r.type == "intent":
            intent = r
        elif r.type == "order_created":
            assert intent is not None and intent.seq == r.seq - 1
            kind, side, tif, _, _, price, order_size = intent.payload
            oid, label, client_id = r.payload[:3]
            size[oid], requests[oid] = order_size, []
            inputs.append(
                (
                    r.event_ts,
                    "submit",
                    {
                        "order_id": oid,
                        "deployment": label,
                        "client_id": client_id,
                        "venue": r.venue,
                        "symbol": r.instrument,
                        "side": Side(side),
                        "kind": ActionKind(kind),
                        "tif": TimeInForce(tif),
                        "price": price if kind == ActionKind.LIMIT else None,
                        "size": order_size,
                        "created_ts": r.event_ts,
                    },
                )
            )
        elif r.type == "cancel_sent":
            requests[r.payload[0]].append(CANCEL)
            inputs.append((r.event_ts, "cancel", r.payload[0]))
        elif r.type == "replace_sent":
            requests[r.payload[0]].append(REPLACE)
            inputs.append((r.event_ts, "replace", r.payload[0]))
        elif r.type in _KIND:
            p = r.payload
            oid, fields = p[0], p[1:-2]
            report: VenueReport
            if r.type == "cancel_rejected":
                request = requests[oid].pop(0)
                state = (0, 0, 0) if oid in done else (cum[oid], size[oid] - cum[oid], seq[oid])
                report = CancelRejected(r.event_ts, oid, fields[0], request, *state)
            else:
                seq[oid] += 1
                if r.type == "accepted":
                    report = Accepted(r.event_ts, oid, 0, size[oid], seq[oid])
                elif r.type == "rejected":
                    report = Rejected(r.event_ts, oid, fields[0], 0, 0, seq[oid])
                    done.add(oid)
                elif r.type == "fill":
                    cum[oid] += fields[1]
                    report = Filled(r.event_ts, oid, *fields, cum[oid], seq[oid])
                    if fields[-1] == 0:
                        done.add(oid)
                elif r.type == "cancelled":
                    if CANCEL in requests[oid]:  # else the rest of an IOC or market order
                        requests[oid].remove(CANCEL)
                    report = Cancelled(r.event_ts, oid, fields[0], cum[oid], 0, seq[oid])
                    done.add(oid)
                else:
                    requests[oid].remove(REPLACE)
                    size[oid] = fields[1]
                    report = Replaced(r.event_ts, oid, *fields, cum[oid], seq[oid])
            inputs.append((r.event_ts, "report", (r.venue, r.key, report, p[-2], p[-1])))
    return inputs


def _apply(ingress: IngressLedger, what: str, args: Any, ingest_ts: int) -> None:
    if what == "submit":
        ingress.submit(Order(**args), ingest_ts)
    elif what == "cancel":
        assert ingress.cancel(args, ingest_ts)
    elif what == "replace":
        ingress.replace(args, ingest_ts)
    else:
        ingress.report(args[0], args[1], args[2], ingest_ts)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), feed_seed=st.integers(0, 2**16), data=st.data())
def test_a_runs_log_verifies_and_its_reports_in_arrival_order_end_the_same(
    seed: int, feed_seed: int, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory(prefix="meshrt-ingress-") as work:
        folder = Path(work)
        path = folder / "scenario.py"
        path.write_text(
            SCENARIO.format(
                root=str(ROOT), tests=str(ROOT / "tests"), seed=seed, feed_seed=feed_seed
            )
        )
        run_dir = folder / "run"
        result = run(load_scenario(path), run_dir)
        assert result.ok
        verdict = verify(run_dir)
        assert verdict.ok, verdict.divergence
        inputs = log_ingress(run_dir)
        summary = orjson.loads((run_dir / "summary.json").read_bytes())

    # 1. in log order the ingress makes exactly the sequencer's transitions and books
    in_order = IngressLedger()
    for ts, what, args in inputs:
        _apply(in_order, what, args, ts)
        if what == "report":
            record = orjson.loads(in_order.records[-1])
            assert (record[5], record[6]) == (args[3], args[4])  # the logged before, after
    assert sum(1 for _, what, _ in inputs if what == "report") > 0
    for dep in summary["deployments"]:
        ledger = in_order.ledgers.get(dep["label"])
        if ledger is None:
            assert dep["fills"] == 0
            continue
        assert ledger.cash == dep["cash"] and ledger.fees == dep["fees"]
        assert {s: ledger.position(s) for s in ledger.symbols} == dep["position"]

    # 2. the same reports in an arrival order (delays up to 2 ms, re-sends) end the same;
    # a local decision (a submit, cancel or replace) waits for what the algo had seen
    # before it, and a report comes after the request that caused it
    arrivals: list[tuple[int, int, str, Any]] = []
    latest: dict[int, int] = {}  # order id -> the latest arrival of its inputs so far
    sent: dict[int, int] = {}  # order id -> when its last local input was committed
    for n, (ts, what, args) in enumerate(inputs):
        oid = (
            args["order_id"]
            if what == "submit"
            else args
            if what in ("cancel", "replace")
            else args[2].order_id
        )
        if what == "report":
            t = max(ts + data.draw(st.integers(0, 2_000_000)), sent[oid])
        else:
            t = sent[oid] = max(ts, latest.get(oid, 0))
        latest[oid] = max(latest.get(oid, 0), t)
        arrivals.append((t, n, what, args))
        if what == "report" and data.draw(st.integers(0, 9)) == 0:  # a re-send
            arrivals.append((t + data.draw(st.integers(0, 2_000_000)), n, what, args))
    arrivals.sort(key=lambda item: (item[0], item[1]))
    live = IngressLedger()
    for t, _, what, args in arrivals:
        _apply(live, what, args, t)
    assert final_state(live) == final_state(in_order)
    assert replay(live.records) == live.records
