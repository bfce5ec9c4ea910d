"""Types of the Cython module meshrt/sequencer/_due.pyx."""

from meshrt.actors.instance import AlgoInstance
from meshrt.actors.protocol import Arrival, Delivery, Output
from meshrt.sequencer.lanes import Deployed, VenueLane

def delivery_ts(item: Delivery) -> int:
    """A delivery's time (BookDelivery is no tuple)."""

def due_arrivals(lane: VenueLane, until: int) -> list[Arrival] | None:
    """What ``lane``'s venue takes before ``until`` (None: it has nothing to do)."""

def due_deliveries(dep: Deployed, until: int) -> list[Delivery]:
    """What ``dep`` gets this window: its inbound items and timers before ``until``."""

def hand_past_capacity(instance: AlgoInstance, items: list[Delivery]) -> None:
    """Deliveries that do not pass straight through a stepped instance's mailbox."""

def crash_overflowed(
    outputs: list[Output], overflowed: list[tuple[Deployed, str]], now: int
) -> None:
    """A deployment whose FAIL mailbox overflowed crashes at ``now``, in merge order."""
