"""ktimers.ktime -- ktime_t helpers and the system clocks (Linux ktime.h, timekeeping.c).

A ktime is a plain int of nanoseconds (Linux: signed 64-bit).  The helpers
are pure integer arithmetic; the clocks read the core's clocksource.

Usage::

    from ktimers.ktime import *
    kt = ktime_set(1, 500 * NSEC_PER_MSEC)     # 1.5 s
    t0 = ktime_get()
    ...
    print("took %d us" % ktime_us_delta(ktime_get(), t0))

Clocks (all offsets from CLOCK_MONOTONIC, as the hrtimer bases use them):
MONOTONIC and MONOTONIC_RAW read the clocksource (no NTP here, so RAW is
the same value); BOOTTIME adds the boot offset (0: no suspend); REALTIME
adds the realtime offset (0 until do_settimeofday64()/ktime_set_real());
TAI adds a further TAI offset (default 37 s, timekeeping_set_tai_offset()).
The offsets are ktimers.core's (_offs: boot, real, tai): this
module has no state of its own.

C core: where the firmware has _ktimers, this whole module is a ROM module
(firmware/cmodules/ktimers/ktime.c) that ktimers registers in sys.modules
before importing anything, and this file is not loaded; it stays the
reference (tests/host/test_c_core.py) and the fallback.

Contexts: the arithmetic is callable anywhere but builds 64-bit ints, which
are heap objects on 32-bit ports, so do not use it in hard IRQ there.  The
clocks are for softirq and task context.  Arguments must be int (bool is
rejected): TypeError names the argument.

Memory: the helpers most programs use live here; the rest (ns/us/ms
add/sub, deltas, compare, timespec, settimeofday, TAI) are in
ktimers._ktime, loaded on first use through __getattr__ below.
"""

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

NSEC_PER_USEC = 1000
NSEC_PER_MSEC = 1000000
NSEC_PER_SEC = 1000000000
USEC_PER_MSEC = 1000
USEC_PER_SEC = 1000000
MSEC_PER_SEC = 1000
KTIME_MAX = 0x7FFFFFFFFFFFFFFF
KTIME_MIN = -0x8000000000000000
KTIME_SEC_MAX = KTIME_MAX // NSEC_PER_SEC

CLOCK_REALTIME = 0
CLOCK_MONOTONIC = 1
CLOCK_MONOTONIC_RAW = 4
CLOCK_BOOTTIME = 7
CLOCK_TAI = 11

_EINVAL = const(22)

import sys as _sys

from . import core as _core  # core imports only jiffies: no cycle


def _bad(fn, arg, v):
    raise TypeError("%s: %s must be int, got %s" % (fn, arg, type(v).__name__))


# --- construction --------------------------------------------------------

def ktime_set(secs, nsecs):
    """Return secs * NSEC_PER_SEC + nsecs; KTIME_MAX if secs >= KTIME_SEC_MAX."""
    _ints("ktime_set", "secs", secs, "nsecs", nsecs)
    if secs >= KTIME_SEC_MAX:
        return KTIME_MAX
    return secs * NSEC_PER_SEC + nsecs


def ns_to_ktime(ns):
    """Return the ktime for ns nanoseconds (the same int)."""
    if type(ns) is not int:
        _bad("ns_to_ktime", "ns", ns)
    return ns


def us_to_ktime(us):
    """Return the ktime for us microseconds."""
    if type(us) is not int:
        _bad("us_to_ktime", "us", us)
    return us * NSEC_PER_USEC


def ms_to_ktime(ms):
    """Return the ktime for ms milliseconds."""
    if type(ms) is not int:
        _bad("ms_to_ktime", "ms", ms)
    return ms * NSEC_PER_MSEC


# --- arithmetic ----------------------------------------------------------

def _ints(fn, an, a, bn, b):
    # both operands must be int ktime/ns values; the error names the argument
    if type(a) is not int:
        _bad(fn, an, a)
    if type(b) is not int:
        _bad(fn, bn, b)


