"""Recorded data: parse-only events/s of a file's source, and the market maker on it.

``parse`` pulls every event through ``open_source(RecordedSpec(...)).batch`` in 1 ms
windows, as a venue does; ``run`` replays the file through the bundled market maker
(log on, 1 ms feed and order latency, no checkpoints) and reports book events per
CPU-second. Write the file first with bench/recorded_file.py. Usage:

    .venv/bin/python bench/recorded_speed.py parse FILE [FILE ...]
    .venv/bin/python bench/recorded_speed.py run FILE [--latency-us 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshrt.runtime.run import run  # noqa: E402
from meshrt.scenario.definition import load_scenario, start  # noqa: E402
from meshrt.scenario.latency import micros  # noqa: E402
from meshrt.venues.sources import RecordedSpec, open_source  # noqa: E402

from bench.recorded_file import SYMBOL, TICK  # noqa: E402

WINDOW_NS = 1_000_000


def parse(path: Path) -> None:
    started = time.process_time()
    source = open_source(RecordedSpec(SYMBOL, str(path), start_at_zero=True))
    events, until = 0, 0
    while not source.exhausted:
        until += WINDOW_NS
        events += len(source.batch(until))
    cpu = time.process_time() - started
    print(f"{path.name}: {events:,} events in {cpu:.2f} cpu-s: {events / cpu:,.0f} events/s "
          f"({cpu / events * 1e9:,.0f} ns/event)")  # fmt: skip


def run_maker(path: Path, latency_us: float) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "market_maker.py")
    venue, deployment = scenario.venues[0], scenario.deployments[0]
    latency = micros(latency_us, jitter_us=latency_us / 10)
    venue = attrs.evolve(
        venue,
        sources=[RecordedSpec(SYMBOL, str(path.resolve()), start_at_zero=True)],
        feed_latency=latency,
        order_latency=latency,
    )
    deployment = attrs.evolve(
        deployment, params=dict(deployment.params, tick=TICK), schedule=[start(0)]
    )
    scenario = attrs.evolve(scenario, venues=[venue], deployments=[deployment], duration_ns=None)
    with tempfile.TemporaryDirectory() as tmp:
        cpu_started = time.process_time()
        result = run(scenario, Path(tmp) / "run")
        cpu = time.process_time() - cpu_started
    delivered = result.metrics["book_events_delivered"]
    print(f"{path.name} latency {latency_us} us: {delivered:,} book events, "
          f"{result.summary['windows']:,} windows, {result.summary['fills']:,} fills, "
          f"cpu {cpu:.2f} s: {delivered / cpu:,.0f} book events per cpu-second")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("parse", "run"))
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--latency-us", type=float, default=1000.0)
    args = parser.parse_args()
    for path in args.files:
        if args.mode == "parse":
            parse(path)
        else:
            run_maker(path, args.latency_us)


if __name__ == "__main__":
    main()
