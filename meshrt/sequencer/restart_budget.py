"""The restarts a deployment has used inside its policy's sliding period
(``RestartPolicy`` in meshrt/scenario/restart.py)."""

from __future__ import annotations

from collections import deque

from meshrt.scenario.restart import ON_FAILURE, RestartPolicy


class RestartBudget:
    """Restarts used inside the policy's sliding period."""

    __slots__ = ("policy", "_restarts")

    def __init__(self, policy: RestartPolicy) -> None:
        self.policy = policy
        self._restarts: deque[int] = deque()

    def allow(self, ts: int) -> bool:
        """Whether a crash at ``ts`` may be restarted; records the restart if so."""
        if self.policy.mode != ON_FAILURE:
            return False
        horizon = ts - self.policy.period_ns
        while self._restarts and self._restarts[0] <= horizon:
            self._restarts.popleft()
        if len(self._restarts) >= self.policy.max_restarts:
            return False
        self._restarts.append(ts)
        return True
