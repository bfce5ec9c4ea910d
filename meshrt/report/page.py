"""The report's HTML: one file, plotly's JavaScript inlined once, no network at all."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import plotly.io
import plotly.offline

from meshrt.contract import PRICE_SCALE, SIZE_SCALE
from meshrt.report.axes import MARKED_FAULTS
from meshrt.report.figures import build_all
from meshrt.report.series import RunData, gather

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 16px;
       color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin: 28px 0 2px; }
p.about { margin: 0 0 4px; color: #555; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 8px 0; }
td, th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.note { color: #8a5300; font-size: 0.9em; }
"""


def write_report(run_dir: Path, out: Path) -> list[str]:
    """Read the run and write its report to ``out``; the names of the figures drawn."""
    data = gather(run_dir)
    built = build_all(data)
    parts = []
    drawn = []
    skipped = []
    for spec, fig in built:
        if isinstance(fig, str):
            skipped.append(f"<li><b>{html.escape(spec.title)}</b>: {html.escape(fig)}</li>")
            continue
        drawn.append(spec.name)
        parts.append(
            f'<section class="figure" id="{spec.name}"><h2>{html.escape(spec.title)}</h2>'
            f'<p class="about">{html.escape(spec.about)}</p>'
            + plotly.io.to_html(
                fig,
                full_html=False,
                include_plotlyjs=False,
                div_id=f"plot-{spec.name}",
                config={"displaylogo": False, "responsive": True},
            )
            + "</section>"
        )
    if skipped:
        parts.append("<h2>Not drawn</h2><ul>" + "".join(skipped) + "</ul>")
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>meshrt report: {html.escape(data.scenario)}</title>"
        f"<style>{STYLE}</style>"
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>'
        "</head><body>" + _head(data) + "".join(parts) + "</body></html>\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return drawn


def _head(data: RunData) -> str:
    """The run at a glance: summary.json's figures per deployment, and the notes."""
    summary = data.summary or {}
    lines = [
        f"<h1>meshrt report: {html.escape(data.scenario)}</h1>",
        (
            f"<p>{html.escape(str(data.run_dir))}: seed {summary.get('seed', '?')}, status "
            f"{html.escape(str(summary.get('status', 'unknown (no summary.json)')))}, "
            "scenario time "
            f"{data.end_ns / 1e9:.3f} s, {summary.get('events', 0):,} events, "
            f"{summary.get('orders', 0):,} orders, {summary.get('fills', 0):,} fills</p>"
        ),
    ]
    rows: list[Any] = summary.get("deployments") or []
    if rows:
        cells = "".join(
            f"<tr><td>{html.escape(d['label'])}</td><td>{html.escape(d['venue'])}</td>"
            f"<td>{html.escape(d['state'])}</td><td>{d['orders']:,}</td><td>{d['fills']:,}</td>"
            f"<td>{_position(d['position'])}</td>"
            f"<td>{(d['realized_pnl'] + d['unrealized_pnl'] - d['fees']) / PRICE_SCALE:,.2f}</td>"
            f"<td>{d['fees'] / PRICE_SCALE:,.2f}</td>"
            f"<td>{d['max_drawdown'] / PRICE_SCALE:,.2f}</td></tr>"
            for d in rows
        )
        lines.append(
            "<table><tr><th>deployment</th><th>venue</th><th>state</th><th>orders</th>"
            "<th>fills</th><th>position</th><th>PnL net of fees</th><th>fees</th>"
            f"<th>max drawdown</th></tr>{cells}</table>"
        )
    notes = list(data.notes)
    if len(data.faults) > MARKED_FAULTS:
        notes.append(
            f"{len(data.faults):,} faults: the time axes mark the first {MARKED_FAULTS}, "
            "the faults timeline shows them all"
        )
    lines += [f'<p class="note">note: {html.escape(note)}</p>' for note in notes]
    return "".join(lines)


def _position(position: dict[str, int]) -> str:
    return html.escape(", ".join(f"{s} {p / SIZE_SCALE:g}" for s, p in position.items()) or "0")
