"""The replay log: one JSON line per committed event, in seq id order.

The first line is a header naming the format and version; every other line is the
event envelope ``[seq, event_ts, ingest_ts, source, venue, instrument, type, payload,
key]`` (docs/replay.md). Records hold only scenario time, never wall-clock time or
paths, so the same scenario and seeds give the same bytes. Lines are buffered and
written with one call at the end of a window, at most every ``WRITE_EVERY_S`` of wall
time (the window driver checks, meshrt/sequencer/_window.pyx): a write per window cost
more than a sparse window's own work. A checkpoint
records the sha256 of the log up to its offset, and resume checks the prefix against
it; the bytes are hashed when a checkpoint asks (read back from the OS cache since the
last one), so a run without checkpoints never pays for hashing.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from meshrt.log.checkpoint import CheckpointError

FORMAT = "meshrt-replay"
VERSION = 3
WRITE_EVERY_S = 0.01  # wall time a committed line may wait in memory (docs/replay.md)
WRITE_LINES = 4096  # ... or until this many wait


class ReplayLog:
    """The writer. Durability policy: lines are buffered and written with one call at
    the end of a window once ``WRITE_EVERY_S`` of wall time has passed or
    ``WRITE_LINES`` wait (at every window's end under an fsync policy);
    ``fsync_interval_s`` bounds how long written lines may sit in the OS cache (0: every
    window); every checkpoint writes and fsyncs the log up to its offset first."""

    __slots__ = (
        "path",
        "_file",
        "lines",
        "records",
        "offset",
        "fsync_interval_s",
        "_last_sync",
        "last_write",  # when lines were last written (the window driver's write check)
        "_sha",
        "_hashed",
    )

    def __init__(self, path: Path | None, fsync_interval_s: float | None = None) -> None:
        self.path = path
        self.lines: list[bytes] = []
        self.records = 0
        self.offset = 0  # bytes written: a checkpoint records it, resume truncates to it
        self.fsync_interval_s = fsync_interval_s
        self._last_sync = self.last_write = time.monotonic()
        self._file: BinaryIO | None = None
        self._sha = hashlib.sha256()  # of the log's first _hashed bytes
        self._hashed = 0
        if path is not None:
            self._file = open(path, "wb")  # noqa: SIM115

    def __getstate__(self) -> dict[str, object]:
        assert not self.lines, "checkpoints are taken between windows, with the log flushed"
        return {
            "path": self.path,
            "records": self.records,
            "offset": self.offset,
            "fsync_interval_s": self.fsync_interval_s,
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self.lines = []
        self._file = None
        self._last_sync = self.last_write = time.monotonic()
        self._sha = hashlib.sha256()
        self._hashed = 0

    def sha256(self) -> str:
        """The digest of the log's bytes so far (what a checkpoint records): the bytes
        written since the last call are read back and hashed now."""
        if self._file is not None and self._hashed < self.offset:
            assert self.path is not None
            self._file.flush()
            with open(self.path, "rb") as file:
                file.seek(self._hashed)
                self._hash_from(file, self.offset - self._hashed)
        return self._sha.hexdigest()

    def _hash_from(self, file: BinaryIO, count: int) -> None:
        """Hash the next ``count`` bytes of ``file`` (fewer if it ends first)."""
        while count:
            chunk = file.read(min(count, 1 << 20))
            if not chunk:
                break
            self._sha.update(chunk)
            self._hashed += len(chunk)
            count -= len(chunk)

    def reopen(self, path: Path, sha256: str) -> None:
        """Continue writing after a restore: the file's first ``offset`` bytes are checked
        against ``sha256`` (CheckpointError naming the damage if they differ), then the
        file is cut back to the saved offset."""
        file = open(path, "r+b")  # noqa: SIM115
        try:
            self._hash_from(file, self.offset)
            if self._sha.hexdigest() != sha256:
                raise CheckpointError(_damage(path, self.offset, self.records))
            file.truncate(self.offset)
            file.seek(self.offset)
        except BaseException:
            file.close()
            raise
        self.path = path
        self._file = file

    def fileno(self) -> int:
        """The log file's descriptor (-1: no file), for a crash path to fsync."""
        return -1 if self._file is None else self._file.fileno()

    def sync(self) -> None:
        """Write what waits and fsync it."""
        self.flush()
        self._fsync()

    def _fsync(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._last_sync = time.monotonic()

    def header(self, fields: dict[str, Any]) -> None:
        self.lines.append(orjson.dumps({"format": FORMAT, "version": VERSION, **fields}))

    def flush(self) -> None:
        """Write every waiting line now."""
        lines = self.lines
        if not lines:
            return
        self.last_write = now = time.monotonic()
        self.records += len(lines)
        if self._file is not None:
            lines.append(b"")
            data = b"\n".join(lines)
            self._file.write(data)
            self.offset += len(data)
            if self.fsync_interval_s is not None and now - self._last_sync >= self.fsync_interval_s:
                self._fsync()
            else:
                self._file.flush()
        lines.clear()

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None


def _damage(path: Path, offset: int, records: int) -> str:
    """Where a log prefix that fails its checkpoint's digest is damaged: the first line
    that is not JSON if there is one (a damaged digit still parses: then only the range)."""
    read = 0
    with open(path, "rb") as file:
        for number, line in enumerate(file, start=1):
            read += len(line)
            if read > offset:
                break
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                return (
                    f"{path}: line {number}: not a JSON record; the log before the "
                    f"checkpoint (its first {records} lines) is damaged"
                )
    return (
        f"{path}: the first {records} lines differ from what the checkpoint recorded "
        "(log_sha256): the log before the checkpoint is damaged or edited"
    )
