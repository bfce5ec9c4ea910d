"""``meshrt sweep``: the bundled market maker over a small grid of its params, on one
worker and on two with the same results point for point; random points drawn from a
seed; a bad ``--param`` refused in one line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from meshrt.cli.main import main
from meshrt.sweep.grid import Axis, points

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "scenarios" / "market_maker.py"
SIZE = 100_000_000
SHORT = ["--duration", "0.5", "--markouts", "0.1,0.2"]
FIGURES = [
    "pnl", "net_pnl", "fees", "fills", "fill_ratio", "max_drawdown", "return_dd",
    "markout_0.1s_bps", "markout_0.2s_bps",
]  # fmt: skip


def sweep(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sweep", str(BUNDLED), *SHORT, *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.unit
def test_points_are_numbered_in_grid_order_and_drawn_from_the_seed() -> None:
    axes = [Axis("a", "x", (1, 2, 3)), Axis(None, "seed", (7, 8))]
    grid = points(axes)
    assert [p.index for p in grid] == list(range(6))
    assert [tuple(s.value for s in p.settings) for p in grid] == [
        (1, 7), (1, 8), (2, 7), (2, 8), (3, 7), (3, 8),
    ]  # fmt: skip
    drawn = points(axes, 3, seed=5)
    assert drawn == points(axes, 3, seed=5) and len(drawn) == 3
    assert {p.index for p in drawn} < set(range(6))
    assert points(axes, 10, seed=5) == grid


def test_a_2x2_grid_gives_the_same_results_on_one_worker_and_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grid = ["--param", f"mm-1.size={SIZE},{2 * SIZE}", "--param", "mm-1.skew_ticks=0,3"]
    code, out, _ = sweep(capsys, *grid, "--jobs", "1", "--out", str(tmp_path / "one"))
    assert code == 0, out
    assert "top 4 of 4 points by pnl:" in out
    code, _, _ = sweep(capsys, *grid, "--jobs", "2", "--out", str(tmp_path / "two"), "--keep-runs")
    assert code == 0
    for name in ("results.csv", "results.json"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    with (tmp_path / "one" / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "point", "mm-1.size", "mm-1.skew_ticks", "status", *FIGURES, "events"
    ]  # fmt: skip
    assert [(r["point"], r["mm-1.size"], r["mm-1.skew_ticks"]) for r in rows] == [
        ("0", str(SIZE), "0"), ("1", str(SIZE), "3"),
        ("2", str(2 * SIZE), "0"), ("3", str(2 * SIZE), "3"),
    ]  # fmt: skip
    assert all(r["status"] == "ok" and int(r["fills"]) > 0 for r in rows)
    # every point is a different run: no two share their figures
    assert len({tuple(r[f] for f in FIGURES) for r in rows}) == 4
    for r in rows:
        assert float(r["net_pnl"]) == pytest.approx(float(r["pnl"]) - float(r["fees"]))
        assert 0 < float(r["fill_ratio"]) <= 1
    result = json.loads((tmp_path / "one" / "results.json").read_text())
    assert result["params"] == {"mm-1.size": [SIZE, 2 * SIZE], "mm-1.skew_ticks": [0, 3]}
    assert result["points"][3]["deployments"]["mm-1"]["fills"] == int(rows[3]["fills"])
    # a kept point replays from its own scenario file
    kept = tmp_path / "two" / "points" / "3"
    assert (kept / "point.py").is_file()
    assert main(["replay", str(kept / "run")]) == 0


def test_random_points_are_reproducible_from_their_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default sweep folder is sweeps/NAME-N
    grid = ["--param", "seed=1,2,3,4", "--param", "mm-1.skew_ticks=0,1,2", "--jobs", "1"]
    for _ in range(2):
        assert sweep(capsys, *grid, "--random", "3", "--seed", "9", "--duration", "0.2")[0] == 0
    first, again = (tmp_path / "sweeps" / f"market_maker-{n}" / "results.json" for n in (1, 2))
    assert first.read_bytes() == again.read_bytes()
    result = json.loads(first.read_text())
    assert result["random"] == 3 and result["seed"] == 9 and len(result["points"]) == 3
    assert len({p["point"] for p in result["points"]}) == 3


@pytest.mark.parametrize(
    ("param", "error"),
    [
        ("mm-9.size=1", "--param mm-9.size: no deployment 'mm-9' in market_maker"),
        ("mm-1.sise=1", "--param mm-1.sise: deployment 'mm-1' has no param 'sise'"),
        ("size", "--param 'size': expected NAME=V1,V2,..."),
    ],
)
def test_a_bad_param_is_one_line_naming_it(
    param: str, error: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = sweep(capsys, "--param", param, "--out", str(tmp_path))
    assert code == 2 and not out
    assert err.startswith(f"meshrt sweep: {error}") and err.count("\n") == 1
