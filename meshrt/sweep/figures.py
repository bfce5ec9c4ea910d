"""What a sweep keeps of one run: PnL, fees, fills, drawdown, fill ratio and markouts,
for each deployment and summed over them.

The money figures come from the run's summary (each deployment's ledger at the end);
fill ratio and markouts from the TCA of its log (``meshrt.analysis.tca``, the one home
of how they are computed), pooled over the deployments by fill size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from meshrt.analysis.tca import Markout, TcaReport, TcaRow, pooled


@attrs.frozen(slots=True)
class Figures:
    """Money in price units (1e-9 quote); ``pnl`` is realized + unrealized at the end,
    ``net_pnl`` that minus fees (the change in equity); ``max_drawdown`` is summed over
    deployments when there are several."""

    pnl: int
    fees: int
    net_pnl: int
    fills: int
    max_drawdown: int
    fill_ratio: float | None
    return_dd: float | None  # net_pnl / max_drawdown; None without a drawdown
    markouts: tuple[Markout, ...]


def figures(
    summary: dict[str, Any], report: TcaReport, horizons: tuple[int, ...]
) -> tuple[Figures, dict[str, Figures]]:
    """The run's total and each deployment's figures (by label, in scenario order), with
    markouts at ``horizons`` (those ``report`` was analysed with)."""
    rows = {row.deployment: row for row in report.rows if row.deployment is not None}
    each = {
        dep["label"]: _figures(
            [dep], [rows[dep["label"]]] if dep["label"] in rows else [], horizons
        )
        for dep in summary["deployments"]
    }
    return _figures(summary["deployments"], list(rows.values()), horizons), each


def _own(rows: dict[str | None, TcaRow], label: str) -> list[TcaRow]:
    """A deployment's TCA row (none when it placed no order)."""
    return [rows[label]] if label in rows else []


def _figures(
    deployments: Sequence[dict[str, Any]], rows: Sequence[TcaRow], horizons: tuple[int, ...]
) -> Figures:
    pnl = sum(d["realized_pnl"] + d["unrealized_pnl"] for d in deployments)
    fees = sum(d["fees"] for d in deployments)
    drawdown = sum(d["max_drawdown"] for d in deployments)
    ordered = sum(row.ordered for row in rows)
    return Figures(
        pnl,
        fees,
        pnl - fees,
        sum(d["fills"] for d in deployments),
        drawdown,
        sum(row.filled for row in rows) / ordered if ordered else None,
        (pnl - fees) / drawdown if drawdown else None,
        tuple(
            pooled([row.markouts[i] for row in rows]) if rows else Markout(h, 0, 0, None, None, 0)
            for i, h in enumerate(horizons)
        ),
    )
