"""Types of the Cython extension meshrt/loaders/_pack.pyx."""

from collections.abc import Callable
from typing import Any

from meshrt.loaders._host import Host

class Packer(Host):
    """The book shadow and the ledger's cached figures of one algo instance."""

    def __init__(
        self,
        wasm: bool,
        symbols: dict[str, int],
        venues: dict[str, int],
        host_call: Callable[..., Any],
        fault: Callable[[int, str], BaseException],
        ledger: Callable[[Any], tuple[int, int, int, int, tuple[Any, ...]]],
    ) -> None: ...
