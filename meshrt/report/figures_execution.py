"""Figures of how the algos' orders fared: fill ratio, markouts, rejects."""

from __future__ import annotations

from typing import Any

from plotly.subplots import make_subplots

from meshrt.report.axes import layout
from meshrt.report.registry import figure
from meshrt.report.series import RunData

# markout horizons drawn: those up to half the run's length (at least the first)
CURVE_HORIZONS_NS = (
    1_000_000,
    10_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
    30_000_000_000,
    60_000_000_000,
    300_000_000_000,
)


def curve_horizons(end_ns: int) -> tuple[int, ...]:
    return tuple(h for h in CURVE_HORIZONS_NS if h <= end_ns // 2) or CURVE_HORIZONS_NS[:1]


@figure(
    "tca",
    50,
    "Fill ratio and markouts",
    "meshrt tca's figures: filled / ordered size per deployment; the size-weighted "
    "markout (mid at fill time + h vs the fill price, + = gain) against the horizon h",
)
def tca(data: RunData) -> Any:
    report = data.tca.report(data.scenario, data.end_ns, curve_horizons(data.end_ns))
    rows = [row for row in report.rows if row.deployment is not None]
    if not rows:
        return "no orders"
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.35, 0.65],
        subplot_titles=("fill ratio (filled / ordered size)", "markout (bps of the fill price)"),
    )
    fig.add_bar(
        x=[f"{row.deployment} ({row.venue})" for row in rows],
        y=[row.fill_ratio or 0.0 for row in rows],
        text=[f"{row.fills:,} fills" for row in rows],
        name="fill ratio",
        showlegend=False,
        row=1,
        col=1,
    )
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    for row in rows:
        points = [m for m in row.markouts if m.bps is not None]
        fig.add_scatter(
            x=[m.horizon_ns / 1e9 for m in points],
            y=[m.bps for m in points],
            text=[f"{m.fills:,} fills" for m in points],
            mode="lines+markers",
            name=f"{row.deployment} markout",
            row=1,
            col=2,
        )
    fig.add_hline(y=0, line={"color": "#999", "width": 1}, row=1, col=2)
    fig.update_xaxes(type="log", title_text="horizon (s)", row=1, col=2)
    return layout(fig, 400)


@figure(
    "rejects",
    60,
    "Rejects by reason",
    "per reason and deployment: orders the venues rejected, cancels and replaces they "
    "refused, and intents the sequencer refused (what each algo's on_reject heard)",
)
def rejects(data: RunData) -> Any:
    if not data.rejects:
        return "no rejects"
    fig = make_subplots(rows=1, cols=1)
    reasons = sorted({reason for _, reason in data.rejects})
    for label in sorted({label for label, _ in data.rejects}):
        fig.add_bar(
            x=reasons,
            y=[data.rejects.get((label, reason), 0) for reason in reasons],
            name=label,
            row=1,
            col=1,
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="count")
    return layout(fig, 360)
