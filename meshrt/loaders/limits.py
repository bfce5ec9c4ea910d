"""Per-deployment sandbox limits for WASM algos."""

from __future__ import annotations

import attrs

from meshrt.validators import integer

WASM_PAGE = 65_536


@attrs.frozen(slots=True)
class SandboxLimits:
    """Fuel per callback and the linear-memory cap of a WASM deployment.

    Fuel is roughly one unit per WebAssembly instruction; the default lets a callback run
    for several milliseconds, far beyond any sane on_book, while an endless loop ends in
    FuelExhausted. The memory cap bounds the module's linear memory (initial size
    included); growing past it terminates the instance. Native algos are trusted code and
    run without these limits.
    """

    fuel_per_callback: int = attrs.field(
        default=10_000_000, validator=integer("a positive integer (within 64 bits)", 1)
    )
    memory_bytes: int = attrs.field(
        default=16 * 1024 * 1024,
        validator=integer(
            "a positive integer of bytes, at most 4 GiB (32-bit WebAssembly)", 1, 2**32
        ),
    )
