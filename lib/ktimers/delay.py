"""ktimers.delay -- busy delays (linux/delay.h): ndelay, udelay, mdelay.

Usage:
    from ktimers import *
    udelay(10)                      # busy wait on the clocksource

They spin on the raw counter with small ints: any context (hard IRQ
included), allocation-free while the delay is under half the counter wrap.
Loaded with the package; the sleeping functions (msleep ...) are in
ktimers.sleep, loaded on first use.
"""

from . import core


def _spin(cycles):
    hw = core.hw
    relax = getattr(hw, "cpu_relax", None)
    half = core._HALF - 1
    while cycles > 0:
        step = cycles if cycles < half else half
        start = hw.cs_read()
        if relax is not None:
            relax(step)
        while core.raw_diff(hw.cs_read(), start) < step:
            pass
        cycles -= step


def _chk(fn, arg, v):
    if type(v) is not int:
        raise TypeError("%s: %s must be int, got %s" % (fn, arg, type(v).__name__))


def ndelay(nsecs):
    """Busy-wait at least nsecs.  Any context (allocation-free for small delays)."""
    _chk("ndelay", "nsecs", nsecs)
    hz = core.CS_HZ
    if hz % 1000 == 0:  # small ints for small delays: ns * kHz / 10**6
        _spin(-(-nsecs * (hz // 1000) // 1_000_000))
    else:
        _spin(-(-nsecs * hz // 1_000_000_000))


def udelay(usecs):
    """Busy-wait at least usecs.  Any context (allocation-free for small delays)."""
    _chk("udelay", "usecs", usecs)
    if core.CS_HZ % 1_000_000 == 0:
        _spin(usecs * (core.CS_HZ // 1_000_000))
    else:
        ndelay(usecs * 1000)


def mdelay(msecs):
    """Busy-wait at least msecs milliseconds (udelay(1000) each).  Any context."""
    _chk("mdelay", "msecs", msecs)
    for _ in range(msecs):
        udelay(1000)
