"""Types of the Cython module meshrt/venues/_book.pyx."""

from typing import Any, final

NO_BUY: int
NO_SELL: int

@final
class L2Book:
    """The displayed levels of one symbol, best first; ``top()`` tuples are cached."""

    buy_max: int  # best resting algo buy price (NO_BUY: none), kept by the matching engine
    sell_min: int  # best resting algo sell price (NO_SELL: none)
    @property
    def depth(self) -> int: ...
    def __init__(self, buys: dict[int, Any], sells: dict[int, Any], depth: int) -> None: ...
    def set(self, side: int, price: int, size: int) -> bool:
        """Set one level (size <= 0 removes it); True when resting orders may care."""
    def load(
        self,
        bid_prices: list[int],
        bid_sizes: list[int],
        ask_prices: list[int],
        ask_sizes: list[int],
    ) -> None: ...
    def top(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]: ...
    def best(self, side: int) -> tuple[int, int] | None: ...
    def size_at(self, side: int, price: int) -> int: ...
    def consume_best(self, side: int, qty: int) -> int: ...
    def levels(self, side: int) -> tuple[list[int], list[int]]: ...
