"""The bundled market maker quotes both sides, is filled on both, and ends inside its limit.

Everything is read back from the replay log, as a user would: ``order_created`` maps an
order id to its deployment and client id, the deployment's ``intent`` records give each
client id's side, and ``fill`` records give the executions.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from meshrt.contract import ActionKind, Side
from meshrt.runtime.run import RunResult, run
from meshrt.scenario.definition import Scenario, load_scenario

BUNDLED = Path(__file__).resolve().parent.parent / "scenarios" / "market_maker.py"
LIVE = {"ACCEPTED", "PARTIALLY_FILLED", "CANCEL_PENDING"}


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, RunResult, list[Any]]:
    scenario = load_scenario(BUNDLED)
    out = tmp_path_factory.mktemp("bundled")
    result = run(scenario, out)
    lines = (out / "replay.jsonl").read_bytes().splitlines()
    assert orjson.loads(lines[0])["format"] == "meshrt-replay"
    return scenario, result, [orjson.loads(line) for line in lines[1:]]


def orders_by_id(records: list[Any], label: str) -> dict[int, dict[str, Any]]:
    """order id -> {side, tif, price} for the orders of one deployment."""
    intents: dict[int, list[int]] = {}
    for r in records:
        if r[6] == "intent" and r[3] == f"algo:{label}":
            kind, side, tif, client_id, _target, price, _size = r[7]
            if kind in (ActionKind.LIMIT, ActionKind.MARKET):
                intents[client_id] = [side, tif, price]
    orders = {}
    for r in records:
        if r[6] == "order_created" and r[7][1] == label:
            order_id, _, client_id = r[7][:3]
            side, tif, price = intents[client_id]
            orders[order_id] = {"side": Side(side), "tif": tif, "price": price}
    return orders


def test_the_run_is_ok_and_has_one_market_maker(bundled: Any) -> None:
    scenario, result, _ = bundled
    assert result.ok
    assert [d.label for d in scenario.deployments] == ["mm-1"]
    assert result.summary["deployments"][0]["crashed"] is None


def test_it_quotes_both_sides_at_the_same_time(bundled: Any) -> None:
    _, _, records = bundled
    orders = orders_by_id(records, "mm-1")
    assert {o["side"] for o in orders.values()} == {Side.BUY, Side.SELL}
    live: dict[int, Side] = {}
    two_sided = 0
    for r in records:
        if r[3].startswith("venue:") and r[6] in (
            "accepted",
            "replaced",
            "fill",
            "cancelled",
            "rejected",
            "cancel_rejected",
        ):
            order_id, status = r[7][0], r[7][-1]
            if order_id not in orders:
                continue
            if status in LIVE:
                live[order_id] = orders[order_id]["side"]
            else:
                live.pop(order_id, None)
            if set(live.values()) == {Side.BUY, Side.SELL}:
                two_sided += 1
    assert two_sided > 100, "a bid and an ask rest at the venue together, often"


def test_it_is_filled_on_both_sides(bundled: Any) -> None:
    _, result, records = bundled
    orders = orders_by_id(records, "mm-1")
    filled: Counter[Side] = Counter()
    count = 0
    for r in records:
        if r[6] == "fill" and r[7][0] in orders:
            filled[orders[r[7][0]]["side"]] += r[7][2]
            count += 1
    assert filled[Side.BUY] > 0 and filled[Side.SELL] > 0
    assert count == result.summary["deployments"][0]["fills"] == result.summary["fills"]


def test_it_ends_with_its_position_inside_the_risk_limit(bundled: Any) -> None:
    scenario, result, records = bundled
    (deployment,) = scenario.deployments
    limit = deployment.risk.max_position
    assert limit is not None
    orders = orders_by_id(records, deployment.label)
    symbol = deployment.symbols[0]
    position = 0
    worst = 0
    for r in records:
        if r[6] == "fill" and r[7][0] in orders:
            size = r[7][2]
            position += size if orders[r[7][0]]["side"] == Side.BUY else -size
            worst = max(worst, abs(position))
    final = result.summary["deployments"][0]["position"].get(symbol, 0)
    assert position == final, "the log and the summary agree on the position"
    assert abs(final) <= limit
    assert worst <= limit, "the position never left the limit during the run"
