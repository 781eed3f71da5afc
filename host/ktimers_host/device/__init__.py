"""Device files: MicroPython programs the host runs on a board (read as text, never imported
on the host).

    unix_repl_server.py  the unix board's raw-REPL server (sent whole)
    fsops.py             file operations of flash and the transport (one function a call)
    romfsops.py          ROMFS segment queries of ``ktimers flash --romfs`` (the same)

``call("fsops.py", "_kt_tree", "/lib")`` is the program that defines that one function,
calls it once and deletes it, so a board's REPL namespace keeps nothing; each function is
self-contained (its imports are inside it) for that reason.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

DEVICE_DIR = Path(__file__).resolve().parent


def source(name: str) -> str:
    """Text of the device file ``name`` (e.g. ``"unix_repl_server.py"``)."""
    return (DEVICE_DIR / name).read_text()


@cache
def _functions(name: str) -> dict[str, str]:
    text = source(name)
    lines = text.splitlines()
    return {
        n.name: "\n".join(lines[n.lineno - 1 : n.end_lineno])
        for n in ast.parse(text).body
        if isinstance(n, ast.FunctionDef)
    }


def call(name: str, func: str, *args: object) -> str:
    """Program for the board: function ``func`` of device file ``name``, one call with
    ``args`` (their reprs: str, int, list and tuple of those), then ``del func``."""
    try:
        fn = _functions(name)[func]
    except KeyError:
        raise ValueError(f"device file {name} has no function {func}") from None
    return f"{fn}\n{func}({', '.join(repr(a) for a in args)})\ndel {func}\n"
