"""Build C test algos once per test process, and small WAT modules for bad-input tests."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

import wasmtime

from meshrt.toolchain import build

ROOT = Path(__file__).resolve().parent.parent
_OUT = Path(tempfile.mkdtemp(prefix="meshrt-test-algos-"))
_built: dict[tuple[str, str], dict[str, Path]] = {}


def built(source: str | Path, name: str | None = None) -> dict[str, Path]:
    """{'wasm': path, 'native': path} of a C source file, or of C text (then name it)."""
    if isinstance(source, str) and name is not None:
        path = _OUT / "src" / f"{name}.c"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        source = path
    key = (str(source), str(Path(source).stat().st_mtime_ns))
    if key not in _built:
        out = _OUT / f"build-{len(_built)}"
        _built[key] = {a.target: a.path for a in build(Path(source), out)}
    return _built[key]


def market_maker() -> dict[str, Path]:
    return built(ROOT / "scenarios" / "algos" / "market_maker.c")


C_PRELUDE = """
#include <meshrt.h>
static int64_t token;
void *t_create(mr_ctx *cx) { (void)cx; return &token; }
void t_destroy(void *self) { (void)self; }
int t_on_fill(void *s, mr_ctx *cx, const mr_fill *f) { (void)s, (void)cx, (void)f; return 0; }
int t_on_reject(void *s, mr_ctx *cx, const mr_reject *r) { (void)s, (void)cx, (void)r; return 0; }
"""


def c_algo(name: str, on_book_body: str, extra: str = "", exports: str = "t") -> dict[str, Path]:
    """A C algo whose on_book runs `on_book_body` (self, cx, book in scope)."""
    source = (
        C_PRELUDE + extra + "\nint t_on_book(void *self, mr_ctx *cx, const mr_book *book,"
        " const mr_features *f) {\n (void)self, (void)cx, (void)book, (void)f;\n"
        + on_book_body
        + "\n return 0;\n}\nMESHRT_ALGO("
        + exports
        + ")\n"
    )
    return built(source, name)


def wat_module(
    tmp: Path,
    name: str,
    on_book: str = "(i32.const 0)",
    imports: str = "",
    abi: int = 1,
    extra_exports: str = "",
    skip: tuple[str, ...] = (),
    memory_pages: int = 1,
) -> Path:
    """A minimal module with meshrt's exports; I/O area at 1024. `skip` leaves exports out."""
    exports = {
        "meshrt_abi_version": (
            f'(func (export "meshrt_abi_version") (result i32) (i32.const {abi}))'
        ),
        "meshrt_io": '(func (export "meshrt_io") (result i32) (i32.const 1024))',
        "meshrt_create": '(func (export "meshrt_create") (result i32) (i32.const 0))',
        "meshrt_destroy": '(func (export "meshrt_destroy") (result i32) (i32.const 0))',
        "on_book": f'(func (export "on_book") (result i32) {on_book})',
        "on_fill": '(func (export "on_fill") (result i32) (i32.const 0))',
        "on_reject": '(func (export "on_reject") (result i32) (i32.const 0))',
    }
    body = "\n".join(text for key, text in exports.items() if key not in skip)
    wat = f'(module {imports}\n (memory (export "memory") {memory_pages})\n{body}\n{extra_exports})'
    path = tmp / f"{name}.wasm"
    path.write_bytes(wasmtime.wat2wasm(wat))
    return path
