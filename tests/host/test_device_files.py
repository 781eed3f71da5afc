"""The device files that the host sends one function at a time (``device.call``): each
function must run on its own, so it may use only its arguments, its own names, what it
imports and MicroPython's builtins -- never another top-level name of its file."""

from __future__ import annotations

import ast

import pytest

from ktimers_host.device import DEVICE_DIR, call

# builtins these functions may use on MicroPython (a subset of CPython's)
BUILTINS = {
    "print", "open", "len", "range", "min", "max", "isinstance", "int", "str", "bytes",
    "bytearray", "memoryview", "OSError", "ImportError", "AttributeError", "TypeError",
}  # fmt: skip
FILES = ["fsops.py", "romfsops.py"]


def _free_names(fn: ast.FunctionDef) -> set[str]:
    bound = {a.arg for a in fn.args.args}
    used: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            (bound.add if isinstance(node.ctx, ast.Store) else used.add)(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef) and node is not fn:
            bound.add(node.name)
    return used - bound - BUILTINS


@pytest.mark.parametrize("name", FILES)
def test_every_device_function_is_self_contained(name: str) -> None:
    tree = ast.parse((DEVICE_DIR / name).read_text())
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert funcs, name
    # nothing but functions at the top level: the host never sends the rest
    assert all(isinstance(n, ast.FunctionDef) for n in tree.body), name
    for fn in funcs:
        assert fn.name.startswith("_kt_"), f"{name}: {fn.name} may clash with a user's name"
        assert _free_names(fn) == set(), f"{name}: {fn.name} uses names it does not define"
        prog = call(name, fn.name, *(["x"] * len(fn.args.args)))
        compile(prog, name, "exec")  # the program the board gets is whole
