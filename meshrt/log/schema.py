"""The replay log's record types, format version 2: the one definition of every line.

A record is one JSON array, the ``ENVELOPE``; its ``type`` names a ``RecordType`` here,
which says what its payload holds (field names and the JSON types each may take), what
its key is, and whether it must name a venue and instrument. The builders
(meshrt/log/records.py, and the compiled feed commit in meshrt/actors/_commit.pyx) write
these types by name, the reader (meshrt/log/reader.py) checks each line against them,
and tests/test_log_schema.py runs every builder and checks the two agree. A change here
is a format change: docs/compat.md says when it bumps the version.
"""

from __future__ import annotations

from typing import Final

import attrs

from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE
from meshrt.venues.reports import (
    Accepted,
    Cancelled,
    CancelRejected,
    Filled,
    Rejected,
    Replaced,
    VenueReport,
)

ENVELOPE: Final = (
    "seq",
    "event_ts",
    "ingest_ts",
    "source",
    "venue",
    "instrument",
    "type",
    "payload",
    "key",
)

# the JSON types a field may take, as the Python types orjson reads them into
INT: Final[frozenset[type]] = frozenset({int})
STR: Final[frozenset[type]] = frozenset({str})
OPT_STR: Final[frozenset[type]] = frozenset({str, type(None)})
OPT_INT: Final[frozenset[type]] = frozenset({int, type(None)})
BOOL: Final[frozenset[type]] = frozenset({bool})
LIST: Final[frozenset[type]] = frozenset({list})
NUM: Final[frozenset[type]] = frozenset({int, float})
NULL: Final[frozenset[type]] = frozenset({type(None)})
# an algo's value as it gave it (logged, then judged)
SCALAR: Final[frozenset[type]] = frozenset({int, float, str, bool, type(None)})
ANY: Final[frozenset[type]] = frozenset({int, float, str, bool, type(None), list, dict})

Fields = tuple[tuple[str, frozenset[type]], ...]


@attrs.frozen(slots=True)
class RecordType:
    """One record type: ``name`` is the envelope's type, ``fields`` the payload's
    (name, allowed JSON types) in order, ``key`` the allowed types of the envelope's
    key; a ``located`` record must name its venue and instrument."""

    name: str
    fields: Fields
    key: frozenset[type] = NULL
    located: bool = False

    @property
    def field_names(self) -> list[str]:
        return [name for name, _ in self.fields]


def _feed(name: str, fields: Fields) -> RecordType:
    """A venue's market data: the key is the record's own seq."""
    return RecordType(name, fields, INT, located=True)


def _report(name: str, fields: Fields) -> RecordType:
    """A venue's order report: the key is the venue's idempotency key ``VENUE:N``; the
    last two fields are the order's status before and after."""
    return RecordType(
        name, (("order_id", INT), *fields, ("before", STR), ("after", STR)), STR, True
    )


SNAPSHOT: Final = _feed("snapshot", (("bids", LIST), ("asks", LIST)))
DELTA: Final = _feed("delta", (("side", INT), ("price", INT), ("size", INT)))
TRADE: Final = _feed("trade", (("aggressor", INT), ("price", INT), ("size", INT)))
FEED: Final = (SNAPSHOT, DELTA, TRADE)
# a venue's feed event kind -> the record it is logged as (meshrt/venues/events.py)
FEED_BY_KIND: Final = {FEED_SNAPSHOT: SNAPSHOT, FEED_DELTA: DELTA, FEED_TRADE: TRADE}

# a venue's report type (meshrt/venues/reports.py) -> the record it is logged as; the
# payload is the report's fields after ``ts`` up to those the record names (the order
# report contract's ``cum``, ``leaves``, ``exec_seq`` and a cancel reject's ``request``
# are left out where the record does not name them: a simulated venue reports in order,
# so a replay re-derives them), then the order's status before and after
REPORT_BY_TYPE: Final[dict[type[VenueReport], RecordType]] = {
    Accepted: _report("accepted", ()),
    Rejected: _report("rejected", (("reason", INT),)),
    Filled: _report(
        "fill",
        (("price", INT), ("size", INT), ("liquidity", INT), ("fee", INT), ("leaves", INT)),
    ),
    Cancelled: _report("cancelled", (("remaining", INT),)),
    CancelRejected: _report("cancel_rejected", (("reason", INT),)),
    Replaced: _report("replaced", (("price", INT), ("size", INT), ("leaves", INT))),
}
REPORTS: Final = tuple(REPORT_BY_TYPE.values())

# an intent holds the action as the algo gave it: a bad value is logged, then refused
INTENT: Final = RecordType(
    "intent",
    (
        ("kind", INT),
        ("side", SCALAR),
        ("tif", SCALAR),
        ("client_id", SCALAR),
        ("target", SCALAR),
        ("price", SCALAR),
        ("size", SCALAR),
    ),
)
INTENT_REJECTED: Final = RecordType(
    "intent_rejected",
    (("label", STR), ("client_id", SCALAR), ("reason", STR), ("detail", STR)),
)
ORDER_CREATED: Final = RecordType(
    "order_created",
    (("order_id", INT), ("label", STR), ("client_id", INT), ("from", STR), ("to", STR)),
    located=True,
)
# what the sequencer sends on its own account
CANCEL_SENT: Final = RecordType(
    "cancel_sent",
    (("order_id", INT), ("label", STR), ("cause", STR), ("from", STR), ("to", STR)),
)
REPLACE_SENT: Final = RecordType(
    "replace_sent", (("order_id", INT), ("label", STR), ("price", SCALAR), ("size", INT))
)

