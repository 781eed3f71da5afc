"""ktimers host harness: transport, board control, flash, validation, CLI, pytest plugin.

Typical use: ``with Board("unix") as b: b.exec("print(1 + 1)")`` (``ktimers_host.board``).
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
