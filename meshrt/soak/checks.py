"""What makes one soak run a failure, as a typed signature a later shrinker can compare.

A run fails when it raised, when it did not end ok (an invariant violated: ``RunFailed``),
when an algo crashed of its own accord (every crash but the injected ones), when
reconciliation found something lost (an order's state differs between the sequencer and
its venue, or orders are missing from the count), when a deployment's position differs
from the net of its fills, or, for a sampled run, when running it again did not give the
same log bytes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import orjson

from meshrt.log.reader import LOG_NAME
from meshrt.runtime.replay import compare

RUN_FAILED = "run_failed"  # an invariant violated, or the run failed closed
RUN_RAISED = "run_raised"  # the run raised instead of ending: a runtime bug
ALGO_CRASH = "algo_crash"  # a deployment crashed, not by an injected fault
RECONCILIATION = "reconciliation"  # an order's state differs, or orders are unaccounted
POSITIONS = "positions"  # a ledger position differs from the net of its fills
DETERMINISM = "determinism"  # a second run's log differs
INJECTED = "InjectedFault:"
_DEPLOYMENT = re.compile(r"deployment '([^']+)'")


@attrs.frozen(slots=True)
class Failure:
    """One way a run failed: ``check`` (one of the names above), the deployment it names
    (None: the run as a whole) and the text that says what happened."""

    check: str
    deployment: str | None
    detail: str

    @property
    def signature(self) -> tuple[str, str | None]:
        """What two failures must share to be the same failure (for a shrinker)."""
        return (self.check, self.deployment)


def check_run(summary: dict[str, Any], run_dir: Path) -> tuple[Failure, ...]:
    """Every failure of the run whose summary is ``summary`` and folder ``run_dir``."""
    found: list[Failure] = []
    if summary["status"] != "ok":
        detail = str(summary["failure"] or summary["status"])
        found.append(Failure(RUN_FAILED, _named(detail), detail))
    found.extend(_algo_crashes(run_dir / LOG_NAME))
    rec = summary["reconciliation"]
    if not rec:
        return tuple(found)  # a failed run did not get to reconcile
    for mismatch in rec["mismatches"]:
        check = POSITIONS if mismatch.startswith("deployment ") else RECONCILIATION
        found.append(Failure(check, _named(mismatch), mismatch))
    if rec["orders"] != summary["orders"]:
        detail = f"{summary['orders']} orders logged but {rec['orders']} reconciled"
        found.append(Failure(RECONCILIATION, None, detail))
    return tuple(found)


def check_determinism(first: Path, second: Path) -> Failure | None:
    """A failure if the two runs' logs differ, naming the first record that does."""
    verdict = compare(first / LOG_NAME, second / LOG_NAME)
    if verdict.divergence is None:
        return None
    d = verdict.divergence
    return Failure(
        DETERMINISM, None, f"a second run diverges at seq {d.seq}: {d.logged} != {d.replayed}"
    )


def _algo_crashes(log: Path) -> list[Failure]:
    """Crash records whose error is not an injected fault's (one failure per deployment)."""
    found: dict[str, Failure] = {}
    for line in log.read_bytes().splitlines():
        if b',"crash",[' not in line:
            continue
        label, error = orjson.loads(line)[7]
        if not error.startswith(INJECTED) and label not in found:
            found[label] = Failure(ALGO_CRASH, label, error)
    return list(found.values())


def _named(text: str) -> str | None:
    match = _DEPLOYMENT.search(text)
    return match.group(1) if match else None
