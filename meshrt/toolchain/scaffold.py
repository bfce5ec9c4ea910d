"""``meshrt init NAME --lang python|c``: a project that builds, runs and passes as created.

The project holds the algo (``algo.py`` or ``algo.c``), ``scenario.py`` (one synthetic
venue, one deployment) and ``test_algo.py``; ``meshrt build NAME`` builds a C project
into ``NAME/build/``.
"""

from __future__ import annotations

import re
from pathlib import Path

LANGS = ("python", "c")


class ScaffoldError(Exception):
    """The project cannot be created (bad name, folder exists)."""


PY_ALGO = '''"""{name}: joins the best bid with one post-only order and keeps it there."""

from __future__ import annotations

from typing import Any

from meshrt import Actions, Algo, AlgoState, Book, Features, Fill, Reject, Side, TimeInForce


class {cls}(Algo):
    def __init__(self, host: Any, params: dict[str, Any]) -> None:
        super().__init__(host, params)
        self.size: int = params["size"]
        self.order_id: int | None = None
        self.fills = 0

    def on_book(self, book: Book, state: AlgoState, features: Features, actions: Actions) -> None:
        if not book.bid_prices:
            return
        order = state.open_orders.get(self.order_id) if self.order_id is not None else None
        if order is None:
            self.order_id = actions.limit(Side.BUY, book.bid_prices[0], self.size,
                                          TimeInForce.POST_ONLY)
        elif order.accepted and not order.pending and order.price != book.bid_prices[0]:
            actions.replace(self.order_id, book.bid_prices[0], order.filled + self.size)

    def on_fill(self, fill: Fill, state: AlgoState, actions: Actions) -> None:
        self.fills += 1

    def on_reject(self, reject: Reject, state: AlgoState, actions: Actions) -> None:
        pass
'''

C_ALGO = '''/* {name}: joins the best bid with one post-only order and keeps it there.
 * Build: meshrt build {name}   (writes build/{name}.wasm and build/{name}.so) */
#include <meshrt.h>

typedef struct algo {{
    int64_t size;
    uint64_t order_id;
    int64_t fills;
}} algo;

void *{prefix}_create(mr_ctx *cx) {{
    algo *self = (algo *)mr_alloc(sizeof(algo));
    if (self) self->size = mr_param_i64(cx, "size", 100000000);
    return self;
}}

void {prefix}_destroy(void *self) {{ mr_free(self); }}

int {prefix}_on_book(void *p, mr_ctx *cx, const mr_book *book, const mr_features *f) {{
    algo *self = (algo *)p;
    (void)f;
    if (book->bid_count == 0) return 0;
    int64_t best = book->bids[0].price;
    mr_open_order order;
    if (!self->order_id || mr_order(cx, self->order_id, &order) != MR_FOUND)
        self->order_id = mr_limit(cx, MR_BUY, best, self->size, MR_POST_ONLY);
    else if ((order.flags & MR_ORDER_ACCEPTED) && !(order.flags & MR_ORDER_PENDING) &&
             order.price != best)
        mr_replace(cx, self->order_id, best, order.filled + self->size);
    return 0;
}}

int {prefix}_on_fill(void *p, mr_ctx *cx, const mr_fill *fill) {{
    (void)cx, (void)fill;
    ((algo *)p)->fills++;
    return 0;
}}

int {prefix}_on_reject(void *p, mr_ctx *cx, const mr_reject *reject) {{
    (void)p, (void)cx, (void)reject;
    return 0;
}}

MESHRT_ALGO({prefix})
'''

SCENARIO = '''"""{name}: one synthetic venue, one deployment. Run: meshrt run {name}/scenario.py"""

from meshrt import (
    Deployment,
    Scenario,
    SyntheticSpec,
    Venue,
    price_to_int,
    seconds,
    size_to_int,
)

ALGO = {algo!r}{algo_note}

scenario = Scenario(
    name={name!r},
    seed=1,
    duration_ns=seconds(1),
    venues=[
        Venue(
            name="sim",
            sources=[
                SyntheticSpec(
                    symbol="XYZ", seed=1, start_price=price_to_int("100"),
                    tick=price_to_int("0.01"), levels=20,
                    level_size=(size_to_int("0.5"), size_to_int("5")), interval_ns=50_000,
                    updates=20_000, trade_every=10, move_probability=0.1,
                )
            ],
        )
    ],
    deployments=[
        Deployment(label="algo", venue="sim", symbols=["XYZ"], algo=ALGO,
                   params={{"size": size_to_int("1")}})
    ],
)
'''

PY_TEST = '''"""The scaffolded algo runs its scenario and trades. Run: python -m pytest {name}"""

from pathlib import Path

from meshrt.runtime import run
from meshrt.scenario import load_scenario

HERE = Path(__file__).resolve().parent


def test_the_algo_runs_its_scenario_and_trades() -> None:
    result = run(load_scenario(HERE / "scenario.py"))
    assert result.ok
    deployment = result.summary["deployments"][0]
    assert deployment["crashed"] is None
    assert deployment["orders"] > 0
'''

C_TEST = '''"""Both builds of the scaffolded algo run its scenario and trade identically.
Run: python -m pytest {name}"""

from pathlib import Path

import attrs

from meshrt.runtime import run
from meshrt.scenario import load_scenario
from meshrt.toolchain import build

HERE = Path(__file__).resolve().parent


def test_wasm_and_native_builds_trade_identically() -> None:
    artifacts = {{artifact.target: artifact.path for artifact in build(HERE)}}
    scenario = load_scenario(HERE / "scenario.py")
    results = {{}}
    for target, path in artifacts.items():
        deployment = attrs.evolve(scenario.deployments[0], algo=str(path))
        result = run(attrs.evolve(scenario, deployments=[deployment]))
        assert result.ok
        results[target] = result.summary["deployments"][0]
    assert results["wasm"]["crashed"] is None
    assert results["wasm"]["orders"] > 0
    assert results["wasm"] == results["native"]
'''


def init_project(name: str, lang: str, parent: Path = Path(".")) -> Path:
    """Create ``parent/name`` with an algo, a scenario and a test; returns the folder."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name):
        raise ScaffoldError(f"project name {name!r}: use letters, digits, '-' and '_', "
                            "starting with a letter")
    if lang not in LANGS:
        raise ScaffoldError(f"unknown language {lang!r} (have {', '.join(LANGS)})")
    folder = Path(parent) / name
    if folder.exists():
        raise ScaffoldError(f"{folder} already exists")
    prefix = re.sub(r"\W", "_", name.lower())
    cls = "".join(part.capitalize() for part in re.split(r"[-_]", name)) or "Algo"
    folder.mkdir(parents=True)
    if lang == "python":
        (folder / "algo.py").write_text(PY_ALGO.format(name=name, cls=cls))
        algo, note = f"algo.py:{cls}", ""
        test = PY_TEST
    else:
        (folder / "algo.c").write_text(C_ALGO.format(name=name, prefix=prefix))
        algo = "build/algo.wasm"
        note = "  # or \"build/algo.so\": the native build of the same source"
        test = C_TEST
    (folder / "scenario.py").write_text(SCENARIO.format(name=name, algo=algo, algo_note=note))
    (folder / "test_algo.py").write_text(test.format(name=name))
    return folder
