"""What every ``meshrt`` command shares: how its arguments are read and how it says no.

A path argument is made absolute against the caller's working directory as it is
parsed, before any code rebases paths (a scenario's data paths are relative to the
scenario's folder, not to the caller's). Every command's error is one line on stderr,
``meshrt COMMAND: what is wrong`` (argparse's own form for usage errors), exit 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2


def refuse(command: str, message: str) -> int:
    """Print a command's one-line error; the exit code for bad input."""
    print(f"meshrt {command}: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def path(value: str) -> Path:
    """argparse type: a path, absolute against the caller's working directory."""
    return Path(value).absolute()


def count(value: str) -> int:
    """argparse type: a whole number >= 0."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {number}")
    return number


def seconds(value: str) -> float:
    """argparse type: a finite number of seconds >= 0."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {value!r}")
    return number


def durations(value: str) -> tuple[int, ...]:
    """argparse type: comma-separated durations (``100ms,1s,10s``; a bare number is
    seconds), each > 0, as nanoseconds."""
    from meshrt.analysis.fmt import parse_duration

    try:
        found = tuple(parse_duration(word) for word in value.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not all(found):
        raise argparse.ArgumentTypeError(f"durations must be > 0, got {value!r}")
    return found
