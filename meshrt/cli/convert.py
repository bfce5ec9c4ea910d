"""``meshrt convert IN OUT``: check a JSON-lines or CSV recording and write it as ``.mrec``."""

from __future__ import annotations

import argparse
from typing import Any

from meshrt.cli import argtypes


def add_parser(commands: Any) -> None:
    convert = commands.add_parser(
        "convert", help="check a .jsonl/.ndjson/.csv recording and write it as binary .mrec"
    )
    convert.add_argument("source", type=argtypes.path, help="a JSON-lines or CSV recording")
    convert.add_argument("target", type=argtypes.path, help="the .mrec file to write")
    convert.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from meshrt.venues.recorded import SourceError
    from meshrt.venues.recording import convert

    try:
        records = convert(args.source, args.target)
    except SourceError as exc:
        return argtypes.refuse("convert", f"bad input: {exc}")
    except OSError as exc:
        return argtypes.refuse("convert", f"cannot write {args.target}: {exc.strerror or exc}")
    print(f"wrote {records:,} records to {args.target}")
    return 0
