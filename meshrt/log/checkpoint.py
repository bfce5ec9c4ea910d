"""Checkpoints: the whole runtime's state between two windows, to resume a killed run.

Between windows every actor is idle and every queue holds only Python values, so a
checkpoint is the sequencer's object graph (it reaches the venues, the instances and
their algos, the coordinator, every seeded random source and every pending delivery)
pickled as it is. The file is one JSON header line, then the pickle:

    {"format": "meshrt-checkpoint", "version": 8, "scenario_sha256": ..., "seed": ...,
     "seq": ..., "now_ns": ..., "windows": ..., "log_offset": ..., "log_records": ...,
     "log_sha256": ..., "payload_bytes": ..., "payload_sha256": ...}

It is written to a temporary name, fsynced and renamed, and only after the replay log
has been fsynced up to ``log_offset``: a checkpoint that exists is complete, and the
log holds everything it covers. ``log_sha256`` is the digest of those ``log_offset``
bytes: resume refuses a log whose prefix no longer matches it. Loading one runs code
from its pickle: only resume run folders you trust, as with any pickle.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

import orjson

FORMAT = "meshrt-checkpoint"
# 2: the venue book, synthetic source and callback timings moved to C; 3: log_sha256;
# 4: the sequencer is a package of components (meshrt/sequencer/); 5: the synthetic
# source draws from xoshiro256** (its pickled state is four words); 6: the modules moved
# into packages (pickles name them); 7: what arrives at a venue is typed (Submit, ...);
# 8: the recorded source moved to meshrt/venues/recorded.py; 9: the deployment limits and
# restart policy are scenario values (meshrt/scenario/limits.py, restart.py); 10: typed
# deliveries and venue outputs (meshrt/actors/protocol.py, _deliveries.pyx, venues/outputs.py);
# 11: recorded sources pickle the byte offset they resume at (and binary recordings exist);
# 12: settled orders retire to tombstones; mesh link latencies are counted by value;
# 13: Order and OrderStatus moved to meshrt.sequencer.order; 14: the sequencer's
# Controls list the deployments that take heartbeats; OutputIngress is a component;
# 15: a venue's order reports are typed (meshrt/venues/reports.py); 16: the data specs
# moved to meshrt/venues/specs.py; 17: scheduled controls carry their rank at one instant;
# 18: orders and the matching engine's live orders keep the order report contract's state
# (Order: booked, exec_seq, replace_seq instead of terminal_cum; LiveOrder: exec_seq);
# 19: the core's hot classes are compiled (cdef classes): the intent desk, its risk gates,
# the output ingress, orders, tombstones, the order state machine, report ingress, the
# ledger, the matching engine and its live orders, and a venue's per-symbol state;
# 20: LatencyStream is compiled (meshrt/scenario/_latency.pyx), the intent desk keeps a
# Seat per deployment, a RiskGate its limits' values and its rate window as a list;
# 21: IdRanges is compiled (meshrt/sequencer/id_ranges.pyx), pickled as its two arrays;
# OrderStateMachine.by_client is keyed by deployment, then client id; an instance's
# Actions is compiled (meshrt/sdk/_actions.pyx)
VERSION = 21
FOLDER = "checkpoints"
KEEP = 2  # the newest checkpoints kept; older ones are removed


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message names the file and the problem."""


class CheckpointUnsupported(Exception):
    """Some state cannot be saved (an algo that cannot be pickled, say); the message says
    which. The run goes on without checkpoints."""


def _dumps(value: Any, what: str) -> bytes:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise CheckpointUnsupported(f"{what} cannot be saved: {exc}") from None


def unsaveable(value: Any, what: str) -> str | None:
    """Why ``value`` cannot be saved in a checkpoint, or None. Tried once before a run,
    so what cannot be saved is named at the start rather than found at the first
    checkpoint (an algo can still become unsaveable later, by what it stores)."""
    try:
        _dumps(value, what)
    except CheckpointUnsupported as exc:
        return str(exc)
    return None


def write(run_dir: Path, sequencer: Any, scenario_sha256: str, seed: int) -> Path:
    """Save ``sequencer`` (and everything it reaches) as the newest checkpoint."""
    payload = _dumps(sequencer, "runtime state")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "scenario_sha256": scenario_sha256,
        "seed": seed,
        "seq": sequencer.seq,
        "now_ns": sequencer.clock.now,
        "windows": sequencer.clock.windows,
        "log_offset": sequencer.log.offset,
        "log_records": sequencer.log.records,
        "log_sha256": sequencer.log.sha256(),
        "payload_bytes": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    folder = run_dir / FOLDER
    folder.mkdir(exist_ok=True)
    final = folder / f"checkpoint-{sequencer.seq:012d}.bin"
    temporary = final.with_suffix(".tmp")
    with open(temporary, "wb") as file:
        file.write(orjson.dumps(header) + b"\n")
        file.write(payload)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, final)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    for old in sorted(folder.glob("checkpoint-*.bin"))[:-KEEP]:
        old.unlink()
    return final


def read_header(path: Path) -> tuple[dict[str, Any], bytes]:
    """The header and payload of one checkpoint file, checked; CheckpointError if not usable."""
    data = path.read_bytes()
    line, sep, payload = data.partition(b"\n")
    if not sep:
        raise CheckpointError(f"{path}: header: no header line (truncated file?)")
    try:
        header = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: header: not JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: header: not a meshrt checkpoint")
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: header: checkpoint version {header.get('version')!r} is not supported "
            f"(this meshrt reads version {VERSION})"
        )
    if len(payload) != header.get("payload_bytes"):
        raise CheckpointError(
            f"{path}: payload: {len(payload)} bytes, header says "
            f"{header.get('payload_bytes')} (truncated or corrupted)"
        )
    if hashlib.sha256(payload).hexdigest() != header.get("payload_sha256"):
        raise CheckpointError(f"{path}: payload: checksum mismatch (corrupted)")
    return header, payload


def all_checkpoints(run_dir: Path) -> list[Path]:
    """A run's checkpoint files, oldest first."""
    return sorted((run_dir / FOLDER).glob("checkpoint-*.bin"))


def latest(run_dir: Path) -> Path:
    files = all_checkpoints(run_dir)
    if not files:
        raise CheckpointError(f"{run_dir / FOLDER}: no checkpoint to resume from")
    return files[-1]


def load(path: Path) -> tuple[dict[str, Any], Any]:
    """Header and restored sequencer of a checkpoint (algo modules must be importable)."""
    header, payload = read_header(path)
    try:
        return header, pickle.loads(payload)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad checkpoint
        raise CheckpointError(
            f"{path}: payload: cannot be restored: {type(exc).__name__}: {exc}"
        ) from None
