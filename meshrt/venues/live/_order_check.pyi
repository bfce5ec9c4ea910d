"""Types of the Cython module meshrt/venues/live/_order_check.pyx."""

from meshrt.venues.live.refdata import Reference, Refusal

def check_order(ref: Reference, price: int | None, size: int) -> Refusal | None:
    """Why the venue would refuse an order at ``price`` (None: a market order) for
    ``size``, or None when it would accept it."""
