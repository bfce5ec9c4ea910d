"""meshrt: trading algorithms as a mesh of Trio actors around one sequencer."""

from importlib.metadata import PackageNotFoundError, version

from meshrt.contract import (
    ABI_VERSION,
    PRICE_SCALE,
    SIZE_SCALE,
    ActionKind,
    Liquidity,
    RejectReason,
    Side,
    TimeInForce,
    price_to_int,
    size_to_int,
)
from meshrt.faults import (
    DropRate,
    KillCoordinator,
    KillFeed,
    KillInstance,
    LatencySpike,
    Partition,
    RestartCoordinator,
)
from meshrt.latency import Latency, micros, millis
from meshrt.mesh import Link, Mesh
from meshrt.loaders.limits import SandboxLimits
from meshrt.risk import RiskLimits
from meshrt.scenario import (
    Deployment,
    Scenario,
    Venue,
    pause,
    resume,
    seconds,
    start,
    stop,
)
from meshrt.sdk import (
    NBBO,
    ActionLimitExceeded,
    Actions,
    Algo,
    AlgoState,
    Book,
    Features,
    Fill,
    Message,
    OpenOrder,
    Reject,
)
from meshrt.supervision import RestartPolicy, never, on_failure
from meshrt.venues.matching import FeeSchedule
from meshrt.venues.sources import RecordedSpec, SyntheticSpec

try:
    __version__ = version("meshrt")  # one home for the number: pyproject.toml
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "DropRate", "KillCoordinator", "KillFeed", "KillInstance", "LatencySpike", "Link", "Mesh",
    "Partition", "RestartCoordinator", "RestartPolicy", "never", "on_failure",
    "ABI_VERSION", "NBBO", "PRICE_SCALE", "SIZE_SCALE", "ActionKind", "ActionLimitExceeded",
    "Actions", "Algo", "AlgoState", "Book", "Deployment", "FeeSchedule", "Features", "Fill",
    "Latency", "Liquidity", "Message", "OpenOrder", "RecordedSpec", "Reject", "RejectReason",
    "RiskLimits", "SandboxLimits", "Scenario", "Side", "SyntheticSpec", "TimeInForce", "Venue", "micros",
    "millis", "pause", "price_to_int", "resume", "seconds", "size_to_int", "start", "stop",
    "__version__",
]
