"""Algo code that raises BaseException is contained; a real Ctrl-C stops the run."""

from __future__ import annotations

import builtins
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from meshrt import checkpoint
from meshrt.runtime import run

from helpers import TICK, UNIT, deployment, scenario
from scenarios.algos.market_maker import MarketMaker

ROOT = Path(__file__).resolve().parent.parent

QUOTING = {"size": UNIT, "tick": TICK, "max_inventory": 3 * UNIT}


class Raiser(MarketMaker):
    """Quotes, and raises params["error"] (a builtin BaseException's name) from params["callback"]."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        self._maybe("on_book", state)
        super().on_book(book, state, features, actions)

    def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
        self._maybe("on_fill", state)
        super().on_fill(fill, state, actions)

    def _maybe(self, callback: str, state: Any) -> None:
        if self.params["callback"] == callback and state.now > 10_000_000:
            raise getattr(builtins, self.params["error"])("algo code")


@pytest.mark.parametrize("error", [SystemExit, KeyboardInterrupt, GeneratorExit])
@pytest.mark.parametrize("callback", ["on_book", "on_fill"])
def test_a_base_exception_in_algo_code_crashes_only_its_deployment(
        error: type[BaseException], callback: str) -> None:
    bad = deployment(Raiser, label="bad", params={**QUOTING, "callback": callback,
                                                     "error": error.__name__})
    result = run(scenario(bad, deployment(MarketMaker, label="mm"), updates=4_000))
    by_label = {d["label"]: d for d in result.summary["deployments"]}
    assert by_label["bad"]["crashed"] == f"{error.__name__}: algo code"
    assert by_label["mm"]["crashed"] is None and by_label["mm"]["fills"] > 0
    assert result.ok


def test_sys_exit_in_a_constructor_crashes_only_its_deployment() -> None:
    class ExitsAtStart(MarketMaker):
        def __init__(self, host, params):  # type: ignore[no-untyped-def]
            sys.exit(3)

    result = run(scenario(deployment(ExitsAtStart, label="bad"),
                          deployment(MarketMaker, label="mm")))
    by_label = {d["label"]: d for d in result.summary["deployments"]}
    assert by_label["bad"]["crashed"] == "SystemExit: 3"
    assert by_label["mm"]["fills"] > 0


SLOW_ALGO = '''
import os
import time

from market_maker import MarketMaker


class Slow(MarketMaker):
    """The market maker, slow in wall-clock time while MESHRT_TEST_SLOW is set."""

    def on_book(self, book, state, features, actions):
        if os.environ.get("MESHRT_TEST_SLOW"):
            time.sleep(0.0005)
        super().on_book(book, state, features, actions)
'''


def slow_project(tmp_path: Path) -> Path:
    """The bundled scenario on 20,000 updates with an algo that can be made slow."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "scenarios", project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "algos" / "slow.py").write_text(SLOW_ALGO)
    scenario = project / "market_maker.py"
    text = scenario.read_text().replace("updates=200_000", "updates=20_000")
    text = text.replace('"algos/market_maker.py:MarketMaker"', '"algos/slow.py:Slow"')
    assert "algos/slow.py:Slow" in text
    scenario.write_text(text)
    return scenario


def meshrt(*args: str, slow: bool = False, **kwargs: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "MESHRT_TEST_SLOW": "1"} if slow else None
    return subprocess.Popen([sys.executable, "-m", "meshrt.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def test_ctrl_c_stops_the_run_resumably_with_one_line_and_exit_130(tmp_path: Path) -> None:
    scenario = slow_project(tmp_path)
    out = tmp_path / "run"
    running = meshrt("run", str(scenario), "--out", str(out), "--no-progress",
                     "--checkpoint-every", "5000", slow=True)
    deadline = time.monotonic() + 60
    while not list((out / "checkpoints").glob("*.bin")):  # well under way
        assert running.poll() is None and time.monotonic() < deadline, running.communicate()
        time.sleep(0.05)
    running.send_signal(signal.SIGINT)
    _, err = running.communicate(timeout=60)
    assert running.returncode == 130, err
    assert err.count("\n") == 1 and f"resume with: meshrt run --resume {out}" in err, err
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert summary["status"] == "interrupted"
    assert orjson.loads((out / "metrics.json").read_bytes())["status"] == "interrupted"
    newest = checkpoint.all_checkpoints(out)[-1]
    header, _ = checkpoint.read_header(newest)
    assert header["seq"] == summary["events"], "the checkpoint is where the run stopped"
    assert (out / "replay.jsonl").stat().st_size == header["log_offset"], "all of it logged"

    resumed = meshrt("run", "--resume", str(out), "--no-progress")
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    whole = tmp_path / "whole"
    straight = meshrt("run", str(scenario), "--out", str(whole), "--no-progress")
    _, err = straight.communicate(timeout=120)
    assert straight.returncode == 0, err
    assert summary["events"] < orjson.loads((whole / "summary.json").read_bytes())["events"]
    assert (out / "replay.jsonl").read_bytes() == (whole / "replay.jsonl").read_bytes()


def test_ctrl_c_without_checkpoints_says_it_cannot_be_resumed(tmp_path: Path) -> None:
    scenario = slow_project(tmp_path)
    out = tmp_path / "run"
    running = meshrt("run", str(scenario), "--out", str(out), "--no-progress",
                     "--checkpoint-every", "0", slow=True)
    deadline = time.monotonic() + 60
    while not (out / "replay.jsonl").exists() or (out / "replay.jsonl").stat().st_size < 100_000:
        assert running.poll() is None and time.monotonic() < deadline, running.communicate()
        time.sleep(0.05)
    running.send_signal(signal.SIGINT)
    _, err = running.communicate(timeout=60)
    assert running.returncode == 130, err
    assert err.count("\n") == 1 and "no checkpoint was written" in err, err
    assert orjson.loads((out / "summary.json").read_bytes())["status"] == "interrupted"
