"""ktimers.jiffies -- the tick counter's arithmetic (Linux include/linux/jiffies.h).

``jiffies`` is an ``unsigned long``: 32 bits here (BITS_PER_LONG = 32), so it
wraps; ``jiffies_64`` never wraps.  It starts at INITIAL_JIFFIES, five minutes
before the 32-bit wrap, so wrap bugs show early -- compare with time_after()
and friends, never with ``<``.

Usage::

    from ktimers import core
    from ktimers.jiffies import msecs_to_jiffies, time_after
    timeout = (core.jiffies() + msecs_to_jiffies(500)) & 0xFFFFFFFF
    ...
    if time_after(core.jiffies(), timeout):
        print("too late")

HZ is a module global (default 250), changed only by the core through
_set_hz(); every function reads it at call time, so read it as
``jiffies.HZ`` (``from ktimers.jiffies import HZ`` copies the value).

Conversions round exactly like Linux at the current HZ: *_to_jiffies round
up (nsecs_to_jiffies truncates), jiffies_to_msecs/usecs round up and return
a 32-bit ``unsigned int``.  For HZ values that do not divide (or are not a
multiple of) 1000 Linux uses 32-bit mul/shift approximations of the same
ceiling; here the exact ceiling is computed.

Where the firmware has ktimers' C core (_ktimers), this whole module is a
ROM module (firmware/cmodules/ktimers/jiffies.c) that ktimers registers in
sys.modules before importing anything, and this file is not loaded: same
results and errors (tests/host/test_c_core.py), no heap.  There HZ is
ktimers.core.HZ, and HZ, INITIAL_JIFFIES and TICK_NSEC are computed on
access (the package binds its own copies in init()).

No function here allocates more than a C int would need, but values of
2**30 and more are heap objects on 32-bit ports: call the conversions from
softirq or task context.  time_after() & co are safe in any context when
their arguments are small ints.
"""

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_U32 = const(0xFFFFFFFF)
_SIGN32 = const(0x80000000)
_U64 = 0xFFFFFFFFFFFFFFFF
_SIGN64 = 0x8000000000000000
_MSEC_PER_SEC = const(1000)
_USEC_PER_SEC = const(1000000)
_NSEC_PER_SEC = const(1000000000)

BITS_PER_LONG = 32
LONG_MAX = 0x7FFFFFFF
MAX_JIFFY_OFFSET = ((0x7FFFFFFF) >> 1) - 1  # 0x3FFFFFFE, a small int
USER_HZ = 100

