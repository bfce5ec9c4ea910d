"""Export a module's mutable globals, so a checkpoint can read and write them.

A WASM instance's state is its linear memory plus its mutable globals. wasmtime's C API
reaches a global only through an export, and a C module's globals are not exported (clang
keeps ``__stack_pointer`` private). Before a module is compiled, the loader appends one
export per mutable global that has none, named ``meshrt.global.N`` (N is the global's
index); the module is otherwise byte-for-byte the same. Nothing in the module can see the
extra exports.

The parse covers what the module needs to be rewritten: section framing, the global
section (value types and constant initializers) and the export section. A module this
code cannot parse is left as it is (wasmtime then reports what is wrong with it, or, if it
is fine, its checkpoints report that some globals are out of reach).
"""

from __future__ import annotations

EXPORT_PREFIX = "meshrt.global."
_GLOBAL_SECTION, _EXPORT_SECTION = 6, 7
_EXPORT_GLOBAL = 3
# value types with a one-byte encoding: i32 i64 f32 f64 v128 funcref externref
_VALTYPES = frozenset({0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F})


class _Unparsable(Exception):
    pass


def _uleb(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise _Unparsable
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def _leb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _skip_const_expr(data: bytes, at: int) -> int:
    """Past a constant expression's ``end``; _Unparsable on an instruction not known here."""
    while True:
        if at >= len(data):
            raise _Unparsable
        op = data[at]
        at += 1
        if op == 0x0B:  # end
            return at
        if op in (0x41, 0x42, 0x23, 0xD2):  # i32.const, i64.const, global.get, ref.func
            _, at = _uleb(data, at)  # a signed LEB is skipped like an unsigned one
        elif op == 0x43:  # f32.const
            at += 4
        elif op == 0x44:  # f64.const
            at += 8
        elif op == 0xD0:  # ref.null heaptype
            at += 1
        elif op == 0xFD:  # v128.const
            sub, at = _uleb(data, at)
            if sub != 12:
                raise _Unparsable
            at += 16
        elif op in (0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E):  # extended-const arithmetic
            continue
        else:
            raise _Unparsable


def _sections(data: bytes) -> dict[int, tuple[int, int, int]]:
    """id -> (where its header starts, payload start, payload end), for the known sections."""
    if not data.startswith(b"\0asm") or len(data) < 8:
        raise _Unparsable
    out = {}
    at = 8
    while at < len(data):
        section = data[at]
        size, start = _uleb(data, at + 1)
        end = start + size
        if end > len(data) or (section and section in out):
            raise _Unparsable
        if section:  # custom sections (0) may repeat and are kept as they are
            out[section] = (at, start, end)
        at = end
    return out


def _mutable_globals(data: bytes, start: int, end: int) -> list[int]:
    count, at = _uleb(data, start)
    mutable = []
    for index in range(count):
        if at + 2 > end or data[at] not in _VALTYPES or data[at + 1] not in (0, 1):
            raise _Unparsable
        if data[at + 1] == 1:
            mutable.append(index)
        at = _skip_const_expr(data, at + 2)
    if at != end:
        raise _Unparsable
    return mutable


def _exported_globals(data: bytes, start: int, end: int) -> tuple[int, set[int]]:
    count, at = _uleb(data, start)
    exported = set()
    for _ in range(count):
        length, at = _uleb(data, at)
        at += length
        if at >= end:
            raise _Unparsable
        kind = data[at]
        index, at = _uleb(data, at + 1)
        if kind == _EXPORT_GLOBAL:
            exported.add(index)
    if at != end:
        raise _Unparsable
    return count, exported


def export_mutable_globals(data: bytes) -> tuple[bytes, int]:
    """(module with every mutable global exported, how many stayed out of reach).

    Out of reach is 0 when every mutable global is exported (also when there are none),
    and -1 when the module could not be parsed (it is returned unchanged).
    """
    try:
        sections = _sections(data)
        if _GLOBAL_SECTION not in sections:
            return data, 0
        mutable = _mutable_globals(data, *sections[_GLOBAL_SECTION][1:])
        if _EXPORT_SECTION not in sections:
            return data, len(mutable)  # no exports at all: not an algo; inspect refuses it
        header, start, end = sections[_EXPORT_SECTION]
        count, exported = _exported_globals(data, start, end)
        _, entries = _uleb(data, start)
    except _Unparsable:
        return data, -1
    missing = [index for index in mutable if index not in exported]
    if not missing:
        return data, 0
    body = bytearray(_leb(count + len(missing)))
    body += data[entries:end]
    for index in missing:
        name = f"{EXPORT_PREFIX}{index}".encode()
        body += _leb(len(name)) + name + bytes([_EXPORT_GLOBAL]) + _leb(index)
    rewritten = (
        data[:header] + bytes([_EXPORT_SECTION]) + _leb(len(body)) + bytes(body) + data[end:]
    )
    return rewritten, 0
