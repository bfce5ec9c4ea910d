"""Fault injection: what a scenario's fault schedule (or a test) can break, and when.

Each fault is a value with a time; ``Scenario(faults=[...])`` runs them. All of them
are deterministic: a fault schedule plus the scenario's seed always gives the same
replay log, so a failing seed reproduces exactly (docs/faults.md).
"""

from __future__ import annotations

import attrs

from meshrt.validators import (
    flag,
    non_negative_ns,
    optional,
    positive_ns,
    probability,
    text,
)


@attrs.frozen(slots=True)
class KillInstance:
    """The instance crashes at ``at_ns`` as if its callback had raised."""

    label: str = attrs.field(validator=text)
    at_ns: int = attrs.field(validator=non_negative_ns)


@attrs.frozen(slots=True)
class KillFeed:
    """The venue's market data stops reaching algos at ``at_ns``; the venue's book keeps
    moving and orders still match against it. With ``duration_ns`` the feed comes back
    after that long, showing the book as it is then."""

    venue: str = attrs.field(validator=text)
    at_ns: int = attrs.field(validator=non_negative_ns)
    duration_ns: int | None = attrs.field(default=None, validator=optional(positive_ns))


@attrs.frozen(slots=True)
class KillCoordinator:
    """The coordinator dies at ``at_ns``: routing and NBBO stop, its state is lost."""

    at_ns: int = attrs.field(validator=non_negative_ns)


@attrs.frozen(slots=True)
class RestartCoordinator:
    """A new coordinator starts at ``at_ns`` with empty state; routing comes back."""

    at_ns: int = attrs.field(validator=non_negative_ns)


@attrs.frozen(slots=True)
class Partition:
    """The venue edge loses the coordinator for ``duration_ns``: its instances keep
    trading on the local feed; mesh messages in and out are dropped; NBBO stops."""

    venue: str = attrs.field(validator=text)
    at_ns: int = attrs.field(validator=non_negative_ns)
    duration_ns: int = attrs.field(validator=positive_ns)


@attrs.frozen(slots=True)
class DropRate:
    """Messages from ``sender`` to ``receiver`` (labels) are lost with ``rate`` for
    ``duration_ns``; ``both_ways`` applies it to the reverse direction too."""

    sender: str = attrs.field(validator=text)
    receiver: str = attrs.field(validator=text)
    rate: float = attrs.field(validator=probability)
    at_ns: int = attrs.field(validator=non_negative_ns)
    duration_ns: int = attrs.field(validator=positive_ns)
    both_ways: bool = attrs.field(default=True, validator=flag)


@attrs.frozen(slots=True)
class LatencySpike:
    """Messages from ``sender`` to ``receiver`` take ``extra_ns`` longer for ``duration_ns``."""

    sender: str = attrs.field(validator=text)
    receiver: str = attrs.field(validator=text)
    extra_ns: int = attrs.field(validator=positive_ns)
    at_ns: int = attrs.field(validator=non_negative_ns)
    duration_ns: int = attrs.field(validator=positive_ns)
    both_ways: bool = attrs.field(default=True, validator=flag)


Fault = (
    KillInstance
    | KillFeed
    | KillCoordinator
    | RestartCoordinator
    | Partition
    | DropRate
    | LatencySpike
)
FAULT_TYPES = (
    KillInstance,
    KillFeed,
    KillCoordinator,
    RestartCoordinator,
    Partition,
    DropRate,
    LatencySpike,
)
