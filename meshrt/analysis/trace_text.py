"""An order trace for the terminal: the table ``meshrt trace`` prints."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from meshrt.analysis import fmt
from meshrt.analysis.trace import OrderTrace
from meshrt.console import table

LOG_NOTE = (
    "note: the book the algo saw when it decided is not logged; it is at least "
    "the feed latency older than the intent"
)


def trace_table(trace: OrderTrace) -> RenderableType:
    """The order, its final state, then one row per step, times in seconds with all nine
    decimals."""
    head = (
        f"order {trace.order_id} ({trace.label}:{trace.client_id}) on {trace.venue} "
        f"{trace.symbol}: "
    )
    if trace.kind is not None:
        head += fmt.new_order(trace.kind, trace.side, trace.tif, trace.price, trace.size)
    size_text = fmt.size(trace.final_size) if isinstance(trace.final_size, int) else "?"
    final = f"final {trace.status}"
    if trace.final_price != trace.price:
        final += f" at {fmt.price(trace.final_price)}"
    final += f", filled {fmt.size(trace.filled)} of {size_text}, fees {fmt.price(trace.fees)}"
    steps = table("seq", "time (s)", "step", "key", "what", "because of", left=0)
    for column in steps.columns[2:]:
        column.justify = "left"
    for step in trace.steps:
        steps.add_row(
            str(step.seq), fmt.ns(step.ts), step.step, step.key or "", step.detail, step.trigger
        )
    notes = [Text(f"note: {note}", style="yellow") for note in trace.notes]
    return Group(Text(head), Text(final), Text(""), steps, Text(""), Text(LOG_NOTE), *notes)
