"""A planted bug for tests/test_soak.py: the bundled two-venue scenario, shortened, with a
maker that loses its state when it is restarted and crashes in on_start (a restarted
instance is a new object: state kept only in the old one is gone)."""

from pathlib import Path

import attrs

from meshrt import Algo, on_failure, seconds
from meshrt.scenario.definition import load_scenario
from meshrt.soak.failure_file import rooted


class ForgetsOnRestart(Algo):
    def on_start(self, state, actions):  # type: ignore[no-untyped-def]
        if state.now > 0:  # not the scenario's start: a restart
            raise KeyError("quote_state")

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        pass

    def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
        pass

    def on_reject(self, reject, state, actions):  # type: ignore[no-untyped-def]
        pass


bundled = rooted(load_scenario(Path(__file__).parent.parent / "scenarios" / "maker_hedger.py"))
maker, hedger = bundled.deployments
scenario = attrs.evolve(
    bundled,
    name="planted",
    duration_ns=seconds(0.3),
    deployments=[
        attrs.evolve(maker, algo=ForgetsOnRestart, restart=on_failure(delay_ns=seconds(0.01))),
        hedger,
    ],
)
