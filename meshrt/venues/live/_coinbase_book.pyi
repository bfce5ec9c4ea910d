class BookSide:
    def levels(self) -> tuple[tuple[int, int], ...]: ...

class CoinbaseBook:
    bids: BookSide
    asks: BookSide
    def __init__(self) -> None: ...
