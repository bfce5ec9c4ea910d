"""What a run says about itself: summary.json (deterministic), metrics.json and a table.

summary.json holds only results that follow from the scenario and seeds, so two runs
of one scenario give the same file; wall-clock figures (throughput, callback latency,
mailbox high-water marks) go to metrics.json and the printed table.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from meshrt.actors.instance import AlgoInstance
from meshrt.actors.live_venue import LiveVenueActor
from meshrt.console import table
from meshrt.contract import PRICE_SCALE, SIZE_SCALE
from meshrt.sequencer.actor import Sequencer
from meshrt.sequencer.notes import NOTE_KINDS


def percentile(counts: Counter[int], fraction: float) -> int:
    """The value at index ``min(n - 1, int(fraction * n))`` of the sorted values that
    ``counts`` counts (value -> how many); 0 when there are none."""
    n = counts.total()
    if not n:
        return 0
    index = min(n - 1, int(fraction * n))
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen > index:
            break
    return value


def build_summary(
    scenario_name: str,
    seed: int,
    sequencer: Sequencer,
    failed: str | None,
    interrupted: bool = False,
    reports: dict[str, tuple[Any, str | None]] | None = None,
) -> dict[str, Any]:
    """``reports``: label -> (Algo.report() value, why it failed or None)."""
    deployments = []
    for dep in sequencer.deployed:
        report, report_error = (reports or {}).get(dep.label, (None, None))
        ledger = dep.ledger
        inst: AlgoInstance = dep.instance
        deployments.append(
            {
                "label": dep.label,
                "venue": sequencer.lanes[dep.venue].name,
                "state": dep.state,
                "crashed": dep.crashed,
                "crashed_at_ns": dep.crashed_at,
                "crashes": dep.crashes,
                "restarts": dep.restarts,
                "gave_up": dep.gave_up,
                "book_callbacks": inst.book_callbacks,
                "orders": dep.orders,
                "open_orders": sequencer.desk.orders.open_orders(dep.label),
                "fills": ledger.fills,
                "volume": ledger.volume,
                "position": {symbol: ledger.position(symbol) for symbol in ledger.symbols},
                "cash": ledger.cash,
                "realized_pnl": ledger.realized_pnl,
                "unrealized_pnl": ledger.unrealized_pnl,
                "fees": ledger.fees,
                "max_drawdown": ledger.max_drawdown,
                "rejects": dict(sorted(dep.rejects.items())),
                "refused_actions": inst.actions.refused,
                "messages_sent": dep.messages_sent,
                "messages_received": inst.messages_received,
                "messages_refused": inst.messages_refused,
                "skipped_while_not_running": inst.skipped,
                "discarded_after_crash": inst.discarded,
                "report": report,
                "report_error": report_error,
            }
        )
    return {
        "scenario": scenario_name,
        "seed": seed,
        "status": "failed" if failed else "interrupted" if interrupted else "ok",
        "failure": failed,
        "scenario_time_ns": sequencer.clock.now,
        "events": sequencer.seq,
        "venue_events": sequencer.journal.counts["venue_events"],
        "orders": sequencer.journal.counts["orders"],
        "fills": sequencer.journal.counts["fills"],
        "late_reports": sequencer.desk.orders.late_reports,
        "windows": sequencer.clock.windows,
        "net_position": _net_positions(deployments),
        "coordinator": {
            "kills": sequencer.journal.counts["coordinator_kills"],
            "restarts": sequencer.journal.counts["coordinator_restarts"],
            "up_at_end": sequencer.journal.counts["coordinator_kills"]
            <= sequencer.journal.counts["coordinator_restarts"],
        },
        "reconciliation": sequencer.reconciliation,
        "deployments": deployments,
        **_live(sequencer),
    }


def _live(sequencer: Sequencer) -> dict[str, Any]:
    """Live venues' connection events, resyncs (by why), frame errors and the reconnect
    delays drawn, counted per venue as the sequencer logged them (``commit_note`` in
    meshrt/sequencer/live.py), and how a paper run ended; nothing for a run without
    live venues."""
    counts = sequencer.journal.counts
    live: dict[str, Any] = {}
    for lane in sequencer.lanes:
        if not isinstance(lane.actor, LiveVenueActor):
            continue
        prefix = f"live:{lane.name}:"
        tally = {kind: counts[prefix + kind] for kind in NOTE_KINDS.values()}
        whys = {
            key[len(prefix) + len("resync:") :]: n
            for key, n in counts.items()
            if key.startswith(prefix + "resync:")
        }
        live[lane.name] = {
            **tally,
            "resync_why": dict(sorted(whys.items())),
            "reconnect_delay_ns": counts[prefix + "reconnect_delay_ns"],
        }
    if not live:
        return {}
    if counts["live_windows"]:
        live["ended"] = "interrupted" if counts["live_interrupted"] else "duration"
    return {"live": live}


def _net_positions(deployments: list[dict[str, Any]]) -> dict[str, int]:
    """Position per symbol summed across every deployment (and so every venue)."""
    net: dict[str, int] = {}
    for dep in deployments:
        for symbol, position in dep["position"].items():
            net[symbol] = net.get(symbol, 0) + position
    return dict(sorted(net.items()))


def build_mesh(sequencer: Sequencer) -> dict[str, Any]:
    """The topology and per-link statistics: ``meshrt mesh RUN_DIR`` prints this."""
    links = []
    for (sender, receiver), link in sorted(sequencer.bridge.links.links.items()):
        latencies = link.latencies
        links.append(
            {
                "from": sender,
                "to": receiver,
                "sent": link.sent,
                "delivered": link.delivered,
                "dropped": dict(sorted(link.dropped.items())),
                "in_flight": link.in_flight,
                "latency_p50_ns": percentile(latencies, 0.50),
                "latency_p99_ns": percentile(latencies, 0.99),
            }
        )
    return {
        "coordinator": {
            "region": sequencer.bridge.region,
            "generations": sequencer.bridge.generation,
        },
        "topology": [
            {
                "label": dep.label,
                "venue": sequencer.lanes[dep.venue].name,
                "region": sequencer.lanes[dep.venue].region,
                "state": dep.state,
            }
            for dep in sequencer.deployed
        ],
        "links": links,
    }


def build_metrics(
    sequencer: Sequencer,
    wall_seconds: float,
    status: str,
    since: tuple[int, int] = (0, 0),
    skipped_checkpoints: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Wall-clock figures of this process, and how it ended (``status``, as in the
    summary). ``since``: (events, book events) already done before it started, for a
    resumed run, so rates cover only what this process did."""
    instances = []
    for dep in sequencer.deployed:
        inst = dep.instance
        latencies = inst.latencies_ns
        instances.append(
            {
                "label": dep.label,
                "callback_latency_ns": {
                    "count": latencies.count,
                    "p50": latencies.percentile(0.50),
                    "p99": latencies.percentile(0.99),
                    "max": latencies.max,
                    "histogram": [list(bucket) for bucket in latencies.buckets()],
                },
                "mailbox": _mailbox(inst.mailbox.metrics()),
                "crash_traceback": inst.crash_traceback,
            }
        )
    delivered = sum(dep.instance.book_callbacks for dep in sequencer.deployed)
    events_here, delivered_here = sequencer.seq - since[0], delivered - since[1]
    return {
        "status": status,
        "wall_seconds": round(wall_seconds, 6),
        "events_per_second": round(events_here / wall_seconds) if wall_seconds else 0,
        "book_events_delivered": delivered,
        "book_events_per_second": round(delivered_here / wall_seconds) if wall_seconds else 0,
        "resumed_after_events": since[0] or None,
        "instances": instances,
        "venues": [_mailbox(lane.actor.mailbox.metrics()) for lane in sequencer.lanes],
        "sequencer": _mailbox(sequencer.mailbox.metrics()),
        "checkpoints": {
            "every_events": sequencer.checkpoint_every,
            "unavailable": sequencer.checkpoint_note,
            "skipped_on_resume": list(skipped_checkpoints),
        },
    }


