"""``meshrt venue-sim CAPTURE...``: the local exchange on 127.0.0.1 until Ctrl-C
(docs/cli.md, docs/live.md "venue-sim (the local exchange)")."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING, Any

from meshrt.cli import argtypes

if TYPE_CHECKING:
    from meshrt.venuesim.faults import Fault

DEFAULT_PORT = 8765


def add_parser(commands: Any) -> None:
    sim = commands.add_parser(
        "venue-sim",
        help="serve captures as a local exchange (each venue's websocket protocol and REST)",
    )
    sim.add_argument(
        "captures",
        nargs="+",
        type=argtypes.path,
        metavar="CAPTURE",
        help="capture files (meshrt, cryptofeed and its REST log, hftbacktest, ndjson; .gz too)",
    )
    sim.add_argument(
        "--port",
        type=argtypes.count,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0: any free port)",
    )
    pace = sim.add_mutually_exclusive_group()
    pace.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="X",
        help="replay at the recorded pace times X (default 1)",
    )
    pace.add_argument(
        "--as-fast-as-possible", action="store_true", help="replay as fast as each client reads"
    )
    sim.add_argument(
        "--fault",
        action="append",
        default=[],
        type=_fault,
        metavar="[VENUE/]KIND[@N][:ARG][#C]",
        help="inject a fault (repeatable): drop@N, checksum@N, gap@N, stall@N:SECONDS, "
        "refuse, malformed@N, oversized@N[:BYTES]; N counts the connection's frames from 1, "
        "C the connection on the venue's path (default 1)",
    )
    sim.add_argument(
        "--close-at-end",
        action="store_true",
        help="close each connection (1000) when its replay ends",
    )
    sim.set_defaults(handler=main)


def _speed(value: str) -> float:
    speed = argtypes.seconds(value)
    if speed <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value!r}")
    return speed


def _fault(value: str) -> Fault:
    from meshrt.venuesim.faults import parse_fault

    try:
        return parse_fault(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def main(args: argparse.Namespace) -> int:
    import trio

    from meshrt.venues.live.capture import CaptureError
    from meshrt.venuesim.server import VenueSim, venue_sim

    speed = None if args.as_fast_as_possible else args.speed

    async def serve() -> None:
        async with venue_sim(
            args.captures,
            faults=args.fault,
            port=args.port,
            speed=speed,
            close_at_end=args.close_at_end,
        ) as sim:
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                _announce(sim)
                async for _ in signals:
                    return  # Ctrl-C or a kill ends the exchange cleanly

    def _announce(sim: VenueSim) -> None:
        for venue in sorted(sim.tapes):
            print(f"{venue:<18} {sim.url(venue)}  ({len(sim.tapes[venue].items):,} frames)")
        print(f"{'REST':<18} {sim.rest_url}")
        for fault in args.fault:
            print(f"fault              {fault}")
        sys.stdout.flush()

    try:
        trio.run(serve)
    except (CaptureError, OSError) as e:
        return argtypes.refuse("venue-sim", str(e))
    except BaseExceptionGroup as group:  # a bind error comes out of the server's nurseries
        bind: BaseException | None = group.subgroup(OSError)
        while isinstance(bind, BaseExceptionGroup):
            bind = bind.exceptions[0]
        if bind is None:
            raise
        return argtypes.refuse("venue-sim", f"cannot serve on port {args.port}: {bind}")
    return 0
