"""An order trace as text: the table ``meshrt trace`` prints."""

from __future__ import annotations

from meshrt.analysis import fmt
from meshrt.analysis.trace import OrderTrace


def format_trace(trace: OrderTrace) -> str:
    """The trace as a table: one line per step, times in seconds with all nine decimals."""
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
    lines = [
        head,
        (f"{final}, filled {fmt.size(trace.filled)} of {size_text}, fees {fmt.price(trace.fees)}"),
        "",
    ]
    rows = [("seq", "time (s)", "step", "key", "what", "because of")]
    for step in trace.steps:
        rows.append(
            (str(step.seq), fmt.ns(step.ts), step.step, step.key or "", step.detail, step.trigger)
        )
    widths = [max(len(row[k]) for row in rows) for k in range(4)]
    for row in rows:
        lines.append(
            "  ".join(
                [
                    row[0].rjust(widths[0]),
                    row[1].rjust(widths[1]),
                    row[2].ljust(widths[2]),
                    row[3].ljust(widths[3]),
                    f"{row[4]}  <- {row[5]}",
                ]
            )
        )
    lines.append("")
    lines.append(
        "note: the book the algo saw when it decided is not logged; it is at least "
        "the feed latency older than the intent"
    )
    lines.extend(f"note: {note}" for note in trace.notes)
    return "\n".join(lines)
