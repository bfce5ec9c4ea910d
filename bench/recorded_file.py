"""The recorded-data benchmark's input: a JSON-lines file written from the synthetic source.

One 20-level snapshot, then the synthetic walk's deltas (a size change, or the four
changes of a mid move) about 1 ms apart, and a trade print after every 10th book update,
as real feeds are sparse against the latencies people model. Timestamps are absolute
(from 2023-11-14), prices and sizes decimal strings, as an exchange dump would be; the
same arguments always give the same bytes. Usage:

    .venv/bin/python bench/recorded_file.py OUT.jsonl [--rows 1000000] [--binary OUT.mrec]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshrt import Side, price_to_int, size_to_int  # noqa: E402
from meshrt.venues._synthetic import SyntheticSource  # noqa: E402
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT  # noqa: E402
from meshrt.venues.specs import SyntheticSpec  # noqa: E402

START_NS = 1_700_000_000_000_000_000
SYMBOL = "BTC-USD"
TICK = price_to_int("0.01")  # the market maker's tick parameter for this file


def spec(rows: int) -> SyntheticSpec:
    """The walk behind the file (prints add rows, so ``rows`` updates are always enough)."""
    return SyntheticSpec(
        symbol=SYMBOL,
        seed=2024,
        start_price=price_to_int("100.00"),
        tick=TICK,
        levels=20,
        level_size=(size_to_int("0.5"), size_to_int("8")),
        interval_ns=1_000_000,
        updates=max(rows, 2),
        trade_every=10,
        move_probability=0.1,
    )


def _decimal(value: int, places: int) -> str:
    whole, frac = divmod(value, 10**places)
    text = f"{frac:0{places}d}".rstrip("0")
    return f"{whole}.{text}" if text else str(whole)


def _line(event: tuple[object, ...]) -> str:
    ts = START_NS + int(event[0])  # type: ignore[call-overload]
    if event[1] == FEED_SNAPSHOT:
        bids, asks = (
            ",".join(f'["{_decimal(p, 9)}","{_decimal(q, 8)}"]' for p, q in side)
            for side in event[2:]  # type: ignore[attr-defined]
        )
        return f'{{"ts":{ts},"type":"snapshot","bids":[{bids}],"asks":[{asks}]}}\n'
    kind = "delta" if event[1] == FEED_DELTA else "trade"
    side = "buy" if event[2] is Side.BUY else "sell"
    price, size = _decimal(event[3], 9), _decimal(event[4], 8)  # type: ignore[call-overload]
    return f'{{"ts":{ts},"type":"{kind}","side":"{side}","price":"{price}","size":"{size}"}}\n'


def write(path: str | Path, rows: int = 1_000_000) -> Path:
    """Write the benchmark file of ``rows`` lines (events) to ``path``; returns the path."""
    path = Path(path)
    source = SyntheticSource(spec(rows))
    left, until = rows, 0
    with path.open("w", encoding="ascii") as out:
        while left > 0 and not source.exhausted:
            until += 1_000_000_000
            events = source.batch(until)[:left]
            out.write("".join(map(_line, events)))
            left -= len(events)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the .jsonl file to write")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--binary", type=Path, help="also convert it to this .mrec file")
    args = parser.parse_args()
    write(args.out, args.rows)
    if args.binary is not None:
        from meshrt.venues.recording import convert

        convert(args.out, args.binary)


if __name__ == "__main__":
    main()
