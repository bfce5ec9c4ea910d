"""Types of the Cython extension meshrt/loaders/_host.pyx."""

from collections.abc import Callable
from typing import Any

class Host:
    """The host an algo instance calls back into: names, Python host calls, its memory."""

    def __init__(
        self,
        wasm: bool,
        symbols: dict[str, int],
        host_call: Callable[..., Any],
        fault: Callable[[int, str], BaseException],
    ) -> None: ...

def trampolines() -> dict[str, int]: ...
