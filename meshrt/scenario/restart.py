"""Supervision policy of a deployment: restart on failure within a budget, like OTP.

``max_restarts`` within ``period_ns`` of scenario time: one more crash inside the
period gives up, stops the deployment, and says why. What happens to a crashed
instance's resting orders is separate: ``cancel`` (default, nobody manages them any
more) or ``leave`` (a restarted instance takes them over). The sequencer keeps the
budget (meshrt/sequencer/restart_budget.py).
"""

from __future__ import annotations

import attrs

from meshrt.validators import integer, non_negative_ns, one_of, positive_ns

NEVER = "never"
ON_FAILURE = "on_failure"
CANCEL = "cancel"
LEAVE = "leave"


@attrs.frozen(slots=True)
class RestartPolicy:
    mode: str = attrs.field(default=NEVER, validator=one_of(NEVER, ON_FAILURE))
    max_restarts: int = attrs.field(
        default=3, validator=integer("an integer >= 0 (within 64 bits)", 0)
    )
    period_ns: int = attrs.field(default=60_000_000_000, validator=positive_ns)
    delay_ns: int = attrs.field(default=10_000_000, validator=non_negative_ns)
    on_crash_orders: str = attrs.field(default=CANCEL, validator=one_of(CANCEL, LEAVE))


def never(on_crash_orders: str = CANCEL) -> RestartPolicy:
    return RestartPolicy(NEVER, on_crash_orders=on_crash_orders)


def on_failure(
    max_restarts: int = 3,
    period_ns: int = 60_000_000_000,
    delay_ns: int = 10_000_000,
    on_crash_orders: str = CANCEL,
) -> RestartPolicy:
    return RestartPolicy(ON_FAILURE, max_restarts, period_ns, delay_ns, on_crash_orders)
