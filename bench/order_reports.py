"""Order state machine: CPU cost of one fill report, with few and with many orders open.

It opens N orders, then applies one partial fill report to each, timing the reports only
(the loop the sequencer runs for every venue report). A figure that grows with N means
work proportional to the open orders crept onto the hot path; tests/test_orders.py checks
the same deterministically, by counting the Python lines a report runs.
Usage: .venv/bin/python bench/order_reports.py [--orders 1000 20000 200000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meshrt.contract import ActionKind, Liquidity, Side, TimeInForce
from meshrt.sequencer.order import Order
from meshrt.sequencer.orders import OrderStateMachine
from meshrt.venues.reports import Filled

PRICE = 100_000_000_000


def per_report_us(n: int) -> float:
    """Microseconds of CPU per fill report over ``n`` open orders, each filled once."""
    sm = OrderStateMachine()
    for oid in range(n):
        sm.create(
            Order(
                order_id=oid,
                deployment="mm",
                client_id=oid,
                venue="sim",
                symbol="BTC-USD",
                side=Side.BUY,
                kind=ActionKind.LIMIT,
                tif=TimeInForce.GTC,
                price=PRICE,
                size=10,
                created_ts=0,
            )
        )
        sm.submit(oid, 0)
    reports = [Filled(5, oid, PRICE, 1, Liquidity.MAKER, 0, 9, 1, 2) for oid in range(n)]
    apply = sm.apply_report
    started = time.process_time()
    for key, report in enumerate(reports):
        apply(report, key)
    return (time.process_time() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[1_000, 20_000, 200_000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for n in args.orders:
        samples = [per_report_us(n) for _ in range(args.runs)]
        print(
            f"{n:>9,} open orders  {statistics.median(samples):6.3f} us CPU per fill report "
            f"(median of {args.runs}, min {min(samples):.3f})"
        )


if __name__ == "__main__":
    main()