def _mailbox(metrics: Any) -> dict[str, Any]:
    return {
        "name": metrics.name,
        "capacity": metrics.capacity,
        "overflow": metrics.overflow,
        "high_water": metrics.high_water,
        "received": metrics.received,
        "processed": metrics.processed,
        "dropped": metrics.dropped,
        "conflated": metrics.conflated,
    }


def _money(value: int) -> str:
    return f"{value / PRICE_SCALE:,.2f}"


def _size(value: int) -> str:
    return f"{value / SIZE_SCALE:,.4f}".rstrip("0").rstrip(".")


def _micros(ns: int) -> str:
    return f"{ns / 1000:.2f}"


def summary_table(summary: dict[str, Any], metrics: dict[str, Any]) -> RenderableType:
    """The summary for the terminal: two lines, any failure, one row per deployment, then
    a line per deployment with anything to report."""
    lines = [
        f"scenario {summary['scenario']!r}  seed {summary['seed']}  status {summary['status']}",
        (
            f"scenario time {summary['scenario_time_ns'] / 1e9:.3f} s  events {summary['events']:,}"
            f"  orders {summary['orders']:,}  fills {summary['fills']:,}"
            f"  wall {metrics['wall_seconds']:.2f} s"
            f"  ({metrics['book_events_per_second']:,} book events/s delivered)"
        ),
    ]
    if summary["failure"]:
        lines.append(f"FAILED: {summary['failure']}")
    if len(summary["deployments"]) > 1:
        lines.append(
            "net position across venues: "
            + (
                ", ".join(
                    f"{symbol} {_size(pos)}" for symbol, pos in summary["net_position"].items()
                )
                or "0"
            )
        )
    mismatches = summary["reconciliation"].get("mismatches")
    if mismatches:
        lines.append(f"RECONCILIATION: {len(mismatches)} mismatches, first: {mismatches[0]}")
    rows = table(
        "label",
        "venue",
        "state",
        "books",
        "orders",
        "fills",
        "position",
        "real. PnL",
        "unreal. PnL",
        "fees",
        "max DD",
        "cb p50 us",
        "cb p99 us",
        left=3,
    )
    latency = {item["label"]: item["callback_latency_ns"] for item in metrics["instances"]}
    for dep in summary["deployments"]:
        position = ", ".join(f"{sym} {_size(pos)}" for sym, pos in dep["position"].items()) or "0"
        lat = latency[dep["label"]]
        rows.add_row(
            dep["label"],
            dep["venue"],
            dep["state"],
            f"{dep['book_callbacks']:,}",
            f"{dep['orders']:,}",
            f"{dep['fills']:,}",
            position,
            _money(dep["realized_pnl"]),
            _money(dep["unrealized_pnl"]),
            _money(dep["fees"]),
            _money(dep["max_drawdown"]),
            _micros(lat["p50"]),
            _micros(lat["p99"]),
        )
    notes = [
        f"{dep['label']}: " + "; ".join(found)
        for dep in summary["deployments"]
        if (found := _notes(dep))
    ]
    return Group(*(_line(line) for line in lines), rows, *(_line(note) for note in notes))


