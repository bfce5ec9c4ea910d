"""Per-deployment sandbox limits for WASM algos."""

from __future__ import annotations

import attrs

WASM_PAGE = 65_536


def _positive(instance: object, attribute: attrs.Attribute, value: int) -> None:  # type: ignore[type-arg]
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{attribute.name} must be a positive integer, got {value!r}")


@attrs.frozen(slots=True)
class SandboxLimits:
    """Fuel per callback and the linear-memory cap of a WASM deployment.

    Fuel is roughly one unit per WebAssembly instruction; the default lets a callback run
    for several milliseconds, far beyond any sane on_book, while an endless loop ends in
    FuelExhausted. The memory cap bounds the module's linear memory (initial size
    included); growing past it terminates the instance. Native algos are trusted code and
    run without these limits.
    """

    fuel_per_callback: int = attrs.field(default=10_000_000, validator=_positive)
    memory_bytes: int = attrs.field(default=16 * 1024 * 1024, validator=_positive)
