"""What every time-axis figure shares: seconds on x, and the faults marked on it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from plotly.subplots import make_subplots

from meshrt.report.series import RunData

# a colour per fault kind, in the faults figure and the marks on every time axis
FAULT_COLOURS = {
    "kill_instance": "#d62728",
    "crash": "#d62728",
    "gave_up": "#7f0000",
    "restart": "#2ca02c",
    "feed_down": "#ff7f0e",
    "coordinator_killed": "#9467bd",
    "coordinator_restarted": "#9467bd",
    "partition": "#8c564b",
    "drop_rate": "#e377c2",
    "latency_spike": "#17becf",
}
MARKED_FAULTS = 100  # marks drawn per figure at most (the faults figure shows them all)
BUY, SELL = "#2ca02c", "#d62728"


def seconds(times: Sequence[int]) -> list[float]:
    return [t / 1e9 for t in times]


def time_figure(data: RunData, rows: int, titles: Sequence[str], heights: Sequence[float]) -> Any:
    """Rows sharing one time axis in seconds, with the run's faults marked on each."""
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=list(titles),
        row_heights=list(heights),
    )
    fig.update_xaxes(title_text="scenario time (s)", row=rows, col=1)
    fig.update_xaxes(range=[0, data.end_ns / 1e9])
    mark_faults(fig, data)
    return fig


def mark_faults(fig: Any, data: RunData) -> None:
    """A dotted line at each fault (a shaded band for one that lasts), on every row."""
    for fault in data.faults[:MARKED_FAULTS]:
        colour = FAULT_COLOURS.get(fault.kind, "#7f7f7f")
        if fault.end_ns is not None and fault.end_ns > fault.ts:
            fig.add_vrect(
                x0=fault.ts / 1e9,
                x1=fault.end_ns / 1e9,
                fillcolor=colour,
                opacity=0.12,
                line_width=0,
                row="all",
                col="all",
                exclude_empty_subplots=False,  # marked before the traces are added
            )
        else:
            fig.add_vline(
                x=fault.ts / 1e9,
                line={"color": colour, "dash": "dot", "width": 1},
                row="all",
                col="all",
                exclude_empty_subplots=False,  # marked before the traces are added
            )


def layout(fig: Any, height: int) -> Any:
    fig.update_layout(
        height=height,
        margin={"l": 70, "r": 30, "t": 50, "b": 50},
        template="plotly_white",
        hovermode="closest",
    )
    return fig
