"""The replay log: one JSON line per committed event, in seq id order.

The first line is a header naming the format and version; every other line is the
event envelope ``[seq, event_ts, ingest_ts, source, venue, instrument, type, payload,
key]`` (docs/replay.md). Records hold only scenario time, never wall-clock time or
paths, so the same scenario and seeds give the same bytes. Lines are buffered per
window and written with one call.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, BinaryIO

import orjson

FORMAT = "meshrt-replay"
VERSION = 1


class ReplayLog:
    """The writer. Durability policy: lines are buffered for one window and written
    with one call at its end (so they reach the OS before anything they caused can reach
    a venue); ``fsync_interval_s`` bounds how long written lines may sit in the OS cache
    (0: every window); every checkpoint fsyncs the log up to its offset first."""

    __slots__ = ("path", "_file", "lines", "records", "offset", "fsync_interval_s",
                 "_last_sync")

    def __init__(self, path: Path | None, fsync_interval_s: float | None = None,
                 append_at: int | None = None) -> None:
        self.path = path
        self.lines: list[bytes] = []
        self.records = 0
        self.offset = 0  # bytes written: a checkpoint records it, resume truncates to it
        self.fsync_interval_s = fsync_interval_s
        self._last_sync = time.monotonic()
        self._file: BinaryIO | None = None
        if path is not None:
            if append_at is None:
                self._file = open(path, "wb")  # noqa: SIM115
            else:
                self._file = open(path, "r+b")  # noqa: SIM115
                self._file.truncate(append_at)
                self._file.seek(append_at)
                self.offset = append_at

    def __getstate__(self) -> dict[str, object]:
        assert not self.lines, "checkpoints are taken between windows, with the log flushed"
        return {"path": self.path, "records": self.records, "offset": self.offset,
                "fsync_interval_s": self.fsync_interval_s}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self.lines = []
        self._file = None
        self._last_sync = time.monotonic()

    def reopen(self, path: Path) -> None:
        """Continue writing after a restore: the file is cut back to the saved offset."""
        self.path = path
        self._file = open(path, "r+b")  # noqa: SIM115
        self._file.truncate(self.offset)
        self._file.seek(self.offset)

    def fileno(self) -> int:
        """The log file's descriptor (-1: no file), for a crash path to fsync."""
        return -1 if self._file is None else self._file.fileno()

    def sync(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._last_sync = time.monotonic()

    def header(self, fields: dict[str, Any]) -> None:
        self.lines.append(orjson.dumps({"format": FORMAT, "version": VERSION, **fields}))

    def flush(self) -> None:
        lines = self.lines
        if not lines:
            return
        self.records += len(lines)
        if self._file is not None:
            lines.append(b"")
            data = b"\n".join(lines)
            self._file.write(data)
            self.offset += len(data)
            if self.fsync_interval_s is not None and (
                    time.monotonic() - self._last_sync >= self.fsync_interval_s):
                self.sync()
            else:
                self._file.flush()
        lines.clear()

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None
