"""Types of the Cython module meshrt/venues/_outputs.pyx."""

from typing import final

from meshrt.sdk import Book, Features
from meshrt.venues.events import FeedEvent

@final
class BookUpdate:
    """A snapshot or delta applied to the displayed book, with the book and features algos
    see; both None while the venue's feed is down."""

    def __init__(
        self, ts: int, symbol: int, event: FeedEvent, book: Book | None, features: Features | None
    ) -> None: ...
    @property
    def ts(self) -> int: ...
    @property
    def symbol(self) -> int:
        """Index into the venue's symbols."""
    @property
    def event(self) -> FeedEvent: ...
    @property
    def book(self) -> Book | None: ...
    @property
    def features(self) -> Features | None: ...
