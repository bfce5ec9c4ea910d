"""Mesh topology values: where the coordinator sits and what links cost.

A message from one instance to another travels the link between their venues'
regions: by default 1-2 ms inside a region and 50-100 ms across regions, with no
loss. A ``Link`` overrides one region pair (both directions). Per (sender, receiver)
link the latency is a FIFO stream (see meshrt.scenario.latency) with its own seeded jitter
and loss draws, so adding a link never changes another link's randomness.
"""

from __future__ import annotations

import attrs

from meshrt.scenario.latency import Latency, millis
from meshrt.validators import (
    Rule,
    as_tuple,
    instance_of,
    optional,
    probability,
    text,
    tuple_of,
)

# a mesh link carries messages between windows, so it cannot be instantaneous
_link_latency = Rule(
    lambda v: isinstance(v, Latency) and v.base_ns > 0,
    "a meshrt Latency with a positive base (see meshrt.millis)",
)


@attrs.frozen(slots=True)
class Link:
    """Latency and loss between two regions (either order)."""

    a: str = attrs.field(validator=text)
    b: str = attrs.field(validator=text)
    latency: Latency = attrs.field(validator=_link_latency)
    loss: float = attrs.field(default=0.0, validator=probability)


@attrs.frozen(slots=True)
class Mesh:
    """The coordinator's region and the link model of a scenario."""

    coordinator_region: str | None = attrs.field(  # default: the first venue's region
        default=None, validator=optional(text)
    )
    same_region: Latency = attrs.field(default=millis(1, jitter_ms=1), validator=_link_latency)
    cross_region: Latency = attrs.field(default=millis(50, jitter_ms=50), validator=_link_latency)
    loss: float = attrs.field(default=0.0, validator=probability)
    links: tuple[Link, ...] = attrs.field(
        default=(),
        converter=as_tuple,
        validator=tuple_of(instance_of(Link, "a meshrt Link"), "meshrt Links"),
    )

    def link(self, a: str, b: str) -> tuple[Latency, float]:
        """Latency and loss rate between two regions."""
        for link in self.links:
            if {link.a, link.b} == {a, b}:
                return link.latency, link.loss
        return (self.same_region if a == b else self.cross_region), self.loss
