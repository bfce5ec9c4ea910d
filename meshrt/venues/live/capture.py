"""Capture files to (receive time ns, frame text), the input of a live adapter's on_frame:
one home for every capture format (docs/live.md, "Capture formats").

The format is told by the content (the first non-empty line), never by the file name;
gzip is told by its magic bytes:

* meshrt: ``#meshrt-capture 1 {json header}``, then ``<receive ns> <frame>`` lines (more
  ``#`` lines are header comments); what ``meshrt record`` writes.
* cryptofeed: ``<receive epoch seconds>: <frame>``, split at the first ``": "``; the
  connect line (``<url> <-> <epoch>``) gives the url, sent frames (``<url> <- ...``) are
  not received frames.
* cryptofeed REST log: ``<url> -> <epoch>: <body>`` lines, read with ``rest_replies``.
* hftbacktest: ``<receive ns> <frame>``.
* ndjson: one frame per line; frame *i* (from 0) gets ``start_ns + i * step_ns``.

Epoch seconds become nanoseconds on the digits, never through a float, so a replay's times
are the recorded ones exactly. Empty lines are skipped in every format. A malformed line is
a ``CaptureError`` whose message is one line: ``FILE:LINE: reason``.
"""

from __future__ import annotations

import enum
import gzip
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from attrs import field, frozen

MESHRT_MAGIC = "#meshrt-capture"
MESHRT_VERSION = 1
NDJSON_START_NS = 0
NDJSON_STEP_NS = 1_000_000  # 1 ms between ndjson frames, which carry no receive time

Frame = tuple[int, str]  # (receive time ns, frame text)


class CaptureError(ValueError):
    """A capture that cannot be read: ``FILE:LINE: reason`` on one line."""


class Format(enum.Enum):
    MESHRT = "meshrt"
    CRYPTOFEED = "cryptofeed"
    CRYPTOFEED_REST = "cryptofeed-rest"
    HFTBACKTEST = "hftbacktest"
    NDJSON = "ndjson"


@frozen
class Capture:
    """What a capture says about itself: its format, and its header (meshrt: the header's
    JSON object, extra keys kept; cryptofeed: ``url`` from the connect line; else empty)."""

    path: Path
    format: Format
    header: Mapping[str, Any] = field(factory=dict)

    @property
    def url(self) -> str | None:
        url = self.header.get("url")
        return url if isinstance(url, str) else None


@frozen
class RestReply:
    """One reply of a cryptofeed REST log: when it arrived, the url asked, the body."""

    ts_ns: int
    url: str
    body: str


def epoch_ns(text: str) -> int:
    """``1618678132.8258188`` -> 1618678132825818800."""
    whole, _, frac = text.partition(".")
    if not (whole.isdigit() and (not frac or frac.isdigit()) and len(frac) <= 9):
        raise ValueError(f"not epoch seconds: {text!r}")
    return int(whole) * 1_000_000_000 + int(frac.ljust(9, "0") or "0")


def read_capture(
    path: Path | str, *, start_ns: int = NDJSON_START_NS, step_ns: int = NDJSON_STEP_NS
) -> tuple[Capture, Iterator[Frame]]:
    """The capture's format and header, and its received frames in file order (read
    lazily; a malformed line raises ``CaptureError`` when it is reached). ``start_ns`` and
    ``step_ns`` time an ndjson file's frames."""
    path = Path(path)
    capture = sniff(path)
    if capture.format is Format.CRYPTOFEED_REST:
        raise CaptureError(
            f"{path}:1: a cryptofeed REST log, not frames: read it with rest_replies"
        )
    parse = {
        Format.MESHRT: _timestamped,
        Format.HFTBACKTEST: _timestamped,
        Format.CRYPTOFEED: _cryptofeed,
        Format.NDJSON: lambda lines: _ndjson(lines, start_ns, step_ns),
    }[capture.format]
    return capture, _read(path, parse)


def cryptofeed_frames(source: Path | Iterable[str]) -> Iterator[Frame]:
    """The received frames of a cryptofeed capture, from a file or from its lines."""
    if isinstance(source, Path):
        return _read(source, _cryptofeed)
    return _numbered(source, "line", _cryptofeed)


def hftbacktest_frames(source: Path | Iterable[str]) -> Iterator[Frame]:
    """The frames of an hftbacktest (or headerless meshrt) capture: ``<ns> <frame>``."""
    if isinstance(source, Path):
        return _read(source, _timestamped)
    return _numbered(source, "line", _timestamped)


def sent_frames(path: Path) -> Iterator[Frame]:
    """The frames a cryptofeed capture recorded as sent (``<url> <- <epoch>: <frame>``:
    its subscribe messages), with their send times."""
    return _read(path, _sent)


def rest_replies(source: Path | Iterable[str]) -> Iterator[RestReply]:
    """The replies of a cryptofeed REST log (``<url> -> <epoch>: <body>``)."""
    if isinstance(source, Path):
        with _open(source) as lines:
            yield from _numbered(lines, str(source), _rest)
    else:
        yield from _numbered(source, "line", _rest)


