"""Bad WASM and native algos: each refused or terminated with a clear reason naming the
file or callback, while a sibling Python instance keeps trading."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest

from meshrt import SandboxLimits, seconds
from meshrt.runtime.preflight import preflight
from meshrt.runtime.run import run
from meshrt.scenario.definition import ScenarioError, load_scenario

from c_algos import built, c_algo, market_maker, wat_module
from helpers import deployment, scenario
from scenarios.algos.market_maker import MarketMaker


def run_beside_a_sibling(algo: Any, tmp_path: Path | None = None, **kwargs: Any) -> dict[str, Any]:
    result = run(
        scenario(
            deployment(algo, label="bad", **kwargs),
            deployment(MarketMaker, label="mm"),
            updates=6_000,
        ),
        tmp_path,
    )
    assert result.ok
    by_label = {d["label"]: d for d in result.summary["deployments"]}
    assert by_label["mm"]["crashed"] is None
    assert by_label["mm"]["fills"] > 0, "the sibling traded"
    return by_label


def refused_at_load(algo: str, reason: str) -> None:
    """preflight() names the deployment, the file and the reason; run() refuses to start."""
    bad = scenario(deployment(algo, label="bad"), deployment(MarketMaker, label="mm"))
    with pytest.raises(ScenarioError) as info:
        preflight(bad)
    message = str(info.value)
    assert "deployments[0].algo" in message and Path(algo).name in message, message
    assert reason in message, message
    with pytest.raises(ScenarioError, match=r"deployments\[0\]\.algo"):
        run(bad)


# -- refused at load time ---------------------------------------------------------------


def test_a_file_that_is_not_wasm(tmp_path: Path) -> None:
    path = tmp_path / "notes.wasm"
    path.write_text("this is not a module")
    refused_at_load(str(path), "is not a WebAssembly module")


def test_a_truncated_module(tmp_path: Path) -> None:
    path = tmp_path / "truncated.wasm"
    data = market_maker()["wasm"].read_bytes()
    path.write_bytes(data[: len(data) // 2])
    refused_at_load(
        str(path),
        "is not a valid WebAssembly module: failed to parse WebAssembly "
        "module: unexpected end-of-file",
    )


def test_a_missing_required_export(tmp_path: Path) -> None:
    path = wat_module(tmp_path, "no_fill", skip=("on_fill",))
    refused_at_load(str(path), "missing the required export 'on_fill'")


def test_an_export_of_the_wrong_type(tmp_path: Path) -> None:
    path = wat_module(
        tmp_path,
        "bad_type",
        skip=("on_reject",),
        extra_exports=('(func (export "on_reject") (param i32) (result i32) (i32.const 0))'),
    )
    refused_at_load(str(path), "exports 'on_reject' as (i32) -> (i32); expected () -> (i32)")


@pytest.mark.parametrize(
    ("imports", "named"),
    [
        (
            (
                '(import "wasi_snapshot_preview1" "fd_write" '
                "(func (param i32 i32 i32 i32) (result i32)))"
            ),
            "imports wasi_snapshot_preview1.fd_write",
        ),
        ('(import "env" "abort" (func))', "imports env.abort"),
        ('(import "meshrt" "exec" (func))', "imports meshrt.exec"),
        (
            '(import "meshrt" "log" (func (param i64) (result i32)))',
            "imports meshrt.log with type (i64) -> (i32)",
        ),
    ],
)
def test_a_forbidden_import(tmp_path: Path, imports: str, named: str) -> None:
    path = wat_module(tmp_path, "forbidden", imports=imports)
    refused_at_load(str(path), named)


def test_a_wrong_abi_version_wasm(tmp_path: Path) -> None:
    path = wat_module(tmp_path, "abi99", abi=99)
    refused_at_load(str(path), "was built for ABI version 99; this meshrt speaks ABI version 1")


def test_an_io_area_outside_memory_wasm(tmp_path: Path) -> None:
    path = wat_module(
        tmp_path,
        "io_out",
        skip=("meshrt_io",),
        extra_exports=('(func (export "meshrt_io") (result i32) (i32.const 70000))'),
    )
    refused_at_load(str(path), "meshrt_io: I/O area at 70000 is not inside linear memory")


def test_a_start_function_that_traps_wasm(tmp_path: Path) -> None:
    path = wat_module(tmp_path, "bad_start", extra_exports="(func $s unreachable) (start $s)")
    refused_at_load(str(path), "trapped while starting: ")


@pytest.mark.e2e
def test_a_wrong_abi_version_wasm_is_refused_by_the_command(tmp_path: Path) -> None:
    """Exit 2 before anything starts, one line naming the file and both versions."""
    path = wat_module(tmp_path, "abi99", abi=99)
    scenario_file = tmp_path / "scenario.py"
    scenario_file.write_text(
        textwrap.dedent(f"""
        from meshrt import *
        scenario = Scenario(name="abi", seed=1, duration_ns=seconds(1), venues=[Venue(
            name="sim", sources=[SyntheticSpec(symbol="XYZ", seed=1,
                start_price=price_to_int("100"), tick=price_to_int("0.01"),
                level_size=(10**7, 10**8), interval_ns=50_000, updates=100,
                move_probability=0.1)])],
            deployments=[Deployment(label="bad", venue="sim", symbols=["XYZ"],
                                    algo={str(path)!r})])
    """)
    )
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "meshrt.cli.main",
            "run",
            str(scenario_file),
            "--out",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0], proc.stderr
    assert lines[0] == (
        f"meshrt run: bad scenario: {scenario_file}: deployments[0].algo: WASM "
        f"algo {str(path)!r} was built for ABI version 99; this meshrt speaks "
        "ABI version 1"
    ), proc.stderr
    assert not out.exists()


NATIVE_VTABLE = """
#include <meshrt.h>
static int32_t cb(void *p) { (void)p; return 0; }
static void *create(const mr_host *h, mr_io *io) { (void)h; return io; }
static void destroy(void *p) { (void)p; }
__attribute__((visibility("default"))) const mr_vtable *meshrt_algo(void) {
    static mr_vtable vt;
    vt.abi_version = ABI; vt.io_size = sizeof(mr_io); vt.create = create; vt.destroy = destroy;
    vt.on_book = cb; vt.on_fill = FILL; vt.on_reject = cb;
    return &vt;
}
"""


def native_only(source: str, name: str) -> str:
    return str(built(textwrap.dedent(source), name)["native"])


def test_a_wrong_abi_version_native() -> None:
    path = native_only(NATIVE_VTABLE.replace("ABI", "7").replace("FILL", "cb"), "abi7")
    refused_at_load(path, "was built for ABI version 7; this meshrt speaks ABI version 1")


def test_a_null_required_callback() -> None:
    path = native_only(NATIVE_VTABLE.replace("ABI", "1").replace("FILL", "0"), "nullfill")
    refused_at_load(path, "required callback 'on_fill' is NULL")


def test_a_missing_vtable_symbol() -> None:
    path = native_only("int not_an_algo(void) { return 1; }\n", "nosymbol")
    refused_at_load(path, "does not export the symbol 'meshrt_algo'")


def test_a_library_that_cannot_be_loaded(tmp_path: Path) -> None:
    path = tmp_path / "garbage.so"
    path.write_bytes(b"\x7fELF garbage")
    refused_at_load(str(path), "is not a valid shared library: truncated: 12 bytes")


@pytest.mark.parametrize("keep", [64, 1000, 0.5, -100])
def test_a_truncated_library_is_named_in_one_line(tmp_path: Path, keep: float) -> None:
    """Cut anywhere, a library is refused in one line naming it (not cffi's find_library
    advice, and not a SIGBUS when dlopen touches a segment past the end of the file)."""
    data = market_maker()["native"].read_bytes()
    size = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    path = tmp_path / "truncated.so"
    path.write_bytes(data[:size])
    refused_at_load(
        str(path),
        f"is not a valid shared library: truncated: the file has "
        f"{size:,} bytes, its ELF headers describe {len(data):,}",
    )


@pytest.mark.e2e
def test_a_library_whose_dependency_is_missing_says_so_in_one_line(tmp_path: Path) -> None:
    source = tmp_path / "needs.c"
    source.write_text("int meshrt_algo(void) { return 0; }\n")
    dependency = tmp_path / "libgone.so"
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-o", str(dependency), "-x", "c", "/dev/null"], check=True
    )
    path = tmp_path / "needs.so"
    subprocess.run(
        [
            "cc",
            "-shared",
            "-fPIC",
            "-o",
            str(path),
            str(source),
            "-L",
            str(tmp_path),
            "-Wl,--no-as-needed",
            "-lgone",
        ],
        check=True,
    )
    dependency.unlink()
    with pytest.raises(ScenarioError) as info:
        preflight(scenario(deployment(str(path))))
    message = str(info.value)
    assert "cannot be loaded: libgone.so: cannot open shared object file" in message, message
    assert "\n" not in message and "find_library" not in message, message


@pytest.mark.parametrize("name", ["missing.wasm", "missing.so"])
def test_a_path_that_does_not_exist(tmp_path: Path, name: str) -> None:
    refused_at_load(str(tmp_path / name), "does not exist")


def test_a_scenario_file_reports_a_bad_artifact_relative_to_its_folder(tmp_path: Path) -> None:
    (tmp_path / "algo.wasm").write_text("nope")
    (tmp_path / "scenario.py").write_text(
        textwrap.dedent("""
        from meshrt import *
        SRC = SyntheticSpec(symbol="XYZ", seed=1, start_price=price_to_int("100"),
                            tick=price_to_int("0.01"), level_size=(10**7, 10**8),
                            interval_ns=10_000, updates=100, move_probability=0.1)
        scenario = Scenario(name="x", venues=[Venue(name="v1", sources=[SRC])],
                            deployments=[Deployment(label="a", venue="v1", symbols=["XYZ"],
                                                    algo="algo.wasm")])
    """)
    )
    with pytest.raises(ScenarioError) as info:
        preflight(load_scenario(tmp_path / "scenario.py"), str(tmp_path / "scenario.py"))
    assert str(info.value).startswith(f"{tmp_path / 'scenario.py'}: deployments[0].algo: ")
    assert str(tmp_path / "algo.wasm") in str(info.value)


# -- terminated while running -------------------------------------------------------------


def test_an_infinite_loop_runs_out_of_fuel() -> None:
    algo = c_algo("spin", "volatile int64_t n = 0; if (cx->state->now > 20000000) for (;;) n++;")
    bad = run_beside_a_sibling(str(algo["wasm"]), sandbox=SandboxLimits(fuel_per_callback=200_000))[
        "bad"
    ]
    assert bad["crashed"] == (
        "FuelExhausted: wasm algo spin.wasm: fuel exhausted in on_book (limit 200,000)"
    )
    assert bad["crashed_at_ns"] > seconds(0.02) and bad["state"] == "failed"


@pytest.mark.e2e
def test_a_trap_is_one_line_and_the_traceback_keeps_wasmtimes_backtrace(tmp_path: Path) -> None:
    algo = c_algo("spin", "volatile int64_t n = 0; if (cx->state->now > 20000000) for (;;) n++;")
    result = run(
        scenario(
            deployment(
                str(algo["wasm"]), label="bad", sandbox=SandboxLimits(fuel_per_callback=200_000)
            )
        ),
        tmp_path,
    )
    assert "\n" not in result.summary["deployments"][0]["crashed"]
    traceback = result.metrics["instances"][0]["crash_traceback"]
    assert "wasm backtrace:" in traceback and "Caused by:" in traceback, traceback
    assert "all fuel consumed by WebAssembly" in traceback, traceback


def test_a_memory_bomb_hits_the_cap(tmp_path: Path) -> None:
    bomb = (
        "(block (loop (br_if 1 (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))"
        " (br 0))) (i32.const 0)"
    )
    path = wat_module(tmp_path, "bomb", on_book=bomb)
    bad = run_beside_a_sibling(str(path), sandbox=SandboxLimits(memory_bytes=1 << 20))["bad"]
    assert bad["crashed"] == (
        f"MemoryCapExceeded: wasm algo bomb.wasm: linear memory grew to "
        f"{(1 << 20) + 65536} bytes, over the cap of {1 << 20}"
    )


def test_a_module_needing_more_memory_than_the_cap_is_refused(tmp_path: Path) -> None:
    path = wat_module(tmp_path, "big", memory_pages=32)
    with pytest.raises(
        ScenarioError,
        match="needs 2,097,152 bytes of linear memory at start, "
        "over the deployment's cap of 1,048,576",
    ):
        preflight(scenario(deployment(str(path), sandbox=SandboxLimits(memory_bytes=1 << 20))))


def test_a_trap_terminates_with_its_reason() -> None:
    algo = c_algo("trap", "if (cx->state->now > 20000000) __builtin_trap();")
    bad = run_beside_a_sibling(str(algo["wasm"]))["bad"]
    assert bad["crashed"] == (
        "SandboxTrap: wasm algo trap.wasm: trap in on_book: wasm `unreachable` instruction executed"
    )


def test_a_guest_pointer_out_of_bounds_in_a_host_call() -> None:
    algo = c_algo("oob", "mr_open_order *o = (mr_open_order *)0x7ffffff0; mr_order(cx, 1, o);")
    bad = run_beside_a_sibling(str(algo["wasm"]))["bad"]
    assert bad["crashed"] == (
        "SandboxTrap: wasm algo oob.wasm: host call order: pointer out of linear memory bounds"
    )


@pytest.mark.parametrize("target", ["wasm", "native"])
def test_a_nonzero_return_code_terminates(target: str) -> None:
    algo = c_algo("failing", "if (cx->state->now > 20000000) return 42;")
    bad = run_beside_a_sibling(str(algo[target]))["bad"]
    suffix = "wasm" if target == "wasm" else "so"
    assert bad["crashed"] == (
        f"CallbackFailed: {target} algo failing.{suffix}: callback returned error code 42"
    )


# -- refused and counted; the instance goes on -------------------------------------------

ONCE = "static int done;\n"


@pytest.mark.parametrize("target", ["wasm", "native"])
def test_more_than_sixteen_actions_are_counted_and_the_instance_goes_on(target: str) -> None:
    algo = c_algo(
        "burst",
        """
        if (done) return 0;
        done = 1;
        for (int k = 0; k < 20; k++)
            mr_limit(cx, MR_BUY, book->bids[MR_BOOK_DEPTH - 1].price - k * 10000000,
                     100000000, MR_GTC);
    """,
        extra=ONCE,
    )
    bad = run_beside_a_sibling(str(algo[target]))["bad"]
    assert bad["crashed"] is None
    assert bad["orders"] == 16 and bad["refused_actions"] == 4
    assert bad["book_callbacks"] > 100, "it kept receiving books"


@pytest.mark.parametrize("target", ["wasm", "native"])
def test_an_oversized_message_is_refused_counted_and_logged(target: str, tmp_path: Path) -> None:
    algo = c_algo(
        "chatty",
        """
        static uint8_t payload[300];
        if (done) return 0;
        done = 1;
        int32_t r = mr_send(cx, "mm", payload, sizeof payload);
        mr_log(cx, r == MR_REFUSED ? "refused as expected" : "NOT REFUSED");
    """,
        extra=ONCE,
    )
    bad = run_beside_a_sibling(str(algo[target]), tmp_path)["bad"]
    assert bad["crashed"] is None and bad["messages_refused"] == 1
    logs = [
        r[7][0]
        for r in map(orjson.loads, (tmp_path / "replay.jsonl").read_bytes().splitlines()[1:])
        if r[6] == "log"
    ]
    assert logs == [
        "message refused: message to 'mm' is 300 bytes; at most 256",
        "refused as expected",
    ]


def test_the_sibling_is_unharmed_by_a_crash_mid_run(tmp_path: Path) -> None:
    algo = c_algo("late_trap", "if (cx->state->now > 40000000) __builtin_trap();")
    by_label = run_beside_a_sibling(str(algo["wasm"]), tmp_path)
    records = [
        orjson.loads(line) for line in (tmp_path / "replay.jsonl").read_bytes().splitlines()[1:]
    ]
    crash = by_label["bad"]["crashed_at_ns"]
    owner = {r[7][0]: r[7][1] for r in records if r[6] == "order_created"}
    assert [r for r in records if r[6] == "fill" and owner[r[7][0]] == "mm" and r[1] > crash]


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="fuel_per_callback must be a positive integer"):
        SandboxLimits(fuel_per_callback=0)
    assert attrs.evolve(SandboxLimits(), memory_bytes=1 << 20).memory_bytes == 1 << 20
