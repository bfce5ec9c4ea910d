"""Capture readers (meshrt/venues/live/capture.py): every format told from the content,
plain or gzipped, and a malformed line named by file, line and reason in one line."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from meshrt.venues.live.capture import (
    NDJSON_STEP_NS,
    CaptureError,
    Format,
    epoch_ns,
    read_capture,
    rest_replies,
)

DATA = Path(__file__).parent / "data" / "venues"
KRAKEN = DATA / "kraken" / "kraken_v1_book1000_cryptofeed_KRAKEN.ws.50.0.log.gz"
REST = DATA / "binance" / "binance_spot_rest_depth_cryptofeed_BINANCE.http.0.0.log.gz"
HFT = DATA / "binance" / "binance_spot_hftbacktest_btcusdt_20240808_first17150lines.log.gz"
MATIC = DATA / "kraken" / "kraken_v2_book_docs_reference_matic_examples.jsonl"
HEADER = '#meshrt-capture 1 {"venue": "kraken", "url": "wss://ws.kraken.com/v2", "extra": [1]}'


def test_cryptofeed_capture_gives_its_url_and_received_frames_only() -> None:
    capture, frames = read_capture(KRAKEN)
    assert (capture.format, capture.url) == (Format.CRYPTOFEED, "wss://ws.kraken.com")
    listed = list(frames)
    assert len(listed) == 4323 - 2  # the connect line and the sent subscribe are not frames
    assert listed[0] == (1618678132825818800, listed[0][1])
    assert listed[0][1].startswith('{"connectionID"')


def test_cryptofeed_rest_log_is_read_as_replies() -> None:
    replies = list(rest_replies(REST))
    assert [r.url.rpartition("symbol=")[2] for r in replies] == [
        "NKNUSDT&limit=1000", "BLZETH&limit=1000", "LRCBTC&limit=1000", "RUNEEUR&limit=1000",
    ]  # fmt: skip
    assert replies[0].ts_ns == epoch_ns("1633998512.320639")
    assert replies[0].body.startswith('{"lastUpdateId":499869752,')
    with pytest.raises(CaptureError, match=r"http\.0\.0\.log\.gz:1: a cryptofeed REST log"):
        read_capture(REST)


def test_hftbacktest_capture_keeps_its_nanoseconds() -> None:
    capture, frames = read_capture(HFT)
    listed = list(frames)
    assert capture.format is Format.HFTBACKTEST and len(listed) == 17150
    assert listed[0][0] == 1723161253937085768
    assert listed[7][1].startswith('{"lastUpdateId":50093239218')  # the inline REST snapshot


def test_ndjson_frames_are_timed_from_a_start_and_a_step() -> None:
    capture, frames = read_capture(MATIC)
    assert capture.format is Format.NDJSON
    assert [ts for ts, _ in frames] == [i * NDJSON_STEP_NS for i in range(5)]
    _, frames = read_capture(MATIC, start_ns=10, step_ns=3)
    assert [ts for ts, _ in frames] == [10, 13, 16, 19, 22]


@pytest.mark.parametrize("zipped", [False, True], ids=["plain", "gz"])
def test_meshrt_recording_format_plain_or_gzipped(tmp_path: Path, zipped: bool) -> None:
    text = f'{HEADER}\n# a comment line\n5 {{"a":1}}\n\n7 [1, 2]\n'
    path = tmp_path / "rec.capture"  # the name says nothing: gzip is told by its magic
    path.write_bytes(gzip.compress(text.encode()) if zipped else text.encode())
    capture, frames = read_capture(path)
    assert capture.format is Format.MESHRT
    assert capture.header["venue"] == "kraken" and capture.header["extra"] == [1]
    assert capture.url == "wss://ws.kraken.com/v2"
    assert list(frames) == [(5, '{"a":1}'), (7, "[1, 2]")]


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        (f"{HEADER}\n5 {{}}\nx5 {{}}\n", 3, "expected '<receive ns> <frame>'"),
        (f"{HEADER}\n5\n", 2, "no frame after the receive time"),
        ("#meshrt-capture 2 {}\n", 1, "meshrt capture version '2', this reads 1"),
        ("#meshrt-capture 1 [1]\n", 1, "header is not a JSON object"),
        ("#meshrt-capture 1 {nope\n", 1, "header is not JSON"),
        ("#other\n", 1, "not #meshrt-capture"),
        ("1618678132.5: {}\n1618678x.5: {}\n", 2, "not epoch seconds"),
        ("1618678132.5: {}\njunk line\n", 2, "expected '<epoch>: <frame>'"),
        ('{"a": 1}\nplain text\n', 2, "not a JSON frame"),
        ("hello world\n", 1, "not a capture format meshrt reads"),
        ("\n\n", 1, "empty capture"),
    ],
)
def test_a_malformed_line_is_one_line_naming_file_line_and_reason(
    tmp_path: Path, text: str, where: int, reason: str
) -> None:
    path = tmp_path / "bad.log"
    path.write_text(text)
    with pytest.raises(CaptureError) as error:
        _, frames = read_capture(path)
        list(frames)
    message = str(error.value)
    assert message.startswith(f"{path}:{where}: ") and reason in message
    assert "\n" not in message


def test_a_truncated_gzip_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(b"5 {}\n" * 1000)[:-20])
    with pytest.raises(CaptureError, match=rf"^{path}:\d+: "):
        _, frames = read_capture(path)
        list(frames)
