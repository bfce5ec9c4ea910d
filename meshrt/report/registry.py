"""The report's figures: one builder function each, registered in page order.

A builder takes the gathered run (``RunData``) and returns a plotly figure, or a short
sentence saying why the run has nothing to draw for it (no mesh messages, no faults).
Adding a figure is one decorated function in a module that ``figures.py`` imports; its
``rank`` places it on the page (what the algos earned and held 10-49, how their orders
fared and the market they met 50-69, the runtime under them 70-99, the faults last).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from meshrt.report.series import RunData

Builder = Callable[["RunData"], Any]  # -> plotly Figure | str (why nothing is drawn)


@attrs.frozen(slots=True)
class FigureSpec:
    """``name``: the figure's id in the page and its PNG's file name."""

    name: str
    rank: int  # place on the page, lowest first
    title: str
    about: str  # one line under the title: what is drawn
    build: Builder


FIGURES: list[FigureSpec] = []


def figure(name: str, rank: int, title: str, about: str) -> Callable[[Builder], Builder]:
    """Register a builder; ``FIGURES`` stays in page order."""

    def register(build: Builder) -> Builder:
        if any(spec.name == name for spec in FIGURES):
            raise ValueError(f"a report figure named {name!r} is registered already")
        FIGURES.append(FigureSpec(name, rank, title, about, build))
        FIGURES.sort(key=lambda spec: spec.rank)
        return build

    return register
