"""Figures of the runtime under the algos: callback durations, the mesh, the faults."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from meshrt.report.axes import FAULT_COLOURS, layout, time_figure
from meshrt.report.registry import figure
from meshrt.report.series import RunData

MESSAGE_BUCKETS = 200  # bars over the run in the messages figure
PER_DECADE = 20  # histogram bins per factor of 10 of callback duration


def _per_decade(buckets: list[list[int]]) -> tuple[list[float], list[int]]:
    """metrics.json's fine buckets (within 1/256) summed into log-spaced bins: (bin
    middles in us, calls)."""
    bins: dict[int, int] = {}
    for ns, count in buckets:
        k = math.floor(math.log10(max(ns, 1)) * PER_DECADE)
        bins[k] = bins.get(k, 0) + count
    keys = sorted(bins)
    return [10 ** ((k + 0.5) / PER_DECADE) / 1e3 for k in keys], [bins[k] for k in keys]


@figure(
    "callbacks",
    70,
    "Callback latency",
    "wall-clock duration of each on_book call per deployment (metrics.json: a "
    "log-linear histogram, within 1/256), with its p50 and p99",
)
def callbacks(data: RunData) -> Any:
    instances = (data.metrics or {}).get("instances") or []
    drawn = [i for i in instances if i.get("callback_latency_ns", {}).get("count")]
    if not drawn:
        return "no callback durations (metrics.json missing, or no book callbacks)"
    fig = make_subplots(rows=1, cols=1)
    for inst in drawn:
        lat = inst["callback_latency_ns"]
        label = inst["label"]
        x, y = _per_decade(lat.get("histogram") or [])
        fig.add_scatter(
            x=x,
            y=y,
            mode="lines+markers",
            fill="tozeroy",
            name=f"{label} ({lat['count']:,} calls)",
            row=1,
            col=1,
        )
        top = max(y, default=1)
        for name, dash in (("p50", "dash"), ("p99", "dot")):
            fig.add_scatter(
                x=[lat[name] / 1e3] * 2,
                y=[0.5, top],
                mode="lines",
                line={"dash": dash},
                name=f"{label} {name} {lat[name] / 1e3:.2f} us",
                row=1,
                col=1,
            )
    fig.update_xaxes(type="log", title_text="on_book duration (us)")
    fig.update_yaxes(title_text="calls", type="log")
    return layout(fig, 380)


@figure(
    "mesh",
    80,
    "Mesh links",
    "per directed link (mesh.json): messages delivered and dropped (by why), and the "
    "p50 and p99 of delivery latency",
)
def mesh(data: RunData) -> Any:
    links = (data.mesh or {}).get("links") or []
    if not links:
        return "no mesh messages were sent"
    names = [f"{link['from']} -> {link['to']}" for link in links]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("messages", "delivery latency (ms)"))
    fig.add_bar(x=names, y=[link["delivered"] for link in links], name="delivered", row=1, col=1)
    reasons = sorted({reason for link in links for reason in link["dropped"]})
    for reason in reasons:
        fig.add_bar(
            x=names,
            y=[link["dropped"].get(reason, 0) for link in links],
            name=f"dropped: {reason}",
            row=1,
            col=1,
        )
    for key, name in (("latency_p50_ns", "p50"), ("latency_p99_ns", "p99")):
        fig.add_bar(x=names, y=[link[key] / 1e6 for link in links], name=name, row=1, col=2)
    fig.update_layout(barmode="group")
    return layout(fig, 380)


@figure(
    "messages",
    90,
    "Mesh messages sent",
    "messages each deployment sent over the mesh, counted per time bucket (the log's "
    "message records)",
)
def messages(data: RunData) -> Any:
    if not data.messages:
        return "no mesh messages were sent"
    fig = time_figure(data, 1, ("messages sent per bucket",), (1.0,))
    width = max(1, data.end_ns // MESSAGE_BUCKETS + 1)
    for label, times in sorted(data.messages.items()):
        counts = [0] * (data.end_ns // width + 1)
        for ts in times:
            counts[min(ts // width, len(counts) - 1)] += 1
        fig.add_bar(
            x=[(k + 0.5) * width / 1e9 for k in range(len(counts))],
            y=counts,
            width=width / 1e9,
            name=label,
            row=1,
            col=1,
        )
    fig.update_layout(barmode="stack")
    return layout(fig, 340)


@figure(
    "faults",
    100,
    "Faults timeline",
    "injected faults, crashes and restarts (the log's control records); those that "
    "last are bars from start to end. Every time axis above marks them too",
)
def faults(data: RunData) -> Any:
    if not data.faults:
        return "no faults, crashes or restarts"
    fig = time_figure(data, 1, ("",), (1.0,))
    kinds = sorted({fault.kind for fault in data.faults})
    for kind in kinds:
        these = [f for f in data.faults if f.kind == kind]
        colour = FAULT_COLOURS.get(kind, "#7f7f7f")
        fig.add_trace(
            go.Scatter(
                x=[f.ts / 1e9 for f in these],
                y=[kind] * len(these),
                text=[f.what for f in these],
                mode="markers",
                marker={"size": 10, "color": colour, "symbol": "x"},
                name=kind,
                hovertemplate="%{x:.6f} s: %{text}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        for f in these:
            if f.end_ns is not None:
                fig.add_scatter(
                    x=[f.ts / 1e9, f.end_ns / 1e9],
                    y=[kind, kind],
                    mode="lines",
                    line={"color": colour, "width": 6},
                    showlegend=False,
                    hoverinfo="skip",
                    row=1,
                    col=1,
                )
    return layout(fig, 200 + 30 * len(kinds))
