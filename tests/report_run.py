"""A small run with something for every report figure: the bundled maker/hedger pair,
its feeds ten times sparser, with a kill and restart, a partition, a feed outage and a
lossy link (about 25,000 records, well under a second)."""

from __future__ import annotations

from pathlib import Path

import attrs

from meshrt import DropRate, KillFeed, KillInstance, Partition, on_failure, seconds
from meshrt.runtime.run import run
from meshrt.scenario.definition import load_scenario

from helpers import thinned

ROOT = Path(__file__).resolve().parent.parent


def faulty_run(run_dir: Path) -> Path:
    """Run the scenario into ``run_dir``; returns it."""
    bundled = thinned(load_scenario(ROOT / "scenarios" / "maker_hedger.py"), 10)
    maker, hedger = bundled.deployments
    scenario = attrs.evolve(
        bundled,
        deployments=[attrs.evolve(maker, restart=on_failure()), hedger],
        faults=[
            KillInstance("maker", seconds(1)),
            Partition("beta", seconds(1.5), seconds(0.3)),
            KillFeed("alpha", seconds(2), seconds(0.2)),
            DropRate("maker", "hedger", 0.5, seconds(2.5), seconds(0.5)),
        ],
    )
    run(scenario, run_dir)
    return run_dir
