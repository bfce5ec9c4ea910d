"""Test paths, and each test's kind: unit, property or end-to-end (docs/testing-the-runtime.md).

A module's kind is declared once in ``MODULE_KINDS``; a test of another kind in that module
says so with its own marker (``@pytest.mark.e2e``, ``@pytest.mark.property``). Collection
fails for a module not in the table, a test with two kinds, or a kind that contradicts
how the test is driven (a hypothesis test is a property test, and only it is).
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# tests import their helpers and the bundled scenarios' algos by module name
for path in (ROOT / "tests", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

KINDS = ("unit", "property", "e2e")

# unit: one module's logic, in process; property: hypothesis-driven; e2e: runs a
# scenario, a subprocess or the CLI
MODULE_KINDS = {
    "test_actions": "unit",
    "test_bad_algos": "unit",
    "test_book": "unit",
    "test_capture_playback": "e2e",
    "test_bundled_scenario": "e2e",
    "test_c_header": "unit",
    "test_capture": "unit",
    "test_cli_errors": "e2e",
    "test_cluster": "e2e",
    "test_compat": "e2e",
    "test_console": "unit",
    "test_compiled_checkpoints": "unit",
    "test_compiled_loaders": "unit",
    "test_compiled_rules": "property",
    "test_deliver": "unit",
    "test_determinism": "e2e",
    "test_ended_orders": "unit",
    "test_docs_examples": "e2e",
    "test_docs_links": "unit",
    "test_faults": "e2e",
    "test_id_ranges": "unit",
    "test_intel": "unit",
    "test_ingress_properties": "property",
    "test_intent_records": "unit",
    "test_live_step": "unit",
    "test_interrupts": "e2e",
    "test_layers": "unit",
    "test_paper_faults": "e2e",
    "test_paper_venuesim": "e2e",
    "test_paper": "e2e",
    "test_live_venue": "unit",
    "test_live_binance": "unit",
    "test_live_kraken": "unit",
    "test_live_connections": "unit",
    "test_live_session": "unit",
    "test_ledger": "unit",
    "test_live_coinbase": "unit",
    "test_coinbase_scan": "unit",
    "test_log_order": "e2e",
    "test_log_schema": "unit",
    "test_mailbox": "unit",
    "test_matching": "unit",
    "test_mesh": "e2e",
    "test_orders": "unit",
    "test_parity": "e2e",
    "test_recording": "unit",
    "test_recovery": "e2e",
    "test_replay": "e2e",
    "test_report": "unit",
    "test_report_browser": "e2e",
    "test_replaylog": "e2e",
    "test_risk": "unit",
    "test_rng": "unit",
    "test_run_folders": "unit",
    "test_run_integrity": "e2e",
    "test_run_overrides": "e2e",
    "test_runtime": "e2e",
    "test_scenario_errors": "e2e",
    "test_scenario_values": "unit",
    "test_soak": "e2e",
    "test_sdk": "unit",
    "test_sweep": "e2e",
    "test_sources": "unit",
    "test_synthetic_mirror": "property",
    "test_testing_plugin": "e2e",
    "test_toolchain": "e2e",
    "test_trace_tca": "e2e",
    "test_venuesim": "unit",
}


def _kind_problem(item: pytest.Item) -> str | None:
    """Give ``item`` its kind marker; say what is wrong if it cannot have exactly one."""
    module = item.module.__name__ if isinstance(item, pytest.Function) else None
    if module not in MODULE_KINDS:
        return f"module {module!r} has no kind in tests/conftest.py MODULE_KINDS"
    own = [mark.name for mark in item.iter_markers() if mark.name in KINDS]
    if len(own) > 1:
        return f"{len(own)} kinds {own}: a test has exactly one"
    kind = own[0] if own else MODULE_KINDS[module]
    hypothesis_driven = getattr(item.obj, "is_hypothesis_test", False)
    if hypothesis_driven != (kind == "property"):
        return (
            f"kind {kind!r} but {'' if hypothesis_driven else 'not '}hypothesis-driven: "
            "property tests are exactly the hypothesis tests"
        )
    if not own:
        item.add_marker(getattr(pytest.mark, kind))
    return None


@pytest.hookimpl(tryfirst=True)  # before -m selects by kind
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    problems = [
        f"{item.nodeid}: {problem}"
        for item in items
        if (problem := _kind_problem(item)) is not None
    ]
    if problems:
        raise pytest.UsageError("tests without exactly one kind:\n" + "\n".join(problems))
