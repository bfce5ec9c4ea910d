"""The examples in docs/scenarios.md and docs/testing.md run and pass as documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from meshrt.runtime.run import run
from meshrt.scenario.definition import load_scenario

DOC = Path(__file__).resolve().parent.parent / "docs" / "scenarios.md"


def test_the_scenario_example_runs(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    example = next(block for block in blocks if "scenario = Scenario(" in block)
    path = tmp_path / "touch_taker.py"
    path.write_text(example)
    scenario = load_scenario(path)
    result = run(scenario, tmp_path / "run")
    assert result.ok
    (summary,) = result.summary["deployments"]
    assert summary["label"] == "taker" and summary["crashed"] is None
    assert summary["orders"] > 0 and summary["fills"] > 0
    assert summary["rejects"] == {}
    assert summary["state"] == "stopped"
    assert abs(summary["position"]["ETH-USD"]) <= scenario.deployments[0].risk.max_position


def test_the_testing_guide_examples_pass(tmp_path: Path) -> None:
    """docs/testing.md's examples, as the tests of a project `meshrt init` made."""
    from meshrt.toolchain import init_project

    guide = (DOC.parent / "testing.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, flags=re.DOTALL)
    tests = sum(len(re.findall(r"^def test_", block, flags=re.M)) for block in blocks)
    project = init_project("my-algo", "python", tmp_path)
    (project / "test_guide.py").write_text("\n\n".join(blocks))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_guide.py"],
        capture_output=True,
        text=True,
        cwd=project,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{tests} passed" in done.stdout and tests >= 5
