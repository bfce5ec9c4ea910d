"""Types of the Cython extension meshrt/loaders/_dispatch.pyx."""

from collections.abc import Callable
from typing import Any, final

from meshrt.loaders._pack import Packer

@final
class Dispatcher(Packer):
    """One compiled algo instance's calls: packing, dispatch, host calls."""

    def __init__(
        self,
        wasm: bool,
        symbols: dict[str, int],
        venues: dict[str, int],
        host_call: Callable[..., Any],
        replay: Callable[[tuple[tuple[int, ...], ...], int, Any], Any],
        fault: Callable[[int, str], BaseException],
        ledger: Callable[[Any], tuple[int, int, int, int, tuple[Any, ...]]],
    ) -> None: ...
    def on_book(self, book: Any, state: Any, features: Any, actions: Any, /) -> Any: ...
    def call(
        self, index: int, state: Any, actions: Any, payload: bytes | None, offset: int, /
    ) -> Any: ...
    def invoke(self, index: int) -> int: ...
    def bind_native(
        self,
        create: int,
        destroy: int,
        callbacks: tuple[int, ...],
        restore: int | None = None,
        data: bytes | None = None,
        io: bytes | None = None,
    ) -> bool: ...
    def snapshot_native(self, entry: int) -> bytes: ...
    def bind_wasm(
        self, context: int, funcs: dict[int, bytes], memory: bytes, fuel: int, memory_cap: int
    ) -> None: ...
    def set_io(self, offset: int) -> None: ...
    def io_view(self) -> memoryview: ...
    def close(self) -> None: ...

def layout() -> dict[str, int]: ...
