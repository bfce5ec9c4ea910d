"""The machine's Chromium, driven by Playwright: for ``--png`` and the report's tests.

Playwright's own browser download needs the internet, so it launches Debian's
``chromium`` package by path, with the flags that keep it off the network (background
updates, sync, component and field-trial fetches all try to reach Google's hosts).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

INSTALL_HINT = (
    "install Debian's chromium package (as root: apt-get update && apt-get install -y "
    "chromium), or point MESHRT_CHROMIUM at a Chromium binary"
)
FLAGS = (
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-field-trial-config",
    "--metrics-recording-only",
)


class BrowserMissing(RuntimeError):
    """No Chromium to launch; the message says how to install one."""


def chromium_path() -> str:
    """MESHRT_CHROMIUM, else ``chromium`` on PATH (Debian: /usr/bin/chromium)."""
    given = os.environ.get("MESHRT_CHROMIUM")
    if given:
        if not Path(given).is_file():
            raise BrowserMissing(f"MESHRT_CHROMIUM={given}: no such file; {INSTALL_HINT}")
        return given
    found = shutil.which("chromium")
    if found is None:
        raise BrowserMissing(f"no chromium on PATH: {INSTALL_HINT}")
    return found


@contextmanager
def open_page(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A fresh headless Chromium page (a new empty profile), closed on exit."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(FLAGS)
        )
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def wait_for_figures(page: Any, names: list[str], timeout_ms: int = 30_000) -> None:
    """Until every named figure's plotly div has drawn its SVG."""
    for name in names:
        page.wait_for_selector(f"#plot-{name} .main-svg", state="attached", timeout=timeout_ms)
