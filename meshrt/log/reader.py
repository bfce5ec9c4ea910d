"""Read a run's replay log back, refusing anything that is not exactly what was written.

Analysis (``meshrt trace``, ``meshrt tca``), verification and resume all start from the
log, so they must never act on a record they misread. The reader streams (a run can
hold millions of records), checks the header's format and version, checks every record
against its definition in meshrt/log/schema.py (meshrt/log/validate.py: envelope,
payload arity and field types, key), and that seq ids run 1, 2, 3, ...

Two kinds of damage are told apart because they call for different handling: a *torn*
final line (the process died mid-write: the file's last line has no newline and is not
JSON) is expected after a crash and resume truncates it (``LogTorn.offset``); anything
else wrong (``LogCorrupt``) means the file cannot be trusted. A log of another format or
version raises ``LogVersionError`` (all three in meshrt/log/errors.py). The layout is
described in docs/replay.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import attrs
import orjson

from meshrt.log.errors import LogCorrupt, LogTorn, LogVersionError
from meshrt.log.schema import ENVELOPE, TYPES
from meshrt.log.validate import envelope_ok, envelope_problem, payload_problem, short
from meshrt.log.writer import FORMAT, VERSION

LOG_NAME = "replay.jsonl"


class Record(NamedTuple):
    """One log line. A NamedTuple, not attrs: it is built per record on the read path."""

    seq: int
    event_ts: int
    ingest_ts: int
    source: str
    venue: str
    instrument: str | None
    type: str
    payload: list[Any]
    key: int | str | None


@attrs.frozen(slots=True)
class Header:
    """The first line: what ran. ``fields`` keeps every header field as written."""

    format: str
    version: int
    scenario: str
    seed: int
    venues: tuple[dict[str, Any], ...]
    deployments: tuple[dict[str, Any], ...]
    fields: dict[str, Any] = attrs.field(eq=False, repr=False)


def log_path(run: Path | str) -> Path:
    """A run folder's log, or the path itself when it names a ``.jsonl`` file."""
    path = Path(run)
    return path if path.suffix == ".jsonl" and not path.is_dir() else path / LOG_NAME