# -- reading ------------------------------------------------------------------------------

Parser = Callable[[Iterator[str]], Iterator[Any]]  # non-empty lines -> items; ValueError says why


def _open(path: Path) -> TextIO:
    raw = path.open("rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8")
    raw.seek(0)
    return io.TextIOWrapper(raw, encoding="utf-8")


def _read(path: Path, parse: Parser) -> Iterator[Any]:
    with _open(path) as lines:
        yield from _numbered(lines, str(path), parse)


def _numbered(lines: Iterable[str], where: str, parse: Parser) -> Iterator[Any]:
    """Run ``parse`` over the non-empty lines; a ValueError becomes one line naming the
    file (or "line") and the number of the line being read."""
    at = 0

    def content() -> Iterator[str]:
        nonlocal at
        for number, line in enumerate(lines, 1):
            if line.strip():
                at = number
                yield line.rstrip("\r\n")

    try:
        yield from parse(content())
    except (ValueError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as e:
        sep = " " if where == "line" else ":"
        raise CaptureError(f"{where}{sep}{at}: {e}") from None


def sniff(path: Path) -> Capture:
    """The capture's format and header, from its first non-empty line."""
    try:
        with _open(path) as lines:
            first = next((line.rstrip("\r\n") for line in lines if line.strip()), None)
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as e:
        raise CaptureError(f"{path}:1: cannot read: {e}") from None
    if first is None:
        raise CaptureError(f"{path}:1: empty capture")
    if first.startswith("#"):
        return Capture(path, Format.MESHRT, _meshrt_header(path, first))
    stamp, sep, _ = first.partition(": ")
    if " <-> " in first and (not sep or " " in stamp):
        return Capture(path, Format.CRYPTOFEED, {"url": first.partition(" <-> ")[0]})
    if sep and " -> " in stamp:
        return Capture(path, Format.CRYPTOFEED_REST)
    if sep and " " not in stamp and stamp.replace(".", "", 1).isdigit():
        return Capture(path, Format.CRYPTOFEED)
    head, sep, _ = first.partition(" ")
    if sep and head.isdigit():
        return Capture(path, Format.HFTBACKTEST)
    if first.lstrip()[:1] in ("{", "["):
        return Capture(path, Format.NDJSON)
    raise CaptureError(f"{path}:1: not a capture format meshrt reads: {first[:60]!r}")


def _meshrt_header(path: Path, line: str) -> dict[str, Any]:
    magic, _, rest = line.partition(" ")
    version, _, header = rest.partition(" ")
    if magic != MESHRT_MAGIC:
        raise CaptureError(f"{path}:1: a '#' line first, but not {MESHRT_MAGIC}: {line[:60]!r}")
    if version != str(MESHRT_VERSION):
        raise CaptureError(f"{path}:1: meshrt capture version {version!r}, this reads 1")
    try:
        value = json.loads(header or "{}")
    except ValueError as e:
        raise CaptureError(f"{path}:1: header is not JSON: {e}") from None
    if not isinstance(value, dict):
        raise CaptureError(f"{path}:1: header is not a JSON object")
    return value


# -- the line formats ---------------------------------------------------------------------


def _timestamped(lines: Iterator[str]) -> Iterator[Frame]:
    for line in lines:
        if line.startswith("#"):
            continue  # the meshrt header and its comments
        stamp, sep, frame = line.partition(" ")
        if not stamp.isdigit():
            raise ValueError(f"expected '<receive ns> <frame>', got {line[:40]!r}")
        if not sep or not frame:
            raise ValueError("no frame after the receive time")
        yield int(stamp), frame


def _cryptofeed(lines: Iterator[str]) -> Iterator[Frame]:
    for line in lines:
        stamp, sep, frame = line.partition(": ")
        if not sep or " " in stamp:  # the connect line, or a sent frame
            if " <-> " in line or " <- " in line or " -> " in line:
                continue
            raise ValueError(f"expected '<epoch>: <frame>', got {line[:40]!r}")
        yield epoch_ns(stamp), frame


def _sent(lines: Iterator[str]) -> Iterator[Frame]:
    for line in lines:
        head, sep, frame = line.partition(": ")
        _, arrow, stamp = head.partition(" <- ")
        if sep and arrow:
            yield epoch_ns(stamp), frame


def _rest(lines: Iterator[str]) -> Iterator[RestReply]:
    for line in lines:
        head, sep, body = line.partition(": ")
        url, arrow, stamp = head.partition(" -> ")
        if not (sep and arrow):
            raise ValueError(f"expected '<url> -> <epoch>: <body>', got {line[:40]!r}")
        yield RestReply(epoch_ns(stamp), url, body)


def _ndjson(lines: Iterator[str], start_ns: int, step_ns: int) -> Iterator[Frame]:
    for index, line in enumerate(lines):
        if line.lstrip()[:1] not in ("{", "["):
            raise ValueError(f"not a JSON frame: {line[:40]!r}")
        yield start_ns + index * step_ns, line
