"""A run's figures' data, gathered in one streaming pass over its replay log.

Per record only what a figure needs is kept, compactly: the TCA's pass (meshrt/analysis/
tca.py, the one home of fill ratio and markouts) rebuilds each venue's book into a mid
series and keeps orders and fills; ``meshrt intel``'s sampler (meshrt/analysis/intel.py)
measures each traded symbol's market structure on those books; beside them this pass
keeps the algos' fills, quotes
(limit prices sent: new orders and replaces), rejects by reason, mesh messages sent and
the faults. Feed records, the bulk of a log, cost one TCA step and one set lookup.
The run folder's other files add what the log does not hold: callback durations
(metrics.json) and mesh link statistics (mesh.json).
"""

from __future__ import annotations

from array import array
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import orjson

from meshrt.analysis.intel import IntelError, Structure
from meshrt.analysis.intel_sources import KINDS as INTEL_KINDS, RunSampler
from meshrt.analysis.tca import TcaPass, run_end
from meshrt.contract import ActionKind, RejectReason
from meshrt.log.errors import LogTorn
from meshrt.log.reader import ReplayReader, unknown_types_note
from meshrt.log.schema import FEED_TYPES

# control records drawn as faults (their first payload field names what they hit)
FAULTS = frozenset(
    {
        "kill_instance",
        "crash",
        "restart",
        "gave_up",
        "feed_down",
        "feed_up",
        "coordinator_killed",
        "coordinator_restarted",
        "partition",
        "partition_healed",
        "drop_rate",
        "latency_spike",
    }
)


@attrs.frozen(slots=True)
class Fault:
    """One fault or supervision event: ``end_ns`` set for those that last a while."""

    ts: int
    kind: str
    what: str
    end_ns: int | None = None


@attrs.frozen(slots=True)
class FillPoint:
    ts: int
    label: str
    venue: str
    symbol: str
    sign: int  # +1 buy, -1 sell
    price: int
    size: int
    fee: int
    liquidity: int  # 1 maker, 2 taker


@attrs.define(slots=True)
class Quotes:
    """Limit prices one deployment sent (new orders and replaces), by time."""

    times: array[int] = attrs.field(factory=lambda: array("q"))
    prices: array[int] = attrs.field(factory=lambda: array("q"))
    signs: array[int] = attrs.field(factory=lambda: array("b"))


@attrs.define(slots=True)
class RunData:
    """Everything the figures draw, full (not yet thinned for display)."""

    run_dir: Path
    scenario: str
    end_ns: int
    venues: tuple[dict[str, Any], ...]
    deployments: tuple[dict[str, Any], ...]
    tca: TcaPass
    fills: list[FillPoint]
    quotes: dict[str, Quotes]
    rejects: Counter[tuple[str, str]]  # (label, reason name) -> count
    messages: dict[str, array[int]]  # sender label -> send times
    faults: list[Fault]
    intel: dict[str, Structure | str]  # traded symbol -> its market structure, or why none
    notes: list[str]
    summary: dict[str, Any] | None
    metrics: dict[str, Any] | None
    mesh: dict[str, Any] | None


