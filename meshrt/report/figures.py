"""Every figure of the report, built: importing the builders' modules registers them."""

from __future__ import annotations

from typing import Any

from meshrt.report import figures_execution, figures_market, figures_mesh, figures_positions
from meshrt.report.registry import FIGURES, FigureSpec
from meshrt.report.series import RunData

MODULES = (figures_positions, figures_execution, figures_market, figures_mesh)


def build_all(data: RunData) -> list[tuple[FigureSpec, Any]]:
    """(spec, plotly figure or why it is not drawn) for every registered figure."""
    return [(spec, spec.build(data)) for spec in FIGURES]
