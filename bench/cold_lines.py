"""Cache lines a reacting frame touches with cold caches: the paper path's footprint.

At the captures' pace the paper path runs with cold caches (docs/performance.md, "Why
the paper path is cold"), so its latency follows how many distinct cache lines of code
and data one reaction touches, each a trip to memory. This machine is too noisy to time
that finely; this counts it. bench/paper_path.py's in-process run goes under callgrind's
cache simulator (32 KiB L1s, a 4 MiB last level); before each frame a buffer twice the
last level is read, which empties the simulated caches, and for each order action the
desk commits, the lines missed in the last level from its frame's receive stamp to the
commit are recorded (valgrind client requests: zeroed before the stamp, dumped at each
commit): the footprint behind bench/paper_latency.py's figure. Prints the median over
the actions: lines of code, data read, data written, and instructions (about 5 minutes;
needs valgrind, its headers and a C compiler). Under valgrind the work runs some 50
times slower against the wall clock, so a reaction's window also carries work (reports,
order arrivals) that natively falls due in windows of its own, and how much depends on
the machine's load: two runs of one build agree to about 2%. Compare builds side by
side, run at the same time.

    .venv/bin/python bench/cold_lines.py [--algo REF]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROBE_C = """
#include <Python.h>
#include <valgrind/callgrind.h>
static PyObject *zero(PyObject *m, PyObject *a) { CALLGRIND_ZERO_STATS; Py_RETURN_NONE; }
static PyObject *dump(PyObject *m, PyObject *tag) {
    const char *text = PyUnicode_AsUTF8(tag);
    if (text == NULL) return NULL;
    CALLGRIND_DUMP_STATS_AT(text);
    Py_RETURN_NONE;
}
static PyMethodDef methods[] = {
    {"zero", zero, METH_NOARGS, 0}, {"dump", dump, METH_O, 0}, {0}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "cgprobe", 0, -1, methods};
PyMODINIT_FUNC PyInit_cgprobe(void) { return PyModule_Create(&module); }
"""
CACHES = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=4194304,16,64"]
LAST_LEVEL = 4 << 20
EVENTS = ("Ir", "ILmr", "DLmr", "DLmw")  # instructions; lines missed: code, read, written


def build_probe(folder: Path) -> None:
    """The client-request module, compiled with the interpreter's own compiler."""
    if shutil.which("valgrind") is None:
        sys.exit("cold_lines: valgrind is not installed (apt install valgrind)")
    source = folder / "cgprobe.c"
    source.write_text(PROBE_C)
    compiler = (sysconfig.get_config_var("CC") or "cc").split()
    target = folder / f"cgprobe{sysconfig.get_config_var('EXT_SUFFIX')}"
    include = sysconfig.get_paths()["include"]
    command = [*compiler, "-O2", "-shared", "-fPIC", f"-I{include}", str(source), "-o"]
    done = subprocess.run([*command, str(target)], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"cold_lines: cannot build the probe: {done.stderr.strip().splitlines()[-1]}")


def child(folder: Path, seconds: float, algo: str | None) -> None:
    """Under valgrind: the in-process paper run, the lines since the frame's stamp dumped
    at each order action the desk commits (tagged with the frame's number)."""
    sys.path.insert(0, str(folder))
    import cgprobe  # type: ignore[import-not-found]

    from bench import paper_path

    class Probe:
        def __init__(self) -> None:
            self.evict = bytearray(2 * LAST_LEVEL)
            self.frame = 0

        def before(self) -> None:
            self.evict.find(b"\x01")  # reads every line: the simulated caches hold only it
            self.frame += 1
            cgprobe.zero()

        def after(self, reacted: bool) -> None:
            pass

    probe = Probe()

    class Latencies(list[int]):
        """Where the desk's timing appends each action's latency: a dump there."""

        def append(self, latency: int) -> None:
            super().append(latency)
            cgprobe.dump(str(probe.frame))

    tally = paper_path.Tally()
    tally.latencies = Latencies()
    paper_path.measure(tally, seconds, probe=probe, algo=algo)


def totals(path: Path) -> tuple[str, dict[str, int]]:
    """One dump's frame tag and event totals."""
    names: list[str] = []
    tag = ""
    for line in path.read_text().splitlines():
        if line.startswith("desc: Trigger: Client Request:"):
            tag = line.rsplit(":", 1)[1].strip()
        elif line.startswith("events:"):
            names = line.split()[1:]
        elif line.startswith(("summary:", "totals:")):
            return tag, dict(zip(names, map(int, line.split()[1:]), strict=True))
    raise ValueError(f"{path}: no totals")


def per_action(dumps: list[Path]) -> list[dict[str, int]]:
    """Each action's events since its frame's stamp: the dumps of one frame summed in
    order (a dump holds what ran since the one before)."""
    actions: list[dict[str, int]] = []
    frame, since = "", dict.fromkeys(EVENTS, 0)
    for path in dumps:
        tag, events = totals(path)
        if tag != frame:
            frame, since = tag, dict.fromkeys(EVENTS, 0)
        since = {event: since[event] + events[event] for event in EVENTS}
        actions.append(since)
    return actions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1200.0, help="the longest run")
    parser.add_argument("--algo", help="algo reference instead of the Python maker")
    args = parser.parse_args()
    if probe := os.environ.get("COLD_LINES_PROBE"):
        return child(Path(probe), args.seconds, args.algo)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        build_probe(folder)
        out = folder / "cg.out"
        command = ["valgrind", "--tool=callgrind", "--cache-sim=yes", *CACHES]
        command += [f"--callgrind-out-file={out}", sys.executable, __file__]
        env = {**os.environ, "COLD_LINES_PROBE": name, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [
                *command,
                "--seconds",
                str(args.seconds),
                *(["--algo", args.algo] if args.algo else []),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            said = [line for line in done.stderr.splitlines() if line[:2] not in ("==", "--")]
            sys.exit(f"cold_lines: the run failed: {(said or ['no reason given'])[-1]}")
        dumps = sorted(folder.glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
        actions = per_action(dumps)
        median = {event: statistics.median(a[event] for a in actions) for event in EVENTS}
        lines = median["ILmr"] + median["DLmr"] + median["DLmw"]
        print(
            f"{len(actions)} order actions, median from the frame's stamp to the action's "
            f"commit: {lines:,.0f} cache lines ({median['ILmr']:,.0f} code, "
            f"{median['DLmr']:,.0f} data read, {median['DLmw']:,.0f} data written), "
            f"{median['Ir']:,.0f} instructions"
        )


if __name__ == "__main__":
    main()
