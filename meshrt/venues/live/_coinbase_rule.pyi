from meshrt.venues.live.coinbase_wire import Level
from meshrt.venues.live.crossing import CrossedClock
from meshrt.venues.live.verdicts import Output, Why

class Counts:
    frames: int
    snapshots: int
    level_changes: int
    trades: int
    ignored: int
    dropped: int
    crossed: int
    gaps: int
    refused: int
    malformed: int
    resyncs: int

class Rule:
    symbols: dict[str, str]
    books: dict[str, object]
    n: Counts
    def __init__(self, symbols: dict[str, str], clock: CrossedClock, scans: bool) -> None: ...
    def frame(self, text: str | bytes, ts: int, out: list[Output]) -> bool: ...
    def update(self, product: str, rows: list[Level], ts: int, out: list[Output]) -> None: ...
    def snapshot(
        self, product: str, bids: dict[int, int], asks: dict[int, int], ts: int, out: list[Output]
    ) -> None: ...
    def down(self, product: str, why: Why, detail: str, out: list[Output]) -> None: ...
