"""Clock hardware backends: one module per board family, each a ClockHw class
(docs/DESIGN.md, "Backend contract").  Imported lazily by ktimers.core.init()."""

import sys


def load(name):
    """The ClockHw class of backend name; ValueError naming it if unknown.  Task context."""
    if name == "unix":
        from . import unix as m
    elif name == "sim":
        from . import sim as m
    elif name == "mps2":
        from . import mps2 as m
    elif name == "rp2":
        from . import rp2 as m
    elif name == "esp32":
        from . import esp32 as m
    elif name == "pyb":
        from . import pyb as m
    elif name == "machine":
        from . import machine as m
    else:
        raise ValueError("init: unknown backend %r" % (name,))
    return m.ClockHw


def board_config():
    """The board file's keys (ktimers_board.py: its upper-case names), or {}."""
    try:
        import ktimers_board as b
    except ImportError:
        return {}
    return {k: getattr(b, k) for k in dir(b) if k.isupper()}


def autodetect():
    """The backend for this port, by sys.platform."""
    p = sys.platform
    if p in ("linux", "darwin"):
        return "unix"
    if p == "qemu":
        return "mps2"
    if p in ("rp2", "esp32"):
        return p
    if p == "pyboard":
        return "pyb"
    return "machine"
