"""ktimers._ktime -- the rarely used ktime helpers, loaded on first use.

Reached through ktimers.ktime's module __getattr__ and the package's lazy
names: ktime_add/sub_ns/us/ms, ktime_us/ms_delta, ktime_compare,
ktime_after/before, timespec conversions, ktime_get_seconds,
ktime_get_real_seconds, ktime_get_clock, do_settimeofday64, ktime_set_real,
timekeeping_set_tai_offset.  Same contracts as documented in ktimers.ktime;
the clock offsets are ktimers.core's (_C below).
"""

import sys

_K = sys.modules["ktimers.ktime"]  # the Python module or the C core's ROM one
_C = sys.modules["ktimers.core"]
NSEC_PER_USEC = 1000
NSEC_PER_MSEC = 1000000
NSEC_PER_SEC = 1000000000
KTIME_MAX = 0x7FFFFFFFFFFFFFFF
KTIME_MIN = -0x8000000000000000
_EINVAL = 22


def ktime_add_ns(kt, nsec):
    """Return kt + nsec."""
    _K._ints("ktime_add_ns", "kt", kt, "nsec", nsec)
    return kt + nsec


def ktime_sub_ns(kt, nsec):
    """Return kt - nsec."""
    _K._ints("ktime_sub_ns", "kt", kt, "nsec", nsec)
    return kt - nsec


def ktime_add_us(kt, usec):
    """Return kt + usec microseconds."""
    if type(usec) is not int:
        _K._bad("ktime_add_us", "usec", usec)
    return ktime_add_ns(kt, usec * NSEC_PER_USEC)


def ktime_add_ms(kt, msec):
    """Return kt + msec milliseconds."""
    if type(msec) is not int:
        _K._bad("ktime_add_ms", "msec", msec)
    return ktime_add_ns(kt, msec * NSEC_PER_MSEC)


def ktime_sub_us(kt, usec):
    """Return kt - usec microseconds."""
    if type(usec) is not int:
        _K._bad("ktime_sub_us", "usec", usec)
    return ktime_sub_ns(kt, usec * NSEC_PER_USEC)


def ktime_sub_ms(kt, msec):
    """Return kt - msec milliseconds."""
    if type(msec) is not int:
        _K._bad("ktime_sub_ms", "msec", msec)
    return ktime_sub_ns(kt, msec * NSEC_PER_MSEC)


def ktime_us_delta(later, earlier):
    """Return (later - earlier) in microseconds."""
    return _K.ktime_to_us(_K.ktime_sub(later, earlier))


def ktime_ms_delta(later, earlier):
    """Return (later - earlier) in milliseconds."""
    return _K.ktime_to_ms(_K.ktime_sub(later, earlier))


def ktime_compare(cmp1, cmp2):
    """Return -1, 0 or 1 as cmp1 is before, equal to or after cmp2."""
    _K._ints("ktime_compare", "cmp1", cmp1, "cmp2", cmp2)
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
        _K._bad("ktime_to_timespec64", "kt", kt)
    return divmod(kt, NSEC_PER_SEC)


ktime_to_timespec = ktime_to_timespec64


def timespec64_to_ktime(ts):
    """Return the ktime of a (tv_sec, tv_nsec) pair (saturating like ktime_set)."""
    try:
        s, ns = ts
    except (TypeError, ValueError):
        raise TypeError("timespec64_to_ktime: ts must be (sec, nsec)")
    return _K.ktime_set(s, ns)


def ktime_get_seconds():
    """Whole seconds of CLOCK_MONOTONIC; softirq/task."""
    return _K.ktime_get() // NSEC_PER_SEC


def ktime_get_real_seconds():
    """Whole seconds of CLOCK_REALTIME (seconds since the epoch once set); softirq/task."""
    return _K.ktime_get_real() // NSEC_PER_SEC


def ktime_get_clock(clockid):
    """Now on clock clockid (one of the CLOCK_* ids); softirq/task."""
    off = _K.clock_offset(clockid)
    return _K.ktime_get() + off


def do_settimeofday64(ns):
    """Set CLOCK_REALTIME to ns since the epoch (an int, or a (sec, nsec) pair).

    Returns 0, or -EINVAL (-22) for a negative time, as Linux.  Task context.
    """
    if type(ns) is tuple:
        ns = timespec64_to_ktime(ns)
    if type(ns) is not int:
        _K._bad("do_settimeofday64", "ns", ns)
    if ns < 0:
        return -_EINVAL
    _C._offs[1] = ns - _K.ktime_get()
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
        _K._bad("ktime_set_real", "ns", ns)
    return do_settimeofday64(ns)


def timekeeping_set_tai_offset(tai_offset):
    """Set TAI - UTC in whole seconds (default 37); returns None.  Task context."""
    if type(tai_offset) is not int:
        _K._bad("timekeeping_set_tai_offset", "tai_offset", tai_offset)
    _C._offs[2] = tai_offset * NSEC_PER_SEC
    _clock_was_set()
