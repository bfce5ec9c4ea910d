"""meshrt report: series thinned for display only, and the figures' data gathered from a
run's log equal to what the run itself counted (summary.json, mesh.json)."""

from __future__ import annotations

import math
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest

from meshrt.analysis.intel import analyse
from meshrt.analysis.intel_sources import run_books
from meshrt.cli.main import main
from meshrt.contract import PRICE_SCALE, SIZE_SCALE
from meshrt.report import derive, downsample, figures_market, figures_positions, registry
from meshrt.report.browser import BrowserMissing, chromium_path
from meshrt.report.figures import build_all
from meshrt.report.series import RunData, gather

from report_run import faulty_run


def test_minmax_keeps_every_extreme_and_the_ends() -> None:
    times = list(range(100_000))
    values = [math.sin(t / 997) * 10 + (50 if t == 31_337 else 0) for t in times]
    t, v = downsample.minmax(times, values, buckets=100)
    assert len(t) <= 4 * 100
    assert t == sorted(t)
    assert (t[0], v[0]) == (0, values[0]) and (t[-1], v[-1]) == (times[-1], values[-1])
    assert max(v) == max(values) and min(v) == min(values)
    assert all(values[time] == value for time, value in zip(t, v, strict=True))


def test_minmax_returns_a_short_series_whole() -> None:
    assert downsample.minmax([1, 2, 3], [3.0, 1.0, 2.0]) == ([1, 2, 3], [3.0, 1.0, 2.0])


def test_thin_points_keeps_few_markers_whole_and_bounds_many() -> None:
    assert downsample.thin_points([1, 2], [5.0, 6.0]) == [0, 1]
    times = list(range(50_000))
    values = [float(t % 7) for t in times]
    kept = downsample.thin_points(times, values, limit=200)
    assert len(kept) <= 2 * 101 and kept == sorted(kept)


def test_steps_holds_the_last_level_to_the_end() -> None:
    assert downsample.steps([1, 5], [2.0, 3.0], 9) == ([1, 5, 9], [2.0, 3.0, 3.0])


def test_a_figure_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="registered already"):
        registry.figure("pnl", 1, "again", "")(lambda data: "")


def test_a_missing_chromium_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHRT_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(BrowserMissing, match="apt-get install -y chromium"):
        chromium_path()
    monkeypatch.delenv("MESHRT_CHROMIUM")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BrowserMissing, match="no chromium on PATH: install Debian's chromium"):
        chromium_path()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> RunData:
    return gather(faulty_run(tmp_path_factory.mktemp("report") / "run"))


def _json(data: RunData, name: str) -> dict:  # type: ignore[type-arg]
    result: dict = orjson.loads((data.run_dir / name).read_bytes())  # type: ignore[type-arg]
    return result


@pytest.mark.e2e
def test_fills_rejects_and_messages_are_what_the_run_counted(data: RunData) -> None:
    summary = _json(data, "summary.json")
    assert len(data.fills) == summary["fills"]
    for dep in summary["deployments"]:
        label = dep["label"]
        mine = [f for f in data.fills if f.label == label]
        assert len(mine) == dep["fills"]
        position = sum(f.sign * f.size for f in mine)
        assert {"BTC-USD": position} == dep["position"]
        assert {r: n for (lab, r), n in data.rejects.items() if lab == label} == dep["rejects"]
        assert len(data.messages.get(label, ())) == dep["messages_sent"]
    assert data.end_ns == summary["scenario_time_ns"]


