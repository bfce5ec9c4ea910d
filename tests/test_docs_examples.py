"""The complete example in docs/scenarios.md loads and runs as documented."""

from __future__ import annotations

import re
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