def gather(run_dir: Path) -> RunData:
    """Read the run folder's log once, then its summary, metrics and mesh files."""
    reader = ReplayReader(run_dir, allow_unknown_types=True)
    tca = TcaPass()
    fills: list[FillPoint] = []
    quotes: dict[str, Quotes] = {}
    rejects: Counter[tuple[str, str]] = Counter()
    messages: dict[str, array[int]] = {}
    faults: list[Fault] = []
    open_faults: dict[tuple[str, str], int] = {}  # feed_down / partition -> index in faults
    notes: list[str] = []
    orders = tca.orders
    observe = tca.observe
    feed = FEED_TYPES
    last_intent: Any = None
    last_ts = 0
    traded = sorted({s for dep in reader.header.deployments for s in dep["symbols"]})
    intel = [RunSampler(symbol, tca.books) for symbol in traded]
    samplers = [sampler.observe for sampler in intel]
    try:
        for rec in reader:
            kind = rec.type
            if kind in INTEL_KINDS:
                for sample in samplers:
                    sample(rec)  # before the TCA applies it to its book
            observe(rec)
            last_ts = rec.event_ts
            if kind in feed:
                continue
            if kind == "intent":
                last_intent = rec
            elif kind == "order_created" or kind == "replace_sent":
                order = orders.get(rec.payload[0])
                if order is None:
                    continue
                if kind == "order_created":
                    if last_intent is None or last_intent.payload[0] != ActionKind.LIMIT:
                        continue
                    price = last_intent.payload[5]
                else:
                    price = rec.payload[2]
                if type(price) is int:
                    q = quotes.get(order.label)
                    if q is None:
                        q = quotes[order.label] = Quotes()
                    q.times.append(rec.event_ts)
                    q.prices.append(price)
                    q.signs.append(order.sign)
            elif kind == "fill":
                p = rec.payload
                order = orders.get(p[0])
                if order is not None:
                    fills.append(
                        FillPoint(
                            rec.event_ts,
                            order.label,
                            order.venue,
                            order.symbol,
                            order.sign,
                            p[1],
                            p[2],
                            p[4],
                            p[3],
                        )
                    )
            elif kind == "rejected" or kind == "cancel_rejected":
                order = orders.get(rec.payload[0])
                label = order.label if order is not None else "?"
                rejects[label, _reason(rec.payload[1])] += 1
            elif kind == "intent_rejected":
                rejects[rec.payload[0], str(rec.payload[2])] += 1
            elif kind == "message":
                sent = messages.get(rec.payload[0])
                if sent is None:
                    sent = messages[rec.payload[0]] = array("q")
                sent.append(rec.event_ts)
            elif kind in FAULTS:
                _fault(faults, open_faults, kind, rec.event_ts, rec.payload)
    except LogTorn as exc:
        notes.append(f"{exc} (ignored: read up to the last whole record)")
    notes.extend(unknown_types_note(reader))
    end_ns = run_end(reader, last_ts)
    for index in open_faults.values():  # still on at the run's end
        faults[index] = attrs.evolve(faults[index], end_ns=end_ns)
    return RunData(
        run_dir,
        reader.header.scenario,
        end_ns,
        reader.header.venues,
        reader.header.deployments,
        tca,
        fills,
        quotes,
        rejects,
        messages,
        faults,
        {sampler.symbol: _structure(sampler) for sampler in intel},
        notes,
        _json(run_dir / "summary.json"),
        _json(run_dir / "metrics.json"),
        _json(run_dir / "mesh.json"),
    )


def _structure(sampler: RunSampler) -> Structure | str:
    try:
        return sampler.structure()
    except IntelError as exc:
        return str(exc)


def _reason(code: int) -> str:
    try:
        return RejectReason(code).name
    except ValueError:
        return f"reason {code}"


def _fault(
    faults: list[Fault],
    open_faults: dict[tuple[str, str], int],
    kind: str,
    ts: int,
    payload: list[Any],
) -> None:
    """Append one fault; an outage's start gets its end when the matching record comes
    (or from its own duration)."""
    what = str(payload[0])
    if kind in ("feed_up", "partition_healed"):
        start = open_faults.pop(("feed_down" if kind == "feed_up" else "partition", what), None)
        if start is not None:
            faults[start] = attrs.evolve(faults[start], end_ns=ts)
        return
    end = None
    if kind == "drop_rate":
        what = f"{payload[0]}->{payload[1]} drop {payload[2]:g}"
        end = ts + payload[3]
    elif kind == "latency_spike":
        what = f"{payload[0]}->{payload[1]} +{payload[2] / 1e6:g} ms"
        end = ts + payload[3]
    elif kind == "crash":
        what = f"{payload[0]}: {payload[1]}"
    if kind in ("feed_down", "partition"):
        open_faults[kind, what] = len(faults)
    faults.append(Fault(ts, kind, what, end))


def _json(path: Path) -> dict[str, Any] | None:
    try:
        value = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None
