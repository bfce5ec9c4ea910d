"""A venue fed by ``Received`` items (meshrt/actors/live_venue.py): a symbol is down
until its snapshot and from a resync (or a disconnect, every symbol) until its next one,
as a killed feed: its events are applied and committed, no book goes to an algo, and its
paper book is empty meanwhile; notes go out in order with the feed; a symbol's reference
data refuses the orders the venue would."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from meshrt.actors.live_venue import LiveVenueActor
from meshrt.actors.mailbox import Mailbox
from meshrt.actors.protocol import Replace, Submit
from meshrt.contract import ActionKind, RejectReason, Side, TimeInForce
from meshrt.scenario.limits import MailboxConfig
from meshrt.venues._matching import MatchingEngine
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT
from meshrt.venues.live.playback import Inbox
from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.verdicts import (
    Connected,
    Disconnected,
    Feed,
    FrameError,
    Received,
    Resync,
    Why,
)
from meshrt.venues.outputs import BookUpdate, LiveNote, OrderReport
from meshrt.venues.reports import Accepted, CancelRejected, Rejected

BIDS = ((99, 5), (98, 5))
ASKS = ((101, 5), (102, 5))


def venue() -> tuple[LiveVenueActor, Inbox]:
    inbox = Inbox()
    actor = LiveVenueActor(
        0,
        "v",
        ["A", "B"],
        inbox,
        [MatchingEngine(), MatchingEngine()],
        Mailbox("seq", MailboxConfig(capacity=100)),
    )
    return actor, inbox


def snapshot(ts: int, symbol: str = "A") -> Received:
    return Received(ts, (Feed(symbol, ((ts, FEED_SNAPSHOT, BIDS, ASKS),)),))


def delta(ts: int, symbol: str = "A") -> Received:
    return Received(ts, (Feed(symbol, ((ts, FEED_DELTA, 1, 99, 7),)),))


def step(actor: LiveVenueActor, inbox: Inbox, *items: Received, arrivals: Any = ()) -> list[Any]:
    inbox.items.extend(items)
    return actor.advance(10**12, list(arrivals))


def books(out: list[Any]) -> list[bool]:
    """Per BookUpdate: was a book delivered?"""
    return [update.book is not None for update in out if type(update) is BookUpdate]


@pytest.mark.unit
def test_a_symbol_is_down_until_its_first_snapshot() -> None:
    actor, inbox = venue()
    out = step(actor, inbox, Received(1, (Connected("x", 1),)), delta(2), snapshot(3), delta(4))
    assert type(out[0]) is LiveNote and out[0].symbol == -1
    assert books(out) == [False, True, True]
    assert actor.up == [True, False]


@pytest.mark.unit
def test_a_resync_downs_only_its_symbol_until_its_next_snapshot() -> None:
    actor, inbox = venue()
    step(actor, inbox, snapshot(1, "A"), snapshot(1, "B"))
    resync = Resync("A", "a", Why.CHECKSUM, "crc")
    assert step(actor, inbox, Received(2, (resync,))) == [LiveNote(2, 0, resync)]
    assert actor.engines[0].best_bid() is None  # the paper book is empty while down
    out = step(actor, inbox, delta(3, "A"), delta(3, "B"))
    assert books(out) == [False, True]  # no stale book of A; B carries on
    assert books(step(actor, inbox, snapshot(4, "A"), delta(5, "A"))) == [True, True]


@pytest.mark.unit
def test_a_disconnect_downs_every_symbol() -> None:
    actor, inbox = venue()
    step(actor, inbox, snapshot(1, "A"), snapshot(1, "B"))
    gone = Disconnected("x", "stale: no message in 10.0 s", 500)
    out = step(actor, inbox, Received(2, (gone,)), delta(3, "A"), delta(3, "B"))
    assert out[0] == LiveNote(2, -1, gone)
    assert books(out) == [False, False]
    assert actor.up == [False, False]


@pytest.mark.unit
def test_a_marketable_order_finds_no_liquidity_while_its_symbol_is_down() -> None:
    actor, inbox = venue()
    step(actor, inbox, snapshot(1))
    step(actor, inbox, Received(2, (Resync("A", "a", Why.GAP, "gap"),)))
    order = Submit(3, 7, 0, Side.BUY, None, 1, TimeInForce.IOC)
    out = step(actor, inbox, arrivals=[order])
    assert [type(o.report) for o in out if type(o) is OrderReport] == [Rejected]


@pytest.mark.unit
def test_items_never_go_back_in_time_and_arrivals_interleave_feed_first() -> None:
    actor, inbox = venue()
    step(actor, inbox, snapshot(10))
    order = Submit(12, 7, 0, Side.BUY, 95, 1, TimeInForce.GTC)
    out = step(
        actor,
        inbox,
        delta(12),
        delta(11),
        Received(13, (FrameError("x", "f", "g", "h"),)),
        arrivals=[order],
    )
    times = [o.ts for o in out]
    assert times == sorted(times) and times[0] == 12  # the late item is stamped 12, not 11
    kinds = [type(o) for o in out]
    assert kinds == [BookUpdate, BookUpdate, OrderReport, LiveNote]
    assert type(out[2].report) is Accepted


@pytest.mark.unit
def test_an_order_arriving_behind_the_venue_is_handled_at_the_venue_time() -> None:
    actor, inbox = venue()
    step(actor, inbox, snapshot(10), delta(20))
    out = step(actor, inbox, arrivals=[Submit(15, 7, 0, Side.BUY, 95, 1, TimeInForce.GTC)])
    assert [type(o.report) for o in out] == [Accepted] and out[0].ts == 20


# -- reference data ----------------------------------------------------------------------

RULES = Reference("kraken", "A/USD", "A", tick=10, lot=5, min_size=10, min_notional=None)


def reports(out: list[Any]) -> list[Any]:
    return [o.report for o in out if type(o) is OrderReport]


@pytest.mark.unit
def test_an_order_before_any_reference_is_not_checked() -> None:
    actor, inbox = venue()
    step(actor, inbox, snapshot(1))
    out = step(actor, inbox, arrivals=[Submit(2, 7, 0, Side.BUY, 95, 1, TimeInForce.GTC)])
    assert [type(r) for r in reports(out)] == [Accepted]


@pytest.mark.unit
def test_the_reference_refuses_what_the_venue_would_before_the_matching_engine() -> None:
    actor, inbox = venue()
    out = step(actor, inbox, snapshot(1), Received(2, (RULES,)))
    assert out[-1] == LiveNote(2, 0, RULES)  # logged, in order with the feed
    off_tick = Submit(3, 7, 0, Side.BUY, 95, 10, TimeInForce.GTC)
    too_small = Submit(3, 8, 0, Side.BUY, 90, 5, TimeInForce.GTC)
    on_rules = Submit(3, 9, 0, Side.BUY, 90, 10, TimeInForce.GTC)
    other_symbol = Submit(3, 10, 1, Side.BUY, 95, 1, TimeInForce.GTC)  # B has no reference
    out = step(actor, inbox, arrivals=[off_tick, too_small, on_rules, other_symbol])
    assert reports(out) == [
        Rejected(3, 7, RejectReason.INVALID_PRICE, 0, 0, 1),
        Rejected(3, 8, RejectReason.INVALID_SIZE, 0, 0, 1),
        Accepted(3, 9, 0, 10, 1),
        Accepted(3, 10, 0, 1, 1),
    ]
    assert [order.order_id for order in actor.engines[0].resting()] == [9]
    off_lot = Replace(4, 9, 0, 90, 12)
    out = step(actor, inbox, arrivals=[off_lot])
    # the order's state as it stands: nothing filled, 10 open, its one report so far
    assert reports(out) == [
        CancelRejected(4, 9, RejectReason.INVALID_SIZE, ActionKind.REPLACE, 0, 10, 1)
    ]
    assert [order.remaining for order in actor.engines[0].resting()] == [10]  # unchanged
    gone = Replace(5, 99, 0, 95, 10)  # off the tick, and unknown: the lookup comes first
    assert reports(step(actor, inbox, arrivals=[gone])) == [
        CancelRejected(5, 99, RejectReason.UNKNOWN_ORDER, ActionKind.REPLACE, 0, 0, 0)
    ]


@pytest.mark.unit
def test_a_reference_is_logged_when_new_or_changed_and_the_latest_applies() -> None:
    actor, inbox = venue()
    coarser = attrs.evolve(RULES, tick=100)
    unlisted = attrs.evolve(RULES, symbol="Z")
    out = step(
        actor,
        inbox,
        *(Received(t, (ref,)) for t, ref in enumerate([RULES, RULES, coarser, unlisted])),
    )
    assert out == [LiveNote(0, 0, RULES), LiveNote(2, 0, coarser)]
    out = step(
        actor, inbox, snapshot(5), arrivals=[Submit(6, 7, 0, Side.BUY, 90, 10, TimeInForce.GTC)]
    )
    assert reports(out) == [Rejected(6, 7, RejectReason.INVALID_PRICE, 0, 0, 1)]


# -- the compiled window step ---------------------------------------------------------


@pytest.mark.unit
def test_events_stamped_at_another_time_than_their_receipt_are_restamped() -> None:
    actor, inbox = venue()
    item = Received(5, (Feed("A", ((3, FEED_SNAPSHOT, BIDS, ASKS), (5, FEED_DELTA, 1, 99, 7))),))
    out = step(actor, inbox, item)
    assert [update.ts for update in out] == [5, 5]
    assert out[0].event == (5, FEED_SNAPSHOT, BIDS, ASKS)
    assert out[1].event is item.outputs[0].events[1]  # stamped so already: as it is


@pytest.mark.unit
def test_one_frame_brings_its_symbol_up_at_its_snapshot() -> None:
    actor, inbox = venue()
    events = ((1, FEED_DELTA, 1, 99, 7), (1, FEED_SNAPSHOT, BIDS, ASKS), (1, FEED_DELTA, 1, 98, 1))
    assert books(step(actor, inbox, Received(1, (Feed("A", events),)))) == [False, True, True]
    assert actor.up == [True, False]


@pytest.mark.unit
def test_a_paper_venue_peeks_and_takes_what_it_was_handed() -> None:
    actor, inbox = venue()
    assert actor.next_time() is None
    actor.hand([snapshot(7), delta(8)])
    assert actor.next_time() == 7
    assert books(actor.advance(10**12, [])) == [True, True]
    assert actor.next_time() is None and inbox.items == []


@pytest.mark.unit
def test_only_a_paper_venue_is_handed_items() -> None:
    actor, _ = venue()
    actor.feed = object()
    with pytest.raises(TypeError, match="paper venue"):
        actor.hand([snapshot(1)])
