"""Types of the Cython module meshrt/sequencer/desk.pyx."""

from typing import Any

from meshrt.contract import RejectReason
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import Deployed, VenueLane
from meshrt.sequencer.order import Order
from meshrt.sequencer.orders import OrderStateMachine

class IntentDesk:
    """The order state machine and the range and risk checks on intents."""

    journal: Journal
    lanes: list[VenueLane]
    orders: OrderStateMachine
    # orders of crashed deployments, cancelled as soon as their venue accepts them
    cancel_on_accept: set[int]

    def __init__(
        self,
        journal: Journal,
        lanes: list[VenueLane],
        orders: OrderStateMachine | None = None,
        cancel_on_accept: set[int] | None = None,
    ) -> None: ...
    def commit_action(self, ts: int, dep: Deployed, action: tuple[Any, ...]) -> None:
        """Log one action an algo took at ``ts``, then check and commit it, or refuse it."""
    def send_cancel(
        self, ts: int, dep: Deployed, order: Order, cause: str, already_pending: str | None = None
    ) -> None:
        """Send a cancel; ``already_pending`` is the status the order had when the caller
        already moved it to CANCEL_PENDING."""
    def reject(
        self, ts: int, dep: Deployed, client_id: Any, kind: Any, reason: RejectReason, detail: str
    ) -> None:
        """Refuse an intent: counted, logged, and delivered as on_reject after the order
        latency."""
