"""Build meshrt's compiled extensions; metadata is in pyproject.toml.

Hot loops are Cython (``.pyx``, compiled to C at build time into build/cython); the one
plain C file, _crashwatch.c, holds what must run without the GIL and uses no Python API.

- meshrt.loaders._dispatch: the WASM/native loaders' per-callback dispatcher, built on
  _pack (the inputs packed into the contract's structs) and _host (the host calls and WASM
  trampolines); _wasmtime binds wasmtime's C API by address. The contract layout from
  meshrt/include/meshrt.h is declared in _meshrt_h.pxd, the borrowed-reference C API in
  _borrowed.pxd; each module's own declarations are in its .pxd
- meshrt.venues._book (.pyx, with _book.pxd): the venue's displayed L2 book
- meshrt.venues._matching (.pyx, with _matching.pxd): the matching engine of virtual algo
  orders against that book
- meshrt.venues._feed (.pyx, with _feed.pxd): the venue's feed hot loop over that book and
  each symbol's venue-side state
- meshrt.actors._venue (.pyx, with _venue.pxd): the simulated venue's window step (feed
  and order arrivals); meshrt.actors._live_venue (.pyx) extends it for a live venue
- meshrt.venues._outputs, meshrt.actors._deliveries (.pyx): the per-book-update values
  (BookUpdate, BookDelivery), from free lists
- meshrt.venues._synthetic (.pyx): the seeded synthetic market-data generator
  (xoshiro256**), the compiled mirror of meshrt/venues/synthetic.py
- meshrt.venues._recording (.pyx): the reader of binary recordings (.mrec)
- meshrt.venues.live._kraken_book, _kraken_scan (.pyx, each with its .pxd) and
  _kraken_rule (.pyx): the live Kraken adapter's book (levels, truncation, CRC32), the
  scanner of its common v2 frame, and the book rule applied to a frame
- meshrt.venues.live._coinbase_book (.pyx, with .pxd) and _coinbase_rule (.pyx): the live
  Coinbase adapter's book and its book rule, with the scanner of the common ``l2update``
  frame (number text read by _kraken_scan's reading)
- meshrt.venues.live._verdicts (.pyx, with .pxd): ``Feed`` values built in C for both
  book rules
- meshrt.venues.live._levels (.pyx, with .pxd): one side of a live book, its levels in one
  C array with room at both ends (the base of both adapters' book sides)
- meshrt.venues.live._order_check (.pyx, with .pxd): a paper venue's check of an order's
  price and size against its instrument's reference, in C integers
- meshrt.scenario._latency (.pyx, with _latency.pxd): a latency stream's delivery times
  (the rule in the .pxd, shared with the feed commit)
- meshrt.actors._commit (.pyx, with _commit.pxd): the sequencer's commit loop for venue
  feed events
- meshrt.sequencer._merge (.pyx, with _merge.pxd): a window's venue streams committed as
  one, in order
- meshrt.sequencer._window (.pyx): the window driver (virtual time's windows back to back),
  with what falls due in a window in meshrt.sequencer._due (.pyx, with .pxd)
- meshrt.sequencer._live (.pyx, with .pxd): paper mode's clock and stepped live window;
  meshrt.sequencer._arrivals: what the live sessions hand over, cut into windows
- meshrt.sequencer.outputs, .desk, .seat, .risk (.pyx, with .pxd): an algo's actions
  committed (checked against the contract's ranges of _ranges.pxd, logged, sent on or
  refused), their records built by meshrt.log._intents (with the line buffer of
  _jsonbuf.pxd)
- meshrt.sequencer.id_ranges, order, ended, transitions, orders, reports (.pyx, with
  .pxd): the ids ever used, an order, ended orders' tombstones, its report transitions,
  the order state machine and report ingress (a venue report committed)
- meshrt.ledger (.pyx, with .pxd): a deployment's accounting, booked at every fill
- meshrt.sdk._actions (.pyx, with .pxd): the SDK's action buffer (``Actions``, re-exported
  by meshrt.sdk), the open-order view's bookkeeping and the 16-action limit
- meshrt.actors._deliver: the algo instance's book delivery loop (the action buffer read
  through _actions.pxd), and (_crashwatch.c) the fatal-signal handler and watchdog thread
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

FLAGS = ["-O2", "-std=gnu11", "-Wall", "-Wno-unused-function"]
CYTHON_DIRECTIVES = {"language_level": "3", "boundscheck": False, "wraparound": False,
                     "cdivision": True, "embedsignature": True}


def extension(name: str, c_sources: tuple[str, ...] = (), **kwargs: object) -> Extension:
    """The module's ``.pyx``, plus plain C files (no Python API) compiled into the same
    extension."""
    source = name.replace(".", "/") + ".pyx"
    return Extension(name, sources=[source, *c_sources], extra_compile_args=FLAGS, **kwargs)


LOADER_PXDS = [f"meshrt/loaders/{name}.pxd"
               for name in ("_wasmtime", "_host", "_pack", "_meshrt_h", "_borrowed")]
ORDER_PXDS = [f"meshrt/sequencer/{name}.pxd"
              for name in ("id_ranges", "order", "ended", "transitions", "orders")]
VERDICTS_PXD = "meshrt/venues/live/_verdicts.pxd"
LEVELS_PXD = "meshrt/venues/live/_levels.pxd"
KRAKEN_PXDS = [f"meshrt/venues/live/_kraken_{name}.pxd" for name in ("book", "scan")]
COINBASE_PXD = "meshrt/venues/live/_coinbase_book.pxd"
EXTENSIONS = [
    *(extension(f"meshrt.loaders.{name}", include_dirs=["meshrt/include"],
                depends=["meshrt/include/meshrt.h", *LOADER_PXDS])
      for name in ("_wasmtime", "_host", "_pack", "_dispatch")),
    extension("meshrt.venues._outputs"),
    extension("meshrt.venues._book"),
    extension("meshrt.venues._matching", depends=["meshrt/venues/_book.pxd"]),
    extension("meshrt.venues._feed", depends=["meshrt/venues/_matching.pxd"]),
    extension("meshrt.actors._venue",
              depends=["meshrt/venues/_feed.pxd", "meshrt/actors/_venue.pxd"]),
    extension("meshrt.actors._live_venue",
              depends=["meshrt/venues/_feed.pxd", "meshrt/actors/_venue.pxd",
                       "meshrt/venues/live/_order_check.pxd"]),
    extension("meshrt.venues._synthetic"),
    extension("meshrt.actors._deliveries"),
    extension("meshrt.venues._recording"),
    extension("meshrt.venues.live._kraken_book", depends=[KRAKEN_PXDS[0], LEVELS_PXD]),
    extension("meshrt.venues.live._kraken_scan", depends=[KRAKEN_PXDS[1]]),
    extension("meshrt.venues.live._verdicts"),
    extension("meshrt.venues.live._levels", depends=[LEVELS_PXD]),
    extension("meshrt.venues.live._order_check",
              depends=["meshrt/venues/live/_order_check.pxd"]),
    extension("meshrt.venues.live._kraken_rule",
              depends=[*KRAKEN_PXDS, LEVELS_PXD, VERDICTS_PXD]),
    extension("meshrt.venues.live._coinbase_book", depends=[COINBASE_PXD, LEVELS_PXD]),
    extension("meshrt.venues.live._coinbase_rule",
              depends=[COINBASE_PXD, LEVELS_PXD, KRAKEN_PXDS[1], VERDICTS_PXD]),
    extension("meshrt.scenario._latency", depends=["meshrt/scenario/_latency.pxd"]),
    extension("meshrt.actors._commit",
              depends=["meshrt/actors/_commit.pxd", "meshrt/log/_jsonbuf.pxd",
                       "meshrt/scenario/_latency.pxd"]),
    extension("meshrt.sequencer._merge",
              depends=["meshrt/actors/_commit.pxd", "meshrt/sequencer/_merge.pxd"]),
    extension("meshrt.sequencer._due",
              depends=["meshrt/sequencer/_due.pxd", "meshrt/actors/_deliveries.pxd"]),
    extension("meshrt.sequencer._window",
              depends=["meshrt/actors/_deliveries.pxd", "meshrt/actors/_deliver.pxd",
                       "meshrt/sequencer/_merge.pxd", "meshrt/sequencer/_due.pxd"]),
    extension("meshrt.sequencer._live", depends=["meshrt/log/_jsonbuf.pxd"]),
    extension("meshrt.sequencer._arrivals", depends=["meshrt/sequencer/_live.pxd"]),
    extension("meshrt.ledger", depends=["meshrt/ledger.pxd"]),
    extension("meshrt.sdk._actions",
              depends=["meshrt/sdk/_actions.pxd", "meshrt/contract/_ranges.pxd"]),
    extension("meshrt.sequencer.id_ranges", depends=["meshrt/sequencer/id_ranges.pxd"]),
    extension("meshrt.sequencer.order", depends=["meshrt/sequencer/order.pxd"]),
    extension("meshrt.sequencer.ended", depends=ORDER_PXDS),
    extension("meshrt.sequencer.transitions", depends=ORDER_PXDS),
    extension("meshrt.sequencer.orders", depends=ORDER_PXDS),
    extension("meshrt.sequencer.reports", depends=[*ORDER_PXDS, "meshrt/log/_jsonbuf.pxd",
                                                   "meshrt/scenario/_latency.pxd"]),
    extension("meshrt.log._intents", depends=["meshrt/log/_jsonbuf.pxd"]),
    extension("meshrt.sequencer.risk",
              depends=["meshrt/sequencer/risk.pxd", "meshrt/venues/_feed.pxd"]),
    extension("meshrt.sequencer.seat",
              depends=[*ORDER_PXDS, "meshrt/sequencer/seat.pxd", "meshrt/sequencer/risk.pxd",
                       "meshrt/ledger.pxd", "meshrt/scenario/_latency.pxd"]),
    extension("meshrt.sequencer.desk",
              depends=[*ORDER_PXDS, "meshrt/log/_intents.pxd", "meshrt/sequencer/risk.pxd",
                       "meshrt/sequencer/seat.pxd", "meshrt/contract/_ranges.pxd",
                       "meshrt/ledger.pxd", "meshrt/scenario/_latency.pxd"]),
    extension("meshrt.sequencer.outputs", depends=["meshrt/sequencer/desk.pxd"]),
    # the fatal-signal handler and watchdog thread run without the GIL: plain C
    extension("meshrt.actors._deliver", c_sources=("meshrt/actors/_crashwatch.c",),
              include_dirs=["meshrt/actors"],
              depends=["meshrt/actors/_crashwatch.h", "meshrt/actors/_deliver.pxd",
                       "meshrt/sdk/_actions.pxd", "meshrt/contract/_ranges.pxd"]),
]


setup(
    ext_modules=cythonize(
        EXTENSIONS,
        compiler_directives=CYTHON_DIRECTIVES,
        build_dir="build/cython",  # generated C stays out of the source tree
    )
)
