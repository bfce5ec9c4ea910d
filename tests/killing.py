"""Run the meshrt command in a subprocess, and kill a run part-way, as a crash would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVERY = "8000"  # --checkpoint-every of the runs the recovery tests kill: 7 in a thinned run
THINNING = """
# tests/killing.py: the same run with feeds 4 times sparser, a quarter of the events
import sys
sys.path.insert(0, {tests!r})
from helpers import thinned
scenario = thinned(scenario, 4)
"""


def thinned_copy(source: str, path: Path) -> Path:
    """A scenario file's ``source`` written to ``path``, its feeds made sparser (the recovery
    property does not need a dense feed; the kill points are counted in checkpoints)."""
    path.write_text(source + THINNING.format(tests=str(ROOT / "tests")))
    return path


def bundled_copy(name: str, folder: Path) -> Path:
    """scenarios/NAME.py, thinned, in ``folder``: its algos named by absolute path."""
    source = (ROOT / "scenarios" / f"{name}.py").read_text()
    assert '"algos/' in source
    return thinned_copy(
        source.replace('"algos/', f'"{ROOT}/scenarios/algos/'), folder / f"{name}.py"
    )


def meshrt(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meshrt.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def killed_run(scenario: str | Path, out: Path, after_checkpoints: int, *options: str) -> None:
    """Start a run (with ``options`` of ``meshrt run``) and SIGKILL it as soon as it has
    written that many checkpoints."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "meshrt.cli.main",
            "run",
            str(scenario),
            "--out",
            str(out),
            "--no-progress",
            "--checkpoint-every",
            EVERY,
            *options,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    written: set[str] = set()
    deadline = time.monotonic() + 120
    while len(written) < after_checkpoints and time.monotonic() < deadline:
        folder = out / "checkpoints"
        if folder.is_dir():
            written.update(p.name for p in folder.glob("checkpoint-*.bin"))
        if process.poll() is not None:
            break
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before the kill"
    assert not (out / "summary.json").exists()
