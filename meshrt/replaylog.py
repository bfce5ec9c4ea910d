"""The replay log: one JSON line per committed event, in seq id order.

The first line is a header naming the format and version; every other line is the
event envelope ``[seq, event_ts, ingest_ts, source, venue, instrument, type, payload,
key]`` (docs/replay.md). Records hold only scenario time, never wall-clock time or
paths, so the same scenario and seeds give the same bytes. Lines are buffered per
window and written with one call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import orjson

FORMAT = "meshrt-replay"
VERSION = 1


class ReplayLog:
    __slots__ = ("path", "_file", "lines", "records")

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: BinaryIO | None = open(path, "wb") if path is not None else None  # noqa: SIM115
        self.lines: list[bytes] = []
        self.records = 0

    def header(self, fields: dict[str, Any]) -> None:
        self.lines.append(orjson.dumps({"format": FORMAT, "version": VERSION, **fields}))

    def flush(self) -> None:
        lines = self.lines
        if not lines:
            return
        self.records += len(lines)
        if self._file is not None:
            lines.append(b"")
            self._file.write(b"\n".join(lines))
        lines.clear()

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None
