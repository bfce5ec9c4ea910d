"""A venue's reports about an algo order: one typed value per kind, told apart by type.

A matching engine (meshrt/venues/_matching.pyx) makes them; they travel in ``OrderReport``
(meshrt/venues/outputs.py) to the sequencer, whose report ingress (meshrt/sequencer/
reports.pyx, orders.pyx, transitions.pyx) dispatches on ``type(report)``. NamedTuples: one
is built per order event and ingress reads them at report rate, so they must stay as
cheap as a tuple to build and read.

Each starts with the venue's time ``ts`` and the ``order_id`` and ends with the order
report contract (docs/concepts.md, "Order reports"), FIX-style, so that reports
delivered in any order converge to the state in-order delivery gives:

* ``cum``: the order's cumulative filled size at the venue after this report (FIX
  CumQty);
* ``leaves``: its size still open at the venue after it (FIX LeavesQty; 0 once it has
  ended);
* ``exec_seq``: the venue's execution sequence for the order: 1 for its first report,
  then 2, 3, ... for each report that changes it. A ``CancelRejected`` changes nothing,
  so it takes no number of its own: it carries the ``exec_seq``, ``cum`` and ``leaves``
  the order had when the venue refused the request (all 0 when the venue no longer
  knows the order).

The replay log writes a report as the record ``meshrt.log.schema.REPORT_BY_TYPE`` names
for its type: the fields after ``ts`` that the record declares, in order
(tests/test_log_schema.py checks that the names agree). A simulated venue reports in
order, so the contract's fields that a record leaves out are the ones a replay
re-derives by running the venue again. Ints only, so a line's bytes do not depend on
how a value was built. ``reason`` is a ``RejectReason`` value, ``liquidity`` a
``Liquidity`` value, ``request`` an ``ActionKind`` value.
"""

from __future__ import annotations

from typing import NamedTuple


class Accepted(NamedTuple):
    """The venue took the order: fills, and for an IOC or market order a cancel of what
    did not fill, may follow at the same time."""

    ts: int
    order_id: int
    cum: int
    leaves: int
    exec_seq: int


class Rejected(NamedTuple):
    """The order never lived: nothing filled."""

    ts: int
    order_id: int
    reason: int
    cum: int
    leaves: int
    exec_seq: int


class Filled(NamedTuple):
    """A (partial) fill of ``size`` at ``price``; ``leaves`` is what the order still has
    open after it (0: the order is filled)."""

    ts: int
    order_id: int
    price: int
    size: int
    liquidity: int
    fee: int  # price units (meshrt/venues/fees.py); negative: a rebate
    leaves: int
    cum: int
    exec_seq: int


class Cancelled(NamedTuple):
    """The order is off the book with ``remaining`` unfilled (FIX: the cancelled size;
    the order's size at the venue was ``cum + remaining``)."""

    ts: int
    order_id: int
    remaining: int
    cum: int
    leaves: int
    exec_seq: int


class CancelRejected(NamedTuple):
    """The venue refused one cancel or replace request: ``request`` says which kind
    (FIX CxlRejResponseTo), so the answer finds its request in any arrival order."""

    ts: int
    order_id: int
    reason: int
    request: int
    cum: int
    leaves: int
    exec_seq: int


class Replaced(NamedTuple):
    """The order now rests at ``price`` for ``size`` in all (``leaves`` still open)."""

    ts: int
    order_id: int
    price: int
    size: int
    leaves: int
    cum: int
    exec_seq: int


VenueReport = Accepted | Rejected | Filled | Cancelled | CancelRejected | Replaced
