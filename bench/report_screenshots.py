"""The screenshots docs/report.md shows: each bundled scenario run, reported, and its
whole report page shot in headless Chromium into docs/img/report_NAME.png.

Usage::

    .venv/bin/python bench/report_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from meshrt.report.page import write_report
from meshrt.report.png import write_page_png
from meshrt.runtime.run import run
from meshrt.scenario.definition import load_scenario

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ("market_maker", "maker_hedger")


def main() -> int:
    images = ROOT / "docs" / "img"
    images.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="meshrt-screens-") as scratch:
        for name in BUNDLED:
            run_dir = Path(scratch) / name
            run(load_scenario(ROOT / "scenarios" / f"{name}.py"), run_dir)
            report = run_dir / "report.html"
            write_report(run_dir, report)
            shot = write_page_png(report, images / f"report_{name}.png")
            print(f"wrote {shot.relative_to(ROOT)} ({shot.stat().st_size / 1e3:,.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
