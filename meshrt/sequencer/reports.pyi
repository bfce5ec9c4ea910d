"""Types of the Cython module meshrt/sequencer/reports.pyx."""

from typing import final

from meshrt.sequencer.books import Books
from meshrt.sequencer.desk import IntentDesk
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import VenueLane
from meshrt.sequencer.order import OrderStatus
from meshrt.venues.reports import VenueReport

class RunFailed(Exception):
    """The run stopped on an invariant violation (fail closed); the message says where."""

@final
class ReportIngress:
    """The sequencer's report ingress: commits, logs and delivers venue order reports."""

    journal: Journal
    desk: IntentDesk
    books: Books
    def __init__(self, journal: Journal, desk: IntentDesk, books: Books) -> None: ...
    def commit(self, lane: VenueLane, symbol: int, report: VenueReport) -> None:
        """Commit one order report of ``lane`` for its ``symbol`` (index)."""

def report_record(
    seq: int,
    source: str,
    venue: str,
    symbol: str,
    report: VenueReport,
    before: OrderStatus,
    after: OrderStatus,
    n: int,
) -> bytes:
    """The record of ``report``, the ``n``-th of ``venue``, as report ingress writes it:
    compiled when its values are int64s, else by ``records.report`` (tests compare the
    two)."""
