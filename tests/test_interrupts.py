"""Algo code that raises BaseException is contained; a real Ctrl-C stops the run."""

from __future__ import annotations

import builtins
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from meshrt.log import checkpoint
from meshrt.runtime.run import run
from meshrt.runtime.watchdog import EXIT_STUCK

from c_algos import c_algo
from helpers import TICK, UNIT, deployment, scenario
from scenarios.algos.market_maker import MarketMaker

ROOT = Path(__file__).resolve().parent.parent

QUOTING = {"size": UNIT, "tick": TICK, "max_inventory": 3 * UNIT}


class Raiser(MarketMaker):
    """Quotes, and raises params["error"] (a builtin BaseException's name) from
    params["callback"]."""

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
    error: type[BaseException], callback: str
) -> None:
    bad = deployment(
        Raiser, label="bad", params={**QUOTING, "callback": callback, "error": error.__name__}
    )
    result = run(scenario(bad, deployment(MarketMaker, label="mm"), updates=4_000))
    by_label = {d["label"]: d for d in result.summary["deployments"]}
    assert by_label["bad"]["crashed"] == f"{error.__name__}: algo code"
    assert by_label["mm"]["crashed"] is None and by_label["mm"]["fills"] > 0
    assert result.ok


def test_sys_exit_in_a_constructor_crashes_only_its_deployment() -> None:
    class ExitsAtStart(MarketMaker):
        def __init__(self, host, params):  # type: ignore[no-untyped-def]
            sys.exit(3)

    result = run(
        scenario(deployment(ExitsAtStart, label="bad"), deployment(MarketMaker, label="mm"))
    )
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
    if slow:
        kwargs["env"] = {**os.environ, "MESHRT_TEST_SLOW": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "meshrt.cli.main", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def finish(process: subprocess.Popen[str], timeout: float) -> str:
    """Its stderr once it ended; killed if it takes longer than ``timeout`` seconds."""
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


def test_ctrl_c_stops_the_run_resumably_with_one_line_and_exit_130(tmp_path: Path) -> None:
    scenario = slow_project(tmp_path)
    out = tmp_path / "run"
    running = meshrt(
        "run",
        str(scenario),
        "--out",
        str(out),
        "--no-progress",
        "--checkpoint-every",
        "5000",
        slow=True,
    )
    deadline = time.monotonic() + 60
    while not list((out / "checkpoints").glob("*.bin")):  # well under way
        assert running.poll() is None and time.monotonic() < deadline, finish(running, 1)
        time.sleep(0.05)
    running.send_signal(signal.SIGINT)
    err = finish(running, 60)
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
    err = finish(resumed, 120)
    assert resumed.returncode == 0, err
    whole = tmp_path / "whole"
    straight = meshrt("run", str(scenario), "--out", str(whole), "--no-progress")
    err = finish(straight, 120)
    assert straight.returncode == 0, err
    assert summary["events"] < orjson.loads((whole / "summary.json").read_bytes())["events"]
    assert (out / "replay.jsonl").read_bytes() == (whole / "replay.jsonl").read_bytes()


def test_ctrl_c_without_checkpoints_says_it_cannot_be_resumed(tmp_path: Path) -> None:
    scenario = slow_project(tmp_path)
    out = tmp_path / "run"
    running = meshrt(
        "run",
        str(scenario),
        "--out",
        str(out),
        "--no-progress",
        "--checkpoint-every",
        "0",
        slow=True,
    )
    deadline = time.monotonic() + 60
    while not (out / "replay.jsonl").exists() or (out / "replay.jsonl").stat().st_size < 100_000:
        assert running.poll() is None and time.monotonic() < deadline, finish(running, 1)
        time.sleep(0.05)
    running.send_signal(signal.SIGINT)
    err = finish(running, 60)
    assert running.returncode == 130, err
    assert err.count("\n") == 1 and "no checkpoint was written" in err, err
    assert orjson.loads((out / "summary.json").read_bytes())["status"] == "interrupted"


# -- a native algo that crashes the process or never returns --------------------------


def native_scenario(tmp_path: Path, library: Path) -> Path:
    """A scenario file: a Python market maker "mm" beside the native algo "bad"."""
    scenario = tmp_path / "scenario.py"
    scenario.write_text(
        textwrap.dedent(f"""
        from meshrt import *
        from scenarios.algos.market_maker import MarketMaker
        SRC = SyntheticSpec(symbol="XYZ", seed=1, start_price=price_to_int("100"),
                            tick=price_to_int("0.01"), level_size=(10**7, 10**8),
                            interval_ns=10_000, updates=20_000, move_probability=0.1)
        PARAMS = {{"size": 10**8, "tick": price_to_int("0.01"), "max_inventory": 3 * 10**8}}
        scenario = Scenario(name="x", venues=[Venue(name="v1", sources=[SRC])],
                            deployments=[Deployment(label="mm", venue="v1", symbols=["XYZ"],
                                                    algo=MarketMaker, params=PARAMS),
                                         Deployment(label="bad", venue="v1", symbols=["XYZ"],
                                                    algo={str(library)!r})])
    """)
    )
    return scenario


def test_a_segfault_in_a_native_algo_names_the_deployment_and_callback(tmp_path: Path) -> None:
    library = c_algo("segv", "if (cx->state->now > 20000000) *(volatile int *)0 = 1;")["native"]
    out = tmp_path / "run"
    done = meshrt(
        "run", str(native_scenario(tmp_path, library)), "--out", str(out), "--no-progress"
    )
    err = finish(done, 120)
    assert done.returncode == -signal.SIGSEGV, err  # 139 in a shell
    line = "meshrt: fatal signal SIGSEGV in deployment 'bad', callback on_book; the run stops"
    assert line in err and f"meshrt run --resume {out}" in err
    crash = (out / "crash.txt").read_text()
    assert crash.startswith(line)
    assert "Fatal Python error: Segmentation fault" in crash  # faulthandler's tracebacks


STUCK_WHEN_TOLD = """
#ifdef __wasm__
#define STUCK 0
#else
extern char *getenv(const char *name);
#define STUCK getenv("MESHRT_TEST_STUCK")
#endif
"""

STATELESS = """
int64_t t_snapshot(void *self, void *buffer, uint64_t capacity) {
    (void)self, (void)buffer, (void)capacity; return 0; }
void *t_restore(mr_ctx *cx, const void *data, uint64_t size) {
    (void)cx, (void)data, (void)size; return &token; }
"""


def test_the_watchdog_ends_a_stuck_native_algo_resumably(tmp_path: Path) -> None:
    library = c_algo(
        "stuck",
        """
        static volatile int64_t n;
        if (STUCK && cx->state->now > 150000000) for (;;) n++;
    """,
        extra=STUCK_WHEN_TOLD + STATELESS,
        exports="t, snapshot",
    )["native"]
    scenario = native_scenario(tmp_path, library)
    out = tmp_path / "run"
    env = {**os.environ, "MESHRT_TEST_STUCK": "1"}
    stuck = meshrt(
        "run",
        str(scenario),
        "--out",
        str(out),
        "--no-progress",
        "--checkpoint-every",
        "2000",
        "--watchdog",
        "1",
        env=env,
    )
    err = finish(stuck, 120)
    assert stuck.returncode == EXIT_STUCK, err
    line = (
        "meshrt: watchdog: a window made no progress for 1 s in deployment 'bad', "
        "callback on_book; the run stops; resume from its last checkpoint with: "
        f"meshrt run --resume {out}\n"
    )
    assert err.endswith(line), err
    assert (out / "crash.txt").read_text() == line
    newest = checkpoint.all_checkpoints(out)[-1]
    assert (out / "replay.jsonl").stat().st_size >= checkpoint.read_header(newest)[0]["log_offset"]
    resumed = meshrt("run", "--resume", str(out), "--no-progress")
    err = finish(resumed, 120)
    assert resumed.returncode == 0, err
    whole = tmp_path / "whole"
    straight = meshrt("run", str(scenario), "--out", str(whole), "--no-progress")
    err = finish(straight, 120)
    assert straight.returncode == 0, err
    assert (out / "replay.jsonl").read_bytes() == (whole / "replay.jsonl").read_bytes()


def test_the_watchdog_option_must_be_a_number_of_seconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from meshrt.cli.main import main

    for bad in ("-1", "nan", "inf"):
        with pytest.raises(SystemExit) as exit_:
            main(["run", "x.py", "--watchdog", bad])
        assert exit_.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"meshrt run: error: argument --watchdog: must be a finite number >= 0, got {bad!r}"
        )