class ReplayReader:
    """Streams one replay log: ``header`` is read on open, iterate for the records.

    A record type this version does not define is corruption, unless
    ``allow_unknown_types``: then only its envelope is checked, it is yielded and counted
    in ``unknown_types`` (for tools that interpret a few types and skip the rest).

    After a full iteration, ``last_seq`` is the last record's seq, ``end_offset`` the
    byte length of the whole records, and ``missing_newline`` says the final record is
    whole but its newline was never written (it is yielded; append ``\\n`` to resume).
    """

    def __init__(self, run: Path | str, allow_unknown_types: bool = False) -> None:
        self.path = log_path(run)
        self.allow_unknown_types = allow_unknown_types
        self.unknown_types: Counter[str] = Counter()
        try:
            self._file: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise LogCorrupt(self.path, 0, f"cannot open: {exc.strerror or exc}") from None
        self.last_seq = 0
        self.end_offset = 0
        self.missing_newline = False
        self._line = 0
        try:
            self.header = self._read_header()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> ReplayReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def _read_header(self) -> Header:
        raw = self._file.readline()
        self._line = 1
        if not raw.endswith(b"\n"):
            try:
                orjson.loads(raw)
            except orjson.JSONDecodeError:
                what = "empty log" if not raw else "torn header"
                raise LogTorn(
                    self.path, 1, f"{what}: the run stopped before its first write completed", 0, 0
                ) from None
        try:
            header = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise LogCorrupt(self.path, 1, f"header is not JSON: {exc}") from None
        if not isinstance(header, dict) or "format" not in header:
            raise LogVersionError(
                self.path, 1, "not a meshrt replay log: no header with a 'format' field"
            )
        if header["format"] != FORMAT:
            raise LogVersionError(
                self.path,
                1,
                f"not a meshrt replay log: format {header['format']!r} (expected {FORMAT!r})",
            )
        version = header.get("version")
        if version != VERSION or type(version) is not int:
            raise LogVersionError(
                self.path,
                1,
                f"unsupported replay log version {version!r}: "
                f"this meshrt reads version {VERSION} only",
            )
        for name, kind in (
            ("scenario", str),
            ("seed", int),
            ("venues", list),
            ("deployments", list),
        ):
            if type(header.get(name)) is not kind:
                raise LogCorrupt(
                    self.path,
                    1,
                    f"header field {name!r} must be {kind.__name__}, got {header.get(name)!r}",
                )
        self.end_offset = len(raw)
        self.missing_newline = not raw.endswith(b"\n")
        return Header(
            FORMAT,
            VERSION,
            header["scenario"],
            header["seed"],
            tuple(header["venues"]),
            tuple(header["deployments"]),
            header,
        )

    def __iter__(self) -> Iterator[Record]:
        """Every record in seq order; raises ``LogError`` at the first bad one."""
        path = self.path
        new = tuple.__new__
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        types, arity = TYPES, len(ENVELOPE)
        line_no = self._line
        offset = self.end_offset
        seq = self.last_seq
        try:
            for raw in self._file:
                line_no += 1
                try:
                    rec = loads(raw)
                except decode_error as exc:
                    if not raw.endswith(b"\n"):
                        raise LogTorn(
                            path,
                            line_no,
                            f"torn final record (no newline, not JSON: {len(raw)} bytes)",
                            offset,
                            seq,
                        ) from None
                    raise LogCorrupt(path, line_no, f"not JSON: {exc}", after_seq=seq) from None
                if type(rec) is not list or len(rec) != arity:
                    raise LogCorrupt(
                        path,
                        line_no,
                        f"a record is a JSON array of {arity} fields {list(ENVELOPE)}, "
                        f"got {short(rec)}",
                        after_seq=seq,
                    )
                this = rec[0]
                if type(this) is not int:
                    raise LogCorrupt(
                        path, line_no, f"seq must be an integer, got {this!r}", after_seq=seq
                    )
                if this != seq + 1:
                    problem = (
                        "seq does not increase"
                        if this <= seq
                        else f"seq skips {this - seq - 1} id(s): records are missing"
                    )
                    raise LogCorrupt(path, line_no, f"{problem} (previous seq {seq})", seq=this)
                record = types.get(rec[6])
                if record is None:
                    self._unknown(rec, line_no)
                else:
                    if not envelope_ok(rec):
                        raise LogCorrupt(path, line_no, envelope_problem(rec), seq=this)
                    wrong = payload_problem(record, rec)
                    if wrong is not None:
                        raise LogCorrupt(path, line_no, wrong, seq=this)
                seq = this
                offset += len(raw)
                if not raw.endswith(b"\n"):
                    self.missing_newline = True
                self.last_seq, self.end_offset, self._line = seq, offset, line_no
                yield new(Record, rec)
        finally:
            self.last_seq, self.end_offset, self._line = seq, offset, line_no
            self.close()

    def _unknown(self, rec: list[Any], line_no: int) -> None:
        kind = rec[6]
        if not self.allow_unknown_types or type(kind) is not str:
            raise LogCorrupt(
                self.path,
                line_no,
                f"unknown record type {kind!r} (not in format version {VERSION})",
                seq=rec[0],
            )
        if not envelope_ok(rec):
            raise LogCorrupt(self.path, line_no, envelope_problem(rec), seq=rec[0])
        if type(rec[7]) is not list:
            raise LogCorrupt(
                self.path,
                line_no,
                f"{kind} payload must be a list, got {short(rec[7])}",
                seq=rec[0],
            )
        self.unknown_types[kind] += 1


def unknown_types_note(reader: ReplayReader) -> list[str]:
    """A line for a tool's output when it skipped record types this version does not define."""
    if not reader.unknown_types:
        return []
    counts = ", ".join(f"{kind} x{n}" for kind, n in sorted(reader.unknown_types.items()))
    return [f"skipped records of types not in replay format version {VERSION}: {counts}"]


def read_log(run: Path | str) -> tuple[Header, Iterator[Record]]:
    """The header and a record iterator (the file closes when iteration ends)."""
    reader = ReplayReader(run)
    return reader.header, iter(reader)