@pytest.mark.e2e
def test_pnl_is_the_ledgers_and_drawdown_is_taken_on_every_point(data: RunData) -> None:
    summary = _json(data, "summary.json")
    for dep in summary["deployments"]:
        curve = derive.equity(data, dep["label"], dep["venue"])
        booked = (dep["realized_pnl"] + dep["unrealized_pnl"] - dep["fees"]) / PRICE_SCALE
        # the runtime marks at its venue's book, the report at the feed's: a tick apart at most
        assert curve.final_pnl == pytest.approx(booked, abs=0.01 * 6)
        assert curve.max_drawdown == pytest.approx(-min(curve.drawdown.values))
        peak = 0.0  # the peak the drawn points show: an instant's own may be higher
        for pnl, dd in zip(curve.pnl.values, curve.drawdown.values, strict=True):
            peak = max(peak, pnl)
            assert dd <= pnl - peak + 1e-9


@pytest.mark.e2e
def test_stated_statistics_do_not_depend_on_the_display_thinning(
    data: RunData, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = figures_positions.pnl(data).layout.title.text
    monkeypatch.setattr(downsample.minmax, "__defaults__", (3,))
    thinned = figures_positions.pnl(data)
    assert thinned.layout.title.text == full
    assert max(len(trace.x) for trace in thinned.data) <= 4 * 3 + 1  # + the closing step


@pytest.mark.e2e
def test_quotes_inventory_and_faults_are_gathered(data: RunData) -> None:
    quotes = data.quotes["maker"]
    assert len(quotes.times) == len(quotes.prices) == len(quotes.signs) > 0
    assert set(quotes.signs) == {1, -1}
    kinds = Counter(fault.kind for fault in data.faults)
    assert {"kill_instance", "crash", "restart", "partition", "feed_down", "drop_rate"} <= set(
        kinds
    )
    lasting = {f.kind: f.end_ns - f.ts for f in data.faults if f.end_ns is not None}
    assert lasting["partition"] == 300_000_000 and lasting["feed_down"] == 200_000_000
    net = derive.positions(sorted(data.fills, key=lambda f: f.ts))
    summary = _json(data, "summary.json")
    assert net.values[-1] == summary["net_position"]["BTC-USD"] / SIZE_SCALE


@pytest.mark.e2e
def test_the_market_structure_is_meshrt_intels_in_the_same_pass(data: RunData) -> None:
    """Sampled during the report's one pass, it equals ``meshrt intel``'s own pass, the
    feed outage included; the figure draws every venue of the traded symbol."""
    assert list(data.intel) == ["BTC-USD"]
    assert data.intel["BTC-USD"] == analyse("BTC-USD", run_books(data.run_dir, "BTC-USD"))
    fig = figures_market.intel(data)
    names = {trace.name for trace in fig.data if trace.showlegend is not False}
    assert names == {venue["name"] for venue in data.venues}
    assert fig.layout.xaxis.type == "log"


@pytest.mark.e2e
def test_every_figure_draws_on_a_run_with_everything(data: RunData) -> None:
    built = build_all(data)
    assert [spec.name for spec, _ in built] == [spec.name for spec in registry.FIGURES]
    skipped = {spec.name: fig for spec, fig in built if isinstance(fig, str)}
    assert not skipped
    for spec, fig in built:
        assert fig.data, spec.name


@pytest.mark.e2e
def test_the_command_writes_the_page_and_refuses_a_folder_without_a_log(
    data: RunData, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(data.run_dir), "--out", str(out)]) == 0
    page = out.read_text()
    assert "Plotly.newPlot" in page and "<script src=" not in page
    assert all(f'id="plot-{spec.name}"' in page for spec in registry.FIGURES)
    assert main(["report", str(tmp_path)]) == 2
    assert "meshrt report: no replay log at" in capsys.readouterr().err


@pytest.mark.e2e
def test_without_the_extra_the_command_says_how_to_install_it(
    data: RunData, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delitem(sys.modules, "meshrt.report.page")
    monkeypatch.setitem(sys.modules, "plotly", None)  # as if not installed
    assert main(["report", str(data.run_dir), "--out", "/nonexistent/r.html"]) == 2
    assert capsys.readouterr().err == (
        'meshrt report: needs the report extra (plotly): pip install "meshrt[report]"\n'
    )
