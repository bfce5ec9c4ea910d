"""A malformed scenario gets an error naming the file, the field and the problem, found
as ``meshrt run`` checks a file: ``load_scenario``, then the runtime's ``preflight``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from meshrt.runtime.preflight import preflight
from meshrt.scenario.definition import ScenarioError, load_scenario

HEADER = """
from meshrt import *
from meshrt.scenario.definition import start, stop, pause, resume
from scenarios.algos.market_maker import MarketMaker
SRC = SyntheticSpec(symbol="XYZ", seed=1, start_price=price_to_int("100"),
                    tick=price_to_int("0.01"), level_size=(10**7, 10**8), interval_ns=10_000,
                    updates=100, move_probability=0.1)
V = Venue(name="v1", sources=[SRC])
def dep(**kw):
    kw.setdefault("label", "mm")
    kw.setdefault("venue", "v1")
    kw.setdefault("symbols", ["XYZ"])
    kw.setdefault("algo", MarketMaker)
    return Deployment(**kw)
"""

CASES = [
    (
        "scenario = Scenario(name='x', venues=[V], deployments=[dep(venue='nowhere')])",
        "deployments[0].venue",
        "no venue named 'nowhere'",
    ),
    (
        "scenario = Scenario(name='x', venues=[V], deployments=[dep(), dep()])",
        "deployments[1].label",
        "duplicate label 'mm'",
    ),
    (
        "scenario = Scenario(name='x', venues=[V], deployments=[dep(symbols=['ABC'])])",
        "deployments[0].symbols[0]",
        "has no symbol 'ABC'",
    ),
    (
        "scenario = Scenario(name='x', venues=[V], deployments=[dep(algo=int)])",
        "deployments[0].algo",
        "not a subclass of meshrt.Algo",
    ),
    (
        (
            "class A(Algo):\n    def on_book(self, *a): pass\n"
            "scenario = Scenario(name='x', venues=[V], deployments=[dep(algo=A)])"
        ),
        "deployments[0].algo",
        "on_fill, on_reject",
    ),
    (
        "scenario = Scenario(name='x', venues=[V], deployments=[dep(algo='nofile.py:X')])",
        "deployments[0].algo",
        "does not exist",
    ),
    (
        "scenario = Scenario(name='x', venues=[V], deployments=[dep(schedule=[resume(0)])])",
        "deployments[0].schedule[0]",
        "cannot resume a deployment that is stopped",
    ),
    (
        (
            "scenario = Scenario(name='x', venues=[V], "
            "deployments=[dep(schedule=[start(5), stop(1)])])"
        ),
        "deployments[0].schedule[1]",
        "time order",
    ),
    (
        "scenario = Scenario(name='x', venues=[V, V], deployments=[dep()])",
        "venues[1].name",
        "duplicate venue name",
    ),
    (
        "scenario = Scenario(name='x', duration_ns=-1, venues=[V], deployments=[dep()])",
        "duration_ns",
        "positive integer",
    ),
    (
        (
            "scenario = Scenario(name='x', venues=[Venue(name='v1', "
            "sources=[RecordedSpec(symbol='XYZ', path='missing.jsonl')])], deployments=[dep()])"
        ),
        "venues[0].sources[0].path",
        "no such data file",
    ),
    ("scenario = 42", "scenario", "must define a variable 'scenario'"),
    ("x = (", "line", "syntax error"),
    (
        (
            "scenario = Scenario(name='x', venues=[V], "
            "deployments=[dep(risk=RiskLimits(max_position=-1))])"
        ),
        "line 15",
        "max_position",
    ),
]


@pytest.mark.parametrize(("body", "field", "problem"), CASES)
def test_malformed_scenario_names_file_field_and_problem(
    tmp_path: Path, body: str, field: str, problem: str
) -> None:
    path = tmp_path / "bad.py"
    path.write_text(HEADER + body + "\n")
    with pytest.raises(ScenarioError) as info:
        preflight(load_scenario(path), str(path))
    message = str(info.value)
    assert message.startswith(str(path))
    assert field in message
    assert problem in message


@pytest.mark.e2e
def test_cli_reports_a_bad_scenario_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text(textwrap.dedent(HEADER) + CASES[0][0] + "\n")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "meshrt.cli.main", "run", str(path), "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": ""},
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{path}: deployments[0].venue: no venue named 'nowhere'" in done.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.e2e
def test_cli_runs_the_bundled_scenario(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "run"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "meshrt.cli.main",
            "run",
            "scenarios/market_maker.py",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert done.returncode == 0, done.stderr
    assert "mm-1" in done.stdout and "real. PnL" in done.stdout
    for name in ("replay.jsonl", "summary.json", "metrics.json"):
        assert (out / name).stat().st_size > 0
