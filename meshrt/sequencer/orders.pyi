"""Types of the Cython module meshrt/sequencer/orders.pyx."""

from collections.abc import Callable, Hashable, Iterator
from typing import Final, final

from meshrt.contract import RejectReason
from meshrt.ledger import Ledger
from meshrt.sequencer.ended import EndedOrders
from meshrt.sequencer.order import Order, OrderStatus
from meshrt.venues.reports import VenueReport

# how the log and rejects name a retired order past its horizon (its final state is gone)
EXPIRED: Final = "EXPIRED"

@final
class OrderStateMachine:
    """The orders of a runtime: those held in full by global order id, per-deployment live
    indexes, the tombstones of retired ones, and every order and client id ever used."""

    @property
    def orders(self) -> dict[int, Order]: ...
    @property
    def ended(self) -> EndedOrders: ...
    created: int
    late_reports: int
    def __init__(self) -> None: ...
    def create(self, order: Order) -> None:
        """Register an intent that passed its checks (status CREATED)."""
    def submit(self, order_id: int, ts: int) -> None:
        """CREATED -> SUBMITTED, when the order leaves for the venue."""
    def request_cancel(self, order_id: int, ts: int) -> RejectReason | None:
        """ACCEPTED/PARTIALLY_FILLED -> CANCEL_PENDING, or the reason the algo is refused."""
    def validate_replace(self, order_id: int, price: int | None, size: int) -> RejectReason | None:
        """Whether an algo may ask to replace this order; changes nothing."""
    def replace_sent(self, order_id: int) -> None:
        """A replace that passed every check leaves for the venue: it awaits an answer."""
    def apply_report(self, report: VenueReport, key: Hashable) -> bool:
        """Apply one venue report; False if ``key`` was already applied to this order."""
    def commit_report(
        self,
        ledger_of: Callable[[Order], Ledger],
        venue: str,
        venue_key: Hashable,
        report: VenueReport,
    ) -> tuple[Order, OrderStatus, bool]:
        """Commit one venue report to the books: (order, status before, applied)."""
    def retire(self, order_id: int, horizon: int) -> None:
        """A settled order leaves for a tombstone standing until ``horizon`` (ns)."""
    def expire(self, now: int) -> None:
        """The timeline is at ``now``: tombstones whose horizon has passed go."""
    def report_after_end(self, report: VenueReport, venue: str) -> OrderStatus | None:
        """A report for a retired order: its final state while its tombstone stands, None
        past the horizon (counted as late, ignored)."""
    def issued(self, order_id: int) -> bool:
        """Whether an order was ever created with this id (retired ones included)."""
    def client_id_used(self, deployment: str, client_id: int) -> bool:
        """Whether the deployment ever had an order with this client id."""
    def ended_state(self, deployment: str, client_id: int) -> str | None:
        """The final state's name of a deployment's retired order."""
    def find(self, deployment: str, client_id: int) -> Order | None:
        """The held order a deployment knows by its client order id, if any."""
    def open_orders(self, deployment: str) -> int:
        """Live (non-terminal) orders of a deployment, including ones not yet acknowledged."""
    def live_orders(self, deployment: str) -> Iterator[Order]:
        """Non-terminal orders of a deployment, in creation order."""
    def open_exposure(self, deployment: str, symbol: str) -> tuple[int, int]:
        """(buy, sell) size still working on a symbol: the inputs risk needs."""
    def check_invariants(self, order_id: int) -> None:
        """Assert the order is self-consistent; raises ``InvariantViolation`` if not."""

def report_name(report: VenueReport) -> str:
    """How errors name a report: its log record's type (``accepted``, ``fill``, ...)."""
