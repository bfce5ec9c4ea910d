"""WASM and native slots: capabilities, host calls, the module cache, slot lifecycle."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from meshrt import AlgoState, RejectReason
from meshrt.actors.instance import InstanceHost
from meshrt.loaders import load_slot, wasm_module
from meshrt.loaders.compiled import SlotContext
from meshrt.runtime.run import run

from c_algos import c_algo, market_maker
from helpers import deployment, scenario

HOSTCALLS = """
static int done;
"""
HOSTCALLS_BODY = """
    if (done) return 0;
    done = 1;
    int64_t size = mr_param_i64(cx, "size", -1);
    int64_t missing = mr_param_i64(cx, "nope", -7);
    mr_set_param_i64(cx, "seen_size", size + missing);
    uint64_t id = mr_limit(cx, MR_BUY, book->bids[MR_BOOK_DEPTH - 1].price, size, MR_GTC);
    mr_open_order o;
    int32_t found = mr_order(cx, id, &o); /* not visible until the callback returns */
    int32_t sym = mr_subscribe(cx, "NOPE");
    char msg[64] = "id=? found=? sym=? pos=?";
    msg[3] = (char)('0' + id); msg[11] = (char)('0' + found); msg[17] = (char)('0' + sym);
    msg[23] = (char)('0' + (mr_position(cx, 0) == 0));
    mr_log(cx, msg);
    mr_send(cx, "nobody", "hi", 2);
"""


@pytest.mark.e2e
@pytest.mark.parametrize("target", ["wasm", "native"])
def test_host_calls_reach_the_host(target: str, tmp_path: Path) -> None:
    algo = c_algo("hostcalls", HOSTCALLS_BODY, extra=HOSTCALLS)
    result = run(scenario(deployment(str(algo[target]))), tmp_path)
    summary = result.summary["deployments"][0]
    assert summary["crashed"] is None
    assert summary["orders"] == 1
    assert summary["rejects"] == {RejectReason.UNKNOWN_SYMBOL.name: 1}  # subscribe("NOPE")
    records = [
        orjson.loads(line) for line in (tmp_path / "replay.jsonl").read_bytes().splitlines()[1:]
    ]
    kinds = {r[6]: r for r in records if r[6] in ("set_param", "log", "subscribe")}
    size = deployment("unused.py:X").params["size"]
    assert kinds["set_param"][7] == ["seen_size", size - 7]
    assert kinds["log"][7] == ["id=1 found=0 sym=1 pos=1"]
    assert kinds["subscribe"][5] == "NOPE"


@pytest.mark.parametrize("target", ["wasm", "native"])
def test_capabilities_come_from_exports_and_undeclared_callbacks_are_absent(target: str) -> None:
    state = AlgoState("XYZ")

    class Inst:
        def __init__(self) -> None:
            self.state, self.params, self.outputs = state, {"size": 1, "tick": 1}, []
            self.messages_this_callback = self.messages_refused = 0

    host = InstanceHost(Inst())  # type: ignore[arg-type]
    slot = load_slot(
        deployment(str(market_maker()[target])),
        None,
        host,
        {"size": 1, "tick": 1},
        SlotContext(("v1",), ("XYZ",)),
    )
    try:
        assert slot.kind == target
        assert slot.capabilities == frozenset({"on_stop"})
        assert slot.optional("on_nbbo") is None and slot.optional("on_heartbeat") is None
        assert callable(slot.optional("on_stop"))
    finally:
        slot.close()
    with pytest.raises(RuntimeError, match="closed"):
        slot.on_book(None, state, None, None)


def test_python_host_order_reads_the_open_order_view() -> None:
    from meshrt import OpenOrder, Side

    state = AlgoState("XYZ")
    state.open_orders[3] = OpenOrder(3, "XYZ", Side.BUY, 10, 1, 0, True, False)

    class Inst:
        pass

    inst = Inst()
    inst.state = state  # type: ignore[attr-defined]
    host = InstanceHost(inst)  # type: ignore[arg-type]
    assert host.order(3) == state.open_orders[3]
    assert host.order(4) is None


def test_compiled_modules_are_cached_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHRT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(wasm_module, "_modules", {})
    path = market_maker()["wasm"]
    first = wasm_module.compile_module(path).info
    assert not first.from_cache
    cached = list((tmp_path / "wasm").glob("*.cwasm"))
    assert [c.name for c in cached] == [f"{first.digest}.cwasm"]
    monkeypatch.setattr(wasm_module, "_modules", {})  # a restart: the process cache is empty
    assert wasm_module.compile_module(path).info.from_cache
    cached[0].write_bytes(b"damaged")  # a damaged entry is recompiled and rewritten
    monkeypatch.setattr(wasm_module, "_modules", {})
    assert not wasm_module.compile_module(path).info.from_cache
    assert cached[0].read_bytes() != b"damaged"


@pytest.mark.e2e
def test_a_compiled_algo_restarted_by_its_supervisor_gets_a_fresh_instance() -> None:
    algo = c_algo(
        "crash_once",
        """
        if (cx->state->now > 20000000 && mr_param_i64(cx, "crashed", 0) == 0) {
            mr_set_param_i64(cx, "crashed", 1);
            return 3;
        }
    """,
    )
    from meshrt.scenario.restart import on_failure

    result = run(scenario(deployment(str(algo["native"]), restart=on_failure(max_restarts=1))))
    summary = result.summary["deployments"][0]
    assert summary["restarts"] == 1
    assert summary["state"] != "failed" and summary["book_callbacks"] > 100
