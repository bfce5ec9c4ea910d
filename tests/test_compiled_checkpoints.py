"""Checkpoints of compiled algos: a WASM instance is saved as its memory and globals, a
native one through its snapshot/restore entries. A run of either, killed with SIGKILL
and resumed, ends with the log and summary of a run never interrupted; a native algo
without the entries runs to the end without checkpoints, and metrics.json says why."""

from __future__ import annotations

import pickle
import re
import textwrap
from pathlib import Path

import orjson
import pytest

from meshrt import AlgoState
from meshrt.actors.instance import InstanceHost
from meshrt.loaders import AlgoLoadError, BadExport, CallbackFailed, load_slot
from meshrt.loaders.compiled import SlotContext
from meshrt.loaders.wasm_globals import export_mutable_globals
from meshrt.log.checkpoint import CheckpointUnsupported
from meshrt.sdk import Actions

from c_algos import ROOT, built, c_algo, market_maker, wat_module
from helpers import deployment
from killing import EVERY, killed_run, meshrt, thinned_copy


def without_snapshot() -> Path:
    """The bundled C market maker built without opting into checkpoints."""
    source = (ROOT / "scenarios" / "algos" / "market_maker.c").read_text()
    assert "MESHRT_ALGO(mm, on_stop, snapshot)" in source
    return built(
        source.replace("MESHRT_ALGO(mm, on_stop, snapshot)", "MESHRT_ALGO(mm, on_stop)"),
        "market_maker_nosnap",
    )["native"]


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bundled single-venue scenario, as a file per compiled build of its algo."""
    artifacts = market_maker()
    algos = {
        "wasm": artifacts["wasm"],
        "native": artifacts["native"],
        "native-without-snapshot": without_snapshot(),
    }
    folder = tmp_path_factory.mktemp("scenarios")
    source = (ROOT / "scenarios" / "market_maker.py").read_text()
    files = {}
    for target, algo in algos.items():
        files[target] = thinned_copy(
            source.replace('"algos/market_maker.py:MarketMaker"', repr(str(algo))),
            folder / f"{target}.py",
        )
    return files


@pytest.fixture(scope="module")
def uninterrupted(
    scenarios: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    runs = {}
    for target, scenario in scenarios.items():
        out = tmp_path_factory.mktemp(target) / "run"
        done = meshrt(
            "run", str(scenario), "--out", str(out), "--no-progress", "--checkpoint-every", EVERY
        )
        assert done.returncode == 0, done.stderr
        runs[target] = out
    return runs


@pytest.mark.e2e
@pytest.mark.parametrize("target", ["wasm", "native"])
def test_a_compiled_algo_run_writes_checkpoints(
    uninterrupted: dict[str, Path], target: str
) -> None:
    out = uninterrupted[target]
    metrics = orjson.loads((out / "metrics.json").read_bytes())
    assert metrics["checkpoints"]["every_events"] == int(EVERY)
    assert metrics["checkpoints"]["unavailable"] is None
    assert list((out / "checkpoints").glob("checkpoint-*.bin"))


@pytest.mark.e2e
@pytest.mark.parametrize("target", ["wasm", "native"])
@pytest.mark.parametrize("after", [1, 3])
def test_a_killed_compiled_run_resumes_to_the_same_log_and_state(
    scenarios: dict[str, Path],
    uninterrupted: dict[str, Path],
    tmp_path: Path,
    target: str,
    after: int,
) -> None:
    out = tmp_path / "run"
    killed_run(scenarios[target], out, after)
    done = meshrt("run", "--resume", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    reference = uninterrupted[target]
    assert (out / "replay.jsonl").read_bytes() == (reference / "replay.jsonl").read_bytes()
    assert (out / "summary.json").read_bytes() == (reference / "summary.json").read_bytes()
    verified = meshrt("replay", str(out))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "replay verified" in verified.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("target", ["wasm", "native"])
def test_resuming_with_a_changed_artifact_is_refused_naming_it(
    scenarios: dict[str, Path], tmp_path: Path, target: str
) -> None:
    artifact = tmp_path / market_maker()[target].name
    artifact.write_bytes(market_maker()[target].read_bytes())
    scenario = tmp_path / "scenario.py"
    scenario.write_text(
        scenarios[target]
        .read_text()
        .replace(repr(str(market_maker()[target])), repr(str(artifact)))
    )
    assert repr(str(artifact)) in scenario.read_text()
    out = tmp_path / "run"
    killed_run(scenario, out, 1)
    # still a valid artifact, but another one: a custom section, or bytes past the ELF end
    artifact.write_bytes(
        artifact.read_bytes() + (b"\0\x05\x04meow" if target == "wasm" else b"\0" * 8)
    )
    done = meshrt("run", "--resume", str(out), "--no-progress")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("meshrt run: cannot resume:") and "Traceback" not in done.stderr
    # refused by the run's digest, if it covers algo files, else by the slot's own
    assert (
        "scenario_sha256: the scenario changed since the run started" in done.stderr
        or f"{str(artifact)!r} is not the" in done.stderr
    ), done.stderr


@pytest.mark.parametrize("target", ["wasm", "native"])
def test_a_slot_refuses_to_restore_into_a_changed_artifact(tmp_path: Path, target: str) -> None:
    artifact = tmp_path / market_maker()[target].name
    artifact.write_bytes(market_maker()[target].read_bytes())
    slot = slot_of(artifact)
    try:
        blob = pickle.dumps(slot)
    finally:
        slot.close()  # type: ignore[attr-defined]
    artifact.write_bytes(
        artifact.read_bytes() + (b"\0\x05\x04meow" if target == "wasm" else b"\0" * 8)
    )
    with pytest.raises(
        AlgoLoadError,
        match=r"is not the (module|library) the checkpoint was "
        r"taken from \(its content changed\)",
    ):
        pickle.loads(blob)


@pytest.mark.e2e
def test_a_native_algo_without_snapshot_runs_on_without_checkpoints(
    uninterrupted: dict[str, Path],
) -> None:
    out = uninterrupted["native-without-snapshot"]
    metrics = orjson.loads((out / "metrics.json").read_bytes())
    why = metrics["checkpoints"]["unavailable"]
    assert why is not None
    assert "deployment 'mm-1': native algo 'market_maker_nosnap.so' cannot be checkpointed" in why
    assert "snapshot" in why and "docs/algos.md" in why
    assert not list((out / "checkpoints").glob("*.bin")) if (out / "checkpoints").is_dir() else True
    # it traded exactly as the build with the entries did
    assert (out / "summary.json").read_bytes() == (
        uninterrupted["native"] / "summary.json"
    ).read_bytes()
    assert (out / "replay.jsonl").read_bytes() == (
        uninterrupted["native"] / "replay.jsonl"
    ).read_bytes()


# -- the slots themselves ------------------------------------------------------------------


class _Instance:
    def __init__(self) -> None:
        self.label = "t"
        self.state = AlgoState("XYZ")
        self.params = {"size": 1, "tick": 1}
        self.outputs: list[object] = []
        self.messages_this_callback = self.messages_refused = 0


def slot_of(path: Path | str) -> object:
    host = InstanceHost(_Instance())  # type: ignore[arg-type]
    return load_slot(deployment(str(path)), None, host, {}, SlotContext(("v1",), ("XYZ",)))


COUNTER = """
 (global $calls (mut i32) (i32.const 0))
 (func (export "on_stop") (result i32)
   (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
   (if (result i32) (i32.eq (global.get $calls) (i32.const 3))
     (then (i32.const 7)) (else (i32.const 0))))
"""


def test_a_wasm_module_s_private_mutable_globals_are_saved(tmp_path: Path) -> None:
    path = wat_module(tmp_path, "counter", extra_exports=COUNTER)
    slot = slot_of(path)
    state = AlgoState("XYZ")
    stop = slot.optional("on_stop")  # type: ignore[attr-defined]
    stop(state, Actions(state, "XYZ"))
    stop(state, Actions(state, "XYZ"))
    restored = pickle.loads(pickle.dumps(slot))
    slot.close()  # type: ignore[attr-defined]
    # the third call fails only if the private counter came back as 2
    with pytest.raises(CallbackFailed, match="error code 7"):
        restored.optional("on_stop")(state, Actions(state, "XYZ"))
    restored.close()


def test_mutable_globals_are_exported_and_the_rest_is_unchanged(tmp_path: Path) -> None:
    data = wat_module(tmp_path, "counter", extra_exports=COUNTER).read_bytes()
    rewritten, out_of_reach = export_mutable_globals(data)
    assert out_of_reach == 0 and b"meshrt.global.0" in rewritten
    assert export_mutable_globals(rewritten) == (rewritten, 0)  # nothing left to export
    assert export_mutable_globals(data[:-3]) == (data[:-3], -1)  # truncated: left alone


def test_a_wasm_global_holding_a_reference_cannot_be_checkpointed(tmp_path: Path) -> None:
    path = wat_module(tmp_path, "refglobal", extra_exports="(global (mut funcref) (ref.null func))")
    slot = slot_of(path)
    try:
        with pytest.raises(
            CheckpointUnsupported,
            match=r"deployment 't': wasm algo 'refglobal.wasm' cannot be "
            r"checkpointed: its mutable global 'meshrt.global.0' holds a "
            r"reference value",
        ):
            pickle.dumps(slot)
    finally:
        slot.close()  # type: ignore[attr-defined]


def test_a_failing_native_snapshot_turns_checkpoints_off_naming_the_algo() -> None:
    algo = c_algo(
        "badsnap",
        "",
        exports="t, snapshot",
        extra="""
        int64_t t_snapshot(void *self, void *buffer, uint64_t capacity) {
            (void)self, (void)buffer, (void)capacity;
            return -5;
        }
        void *t_restore(mr_ctx *cx, const void *data, uint64_t size) {
            (void)cx, (void)data, (void)size;
            return 0;
        }
    """,
    )
    slot = slot_of(algo["native"])
    try:
        with pytest.raises(
            CheckpointUnsupported,
            match=re.escape(
                "native algo 'badsnap.so' cannot be checkpointed: its "
                "snapshot entry returned error -5"
            ),
        ):
            pickle.dumps(slot)
    finally:
        slot.close()  # type: ignore[attr-defined]


def test_a_native_restore_that_fails_is_a_bad_checkpoint() -> None:
    algo = c_algo(
        "norestore",
        "",
        exports="t, snapshot",
        extra="""
        int64_t t_snapshot(void *self, void *buffer, uint64_t capacity) {
            (void)self, (void)buffer, (void)capacity;
            return 0;
        }
        void *t_restore(mr_ctx *cx, const void *data, uint64_t size) {
            (void)cx, (void)data, (void)size;
            return 0;
        }
    """,
    )
    slot = slot_of(algo["native"])
    try:
        blob = pickle.dumps(slot)
    finally:
        slot.close()  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="restore returned NULL"):
        pickle.loads(blob)


def test_a_snapshot_entry_without_restore_is_refused_at_load() -> None:
    source = """
        #include <meshrt.h>
        static int32_t cb(void *p) { (void)p; return 0; }
        static void *create(const mr_host *h, mr_io *io) { (void)h; return io; }
        static void destroy(void *p) { (void)p; }
        static int64_t snap(void *p, void *b, uint64_t c) { (void)p, (void)b, (void)c; return 0; }
        __attribute__((visibility("default"))) const mr_vtable *meshrt_algo(void) {
            static mr_vtable vt;
            vt.abi_version = 1; vt.io_size = sizeof(mr_io); vt.vtable_size = sizeof(mr_vtable);
            vt.create = create; vt.destroy = destroy;
            vt.on_book = cb; vt.on_fill = cb; vt.on_reject = cb; vt.snapshot = snap;
            return &vt;
        }
    """
    path = built(source, "halfsnap")["native"]
    with pytest.raises(BadExport, match="has a 'snapshot' vtable entry but no 'restore'"):
        slot_of(path)


def test_a_library_built_before_the_snapshot_entries_loads_without_them() -> None:
    """vtable_size 0 (it was padding): the entries past the callbacks are never read."""
    source = """
        #include <meshrt.h>
        static int32_t cb(void *p) { (void)p; return 0; }
        static void *create(const mr_host *h, mr_io *io) { (void)h; return io; }
        static void destroy(void *p) { (void)p; }
        __attribute__((visibility("default"))) const mr_vtable *meshrt_algo(void) {
            static mr_vtable vt;
            vt.abi_version = 1; vt.io_size = sizeof(mr_io);
            vt.create = create; vt.destroy = destroy;
            vt.on_book = cb; vt.on_fill = cb; vt.on_reject = cb;
            vt.snapshot = (int64_t (*)(void *, void *, uint64_t))1;  /* garbage, never read */
            vt.restore = (void *(*)(const mr_host *, mr_io *, const void *, uint64_t))1;
            return &vt;
        }
    """
    slot = slot_of(built(source, "oldvtable")["native"])
    try:
        assert not slot.info.snapshot  # type: ignore[attr-defined]
        with pytest.raises(CheckpointUnsupported, match="no snapshot/restore entries"):
            pickle.dumps(slot)
    finally:
        slot.close()  # type: ignore[attr-defined]


@pytest.mark.e2e
def test_algos_that_cannot_be_saved_are_named_on_stderr_at_the_start(tmp_path: Path) -> None:
    """A Python algo holding a lambda and a native build without snapshot entries: one
    stderr line each before the run, then the run goes on without checkpoints."""
    (tmp_path / "holder.py").write_text(
        textwrap.dedent("""
        from meshrt import Algo

        class Holder(Algo):
            def __init__(self, host, params):
                super().__init__(host, params)
                self.pick = lambda book: book.bid_prices[0]

            def on_book(self, book, state, features, actions): pass
            def on_fill(self, fill, state, actions): pass
            def on_reject(self, reject, state, actions): pass
    """)
    )
    (tmp_path / "scenario.py").write_text(
        textwrap.dedent(f"""
        from meshrt import *
        SRC = SyntheticSpec(symbol="XYZ", seed=1, start_price=price_to_int("100"),
                            tick=price_to_int("0.01"), level_size=(10**7, 10**8),
                            interval_ns=50_000, updates=3_000, move_probability=0.1)
        scenario = Scenario(name="unsaveable", seed=1, duration_ns=seconds(1),
            venues=[Venue(name="sim", sources=[SRC])],
            deployments=[
                Deployment(label="py", venue="sim", symbols=["XYZ"], algo="holder.py:Holder"),
                Deployment(label="c", venue="sim", symbols=["XYZ"],
                           algo={str(without_snapshot())!r},
                           params={{"size": 10**8, "tick": 10**6, "max_inventory": 4 * 10**8}}),
            ])
    """)
    )
    out = tmp_path / "run"
    done = meshrt(
        "run",
        str(tmp_path / "scenario.py"),
        "--out",
        str(out),
        "--no-progress",
        "--checkpoint-every",
        "500",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith("meshrt: no checkpoints: deployment 'py' cannot be saved: ")
    assert "lambda" in lines[0] and lines[0].endswith("the run goes on without them")
    assert lines[1].startswith(
        "meshrt: no checkpoints: deployment 'c': native algo "
        "'market_maker_nosnap.so' cannot be checkpointed: its library "
        "has no snapshot/restore entries"
    ), lines[1]
    metrics = orjson.loads((out / "metrics.json").read_bytes())
    assert metrics["checkpoints"]["unavailable"].startswith("deployment 'py' cannot be saved")
    assert not list(out.glob("checkpoints/*"))
