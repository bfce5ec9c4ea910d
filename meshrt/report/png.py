"""``--png DIR``: each figure of the report as an image, shot in the machine's Chromium.

The images are the HTML's own figures as a browser draws them (one drawing per figure,
no second plotting library to keep in step), taken offline: plotly's exporter (kaleido)
would drive a Chromium too, but through a launcher of its own that finds or downloads
its browser, and this one is already here for the report's tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meshrt.report.browser import open_page, wait_for_figures


def write_pngs(report: Path, names: list[str], out_dir: Path, width: int = 1280) -> list[Path]:
    """``out_dir/NAME.png`` for each drawn figure of the report file."""
    with open_page(width=width) as page:
        page.goto(report.resolve().as_uri())
        return shoot(page, names, out_dir)


def shoot(page: Any, names: list[str], out_dir: Path) -> list[Path]:
    """Each named figure of the report open in ``page``, once drawn, as an image."""
    out_dir.mkdir(parents=True, exist_ok=True)
    wait_for_figures(page, names)
    written = []
    for name in names:
        path = out_dir / f"{name}.png"
        page.locator(f"section#{name}").screenshot(path=str(path))
        written.append(path)
    return written


def write_page_png(report: Path, path: Path, width: int = 1280) -> Path:
    """The whole report as one image (the screenshots docs/ keeps)."""
    with open_page(width=width) as page:
        page.goto(report.resolve().as_uri())
        names = page.eval_on_selector_all("section.figure", "els => els.map(e => e.id)")
        wait_for_figures(page, names)
        page.screenshot(path=str(path), full_page=True)
    return path
