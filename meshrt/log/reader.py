"""Read a run's replay log back, refusing anything that is not exactly what was written.

Analysis (``meshrt trace``, ``meshrt tca``), verification and resume all start from the
log, so they must never act on a record they misread. The reader streams (a run can
hold millions of records), checks the header's format and version, and checks every
record's envelope, payload arity and field types, and that seq ids run 1, 2, 3, ...

Two kinds of damage are told apart because they call for different handling: a *torn*
final line (the process died mid-write: the file's last line has no newline and is not
JSON) is expected after a crash and resume truncates it (``LogTorn.offset``); anything
else wrong (``LogCorrupt``) means the file cannot be trusted. A log of another format or
version raises ``LogVersionError``. Every error names the file, the line, the seq id
when it is known, and the problem. The layout is described in docs/replay.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import attrs
import orjson

from meshrt.log.writer import FORMAT, VERSION

LOG_NAME = "replay.jsonl"

_INT: frozenset[type] = frozenset({int})
_STR: frozenset[type] = frozenset({str})
_OPT_STR: frozenset[type] = frozenset({str, type(None)})
_BOOL: frozenset[type] = frozenset({bool})
_LIST: frozenset[type] = frozenset({list})
_NUM: frozenset[type] = frozenset({int, float})
_ANY: frozenset[type] = frozenset({int, float, str, bool, type(None), list, dict})
_SCALAR: frozenset[type] = frozenset({int, float, str, bool, type(None)})

# record type -> payload fields (name, allowed JSON types); the one definition of v1
PAYLOADS: dict[str, tuple[tuple[str, frozenset[type]], ...]] = {
    "snapshot": (("bids", _LIST), ("asks", _LIST)),
    "delta": (("side", _INT), ("price", _INT), ("size", _INT)),
    "trade": (("aggressor", _INT), ("price", _INT), ("size", _INT)),
    "accepted": (("order_id", _INT), ("before", _STR), ("after", _STR)),
    "rejected": (("order_id", _INT), ("reason", _INT), ("before", _STR), ("after", _STR)),
    "fill": (
        ("order_id", _INT),
        ("price", _INT),
        ("size", _INT),
        ("liquidity", _INT),
        ("fee", _INT),
        ("remaining", _INT),
        ("before", _STR),
        ("after", _STR),
    ),
    "cancelled": (("order_id", _INT), ("remaining", _INT), ("before", _STR), ("after", _STR)),
    "cancel_rejected": (("order_id", _INT), ("reason", _INT), ("before", _STR), ("after", _STR)),
    "replaced": (
        ("order_id", _INT),
        ("price", _INT),
        ("size", _INT),
        ("remaining", _INT),
        ("before", _STR),
        ("after", _STR),
    ),
    # an intent holds the action as the algo gave it: a bad value is logged, then refused
    "intent": (
        ("kind", _INT),
        ("side", _INT),
        ("tif", _INT),
        ("client_id", _SCALAR),
        ("target", _SCALAR),
        ("price", _SCALAR),
        ("size", _SCALAR),
    ),
    "intent_rejected": (
        ("label", _STR),
        ("client_id", _SCALAR),
        ("reason", _STR),
        ("detail", _STR),
    ),
    "order_created": (
        ("order_id", _INT),
        ("label", _STR),
        ("client_id", _INT),
        ("from", _STR),
        ("to", _STR),
    ),
    # control: the lifecycle schedule, crashes and supervision, injected faults
    "lifecycle": (("label", _STR), ("action", _STR)),
    "crash": (("label", _STR), ("error", _STR)),
    "restart_scheduled": (("label", _STR), ("at_ns", _INT)),
    "gave_up": (("label", _STR), ("reason", _STR)),
    "restart": (("label", _STR), ("restarts", _INT)),
    "kill_instance": (("label", _STR),),
    "feed_down": (("venue", _STR),),
    "feed_up": (("venue", _STR),),
    "coordinator_killed": (("generation", _INT),),
    "coordinator_restarted": (("generation", _INT),),
    "partition": (("venue", _STR), ("duration_ns", _INT)),
    "partition_healed": (("venue", _STR),),
    "drop_rate": (("sender", _STR), ("receiver", _STR), ("rate", _NUM), ("duration_ns", _INT)),
    "latency_spike": (
        ("sender", _STR),
        ("receiver", _STR),
        ("extra_ns", _INT),
        ("duration_ns", _INT),
    ),
    # what the sequencer sends on its own account, and the end of the run
    "cancel_sent": (
        ("order_id", _INT),
        ("label", _STR),
        ("cause", _STR),
        ("from", _STR),
        ("to", _STR),
    ),
    "replace_sent": (("order_id", _INT), ("label", _STR), ("price", _SCALAR), ("size", _INT)),
    "run_end": (("scenario_time_ns", _INT),),
    # host calls of an algo
    "message": (("label", _STR), ("receiver", _ANY), ("payload_hex", _STR)),
    "subscribe": (("known", _BOOL),),
    "unsubscribe": (("known", _BOOL),),
    "set_param": (("name", _ANY), ("value", _ANY)),
    "log": (("message", _ANY),),
}
FEED_TYPES = frozenset({"snapshot", "delta", "trade"})
REPORT_TYPES = frozenset(
    {"accepted", "rejected", "fill", "cancelled", "cancel_rejected", "replaced"}
)
# the envelope's key: the seq itself for feed records, "VENUE:N" for venue reports
_KEY = {
    name: _INT if name in FEED_TYPES else _STR if name in REPORT_TYPES else frozenset({type(None)})
    for name in PAYLOADS
}
_ARITY = {name: len(fields) for name, fields in PAYLOADS.items()}
_STATUSES = frozenset(
    {
        "CREATED",
        "SUBMITTED",
        "ACCEPTED",
        "PARTIALLY_FILLED",
        "FILLED",
        "CANCEL_PENDING",
        "CANCELLED",
        "REJECTED",
    }
)
_SIDES = frozenset({1, 2})
_ORDER_RECORDS = frozenset({"order_created"})
ENVELOPE = (
    "seq",
    "event_ts",
    "ingest_ts",
    "source",
    "venue",
    "instrument",
    "type",
    "payload",
    "key",
)


class LogError(ValueError):
    """A replay log that cannot be read as written; ``str()`` says file:line (seq): problem."""

    def __init__(
        self,
        path: Path,
        line: int,
        problem: str,
        seq: int | None = None,
        after_seq: int | None = None,
    ) -> None:
        where = f"seq {seq}" if seq is not None else (f"after seq {after_seq}" if after_seq else "")
        super().__init__(f"{path}:{line}: {where + ': ' if where else ''}{problem}")
        self.path = path
        self.line = line
        self.seq = seq
        self.problem = problem


class LogCorrupt(LogError):
    """A record (or the header) is damaged or not what this version writes."""


class LogVersionError(LogError):
    """The header names another format or version: refused rather than misread."""


class LogTorn(LogError):
    """The final line was cut short by a crash mid-write.

    ``offset`` is the byte length of the intact prefix (truncate the file to it) and
    ``last_seq`` the seq of the last whole record (0 if none).
    """

    def __init__(self, path: Path, line: int, problem: str, offset: int, last_seq: int) -> None:
        super().__init__(path, line, problem, after_seq=last_seq)
        self.offset = offset
        self.last_seq = last_seq


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
        arity, keys, payloads = _ARITY, _KEY, PAYLOADS
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
                if type(rec) is not list or len(rec) != 9:
                    raise LogCorrupt(
                        path,
                        line_no,
                        f"a record is a JSON array of 9 fields {list(ENVELOPE)}, got {_short(rec)}",
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
                kind = rec[6]
                n = arity.get(kind)
                if n is None:
                    self._unknown(rec, line_no)
                else:
                    if (
                        type(rec[1]) is not int
                        or type(rec[2]) is not int
                        or rec[1] < 0
                        or type(rec[3]) is not str
                        or (rec[4] is not None and type(rec[4]) is not str)
                        or (rec[5] is not None and type(rec[5]) is not str)
                    ):
                        raise LogCorrupt(path, line_no, _envelope_problem(rec), seq=this)
                    payload = rec[7]
                    if type(payload) is not list or len(payload) != n:
                        raise LogCorrupt(
                            path,
                            line_no,
                            f"{kind} payload must be a list of {n} "
                            f"{[f for f, _ in payloads[kind]]}, got "
                            f"{_short(payload)}",
                            seq=this,
                        )
                    for value, (field, allowed) in zip(payload, payloads[kind], strict=True):
                        if type(value) not in allowed:
                            raise LogCorrupt(
                                path,
                                line_no,
                                f"{kind} field {field!r} has the wrong type: {_short(value)}",
                                seq=this,
                            )
                    if type(rec[8]) not in keys[kind]:
                        raise LogCorrupt(
                            path, line_no, f"{kind} key has the wrong type: {rec[8]!r}", seq=this
                        )
                    wrong_value = _semantic_problem(kind, rec)
                    if wrong_value is not None:
                        raise LogCorrupt(path, line_no, wrong_value, seq=this)
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
        if (
            type(rec[1]) is not int
            or type(rec[2]) is not int
            or rec[1] < 0
            or type(rec[3]) is not str
            or (rec[4] is not None and type(rec[4]) is not str)
            or (rec[5] is not None and type(rec[5]) is not str)
        ):
            raise LogCorrupt(self.path, line_no, _envelope_problem(rec), seq=rec[0])
        if type(rec[7]) is not list:
            raise LogCorrupt(
                self.path,
                line_no,
                f"{kind} payload must be a list, got {_short(rec[7])}",
                seq=rec[0],
            )
        self.unknown_types[kind] += 1


def _semantic_problem(kind: str, rec: list[Any]) -> str | None:
    """The few value checks a reader needs to rebuild books and orders safely."""
    payload = rec[7]
    if kind == "delta" or kind == "trade":
        if payload[0] not in _SIDES:
            return f"{kind} side must be 1 (buy) or 2 (sell), got {payload[0]!r}"
        if rec[8] != rec[0]:
            return f"{kind} key must equal its seq, got {rec[8]!r}"
    elif kind in REPORT_TYPES:
        if payload[-2] not in _STATUSES or payload[-1] not in _STATUSES:
            return f"{kind} status {payload[-2]!r} -> {payload[-1]!r} is not an order status"
    elif kind == "snapshot":
        if rec[8] != rec[0]:
            return f"snapshot key must equal its seq, got {rec[8]!r}"
        for name, side in zip(("bids", "asks"), payload, strict=True):
            for level in side:
                if (
                    type(level) is not list
                    or len(level) != 2
                    or type(level[0]) is not int
                    or type(level[1]) is not int
                ):
                    return (
                        f"snapshot {name} level must be [price, size] integers, got {_short(level)}"
                    )
    if (rec[4] is None or rec[5] is None) and (
        kind in FEED_TYPES or kind in REPORT_TYPES or kind in _ORDER_RECORDS
    ):
        return f"{kind} must name its venue and instrument"
    return None


def _envelope_problem(rec: list[Any]) -> str:
    for index, allowed in ((1, _INT), (2, _INT), (3, _STR), (4, _OPT_STR), (5, _OPT_STR)):
        if type(rec[index]) not in allowed:
            return f"{ENVELOPE[index]} has the wrong type: {_short(rec[index])}"
    return f"event_ts must not be negative, got {rec[1]}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