def ktime_add(lhs, rhs):
    """Return lhs + rhs (no saturation: see ktime_add_safe)."""
    _ints("ktime_add", "lhs", lhs, "rhs", rhs)
    return lhs + rhs


def ktime_sub(lhs, rhs):
    """Return lhs - rhs."""
    _ints("ktime_sub", "lhs", lhs, "rhs", rhs)
    return lhs - rhs


def ktime_add_safe(lhs, rhs):
    """Return lhs + rhs, or KTIME_MAX when the s64 sum would overflow.

    As Linux: the result is also KTIME_MAX when it is negative or smaller
    than either operand (so a negative operand saturates too).
    """
    _ints("ktime_add_safe", "lhs", lhs, "rhs", rhs)
    res = lhs + rhs
    if res < 0 or res < lhs or res < rhs or res > KTIME_MAX:
        return KTIME_MAX
    return res


def ktime_divns(kt, div):
    """Return kt / div truncated toward zero (as C); div must be > 0."""
    _ints("ktime_divns", "kt", kt, "div", div)
    if div <= 0:
        raise ValueError("ktime_divns: div must be > 0, got %d" % div)
    if kt < 0:
        return -((-kt) // div)
    return kt // div


def ktime_to_ns(kt):
    """Return kt in nanoseconds."""
    if type(kt) is not int:
        _bad("ktime_to_ns", "kt", kt)
    return kt


def ktime_to_us(kt):
    """Return kt in microseconds (truncated toward zero)."""
    return ktime_divns(kt, NSEC_PER_USEC)


def ktime_to_ms(kt):
    """Return kt in milliseconds (truncated toward zero)."""
    return ktime_divns(kt, NSEC_PER_MSEC)


# --- clocks (softirq / task) -----------------------------------------------

# The public clock is the core's own function, bound once at import: no
# import or extra call per read (it was 28 us against 3.6 us on the emulated
# board when it imported core on every call).  Softirq/task context.
ktime_get = _core.ktime_get
ktime_get_ns = _core.ktime_get
ktime_get_raw = _core.ktime_get  # CLOCK_MONOTONIC_RAW: no frequency adjustment here
ktime_get_raw_ns = ktime_get_raw


def ktime_get_boottime():
    """CLOCK_BOOTTIME now (monotonic + boot offset, 0 here); softirq/task."""
    return _core.ktime_get() + _core._offs[0]


ktime_get_boottime_ns = ktime_get_boottime


def ktime_get_real():
    """CLOCK_REALTIME now (monotonic + realtime offset); softirq/task."""
    return _core.ktime_get() + _core._offs[1]


ktime_get_real_ns = ktime_get_real


def ktime_get_clocktai():
    """CLOCK_TAI now (realtime + TAI offset); softirq/task."""
    return _core.ktime_get() + _core._offs[1] + _core._offs[2]


ktime_get_clocktai_ns = ktime_get_clocktai


def clock_offset(clockid):
    """Offset in ns of clock clockid from CLOCK_MONOTONIC (used by hrtimer bases).

    Raises ValueError for an unknown clock id.  Any context (reads globals).
    """
    if type(clockid) is not int:
        _bad("clock_offset", "clockid", clockid)
    if clockid == CLOCK_MONOTONIC or clockid == CLOCK_MONOTONIC_RAW:
        return 0
    if clockid == CLOCK_REALTIME:
        return _core._offs[1]
    if clockid == CLOCK_BOOTTIME:
        return _core._offs[0]
    if clockid == CLOCK_TAI:
        return _core._offs[1] + _core._offs[2]
    raise ValueError("clock_offset: unknown clockid %d" % clockid)


def __getattr__(name):
    # the rarely used helpers (ktimers._ktime), loaded on first use
    m = _sys.modules.get("ktimers._ktime")
    if m is None:
        __import__("ktimers._ktime")
        m = _sys.modules["ktimers._ktime"]
    return getattr(m, name)
