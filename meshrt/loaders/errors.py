"""Why an algo could not be loaded, or why a loaded one was terminated.

Load errors are raised before a run starts (``meshrt run`` reports them as bad input);
faults are raised from a slot call, and the instance actor terminates that instance
only, recording ``"FaultClass: message"`` as its crash reason.
"""

from __future__ import annotations


class AlgoLoadError(Exception):
    """An algo could not be loaded; the message names the algo and the reason."""


class AbiMismatch(AlgoLoadError):
    """A compiled algo speaks another ABI version than this meshrt."""


class ForbiddenImport(AlgoLoadError):
    """A WASM module imports something other than meshrt's host calls."""


class BadExport(AlgoLoadError):
    """A required export or symbol is missing, or has the wrong type."""


class AlgoFault(RuntimeError):
    """A compiled algo failed during a callback; its instance is terminated."""


class SandboxTrap(AlgoFault):
    """The WASM sandbox trapped (out-of-bounds access, unreachable, stack overflow ...)."""


class FuelExhausted(AlgoFault):
    """A WASM callback used up its fuel (an endless or too long computation)."""


class MemoryCapExceeded(AlgoFault):
    """A WASM module grew its linear memory past the deployment's cap."""


class BadAction(AlgoFault):
    """A compiled algo wrote an action the contract does not allow."""


class CallbackFailed(AlgoFault):
    """A compiled callback returned a nonzero error code."""


class BadInput(AlgoFault):
    """A value could not be packed into the contract's structs (out of range, too long)."""


# fault codes used by the compiled dispatcher (meshrt/loaders/_dispatch.pyx, _pack.pyx, _host.pyx)
FAULTS: dict[int, type[AlgoFault]] = {
    1: SandboxTrap,
    2: FuelExhausted,
    3: MemoryCapExceeded,
    4: BadAction,
    5: CallbackFailed,
    6: BadInput,
}
