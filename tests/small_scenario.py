"""A small scenario file the run-folder and resume tests write next to their runs."""

from __future__ import annotations

from pathlib import Path

SMALL = """
import os
from meshrt import *
from scenarios.algos.market_maker import MarketMaker
SRC = SyntheticSpec(symbol="XYZ", seed=1, start_price=price_to_int("100"),
                    tick=price_to_int("0.01"), level_size=(10**7, 10**8), interval_ns=10_000,
                    updates=2_000, move_probability=0.1)
scenario = Scenario(name=NAME, seed=int(os.environ.get("MESHRT_TEST_SEED", "7")),
                    venues=[Venue(name="v1", sources=[SOURCE])],
                    deployments=[Deployment(label="mm", venue="v1", symbols=["XYZ"],
                                            algo=MarketMaker,
                                            params={"size": 10**8, "tick": 10**6,
                                                    "max_inventory": 5 * 10**8})])
"""

DATA = (
    '{"ts": 1, "type": "snapshot", "bids": [["99", "1"]], "asks": [["101", "1"]]}\n'
    '{"ts": 2, "type": "delta", "side": "buy", "price": "99", "size": "2"}\n'
    '{"ts": 3, "type": "delta", "side": "sell", "price": "101", "size": "3"}\n'
)


def write_scenario(folder: Path, name: str = "small", recorded: bool = False) -> Path:
    """scenario.py in ``folder``: synthetic data, or data.jsonl beside it if ``recorded``."""
    source = "SRC"
    if recorded:
        (folder / "data.jsonl").write_text(DATA)
        source = 'RecordedSpec(symbol="XYZ", path="data.jsonl")'
    path = folder / "scenario.py"
    path.write_text(SMALL.replace("NAME", repr(name)).replace("SOURCE", source))
    return path
