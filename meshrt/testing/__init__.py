"""Testing algos with pytest: the harness, the assertions and the pytest plugin's fixtures
(docs/testing.md).

The plugin (``meshrt.testing.plugin``) loads in every pytest run where meshrt is
installed, and imports this package first; so the names below are imported when first
used, not with the package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meshrt.testing.actions import (
        Action as Action,
        Cancel as Cancel,
        CancelAll as CancelAll,
        Limit as Limit,
        Market as Market,
        Replace as Replace,
    )
    from meshrt.testing.checks import (
        assert_deterministic_replay as assert_deterministic_replay,
        assert_no_invariant_violation as assert_no_invariant_violation,
        assert_positions_within as assert_positions_within,
    )
    from meshrt.testing.harness import AlgoHarness as AlgoHarness, Emitted as Emitted
    from meshrt.testing.runs import run_scenario as run_scenario

_HOMES = {
    "Action": "actions",
    "Cancel": "actions",
    "CancelAll": "actions",
    "Limit": "actions",
    "Market": "actions",
    "Replace": "actions",
    "assert_deterministic_replay": "checks",
    "assert_no_invariant_violation": "checks",
    "assert_positions_within": "checks",
    "AlgoHarness": "harness",
    "Emitted": "harness",
    "run_scenario": "runs",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'meshrt.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(f"meshrt.testing.{home}"), name)