HZ = 250
INITIAL_JIFFIES = (-300 * HZ) & _U32
TICK_NSEC = (_NSEC_PER_SEC + HZ // 2) // HZ


def _set_hz(hz):
    """Set HZ (ticks per second) and the globals derived from it.

    Called by the core (task context) before the tick starts; returns None.
    """
    global HZ, INITIAL_JIFFIES, TICK_NSEC
    if type(hz) is not int:
        raise TypeError("_set_hz: hz must be int, got %s" % type(hz).__name__)
    if hz < 1 or hz > _USEC_PER_SEC:
        raise ValueError("_set_hz: hz must be 1..1000000, got %d" % hz)
    HZ = hz
    INITIAL_JIFFIES = (-300 * hz) & _U32
    TICK_NSEC = (_NSEC_PER_SEC + hz // 2) // hz


def _bad(fn, arg, v):
    raise TypeError("%s: %s must be int, got %s" % (fn, arg, type(v).__name__))


# --- comparisons (any context) -------------------------------------------

def time_after(a, b):
    """True if jiffies value a is after b: ``(long)(b - a) < 0`` on 32 bits.

    Any context (allocation-free for small-int arguments).
    """
    if type(a) is not int:
        _bad("time_after", "a", a)
    if type(b) is not int:
        _bad("time_after", "b", b)
    return ((b - a) & _SIGN32) != 0


def time_before(a, b):
    """True if a is before b (32-bit wrap-safe); any context."""
    if type(a) is not int:
        _bad("time_before", "a", a)
    if type(b) is not int:
        _bad("time_before", "b", b)
    return ((a - b) & _SIGN32) != 0


def time_after_eq(a, b):
    """True if a is after or equal to b: ``(long)(a - b) >= 0``; any context."""
    if type(a) is not int:
        _bad("time_after_eq", "a", a)
    if type(b) is not int:
        _bad("time_after_eq", "b", b)
    return ((a - b) & _SIGN32) == 0


def time_before_eq(a, b):
    """True if a is before or equal to b; any context."""
    if type(a) is not int:
        _bad("time_before_eq", "a", a)
    if type(b) is not int:
        _bad("time_before_eq", "b", b)
    return ((b - a) & _SIGN32) == 0


def time_in_range(a, b, c):
    """True if b <= a <= c in wrap-safe jiffies order; any context."""
    return time_after_eq(a, b) and time_before_eq(a, c)


def time_in_range_open(a, b, c):
    """True if b <= a < c in wrap-safe jiffies order; any context."""
    return time_after_eq(a, b) and time_before(a, c)


def time_after64(a, b):
    """64-bit time_after: ``(s64)(b - a) < 0``; any context (allocates on 32-bit ports)."""
    if type(a) is not int:
        _bad("time_after64", "a", a)
    if type(b) is not int:
        _bad("time_after64", "b", b)
    return ((b - a) & _SIGN64) != 0


def time_before64(a, b):
    """64-bit time_before; any context."""
    return time_after64(b, a)


def time_after_eq64(a, b):
    """64-bit time_after_eq: ``(s64)(a - b) >= 0``; any context."""
    if type(a) is not int:
        _bad("time_after_eq64", "a", a)
    if type(b) is not int:
        _bad("time_after_eq64", "b", b)
    return ((a - b) & _SIGN64) == 0


def time_before_eq64(a, b):
    """64-bit time_before_eq; any context."""
    return time_after_eq64(b, a)


def time_in_range64(a, b, c):
    """64-bit time_in_range ([b, c]); any context."""
    return time_after_eq64(a, b) and time_before_eq64(a, c)


# --- comparisons against the current jiffies (lazy core import) -----------

def _now32():
    from . import core
    return core.jiffies()


def _now64():
    from . import core
    return core.get_jiffies_64()


def time_is_before_jiffies(a):
    """True if a is before the current jiffies; softirq or task context."""
    return time_after(_now32(), a)


def time_is_after_jiffies(a):
    """True if a is after the current jiffies; softirq or task context."""
    return time_before(_now32(), a)


def time_is_before_eq_jiffies(a):
    """True if a is before or equal to the current jiffies; softirq/task."""
    return time_after_eq(_now32(), a)


def time_is_after_eq_jiffies(a):
    """True if a is after or equal to the current jiffies; softirq/task."""
    return time_before_eq(_now32(), a)


def time_is_before_jiffies64(a):
    """True if a is before get_jiffies_64(); softirq/task."""
    return time_after64(_now64(), a)


def time_is_after_jiffies64(a):
    """True if a is after get_jiffies_64(); softirq/task."""
    return time_before64(_now64(), a)


def time_is_before_eq_jiffies64(a):
    """True if a is before or equal to get_jiffies_64(); softirq/task."""
    return time_after_eq64(_now64(), a)


def time_is_after_eq_jiffies64(a):
    """True if a is after or equal to get_jiffies_64(); softirq/task."""
    return time_before_eq64(_now64(), a)


# --- conversions (softirq / task) ------------------------------------------

def jiffies_to_msecs(j):
    """Milliseconds in j jiffies, rounded up, as a 32-bit unsigned int.

    j is an unsigned long: it is taken modulo 2**32 first, so
    ``jiffies_to_msecs(now - start)`` is right across the wrap.  Softirq/task.
    """
    if type(j) is not int:
        _bad("jiffies_to_msecs", "j", j)
    j &= _U32
    hz = HZ
    if _MSEC_PER_SEC % hz == 0:
        return ((_MSEC_PER_SEC // hz) * j) & _U32
    return ((j * _MSEC_PER_SEC + hz - 1) // hz) & _U32


def jiffies_to_usecs(j):
    """Microseconds in j jiffies, rounded up, as a 32-bit unsigned int.

    j is taken modulo 2**32; the result wraps at 2**32 as in Linux
    (use jiffies64_to_nsecs for long spans).  Softirq/task.
    """
    if type(j) is not int:
        _bad("jiffies_to_usecs", "j", j)
    j &= _U32
    hz = HZ
    if _USEC_PER_SEC % hz == 0:
        return ((_USEC_PER_SEC // hz) * j) & _U32
    return ((j * _USEC_PER_SEC + hz - 1) // hz) & _U32


def jiffies_to_nsecs(j):
    """Nanoseconds in j jiffies: ``(u64)jiffies_to_usecs(j) * 1000``; softirq/task."""
    return jiffies_to_usecs(j) * 1000


def jiffies64_to_nsecs(j):
    """Nanoseconds in j (64-bit) jiffies, truncated, modulo 2**64; softirq/task."""
    if type(j) is not int:
        _bad("jiffies64_to_nsecs", "j", j)
    j &= _U64
    hz = HZ
    if _NSEC_PER_SEC % hz == 0:
        return ((_NSEC_PER_SEC // hz) * j) & _U64
    return ((j * _NSEC_PER_SEC) // hz) & _U64


def jiffies64_to_msecs(j):
    """Milliseconds in j (64-bit) jiffies, truncated (u64); softirq/task."""
    if type(j) is not int:
        _bad("jiffies64_to_msecs", "j", j)
    j &= _U64
    return (j * _MSEC_PER_SEC) // HZ


def msecs_to_jiffies(m):
    """Jiffies for m milliseconds, rounded up (a timer must not fire early).

    A negative m means "forever" and gives MAX_JIFFY_OFFSET, as does any
    m >= 2**31 (Linux's ``(int)m < 0``); results are clamped to
    MAX_JIFFY_OFFSET.  Softirq/task.
    """
    if type(m) is not int:
        _bad("msecs_to_jiffies", "m", m)
    if m < 0 or m > LONG_MAX:
        return MAX_JIFFY_OFFSET
    hz = HZ
    if _MSEC_PER_SEC % hz == 0:
        k = _MSEC_PER_SEC // hz
        r = (m + k - 1) // k
    elif hz % _MSEC_PER_SEC == 0:
        r = m * (hz // _MSEC_PER_SEC)
    else:
        r = (m * hz + _MSEC_PER_SEC - 1) // _MSEC_PER_SEC
    return r if r < MAX_JIFFY_OFFSET else MAX_JIFFY_OFFSET


def usecs_to_jiffies(u):
    """Jiffies for u microseconds, rounded up (__usecs_to_jiffies).

    u is an ``unsigned int`` (taken modulo 2**32, so a negative u is huge);
    u > jiffies_to_usecs(MAX_JIFFY_OFFSET) (a 32-bit value) gives
    MAX_JIFFY_OFFSET.  Softirq/task.
    """
    if type(u) is not int:
        _bad("usecs_to_jiffies", "u", u)
    u &= _U32
    if u > jiffies_to_usecs(MAX_JIFFY_OFFSET):
        return MAX_JIFFY_OFFSET
    hz = HZ
    if _USEC_PER_SEC % hz == 0:
        k = _USEC_PER_SEC // hz
        return (u + k - 1) // k
    return (u * hz + _USEC_PER_SEC - 1) // _USEC_PER_SEC


def nsecs_to_jiffies64(n):
    """Jiffies in n nanoseconds, truncated (Linux rounds DOWN here); u64.

    n must be >= 0 (u64).  Softirq/task.
    """
    if type(n) is not int:
        _bad("nsecs_to_jiffies64", "n", n)
    if n < 0:
        raise ValueError("nsecs_to_jiffies64: n must be >= 0, got %d" % n)
    hz = HZ
    if _NSEC_PER_SEC % hz == 0:
        return (n & _U64) // (_NSEC_PER_SEC // hz)
    return ((n & _U64) * hz // _NSEC_PER_SEC) & _U64


def nsecs_to_jiffies(n):
    """nsecs_to_jiffies64(n) as an unsigned long (modulo 2**32, not clamped).

    Softirq/task.
    """
    if type(n) is not int:
        _bad("nsecs_to_jiffies", "n", n)
    if n < 0:
        raise ValueError("nsecs_to_jiffies: n must be >= 0, got %d" % n)
    return nsecs_to_jiffies64(n) & _U32


def secs_to_jiffies(s):
    """``(unsigned long)(s * HZ)`` (Linux 6.13 macro: not clamped, wraps at 2**32).

    s must be >= 0.  Softirq/task.
    """
    if type(s) is not int:
        _bad("secs_to_jiffies", "s", s)
    if s < 0:
        raise ValueError("secs_to_jiffies: s must be >= 0, got %d" % s)
    return (s * HZ) & _U32


def jiffies_to_clock_t(x):
    """Jiffies expressed in USER_HZ (100 Hz) clock ticks, truncated; softirq/task."""
    if type(x) is not int:
        _bad("jiffies_to_clock_t", "x", x)
    x &= _U32
    return (x * TICK_NSEC) // (_NSEC_PER_SEC // USER_HZ)


# --- rounding (kernel/time/timer.c, one CPU so no skew) --------------------

def _round_common(j, force_up, fn):
    if type(j) is not int:
        _bad(fn, "j", j)
    j &= _U32
    hz = HZ
    rem = j % hz
    if rem < hz // 4 and not force_up:
        r = j - rem
    else:
        r = j - rem + hz
    r &= _U32
    # never into the past: keep the original unless r is after jiffies
    return r if time_before(_now32(), r) else j


def round_jiffies(j):
    """Round absolute jiffies j to a whole second (down if j % HZ < HZ/4).

    Returns j unchanged if the rounded value is not in the future.
    Softirq/task.
    """
    return _round_common(j, False, "round_jiffies")


def round_jiffies_up(j):
    """Like round_jiffies() but never rounds down (an exact second gains HZ)."""
    return _round_common(j, True, "round_jiffies_up")


def round_jiffies_relative(j):
    """round_jiffies() for a relative delay j; returns a relative delay."""
    if type(j) is not int:
        _bad("round_jiffies_relative", "j", j)
    j0 = _now32()
    return (_round_common(j + j0, False, "round_jiffies_relative") - j0) & _U32


def round_jiffies_up_relative(j):
    """round_jiffies_up() for a relative delay j; returns a relative delay."""
    if type(j) is not int:
        _bad("round_jiffies_up_relative", "j", j)
    j0 = _now32()
    return (_round_common(j + j0, True, "round_jiffies_up_relative") - j0) & _U32
