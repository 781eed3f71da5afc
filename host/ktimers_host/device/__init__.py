"""Device files: MicroPython programs the host runs on a board (read as text, never imported
on the host). ``unix_repl_server.py``: the unix board's raw-REPL server."""

from pathlib import Path

DEVICE_DIR = Path(__file__).resolve().parent


def source(name: str) -> str:
    """Text of the device file ``name`` (e.g. ``"unix_repl_server.py"``)."""
    return (DEVICE_DIR / name).read_text()
