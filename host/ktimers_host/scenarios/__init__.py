"""Device-side MicroPython scenario scripts (run on the board, not importable on the host).

``common.py`` holds the framed trace dumper and chunk runner; ``periodic.py``, ``hrrange.py`` and
``wheel.py`` each define one scenario family. :func:`source` returns their text for
``board.exec``.
"""

from __future__ import annotations

from importlib import resources

FILES = ("common", "periodic", "hrrange", "wheel", "soak")


def source(name: str) -> str:
    if name not in FILES:
        raise ValueError(f"unknown scenario file {name!r}")
    return resources.files(__name__).joinpath(f"{name}.py").read_text(encoding="utf-8")


def program(family: str, call: str) -> str:
    """The text to exec on the board: common + one family + the call."""
    return f"{source('common')}\n{source(family)}\n{call}\n"
