"""``meshrt init NAME --lang python|c``: a project that builds, runs and passes as created.

The project holds the algo (``algo.py`` or ``algo.c``), ``scenario.py`` (one synthetic
venue, one deployment) and ``test_NAME.py``; ``meshrt build NAME`` builds a C project
into ``NAME/build/algo.wasm`` and ``algo.so``. Both starters quote both sides within a
position limit, and the C one is checkpointable: they are examples people copy.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

LANGS = ("python", "c")


class ScaffoldError(Exception):
    """The project cannot be created (bad name, folder exists)."""


PY_ALGO = '''"""{name}: quotes both sides at the touch with post-only orders, and stops quoting
the side that would take its position past max_position."""

from __future__ import annotations

from typing import Any

from meshrt import Actions, Algo, AlgoState, Book, Features, Fill, Reject, Side, TimeInForce


class {cls}(Algo):
    def __init__(self, host: Any, params: dict[str, Any]) -> None:
        super().__init__(host, params)
        self.size: int = params["size"]
        self.max_position: int = params["max_position"]
        self.bid_id: int | None = None
        self.ask_id: int | None = None
        self.fills = 0

    def on_book(self, book: Book, state: AlgoState, features: Features, actions: Actions) -> None:
        if not book.bid_prices or not book.ask_prices:
            return
        position = state.position()
        self.bid_id = self.quote(state, actions, self.bid_id, Side.BUY, book.bid_prices[0],
                                 position + self.size <= self.max_position)
        self.ask_id = self.quote(state, actions, self.ask_id, Side.SELL, book.ask_prices[0],
                                 position - self.size >= -self.max_position)

    def quote(self, state: AlgoState, actions: Actions, order_id: int | None, side: Side,
              price: int, allowed: bool) -> int | None:
        """Keep one order of `size` at `price` on this side while `allowed`; the order id."""
        order = state.open_orders.get(order_id) if order_id is not None else None
        if order is None:
            return actions.limit(side, price, self.size, TimeInForce.POST_ONLY) if allowed else None
        if not order.accepted or order.pending:
            return order_id  # wait for the venue's answer before touching it again
        if not allowed:
            actions.cancel(order_id)
        elif order.price != price:
            actions.replace(order_id, price, order.filled + self.size)
        return order_id

    def on_fill(self, fill: Fill, state: AlgoState, actions: Actions) -> None:
        self.fills += 1

    def on_reject(self, reject: Reject, state: AlgoState, actions: Actions) -> None:
        pass

    def report(self) -> dict[str, Any]:
        """Figures of its own for summary.json (deployments[0].report)."""
        return {{"fills": self.fills}}
'''

C_ALGO = """/* {name}: quotes both sides at the touch with post-only orders, and stops quoting the
 * side that would take its position past max_position.
 * Build: meshrt build {name}   (writes build/algo.wasm and build/algo.so) */
#include <meshrt.h>

/* the whole state: plain values, no pointers, so its bytes are a checkpoint (below) */
typedef struct algo {{
    int64_t size, max_position;
    uint64_t bid_id, ask_id; /* 0: none */
    int64_t fills;
}} algo;

void *{prefix}_create(mr_ctx *cx) {{
    algo *self = (algo *)mr_alloc(sizeof(algo));
    if (!self) return 0;
    self->size = mr_param_i64(cx, "size", 100000000);
    self->max_position = mr_param_i64(cx, "max_position", 3 * self->size);
    self->bid_id = self->ask_id = 0;
    self->fills = 0;
    return self;
}}

void {prefix}_destroy(void *self) {{ mr_free(self); }}

/* keep one order of `size` at `price` on this side while `allowed`; the order id (0: none) */
static uint64_t quote(algo *self, mr_ctx *cx, uint64_t order_id, uint8_t side, int64_t price,
                      int allowed) {{
    mr_open_order order;
    if (!order_id || mr_order(cx, order_id, &order) != MR_FOUND)
        return allowed ? mr_limit(cx, side, price, self->size, MR_POST_ONLY) : 0;
    if (!(order.flags & MR_ORDER_ACCEPTED) || (order.flags & MR_ORDER_PENDING))
        return order_id; /* wait for the venue's answer before touching it again */
    if (!allowed)
        mr_cancel(cx, order_id);
    else if (order.price != price)
        mr_replace(cx, order_id, price, order.filled + self->size);
    return order_id;
}}

