"""meshrt.h matches the Python contract exactly: every size and offset, every constant."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from meshrt import contract
from meshrt.sdk import OPTIONAL_CALLBACKS
from meshrt.toolchain import include_dir

from c_algos import market_maker


def compile_and_run(tmp_path: Path, body: str) -> str:
    source = tmp_path / "probe.c"
    source.write_text(
        "#include <stdio.h>\n#include <stddef.h>\n#include <meshrt.h>\n"
        "int main(void) {\n" + body + "\n return 0;\n}\n"
    )
    exe = tmp_path / "probe"
    subprocess.run(
        [
            "cc",
            "-std=c11",
            "-Wall",
            "-Werror",
            "-I",
            str(include_dir()),
            "-o",
            str(exe),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout


def test_every_struct_field_has_the_python_offset_and_size(tmp_path: Path) -> None:
    lines = []
    expected = {}
    for table in contract.FIELD_TABLES:
        layout, _ = contract.FIELD_TABLES[table]
        lines.append(f'printf("{table} SIZE %zu 0\\n", sizeof({table}));')
        expected[(table, "SIZE")] = (layout.size, 0)
        for field, (offset, size) in contract.field_offsets(table).items():
            lines.append(
                f'printf("{table} {field} %zu %zu\\n", offsetof({table}, {field}), '
                f"sizeof((({table} *)0)->{field}));"
            )
            expected[(table, field)] = (offset, size)
    for member, offset in contract.IO_OFFSETS.items():
        if member != "size":
            lines.append(f'printf("mr_io {member} %zu 0\\n", offsetof(mr_io, {member}));')
            expected[("mr_io", member)] = (offset, 0)
    lines.append('printf("mr_io SIZE %zu 0\\n", sizeof(mr_io));')
    expected[("mr_io", "SIZE")] = (contract.IO_SIZE, 0)
    found = {}
    for line in compile_and_run(tmp_path, "\n".join(lines)).splitlines():
        table, field, offset, size = line.split()
        found[(table, field)] = (int(offset), int(size))
    assert len(expected) > 300  # every field of every struct, levels and items unrolled
    mismatched = {
        key: (found.get(key), want) for key, want in expected.items() if found.get(key) != want
    }
    assert not mismatched


def test_constants_match_the_contract(tmp_path: Path) -> None:
    checks = {
        "MESHRT_ABI_VERSION": contract.ABI_VERSION,
        "MR_BOOK_DEPTH": contract.BOOK_DEPTH,
        "MR_MAX_ACTIONS": contract.MAX_ACTIONS,
        "MR_MAX_PAYLOAD": contract.MAX_PAYLOAD,
        "MR_MAX_MESSAGES": contract.MAX_MESSAGES,
        "MR_MAX_LABEL": contract.MAX_LABEL,
        "MR_MAX_NBBO_VENUES": contract.MAX_NBBO_VENUES,
        "MR_PRICE_SCALE": contract.PRICE_SCALE,
        "MR_SIZE_SCALE": contract.SIZE_SCALE,
        "MR_SYMBOL_ALL": contract.SYMBOL_ALL,
        "MR_ORDER_ACCEPTED": contract.ORDER_ACCEPTED,
        "MR_ORDER_PENDING": contract.ORDER_PENDING,
        "MR_ORDER_HAS_PRICE": contract.ORDER_HAS_PRICE,
        "MR_BUY": contract.Side.BUY,
        "MR_SELL": contract.Side.SELL,
        "MR_GTC": contract.TimeInForce.GTC,
        "MR_IOC": contract.TimeInForce.IOC,
        "MR_POST_ONLY": contract.TimeInForce.POST_ONLY,
    }
    checks.update({f"MR_{kind.name}": kind.value for kind in contract.ActionKind})
    checks.update({f"MR_REJECT_{r.name}": r.value for r in contract.RejectReason})
    checks.update({f"MR_CAP_{name}": 1 << bit for bit, name in enumerate(OPTIONAL_CALLBACKS)})
    body = "\n".join(f'printf("{name} %lld\\n", (long long)({name}));' for name in checks)
    found = dict(line.split() for line in compile_and_run(tmp_path, body).splitlines())
    assert {name: int(value) for name, value in found.items()} == {
        name: int(value) for name, value in checks.items()
    }


def test_vtable_has_a_slot_per_callback_in_contract_order() -> None:
    header = (include_dir() / "meshrt.h").read_text()
    vtable = header[header.index("typedef struct mr_vtable") : header.index("} mr_vtable;")]
    names = re.findall(r"int32_t \(\*(on_\w+)\)\(void \*instance\);", vtable)
    assert tuple(names) == contract.CALLBACK_NAMES


def test_the_header_compiles_for_wasm32_with_its_static_asserts() -> None:
    artifacts = market_maker()  # zig cc, wasm32 freestanding: the _Static_asserts ran there
    assert artifacts["wasm"].read_bytes()[:4] == b"\0asm"
    assert artifacts["native"].stat().st_size > 0
