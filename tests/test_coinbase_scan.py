"""The compiled reading of Coinbase's common frames (meshrt/venues/live/_coinbase_rule.pyx)
against the text-decoding reference, the same adapter reading every frame in Python."""

from __future__ import annotations

import pickle
from typing import Any

import attrs
import pytest
from hypothesis import given, settings, strategies as st

from meshrt.venues.live._coinbase_rule import Rule
from meshrt.venues.live.coinbase import ExchangeFeed
from meshrt.venues.live.crossing import CrossedClock
from meshrt.venues.live.verdicts import Feed, Output

TIME = "2021-04-17T16:43:37.075687Z"
UPDATE = (
    '{"type":"l2update","product_id":"BTC-USD","changes":[["sell","0.5762","335.0"]],'
    f'"time":"{TIME}"}}'
)
SNAPSHOT = '{"type":"snapshot","product_id":"BTC-USD","asks":[["0.58","1"]],"bids":[["0.57","2"]]}'


class Decoded(ExchangeFeed):
    """The reference: every frame decoded as JSON and read in Python."""

    _SCANS = False


def rule() -> Rule:
    return Rule({"BTC-USD": "BTC-USD"}, CrossedClock(0), True)


def test_the_common_frames_are_read_in_c() -> None:
    r, out = rule(), []
    assert r.frame(UPDATE, 1, out) is False  # the product is not up: Python counts it
    assert r.frame(SNAPSHOT, 2, out) is True
    assert r.frame(UPDATE, 3, out) is True
    assert r.frame('{"type":"l2update","product_id":"BTC-USD","changes":[],"time":"x"}', 4, out)
    assert [type(o) for o in out] == [Feed, Feed, Feed]
    assert (r.n.frames, r.n.snapshots, r.n.level_changes) == (4, 1, 1)


@pytest.mark.parametrize(
    "other",
    [
        UPDATE.replace('"changes"', ' "changes"'),  # a space
        UPDATE.replace('"335.0"]]', '"335.0"],]'),  # a trailing comma
        UPDATE.replace('"335.0"]]', '"335.0"]["buy","1","1"]]'),  # a missing comma
        UPDATE.replace('"335.0"', "335.0"),  # a JSON number
        UPDATE.replace('"0.5762"', '"5.762e-1"'),  # number text the C reading leaves
        UPDATE.replace('"0.5762"', '"0.0000000001"'),  # a value the contract cannot hold
        UPDATE.replace("BTC-USD", "BTC\\u002dUSD"),  # an escape
        UPDATE.replace(TIME, "\x01"),  # a control character (not JSON)
        UPDATE.replace(TIME, "é"),  # not ASCII
        UPDATE.replace('"sell"', '"bid"'),  # another side's name
        UPDATE + " ",
        SNAPSHOT.replace('["0.57","2"]', '["0.57","0"]'),  # a size 0 in a snapshot
        SNAPSHOT.replace('["0.57","2"]', '["0.57","2"],["0.57","1"]'),  # a price twice
        SNAPSHOT.replace('"asks"', '"bids"', 1),  # keys in another order
    ],
)
def test_any_other_frame_is_left_to_python_with_nothing_done(other: str) -> None:
    r, out = rule(), []
    assert r.frame(SNAPSHOT, 1, out) is True
    assert r.frame(other, 2, out) is False
    assert len(out) == 1 and (r.n.frames, r.n.snapshots, r.n.level_changes) == (2, 1, 0)


def test_feeds_built_in_c_are_feed_values() -> None:
    out: list[Output] = []
    rule().frame(SNAPSHOT, 1, out)
    (feed,) = out
    same = Feed(feed.symbol, feed.events)
    assert type(feed) is Feed and feed == same and hash(feed) == hash(same)
    assert pickle.loads(pickle.dumps(feed)) == same and attrs.evolve(feed) == same
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        feed.symbol = "ETH-USD"  # type: ignore[misc]


# -- generated frames -------------------------------------------------------------------

_PLAIN = st.builds(
    lambda whole, frac: f"{whole}.{frac}" if frac else str(whole),
    st.integers(0, 12),
    st.text("0123456789", max_size=10),
)
_ODD = st.sampled_from(
    ["0", "0.000", "1e3", " 1", "-1", ".5", "1.", "", "9999999999999", "92233720368.5", "0x1"]
)
_NUMBER = st.one_of(_PLAIN, _PLAIN, _PLAIN, _ODD)
_PRODUCT = st.sampled_from(["BTC-USD", "BTC-USD", "ETH-USD", "DOGE-USD"])
_SIDE = st.sampled_from(["buy", "buy", "sell", "sell", "bid"])
_TIME = st.sampled_from([TIME, TIME, TIME, "", "é", "\x01", '\\"'])


def _row(texts: tuple[str, ...], bare: bool) -> str:
    """A level as JSON: its values as strings, or (``bare``) the last as a JSON number."""
    values = [f'"{t}"' for t in texts]
    if bare:
        values[-1] = texts[-1] or "1"
    return "[" + ",".join(values) + "]"


@st.composite
def _frame(draw: Any) -> str | bytes:
    kind = draw(st.sampled_from(["l2update"] * 5 + ["snapshot", "match", "heartbeat"]))
    product = draw(_PRODUCT)
    bare = draw(st.integers(0, 19)) == 0
    if kind == "l2update":
        rows = draw(st.lists(st.tuples(_SIDE, _NUMBER, _NUMBER), max_size=4))
        text = (
            f'{{"type":"l2update","product_id":"{product}","changes":['
            + ",".join(_row(row, bare) for row in rows)
            + f'],"time":"{draw(_TIME)}"}}'
        )
    elif kind == "snapshot":
        asks, bids = (
            ",".join(_row(row, bare) for row in draw(st.lists(st.tuples(_NUMBER, _NUMBER))))
            for _ in "ab"
        )
        text = f'{{"type":"snapshot","product_id":"{product}","asks":[{asks}],"bids":[{bids}]}}'
    elif kind == "match":
        side, price, size = draw(st.tuples(_SIDE, _NUMBER, _NUMBER))
        text = (
            f'{{"type":"match","trade_id":1,"side":"{side}","size":"{size}",'
            f'"price":"{price}","product_id":"{product}","sequence":2,"time":"{TIME}"}}'
        )
    else:
        text = '{"type":"heartbeat"}'
    change = draw(st.sampled_from(["none"] * 12 + ["space", "cut", "bytes"]))
    if change == "space":
        return text.replace(",", ", ")
    if change == "cut":
        return text[: draw(st.integers(0, len(text)))]
    return text.encode() if change == "bytes" else text


@pytest.mark.property
@settings(max_examples=300)
@given(frames=st.lists(st.tuples(_frame(), st.integers(0, 3)), max_size=30))
def test_the_compiled_reading_gives_what_the_json_decoder_gives(frames: Any) -> None:
    """Generated Exchange frames (plain and odd number text, crossings, unknown and down
    products, other shapes, cut frames) read by the adapter, its common frames in C, give
    the same outputs, in order and of the same types, and counts as every frame decoded
    as JSON and read in Python."""
    compiled, decoded = ExchangeFeed(crossed_grace_ns=2), Decoded(crossed_grace_ns=2)
    ts = 0
    for text, step in frames:
        ts += step
        got, want = compiled.on_frame(text, ts), decoded.on_frame(text, ts)
        assert got == want
        assert [type(o) for o in got] == [type(o) for o in want]
    assert compiled.counters() == decoded.counters()
