"""Types of the Cython module meshrt/actors/_deliveries.pyx."""

from typing import final

from meshrt.sdk import Book, Features

@final
class BookDelivery:
    """A book update for on_book, at its delivery time."""

    def __init__(self, ts: int, book: Book, features: Features) -> None: ...
    @property
    def ts(self) -> int: ...
    @property
    def book(self) -> Book: ...
    @property
    def features(self) -> Features: ...
