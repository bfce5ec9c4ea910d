"""Check an ELF shared library's headers before dlopen sees it.

dlopen maps the segments the program headers describe; in a truncated file they reach
past its end, and the first touch of such a page kills the process with SIGBUS. Reading
the headers first turns that into a one-line reason.
"""

from __future__ import annotations

import struct

MAGIC = b"\x7fELF"
ET_DYN = 3
PT_LOAD = 1
# (class byte) -> header fields: e_type, e_phoff, e_shoff, e_phentsize, e_phnum,
# e_shentsize, e_shnum; then program-header fields: p_type, p_offset, p_filesz
_LAYOUT = {
    1: ("H10xI I I 6x H H H H", 52, "I I 8x I"),
    2: ("H14xQ Q 6x H H H H", 64, "I 4x Q 16x Q"),
}


def elf_problem(data: bytes) -> str | None:
    """Why ``data`` is not a loadable ELF shared library, or None if its headers hold."""
    if not data.startswith(MAGIC):
        return "no ELF magic number"
    if len(data) < 16:
        return f"truncated: {len(data)} bytes, shorter than an ELF identification"
    if data[4] not in _LAYOUT or data[5] not in (1, 2):
        return "unknown ELF class or byte order"
    header, header_size, program = _LAYOUT[data[4]]
    order = "<" if data[5] == 1 else ">"
    if len(data) < header_size:
        return f"truncated: {len(data)} bytes, shorter than its ELF header"
    e_type, phoff, shoff, phentsize, phnum, shentsize, shnum = struct.unpack_from(
        order + header.replace(" ", ""), data, 16
    )
    if e_type != ET_DYN:
        return f"ELF type {e_type}, not a shared object (type {ET_DYN})"
    needed = max(phoff + phentsize * phnum, shoff + shentsize * shnum if shoff else 0)
    entry = struct.Struct(order + program.replace(" ", ""))
    if phoff + phentsize * phnum <= len(data) and phentsize >= entry.size:
        for i in range(phnum):
            p_type, offset, filesz = entry.unpack_from(data, phoff + i * phentsize)
            if p_type == PT_LOAD:
                needed = max(needed, offset + filesz)
    if needed > len(data):
        return f"truncated: the file has {len(data):,} bytes, its ELF headers describe {needed:,}"
    return None