# control: the lifecycle schedule, crashes and supervision, injected faults, the run's end
CRASH: Final = RecordType("crash", (("label", STR), ("error", STR)))
RESTART_SCHEDULED: Final = RecordType("restart_scheduled", (("label", STR), ("at_ns", INT)))
GAVE_UP: Final = RecordType("gave_up", (("label", STR), ("reason", STR)))
RUN_END: Final = RecordType("run_end", (("scenario_time_ns", INT),))
CONTROLS: Final = (
    RecordType("lifecycle", (("label", STR), ("action", STR))),
    RecordType("restart", (("label", STR), ("restarts", INT))),
    RecordType("kill_instance", (("label", STR),)),
    RecordType("feed_down", (("venue", STR),)),
    RecordType("feed_up", (("venue", STR),)),
    RecordType("coordinator_killed", (("generation", INT),)),
    RecordType("coordinator_restarted", (("generation", INT),)),
    RecordType("partition", (("venue", STR), ("duration_ns", INT))),
    RecordType("partition_healed", (("venue", STR),)),
    RecordType(
        "drop_rate", (("sender", STR), ("receiver", STR), ("rate", NUM), ("duration_ns", INT))
    ),
    RecordType(
        "latency_spike",
        (("sender", STR), ("receiver", STR), ("extra_ns", INT), ("duration_ns", INT)),
    ),
)

# host calls of an algo
MESSAGE: Final = RecordType("message", (("label", STR), ("receiver", ANY), ("payload_hex", STR)))
SUBSCRIBE: Final = RecordType("subscribe", (("known", BOOL),))
UNSUBSCRIBE: Final = RecordType("unsubscribe", (("known", BOOL),))
SET_PARAM: Final = RecordType("set_param", (("name", ANY), ("value", ANY)))
LOG: Final = RecordType("log", (("message", ANY),))

# live mode (docs/live.md, "Paper mode"): the run's clock anchor, each live window's
# bounds, and what a live venue's sessions said besides feed events; the venue is the
# scenario's, the instrument the scenario symbol a resync or reference names (connection
# events and frame errors name none)
LIVE_CLOCK: Final = RecordType("live_clock", (("wall_ns", INT),))
LIVE_WINDOW: Final = RecordType("live_window", (("start", INT), ("until", INT)))
CONNECTED: Final = RecordType("connected", (("exchange", STR), ("attempt", INT)))
DISCONNECTED: Final = RecordType(
    "disconnected", (("exchange", STR), ("why", STR), ("reconnect_in_ns", INT))
)
RESYNC: Final = RecordType(
    "resync", (("exchange_symbol", STR), ("why", STR), ("detail", STR)), located=True
)
FRAME_ERROR: Final = RecordType(
    "frame_error", (("exchange", STR), ("where", STR), ("field", STR), ("reason", STR))
)
# an instrument's order rules in contract units (meshrt/venues/live/refdata.py), logged
# when the venue's reference for the symbol is new or changed: paper orders are checked
# against it, so a replay refuses the same ones
REFERENCE: Final = RecordType(
    "reference",
    (
        ("exchange", STR),
        ("exchange_symbol", STR),
        ("tick", INT),
        ("lot", INT),
        ("min_size", INT),
        ("min_notional", OPT_INT),
    ),
    located=True,
)
LIVE_NOTES: Final = (CONNECTED, DISCONNECTED, RESYNC, FRAME_ERROR, REFERENCE)

TYPES: Final[dict[str, RecordType]] = {
    record.name: record
    for record in (
        *FEED,
        *REPORTS,
        INTENT,
        INTENT_REJECTED,
        ORDER_CREATED,
        CANCEL_SENT,
        REPLACE_SENT,
        CRASH,
        RESTART_SCHEDULED,
        GAVE_UP,
        RUN_END,
        *CONTROLS,
        MESSAGE,
        SUBSCRIBE,
        UNSUBSCRIBE,
        SET_PARAM,
        LOG,
        LIVE_CLOCK,
        LIVE_WINDOW,
        *LIVE_NOTES,
    )
}
FEED_TYPES: Final = frozenset(record.name for record in FEED)
REPORT_TYPES: Final = frozenset(record.name for record in REPORTS)

ORDER_STATUSES: Final = frozenset(
    {
        "CREATED",
        "SUBMITTED",
        "ACCEPTED",
        "PARTIALLY_FILLED",
        "FILLED",
        "CANCEL_PENDING",
        "CANCELLED",
        "REJECTED",
    }
)

# The arrival-order ingress stand-in (meshrt/sequencer/ingress.py) writes a stream of its
# own, not the replay log: one JSON array of these fields per input (its builder:
# records.ingress_transition, the layout's description: there).
INGRESS_FIELDS: Final = (
    "seq",
    "event_ts",
    "ingest_ts",
    "type",
    "order_id",
    "before",
    "after",
    "filled",
    "position",
    "cash",
    "outcome",
    "venue",
    "key",
    "payload",
)