int {prefix}_on_book(void *p, mr_ctx *cx, const mr_book *book, const mr_features *f) {{
    algo *self = (algo *)p;
    (void)f;
    if (book->bid_count == 0 || book->ask_count == 0) return 0;
    int64_t position = cx->state->position;
    self->bid_id = quote(self, cx, self->bid_id, MR_BUY, book->bids[0].price,
                         position + self->size <= self->max_position);
    self->ask_id = quote(self, cx, self->ask_id, MR_SELL, book->asks[0].price,
                         position - self->size >= -self->max_position);
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

/* Checkpoints (meshrt run --checkpoint-every, --resume): the native build saves its state
 * through these two, listed as `snapshot` below; the WASM build ignores them (the host
 * saves the module's memory). Keep them in step with the struct. */
int64_t {prefix}_snapshot(void *p, void *buffer, uint64_t capacity) {{
    if (capacity >= sizeof(algo)) __builtin_memcpy(buffer, p, sizeof(algo));
    return (int64_t)sizeof(algo);
}}

void *{prefix}_restore(mr_ctx *cx, const void *data, uint64_t size) {{
    (void)cx;
    if (size != sizeof(algo)) return 0; /* not a snapshot of this build */
    algo *self = (algo *)mr_alloc(sizeof(algo));
    if (self) __builtin_memcpy(self, data, sizeof(algo));
    return self;
}}

MESHRT_ALGO({prefix}, snapshot)
"""

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
MAX_POSITION = size_to_int("3")  # the algo quotes only what keeps |position| within this

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
                   params={{"size": size_to_int("1"), "max_position": MAX_POSITION}})
    ],
)
'''

CHECK_RUN = '''

def check_the_run(result: Any) -> None:
    """The scenario ran, traded both sides (an algo that only buys never realizes PnL),
    kept every invariant and its position limit, and replays identically."""
    assert result.ok
    deployment = result.summary["deployments"][0]
    assert deployment["crashed"] is None
    assert deployment["fills"] > 0 and deployment["realized_pnl"] != 0, "both sides filled"
    assert_no_invariant_violation(result)
    scenario = load_scenario(HERE / "scenario.py")
    assert_positions_within(result, scenario.deployments[0].params["max_position"])
    assert_deterministic_replay(result)
'''

PY_TEST = (
    '''"""The scaffolded algo: its decisions on hand-made books (meshrt.testing's harness), and
its scenario run end to end. Run: python -m pytest {name}"""

from pathlib import Path
from typing import Any

from meshrt import Side, TimeInForce, price_to_int, size_to_int
from meshrt.scenario.definition import load_scenario
from meshrt.testing import (
    Limit,
    assert_deterministic_replay,
    assert_no_invariant_violation,
    assert_positions_within,
)

HERE = Path(__file__).resolve().parent
SIZE = size_to_int("1")
BOOK = {{"bids": [("99.99", "4")], "asks": [("100.01", "2")]}}
'''
    + CHECK_RUN
    + """

def test_it_quotes_the_touch_and_stops_the_side_past_its_limit(algo_harness: Any) -> None:
    algo = algo_harness("algo.py:{cls}", {{"size": SIZE, "max_position": SIZE}})
    bid, ask = algo.book(**BOOK).actions
    assert bid == Limit(1, Side.BUY, price_to_int("99.99"), SIZE, TimeInForce.POST_ONLY, "XYZ")
    assert ask == Limit(2, Side.SELL, price_to_int("100.01"), SIZE, TimeInForce.POST_ONLY, "XYZ")
    algo.accept(bid.order_id)
    algo.accept(ask.order_id)
    algo.fill(bid.order_id)  # all of it: long SIZE, the limit
    assert algo.state.position() == SIZE
    assert algo.book(**BOOK).actions == ()  # no new bid past the limit; the ask stands


def test_the_scenario_trades_both_sides_within_the_limit(meshrt_run: Any) -> None:
    result = meshrt_run("scenario.py")
    check_the_run(result)
    assert result.reports["algo"] == {{"fills": result.summary["deployments"][0]["fills"]}}
"""
)

C_TEST = (
    '''"""Both builds of the scaffolded algo decide alike on hand-made books (meshrt.testing's
harness), and its scenario runs end to end. Run: python -m pytest {name}"""

from pathlib import Path
from typing import Any

import pytest

from meshrt import size_to_int
from meshrt.scenario.definition import load_scenario
from meshrt.testing import (
    Limit,
    assert_deterministic_replay,
    assert_no_invariant_violation,
    assert_positions_within,
)
from meshrt.toolchain import build

HERE = Path(__file__).resolve().parent
SIZE = size_to_int("1")
BOOK = {{"bids": [("99.99", "4")], "asks": [("100.01", "2")]}}
'''
    + CHECK_RUN
    + """

@pytest.fixture(scope="module")
def builds() -> dict[str, Path]:
    \"\"\"build/algo.wasm and build/algo.so, made from algo.c once for this module.\"\"\"
    return {{artifact.target: artifact.path for artifact in build(HERE)}}


def decisions(algo: Any) -> list[Any]:
    \"\"\"Quotes at the touch; filled on the bid up to the limit, no new bid.\"\"\"
    first = algo.book(**BOOK)
    bid, ask = first.actions
    assert isinstance(bid, Limit) and isinstance(ask, Limit)
    algo.accept(bid.order_id)
    algo.accept(ask.order_id)
    filled = algo.fill(bid.order_id)
    return [first, filled, algo.book(**BOOK), algo.state.position()]


def test_both_builds_decide_alike(algo_harness: Any, builds: dict[str, Path]) -> None:
    params = {{"size": SIZE, "max_position": SIZE}}
    wasm, native = (decisions(algo_harness(builds[t], params)) for t in ("wasm", "native"))
    assert wasm == native
    assert wasm[2].actions == () and wasm[3] == SIZE  # no new bid past the limit


def test_the_scenario_trades_both_sides_within_the_limit(
    meshrt_run: Any, builds: dict[str, Path]
) -> None:
    check_the_run(meshrt_run("scenario.py"))  # the WASM build; its native twin decides alike
"""
)


def init_project(name: str, lang: str, parent: Path = Path(".")) -> Path:
    """Create ``parent/name`` with an algo, a scenario and a test; returns the folder."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name):
        raise ScaffoldError(
            f"project name {name!r}: use letters, digits, '-' and '_', starting with a letter"
        )
    if lang not in LANGS:
        raise ScaffoldError(f"unknown language {lang!r} (have {', '.join(LANGS)})")
    folder = Path(parent) / name
    if folder.exists():
        raise ScaffoldError(f"{folder} already exists")
    shadowed = _shadowed(name)
    if shadowed is not None:
        raise ScaffoldError(
            f"project name {name!r} would shadow {shadowed} when the project "
            "is tested from its parent folder; choose another name"
        )
    prefix = _identifier(name)
    cls = "".join(part.capitalize() for part in re.split(r"[-_]", name)) or "Algo"
    folder.mkdir(parents=True)
    if lang == "python":
        (folder / "algo.py").write_text(PY_ALGO.format(name=name, cls=cls))
        algo, note = f"algo.py:{cls}", ""
        test = PY_TEST
    else:
        (folder / "algo.c").write_text(C_ALGO.format(name=name, prefix=prefix))
        algo = "build/algo.wasm"
        note = '  # or "build/algo.so": the native build of the same source'
        test = C_TEST
    (folder / "scenario.py").write_text(SCENARIO.format(name=name, algo=algo, algo_note=note))
    (folder / test_file(name)).write_text(test.format(name=name, cls=cls))
    return folder


def test_file(name: str) -> str:
    """The project's test file: named after the project, so that several projects can be
    tested together (``python -m pytest a b``) without two modules named alike."""
    return f"test_{_identifier(name)}.py"


def _identifier(name: str) -> str:
    return re.sub(r"\W", "_", name.lower())


def _shadowed(name: str) -> str | None:
    """What an importable folder of this name would hide: a standard-library or an
    installed module (meshrt itself included), or None."""
    if not name.isidentifier():
        return None  # a name with '-' cannot be imported, so it hides nothing
    if name in sys.stdlib_module_names:
        return f"the standard library's module {name!r}"
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    return f"the installed module {name!r}" + (f" ({spec.origin})" if spec.origin else "")
