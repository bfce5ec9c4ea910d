"""Mesh topology values: where the coordinator sits and what links cost.

A message from one instance to another travels the link between their venues'
regions: by default 1-2 ms inside a region and 50-100 ms across regions, with no
loss. A ``Link`` overrides one region pair (both directions). Per (sender, receiver)
link the latency is a FIFO stream (see meshrt.latency) with its own seeded jitter
and loss draws, so adding a link never changes another link's randomness.
"""

from __future__ import annotations

import attrs

from meshrt.latency import Latency, millis
from meshrt.validators import probability


@attrs.frozen(slots=True)
class Link:
    """Latency and loss between two regions (either order)."""

    a: str
    b: str
    latency: Latency
    loss: float = attrs.field(default=0.0, validator=probability)


@attrs.frozen(slots=True)
class Mesh:
    """The coordinator's region and the link model of a scenario."""

    coordinator_region: str | None = None  # default: the first venue's region
    same_region: Latency = millis(1, jitter_ms=1)
    cross_region: Latency = millis(50, jitter_ms=50)
    loss: float = attrs.field(default=0.0, validator=probability)
    links: tuple[Link, ...] = attrs.field(default=(), converter=tuple)

    def link(self, a: str, b: str) -> tuple[Latency, float]:
        """Latency and loss rate between two regions."""
        for link in self.links:
            if {link.a, link.b} == {a, b}:
                return link.latency, link.loss
        return (self.same_region if a == b else self.cross_region), self.loss
