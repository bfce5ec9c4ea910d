"""Report ingress: a venue's order report moves its order, books its fill, and is
delivered to the deployment that owns the order.

The state change itself is meshrt/sequencer/ingress.py's (shared with arrival-order ingress in
live mode); this adds what the timeline needs: the seq id and log record, the delivery
at ``time + feed latency``, and the cancel of a crashed deployment's order on accept.

It also sets the horizon of a settled order's tombstone: the time the report that
settled it reaches the deployment (its commit time if nobody is there to tell). Until
then the algo may still name the order without knowing it ended (a cancel racing the
fill) and is refused with its final state, as it always was.
"""

from __future__ import annotations

import attrs

from meshrt.actors.protocol import FillDelivery, OrderDelivery, RejectDelivery
from meshrt.contract import ActionKind, RejectReason
from meshrt.log import records
from meshrt.sdk import Fill, OpenOrder, Reject
from meshrt.sequencer.books import Books
from meshrt.sequencer.desk import IntentDesk
from meshrt.sequencer.ingress import commit_report
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import VenueLane
from meshrt.sequencer.order import ACCEPTED, PARTIALLY_FILLED, InvariantViolation
from meshrt.sequencer.orders import EXPIRED
from meshrt.venues.reports import (
    Accepted,
    Cancelled,
    CancelRejected,
    Filled,
    Rejected,
    Replaced,
    VenueReport,
)


class RunFailed(Exception):
    """The run stopped on an invariant violation (fail closed); the message says where."""


@attrs.define(slots=True, eq=False)
class ReportIngress:
    journal: Journal
    desk: IntentDesk
    books: Books

    def commit(self, lane: VenueLane, symbol: int, report: VenueReport) -> None:
        lane.reports += 1
        ts, order_id = report.ts, report.order_id
        journal = self.journal
        journal.seq += 1
        orders = self.desk.orders
        orders.expire(ts)
        if order_id not in orders.orders and orders.issued(order_id):
            return self._after_end(lane, symbol, report)
        try:
            order, before, applied = commit_report(
                orders, self.books.ledger_of, lane.name, lane.reports, report
            )
        except InvariantViolation as exc:
            raise RunFailed(f"invariant violated at seq {journal.seq}: {exc}") from None
        self._log(lane, symbol, report, before.name, order.status.name)
        if not applied:
            return  # a duplicate report: logged as received, booked and delivered once only
        dep = self.books.deployment_of(order)
        item: FillDelivery | RejectDelivery | OrderDelivery | None = None
        if type(report) is Filled:
            journal.counts["fills"] += 1
            item = FillDelivery(
                ts,
                Fill(
                    ts,
                    order.client_id,
                    order.symbol,
                    lane.name,
                    order.side,
                    report.liquidity,
                    report.price,
                    report.size,
                    report.fee,
                    report.leaves,
                ),
            )
        elif type(report) is Rejected:
            reason = RejectReason(report.reason)
            dep.rejects[reason.name] += 1
            item = RejectDelivery(
                ts, Reject(ts, order.client_id, reason, order.kind, "venue"), False
            )
        elif type(report) is Cancelled:
            item = OrderDelivery(ts, order.client_id, None)
        elif type(report) is CancelRejected:
            reason = RejectReason(report.reason)
            dep.rejects[reason.name] += 1
            item = RejectDelivery(
                ts,
                Reject(ts, order.client_id, reason, ActionKind(report.request), "venue"),
                bool(order.requests),
            )
        elif type(report) is Accepted and order_id in self.desk.cancel_on_accept:
            self.desk.cancel_on_accept.discard(order_id)
            if order.status in (ACCEPTED, PARTIALLY_FILLED):
                self.desk.send_cancel(ts, dep, order, "crash")
        elif type(report) is Replaced or type(report) is Accepted:
            item = OrderDelivery(
                ts,
                order.client_id,
                OpenOrder(
                    order.client_id,
                    order.symbol,
                    order.side,
                    order.price,
                    order.size,
                    order.filled,
                    True,
                    bool(order.requests),
                ),
            )
        at = ts
        if item is not None and dep.crashed is None:
            at = lane.feed.deliver_at(ts)
            dep.inbound.append(item._replace(ts=at))
        if order.settled:
            orders.retire(order_id, at)
            self.desk.cancel_on_accept.discard(order_id)

    def _after_end(self, lane: VenueLane, symbol: int, report: VenueReport) -> None:
        """A report for a retired order: logged as received and ignored (a resend while its
        tombstone stands; late, and counted, after). Nothing live mode can be sent twice
        reaches here in virtual time: a simulated venue sends nothing after the last report."""
        journal = self.journal
        try:
            final = self.desk.orders.report_after_end(report, lane.name)
        except InvariantViolation as exc:
            raise RunFailed(f"invariant violated at seq {journal.seq}: {exc}") from None
        state = EXPIRED if final is None else final.name
        self._log(lane, symbol, report, state, state)

    def _log(
        self, lane: VenueLane, symbol: int, report: VenueReport, before: str, after: str
    ) -> None:
        """The report's record: the order's state before and after, and the report's place
        in the venue's stream as its reference."""
        journal = self.journal
        journal.log.lines.append(
            records.report(
                journal.seq,
                lane.source,
                lane.name,
                lane.symbols[symbol],
                report,
                before,
                after,
                f"{lane.name}:{lane.reports}",
            )
        )
