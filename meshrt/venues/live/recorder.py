"""meshrt's recording format for live frames: the writer (docs/live.md, "Recording format").

A file (``.gz``: gzipped) is a header line, then one line per received frame::

    #meshrt-capture 1 {"exchange":..,"url":..,"symbols":{..},"depth":..,"started_ns":..}
    <receive ns> <frame text>

``symbols`` maps scenario symbols to exchange symbols (the argument of
meshrt/venues/live/adapters.py's ``adapter_for``). A REST depth snapshot the session
fetched (Binance) is a line too, its frame an object wrapping the body unchanged:
``{"meshrt":"snapshot","symbol":"BTCUSDT","body":{...}}``. A frame holding a line break
cannot be written as one line: it is refused and counted, never written broken.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Final

import orjson

MAGIC: Final = "#meshrt-capture"
VERSION: Final = 1
_SNAPSHOT_HEAD: Final = '{"meshrt":"snapshot","symbol":'


def header_line(
    exchange: str, url: str, symbols: Mapping[str, str], depth: int, started_ns: int
) -> str:
    header = {
        "exchange": exchange,
        "url": url,
        "symbols": dict(symbols),
        "depth": depth,
        "started_ns": started_ns,
    }
    return f"{MAGIC} {VERSION} {orjson.dumps(header).decode()}\n"


def snapshot_frame(exchange_symbol: str, body: bytes | str) -> str:
    """A REST snapshot as a recorded frame, the body's text kept exactly (a JSON
    value itself, so the frame is JSON)."""
    text = body.decode() if isinstance(body, bytes) else body
    return f'{_SNAPSHOT_HEAD}{orjson.dumps(exchange_symbol).decode()},"body":{text.strip()}}}'


def parse_snapshot(frame: str) -> tuple[str, str] | None:
    """(exchange symbol, body text) of a recorded snapshot frame; None for any other
    frame. For playback: hand them to the Binance adapter's ``snapshot``."""
    if not frame.startswith(_SNAPSHOT_HEAD):
        return None
    symbol_end = frame.index(',"body":', len(_SNAPSHOT_HEAD))
    symbol = orjson.loads(frame[len(_SNAPSHOT_HEAD) : symbol_end])
    return str(symbol), frame[symbol_end + len(',"body":') : -1]


class CaptureWriter:
    """Writes one recording; counts what it wrote and what it refused."""

    def __init__(self, path: Path, header: str) -> None:
        self.path = path
        self.written = 0
        self.refused = 0
        # closed by close(), or on leaving a with block
        if path.name.endswith(".gz"):
            self._file: IO[str] = gzip.open(path, "wt", encoding="utf-8", newline="\n")  # noqa: SIM115
        else:
            self._file = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._file.write(header)

    def write(self, ts_ns: int, frame: str) -> None:
        if "\n" in frame or "\r" in frame:
            self.refused += 1
            return
        self._file.write(f"{ts_ns} {frame}\n")
        self.written += 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
