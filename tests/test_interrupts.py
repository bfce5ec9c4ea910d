"""Algo code that raises BaseException is contained; a real Ctrl-C stops the run."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path
from typing import Any

import pytest

from meshrt.runtime import run

from helpers import TICK, UNIT, deployment, scenario
from scenarios.algos.market_maker import MarketMaker

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
