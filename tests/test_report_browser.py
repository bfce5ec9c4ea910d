"""meshrt report in a real browser: the page opens in headless Chromium (Debian's
chromium, launched by Playwright) with no network, logs no error, and every figure draws
its traces; then each figure is shot as an image, as --png does (in the same browser:
a launch and a page load are most of the test's seconds). Screenshots land in the
test's tmp_path. Without chromium this fails, saying how to install it."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshrt.cli.main import main
from meshrt.report.browser import BrowserMissing, chromium_path, open_page, wait_for_figures
from meshrt.report.png import shoot
from meshrt.report.registry import FIGURES

from report_run import faulty_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LOCAL = ("file:", "data:", "blob:", "about:")  # a self-contained page asks for nothing else


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        chromium_path()
    except BrowserMissing as exc:
        pytest.fail(f"the report's browser test needs Chromium: {exc}")
    folder = tmp_path_factory.mktemp("browser")
    run_dir = faulty_run(folder / "run")
    out = folder / "report.html"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0
    return out


def test_the_page_draws_every_figure_offline_without_errors_and_shoots(
    report: Path, tmp_path: Path
) -> None:
    errors: list[str] = []
    requests: list[str] = []

    with open_page() as page:
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "request", lambda req: None if req.url.startswith(LOCAL) else requests.append(req.url)
        )
        page.goto(report.as_uri())
        names = [spec.name for spec in FIGURES]
        wait_for_figures(page, names)
        for name in names:
            traces = page.eval_on_selector_all(
                f"#plot-{name} .main-svg .trace", "els => els.length"
            )
            data = page.evaluate(f"document.getElementById('plot-{name}').data.length")
            assert traces > 0 and data > 0, f"figure {name!r} drew no trace"
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        images = shoot(page, names, tmp_path / "png")
    assert not errors, errors
    assert not requests, requests
    assert shot.read_bytes().startswith(PNG_MAGIC)
    assert [image.name for image in images] == [f"{name}.png" for name in names]
    for image in images:
        assert image.read_bytes().startswith(PNG_MAGIC) and image.stat().st_size > 5_000, image
