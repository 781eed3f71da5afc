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

Contexts: the arithmetic is callable anywhere but builds 64-bit ints, which
are heap objects on 32-bit ports, so do not use it in hard IRQ there.  The
clocks are for softirq and task context.  Arguments must be int (bool is
rejected): TypeError names the argument.
"""

import sys

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

_offs_real = 0
_offs_boot = 0
_offs_tai = 37 * NSEC_PER_SEC   # TAI - UTC, in ns


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


def ktime_add_ns(kt, nsec):
    """Return kt + nsec."""
    _ints("ktime_add_ns", "kt", kt, "nsec", nsec)
    return kt + nsec


def ktime_sub_ns(kt, nsec):
    """Return kt - nsec."""
    _ints("ktime_sub_ns", "kt", kt, "nsec", nsec)
    return kt - nsec


def ktime_add_us(kt, usec):
    """Return kt + usec microseconds."""
    if type(usec) is not int:
        _bad("ktime_add_us", "usec", usec)
    return ktime_add_ns(kt, usec * NSEC_PER_USEC)


def ktime_add_ms(kt, msec):
    """Return kt + msec milliseconds."""
    if type(msec) is not int:
        _bad("ktime_add_ms", "msec", msec)
    return ktime_add_ns(kt, msec * NSEC_PER_MSEC)


def ktime_sub_us(kt, usec):
    """Return kt - usec microseconds."""
    if type(usec) is not int:
        _bad("ktime_sub_us", "usec", usec)
    return ktime_sub_ns(kt, usec * NSEC_PER_USEC)


def ktime_sub_ms(kt, msec):
    """Return kt - msec milliseconds."""
    if type(msec) is not int:
        _bad("ktime_sub_ms", "msec", msec)
    return ktime_sub_ns(kt, msec * NSEC_PER_MSEC)


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


def ktime_us_delta(later, earlier):
    """Return (later - earlier) in microseconds."""
    return ktime_to_us(ktime_sub(later, earlier))


def ktime_ms_delta(later, earlier):
    """Return (later - earlier) in milliseconds."""
    return ktime_to_ms(ktime_sub(later, earlier))


def ktime_compare(cmp1, cmp2):
    """Return -1, 0 or 1 as cmp1 is before, equal to or after cmp2."""
    _ints("ktime_compare", "cmp1", cmp1, "cmp2", cmp2)
    if cmp1 < cmp2:
        return -1
    if cmp1 > cmp2:
        return 1
    return 0


def ktime_after(cmp1, cmp2):
    """True if cmp1 is later than cmp2."""
    return ktime_compare(cmp1, cmp2) > 0


def ktime_before(cmp1, cmp2):
    """True if cmp1 is earlier than cmp2."""
    return ktime_compare(cmp1, cmp2) < 0


def ktime_to_timespec64(kt):
    """Return (tv_sec, tv_nsec) with 0 <= tv_nsec < NSEC_PER_SEC (floor, as Linux)."""
    if type(kt) is not int:
        _bad("ktime_to_timespec64", "kt", kt)
    return divmod(kt, NSEC_PER_SEC)


ktime_to_timespec = ktime_to_timespec64


def timespec64_to_ktime(ts):
    """Return the ktime of a (tv_sec, tv_nsec) pair (saturating like ktime_set)."""
    try:
        s, ns = ts
    except (TypeError, ValueError):
        raise TypeError("timespec64_to_ktime: ts must be (sec, nsec)")
    return ktime_set(s, ns)


# --- clocks (softirq / task) -----------------------------------------------

def ktime_get():
    """CLOCK_MONOTONIC now, ns since boot (from the core's clocksource); softirq/task."""
    from . import core
    return core.ktime_get()


def ktime_get_ns():
    """ktime_get() as ns (the same int); softirq/task."""
    from . import core
    return core.ktime_get()


def ktime_get_raw():
    """CLOCK_MONOTONIC_RAW now (no frequency adjustment: == monotonic); softirq/task."""
    from . import core
    return core.ktime_get()


ktime_get_raw_ns = ktime_get_raw


def ktime_get_boottime():
    """CLOCK_BOOTTIME now (monotonic + boot offset, 0 here); softirq/task."""
    from . import core
    return core.ktime_get() + _offs_boot


ktime_get_boottime_ns = ktime_get_boottime


def ktime_get_real():
    """CLOCK_REALTIME now (monotonic + realtime offset); softirq/task."""
    from . import core
    return core.ktime_get() + _offs_real


ktime_get_real_ns = ktime_get_real


def ktime_get_clocktai():
    """CLOCK_TAI now (realtime + TAI offset); softirq/task."""
    from . import core
    return core.ktime_get() + _offs_real + _offs_tai


ktime_get_clocktai_ns = ktime_get_clocktai


def ktime_get_seconds():
    """Whole seconds of CLOCK_MONOTONIC; softirq/task."""
    return ktime_get() // NSEC_PER_SEC


def ktime_get_real_seconds():
    """Whole seconds of CLOCK_REALTIME (seconds since the epoch once set); softirq/task."""
    return ktime_get_real() // NSEC_PER_SEC


def clock_offset(clockid):
    """Offset in ns of clock clockid from CLOCK_MONOTONIC (used by hrtimer bases).

    Raises ValueError for an unknown clock id.  Any context (reads globals).
    """
    if type(clockid) is not int:
        _bad("clock_offset", "clockid", clockid)
    if clockid == CLOCK_MONOTONIC or clockid == CLOCK_MONOTONIC_RAW:
        return 0
    if clockid == CLOCK_REALTIME:
        return _offs_real
    if clockid == CLOCK_BOOTTIME:
        return _offs_boot
    if clockid == CLOCK_TAI:
        return _offs_real + _offs_tai
    raise ValueError("clock_offset: unknown clockid %d" % clockid)


def ktime_get_clock(clockid):
    """Now on clock clockid (one of the CLOCK_* ids); softirq/task."""
    off = clock_offset(clockid)
    return ktime_get() + off


def do_settimeofday64(ns):
    """Set CLOCK_REALTIME to ns since the epoch (an int, or a (sec, nsec) pair).

    Returns 0, or -EINVAL (-22) for a negative time, as Linux.  Task context.
    """
    global _offs_real
    if type(ns) is tuple:
        ns = timespec64_to_ktime(ns)
    if type(ns) is not int:
        _bad("do_settimeofday64", "ns", ns)
    if ns < 0:
        return -_EINVAL
    _offs_real = ns - ktime_get()
    _clock_was_set()
    return 0


def _clock_was_set():
    # clock_was_set(): queued ABS REALTIME/TAI hrtimers follow the new offset
    hr = sys.modules.get("ktimers.hrtimer")
    if hr is not None:
        hr.clock_was_set()


def ktime_set_real(ns):
    """Alias of do_settimeofday64(ns) for an int ns; returns 0 or -EINVAL."""
    if type(ns) is not int:
        _bad("ktime_set_real", "ns", ns)
    return do_settimeofday64(ns)


def timekeeping_set_tai_offset(tai_offset):
    """Set TAI - UTC in whole seconds (default 37); returns None.  Task context."""
    global _offs_tai
    if type(tai_offset) is not int:
        _bad("timekeeping_set_tai_offset", "tai_offset", tai_offset)
    _offs_tai = tai_offset * NSEC_PER_SEC
    _clock_was_set()
