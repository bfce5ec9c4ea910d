"""A venue's reports about an algo order: one typed value per kind, told apart by type.

A matching engine (meshrt/venues/matching.py) makes them; they travel in ``OrderReport``
(meshrt/venues/outputs.py) to the sequencer, whose report ingress (meshrt/sequencer/
reports.py, ingress.py, transitions.py) dispatches on ``type(report)``. NamedTuples: one
is built per order event and ingress reads them at report rate, so they must stay as
cheap as a tuple to build and read.

Each starts with the venue's time ``ts`` and the ``order_id``. The replay log writes a
report as the record ``meshrt.log.schema.REPORT_BY_TYPE`` names for its type, with the
fields after ``ts`` as the payload in declared order (tests/test_log_schema.py checks
that the names agree); ints only, so a line's bytes do not depend on how a value was
built. ``reason`` is a ``RejectReason`` value, ``liquidity`` a ``Liquidity`` value.
"""

from __future__ import annotations

from typing import NamedTuple


class Accepted(NamedTuple):
    """The venue took the order: fills, and for an IOC or market order a cancel of what
    did not fill, may follow at the same time."""

    ts: int
    order_id: int


class Rejected(NamedTuple):
    """The order never lived: nothing filled."""

    ts: int
    order_id: int
    reason: int


class Filled(NamedTuple):
    """A (partial) fill; ``remaining`` is what the order still has open after it."""

    ts: int
    order_id: int
    price: int
    size: int
    liquidity: int
    fee: int  # price units (meshrt/venues/fees.py); negative: a rebate
    remaining: int


class Cancelled(NamedTuple):
    """The order is off the book with ``remaining`` unfilled (its final cum is size -
    remaining)."""

    ts: int
    order_id: int
    remaining: int


class CancelRejected(NamedTuple):
    """The venue refused the order's oldest unanswered cancel or replace request."""

    ts: int
    order_id: int
    reason: int


class Replaced(NamedTuple):
    """The order now rests at ``price`` for ``size`` in all (``remaining`` still open)."""

    ts: int
    order_id: int
    price: int
    size: int
    remaining: int


VenueReport = Accepted | Rejected | Filled | Cancelled | CancelRejected | Replaced