def _notes(dep: dict[str, Any]) -> list[str]:
    """What a deployment has to report besides its row."""
    notes = []
    if dep["rejects"]:
        notes.append("rejects " + ", ".join(f"{k} {v}" for k, v in dep["rejects"].items()))
    for key, name in (
        ("refused_actions", "actions refused (over 16)"),
        ("messages_sent", "messages sent"),
        ("messages_received", "messages received"),
        ("messages_refused", "messages refused"),
        ("crashes", "crashes"),
        ("restarts", "restarts"),
        ("discarded_after_crash", "deliveries discarded after crash"),
    ):
        if dep[key]:
            notes.append(f"{name} {dep[key]}")
    if dep["crashed"]:
        notes.append(f"CRASHED at {dep['crashed_at_ns'] / 1e9:.6f} s: {dep['crashed']}")
    if dep["gave_up"]:
        notes.append(f"GAVE UP: {dep['gave_up']}")
    return notes


def _line(text: str) -> Text:
    """A line of the summary, in red when it reports a failure."""
    alarm = text.startswith(("FAILED", "RECONCILIATION")) or "CRASHED" in text or "GAVE UP" in text
    return Text(text, style="bold red" if alarm else "")


def mesh_table(mesh: dict[str, Any]) -> RenderableType:
    """``meshrt mesh``: the topology, then one row per directed link."""
    cc = mesh["coordinator"]
    nodes = table("label", "venue", "region", "state", left=4)
    for node in mesh["topology"]:
        nodes.add_row(node["label"], node["venue"], node["region"], node["state"])
    head = Text(f"coordinator in {cc['region']} (started {cc['generations']} time(s))")
    if not mesh["links"]:
        return Group(head, "", nodes, "", Text("no mesh messages were sent"))
    links = table(
        "from", "to", "sent", "delivered", "dropped", "in flight", "p50 ms", "p99 ms", left=2
    )
    for link in mesh["links"]:
        links.add_row(
            link["from"],
            link["to"],
            str(link["sent"]),
            str(link["delivered"]),
            ", ".join(f"{k} {v}" for k, v in link["dropped"].items()) or "0",
            str(link.get("in_flight", 0)),  # 0 in a run folder from before it was counted
            f"{link['latency_p50_ns'] / 1e6:.3f}",
            f"{link['latency_p99_ns'] / 1e6:.3f}",
        )
    return Group(head, "", nodes, "", links)
