"""A scenario's values turned into what runs: the venue actors with their sources and
matching engines, each deployment's slot factory, and the sequencer's ``Topology``. The
runtime is the only package that reads a ``Scenario`` this way, so the sequencer and the
actors never import it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from meshrt.actors.instance import AlgoInstance
from meshrt.actors.live_venue import LiveVenueActor, ReceivedInput
from meshrt.actors.mailbox import Mailbox
from meshrt.actors.venue import VenueActor
from meshrt.loaders import algo_kind, load_slot, slot_context
from meshrt.loaders.python import PythonSlot, resolve_algo_class
from meshrt.scenario.definition import LIVE_SOURCES, Scenario, Venue
from meshrt.sequencer.topology import DeploymentSite, LifecycleAt, Topology, VenueSite
from meshrt.venues._matching import MatchingEngine
from meshrt.venues.live.playback import CaptureInput, Inbox
from meshrt.venues.sources import open_source
from meshrt.venues.specs import CaptureSpec, LiveSpec, RecordedSpec


def venue_actors(scenario: Scenario, mailbox: Mailbox[Any]) -> list[VenueActor]:
    """One actor per venue, each symbol's source opened (data paths against the
    scenario's folder) and given its own matching engine; a live venue gets one input
    of ``Received`` items for all its symbols (``live_input``)."""
    base_dir = Path(scenario.base_dir)
    actors: list[VenueActor] = []
    for i, venue in enumerate(scenario.venues):
        engines = [MatchingEngine(venue.fees) for _ in venue.sources]
        if is_live(venue):
            feed = live_input([_resolved(source, base_dir) for source in venue.sources])
            actors.append(LiveVenueActor(i, venue.name, venue.symbols, feed, engines, mailbox))
            continue
        sources = [open_source(_resolved(source, base_dir)) for source in venue.sources]
        actors.append(VenueActor(i, venue.name, venue.symbols, sources, engines, mailbox))
    return actors


def is_live(venue: Venue) -> bool:
    """Is the venue fed by ``Received`` items (validate: all its sources are, or none)?"""
    return isinstance(venue.sources[0], LIVE_SOURCES)


def is_paper(scenario: Scenario) -> bool:
    """Does the scenario run in wall-clock time: a venue on a live exchange feed?"""
    return any(isinstance(venue.sources[0], LiveSpec) for venue in scenario.venues)


def live_input(specs: list[Any]) -> ReceivedInput:
    """A capture played back in virtual time, or the inbox the live loop fills."""
    if all(isinstance(spec, CaptureSpec) for spec in specs):
        return CaptureInput(specs)
    if all(isinstance(spec, LiveSpec) for spec in specs):
        return Inbox()
    raise ValueError("a live venue's sources are all LiveSpec or all CaptureSpec")


def topology_of(scenario: Scenario) -> Topology:
    """What the sequencer needs of a scenario: where things are and how they are wired."""
    return Topology(
        venues=tuple(
            VenueSite(
                venue.name,
                venue.region,
                tuple(venue.symbols),
                venue.feed_latency,
                venue.order_latency,
            )
            for venue in scenario.venues
        ),
        deployments=tuple(
            DeploymentSite(
                dep.label,
                dep.venue,
                tuple(dep.symbols),
                dep.risk,
                dep.restart,
                tuple(LifecycleAt(step.at_ns, step.action) for step in dep.schedule),
            )
            for dep in scenario.deployments
        ),
        mesh=scenario.mesh,
        faults=tuple(scenario.faults),
        seed=scenario.seed,
        duration_ns=scenario.duration_ns,
    )


def slot_factory(scenario: Scenario, dep: Any, base_dir: Path) -> Callable[[AlgoInstance], Any]:
    """How an instance makes (and, when supervised, re-makes) its algo slot.

    A bad Python reference is bad input for the whole run; a WASM or native artifact that
    fails to load (preflight has already checked it) crashes only its own instance.
    """
    if algo_kind(dep.algo) == "python":
        cls = resolve_algo_class(dep.algo, base_dir)

        def make(instance: AlgoInstance) -> Any:
            return PythonSlot(cls, instance.host, instance.params)

        return make
    context = slot_context(scenario, dep)

    def load(instance: AlgoInstance) -> Any:
        return load_slot(dep, base_dir, instance.host, instance.params, context)

    return load


def _resolved(spec: Any, base_dir: Path) -> Any:
    """The spec with its files' relative paths taken from ``base_dir``."""
    if isinstance(spec, (RecordedSpec, CaptureSpec)) and not Path(spec.path).is_absolute():
        spec = attrs.evolve(spec, path=str(base_dir / spec.path))
    rest_log = getattr(spec, "rest_log", None)
    if rest_log is not None and not Path(rest_log).is_absolute():
        spec = attrs.evolve(spec, rest_log=str(base_dir / rest_log))
    return spec
