"""meshrt: trading algorithms as a mesh of Trio actors around one sequencer."""

from importlib.metadata import PackageNotFoundError, version

from meshrt.contract import (
    ABI_VERSION as ABI_VERSION,
    PRICE_SCALE as PRICE_SCALE,
    SIZE_SCALE as SIZE_SCALE,
    ActionKind as ActionKind,
    Liquidity as Liquidity,
    RejectReason as RejectReason,
    Side as Side,
    TimeInForce as TimeInForce,
    price_to_int as price_to_int,
    size_to_int as size_to_int,
)
from meshrt.scenario.definition import (
    Deployment as Deployment,
    Scenario as Scenario,
    Venue as Venue,
    pause as pause,
    resume as resume,
    seconds as seconds,
    start as start,
    stop as stop,
)
from meshrt.scenario.faults import (
    DropRate as DropRate,
    KillCoordinator as KillCoordinator,
    KillFeed as KillFeed,
    KillInstance as KillInstance,
    LatencySpike as LatencySpike,
    Partition as Partition,
    RestartCoordinator as RestartCoordinator,
)
from meshrt.scenario.latency import Latency as Latency, micros as micros, millis as millis
from meshrt.scenario.limits import RiskLimits as RiskLimits, SandboxLimits as SandboxLimits
from meshrt.scenario.mesh import Link as Link, Mesh as Mesh
from meshrt.scenario.restart import (
    RestartPolicy as RestartPolicy,
    never as never,
    on_failure as on_failure,
)
from meshrt.sdk import (
    NBBO as NBBO,
    ActionLimitExceeded as ActionLimitExceeded,
    Actions as Actions,
    Algo as Algo,
    AlgoState as AlgoState,
    Book as Book,
    Features as Features,
    Fill as Fill,
    Message as Message,
    OpenOrder as OpenOrder,
    Reject as Reject,
)
from meshrt.venues.fees import FeeSchedule as FeeSchedule
from meshrt.venues.specs import (
    CaptureSpec as CaptureSpec,
    LiveSpec as LiveSpec,
    RecordedSpec as RecordedSpec,
    SyntheticSpec as SyntheticSpec,
)

try:
    __version__ = version("meshrt")  # one home for the number: pyproject.toml
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

# ``X as X`` marks a name as the public API; __all__ is what ``from meshrt import *`` (the
# scenario files' form) binds, so it names the same set.
__all__ = [
    "ABI_VERSION",
    "NBBO",
    "PRICE_SCALE",
    "SIZE_SCALE",
    "ActionKind",
    "ActionLimitExceeded",
    "Actions",
    "Algo",
    "AlgoState",
    "Book",
    "CaptureSpec",
    "Deployment",
    "DropRate",
    "Features",
    "FeeSchedule",
    "Fill",
    "KillCoordinator",
    "KillFeed",
    "KillInstance",
    "Latency",
    "LatencySpike",
    "Link",
    "Liquidity",
    "LiveSpec",
    "Mesh",
    "Message",
    "OpenOrder",
    "Partition",
    "RecordedSpec",
    "Reject",
    "RejectReason",
    "RestartCoordinator",
    "RestartPolicy",
    "RiskLimits",
    "SandboxLimits",
    "Scenario",
    "Side",
    "SyntheticSpec",
    "TimeInForce",
    "Venue",
    "__version__",
    "micros",
    "millis",
    "never",
    "on_failure",
    "pause",
    "price_to_int",
    "resume",
    "seconds",
    "size_to_int",
    "start",
    "stop",
]
