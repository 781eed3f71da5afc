# test_jiffies: Linux jiffies.h semantics -- wrap-safe comparisons, conversion
# rounding at HZ 100/250/1000 (and odd HZ), round_jiffies*.  Expected values
# are worked out by hand from the Linux formulas in the comments.
import sys
import ktimers
from ktimers import core
from ktest import eq, raises
import ktimers.jiffies
J = sys.modules["ktimers.jiffies"]   # ktimers.jiffies is also the jiffies() function

_init = getattr(ktimers, "init", None) or core.init
U32 = 0xFFFFFFFF
MAX = J.MAX_JIFFY_OFFSET


# --- constants -----------------------------------------------------------
eq(MAX, 0x3FFFFFFE, "MAX_JIFFY_OFFSET = (LONG_MAX >> 1) - 1")
eq(J.BITS_PER_LONG, 32, "BITS_PER_LONG")

# --- comparisons across the 32-bit wrap ----------------------------------
hw = _init("sim", hz=250)
eq(J.HZ, 250, "HZ after init")
eq(J.INITIAL_JIFFIES, (-300 * 250) & U32, "INITIAL_JIFFIES at 250")
eq(J.INITIAL_JIFFIES, 4294892296, "INITIAL_JIFFIES value")
eq(core.jiffies(), J.INITIAL_JIFFIES, "jiffies at boot")
ij = J.INITIAL_JIFFIES
after_wrap = (ij + 300 * 250 + 5) & U32      # 5 jiffies after the wrap
eq(after_wrap, 5, "wrapped value")
assert J.time_after(after_wrap, ij), "time_after across wrap"
assert not J.time_before(after_wrap, ij), "time_before across wrap"
assert J.time_before(ij, after_wrap), "time_before(ij, 5)"
assert J.time_after(0, U32), "0 is after 0xFFFFFFFF"
assert not J.time_after(7, 7) and J.time_after_eq(7, 7), "equal values"
assert J.time_before_eq(7, 7) and not J.time_before(7, 7), "before_eq"
assert J.time_after_eq(0, U32) and not J.time_after_eq(U32, 0), "after_eq wrap"
# exactly half the range apart: (long)(b - a) == LONG_MIN < 0 both ways (Linux)
assert J.time_after(0x80000000, 0) and J.time_after(0, 0x80000000), "half range"
assert J.time_in_range(5, 0xFFFFFFF0, 10), "in_range across wrap"
assert J.time_in_range(10, 0xFFFFFFF0, 10), "in_range closed end"
assert not J.time_in_range_open(10, 0xFFFFFFF0, 10), "in_range_open end"
assert J.time_in_range_open(0xFFFFFFF0, 0xFFFFFFF0, 10), "in_range_open start"
assert not J.time_in_range(11, 0xFFFFFFF0, 10), "out of range"
# 64-bit forms
assert J.time_after64(0, 2 ** 64 - 1), "time_after64 wrap"
assert J.time_after64(2 ** 40, 2 ** 39) and not J.time_after64(2 ** 39, 2 ** 40), "after64"
assert J.time_before64(2 ** 39, 2 ** 40), "before64"
assert J.time_after_eq64(5, 5) and J.time_before_eq64(5, 5), "eq64"
assert J.time_in_range64(2 ** 33, 2 ** 32, 2 ** 34), "in_range64"
# against the current jiffies
now = core.jiffies()
assert J.time_is_before_jiffies(now - 1) and not J.time_is_before_jiffies(now), "is_before"
assert J.time_is_after_jiffies(now + 1) and not J.time_is_after_jiffies(now), "is_after"
assert J.time_is_before_eq_jiffies(now) and J.time_is_after_eq_jiffies(now), "is_*_eq"
assert J.time_is_after_jiffies((now + 10) & U32), "is_after across wrap"
n64 = core.get_jiffies_64()
assert J.time_is_before_jiffies64(n64 - 1) and J.time_is_after_jiffies64(n64 + 1), "64 forms"
assert J.time_is_before_eq_jiffies64(n64) and J.time_is_after_eq_jiffies64(n64), "64 eq"
# types
raises(TypeError, J.time_after, (1.0, 2), "time_after: a must be int, got float")
raises(TypeError, J.time_after, (True, 2), "time_after: a must be int, got bool")
raises(TypeError, J.time_before_eq, (1, "2"), "time_before_eq: b must be int")

# --- conversions at HZ = 100 (10 ms per jiffy) --------------------------
_init("sim", hz=100)
# msecs_to_jiffies = (m + 10 - 1) / 10
for m, j in ((0, 0), (1, 1), (9, 1), (10, 1), (11, 2), (20, 2), (999, 100),
             (1000, 100), (1001, 101), (2 ** 31 - 1, 214748365)):
    eq(J.msecs_to_jiffies(m), j, "HZ=100 msecs_to_jiffies(%d)" % m)
eq(J.msecs_to_jiffies(-1), MAX, "negative ms means forever")
eq(J.msecs_to_jiffies(-1000), MAX, "negative ms means forever")
eq(J.msecs_to_jiffies(2 ** 31), MAX, "(int)m < 0 means forever")
# usecs_to_jiffies = (u + 10000 - 1) / 10000
for u, j in ((0, 0), (1, 1), (10000, 1), (10001, 2)):
    eq(J.usecs_to_jiffies(u), j, "HZ=100 usecs_to_jiffies(%d)" % u)
eq(J.jiffies_to_msecs(1), 10, "HZ=100 jiffies_to_msecs(1)")
eq(J.jiffies_to_usecs(3), 30000, "HZ=100 jiffies_to_usecs(3)")
# unsigned int result: 10 * 0x3FFFFFFE wraps at 2**32
eq(J.jiffies_to_msecs(MAX), (10 * MAX) & U32, "HZ=100 jiffies_to_msecs wraps")
eq(J.nsecs_to_jiffies(9999999), 0, "nsecs_to_jiffies truncates (HZ=100)")
eq(J.nsecs_to_jiffies(10000000), 1, "nsecs_to_jiffies(10 ms)")
eq(J.jiffies_to_clock_t(100), 100, "HZ=100 clock_t identity")
eq(J.secs_to_jiffies(3), 300, "HZ=100 secs_to_jiffies")

# --- HZ = 250 (4 ms per jiffy) -------------------------------------------
_init("sim", hz=250)
# msecs_to_jiffies = (m + 4 - 1) / 4
for m, j in ((0, 0), (1, 1), (4, 1), (5, 2), (8, 2), (9, 3), (1000, 250),
             (1001, 251), (2 ** 31 - 1, 536870912)):
    eq(J.msecs_to_jiffies(m), j, "HZ=250 msecs_to_jiffies(%d)" % m)
eq(J.msecs_to_jiffies(-5), MAX, "HZ=250 negative")
# __usecs_to_jiffies: u is an unsigned int; clamp above jiffies_to_usecs(MAX_JIFFY_OFFSET),
# itself a 32-bit value (4000 * 0x3FFFFFFE mod 2**32 = 2**32 - 8000)
for u, j in ((4000, 1), (4001, 2), (1, 1), (2 ** 32 - 8000, 1073740), (2 ** 32 - 7999, MAX),
             (2 ** 40 + 4000, 1), (2 ** 32 - 1, MAX)):
    eq(J.usecs_to_jiffies(u), j, "HZ=250 usecs_to_jiffies(%d)" % u)
eq(J.usecs_to_jiffies(-1), MAX, "negative us (huge unsigned) -> MAX_JIFFY_OFFSET")
eq(J.jiffies_to_msecs(1), 4, "HZ=250 jiffies_to_msecs(1)")
eq(J.jiffies_to_msecs(250), 1000, "HZ=250 jiffies_to_msecs(250)")
eq(J.jiffies_to_msecs(-1), 0xFFFFFFFC, "jiffies_to_msecs(ULONG_MAX) = 4*0xFFFFFFFF as u32")
# a jiffies difference taken across the wrap (negative in Python) is masked
eq(J.jiffies_to_msecs(5 - ij), 4 * ((5 - ij) & U32), "delta across wrap")
eq(J.jiffies_to_usecs(2), 8000, "HZ=250 jiffies_to_usecs")
eq(J.jiffies_to_nsecs(2), 8000000, "HZ=250 jiffies_to_nsecs")
eq(J.jiffies64_to_nsecs(2 ** 33), 2 ** 33 * 4000000, "jiffies64_to_nsecs no wrap")
eq(J.jiffies64_to_msecs(2 ** 33), 2 ** 33 * 4, "jiffies64_to_msecs")
eq(J.nsecs_to_jiffies(3999999), 0, "HZ=250 nsecs truncate")
eq(J.nsecs_to_jiffies(4000000), 1, "HZ=250 nsecs 4 ms")
eq(J.nsecs_to_jiffies64(2 ** 32 * 4000000), 2 ** 32, "nsecs_to_jiffies64 is u64")
eq(J.nsecs_to_jiffies(2 ** 32 * 4000000 + 4000000), 1, "nsecs_to_jiffies is unsigned long")
eq(J.secs_to_jiffies(3), 750, "HZ=250 secs_to_jiffies")
eq(J.jiffies_to_clock_t(250), 100, "HZ=250 clock_t")
eq(J.jiffies_to_clock_t(1), 0, "HZ=250 clock_t truncates (0.4)")

# --- HZ = 1000 ------------------------------------------------------------
_init("sim", hz=1000)
for m in (0, 1, 7, 1000, 123456):
    eq(J.msecs_to_jiffies(m), m, "HZ=1000 msecs_to_jiffies(%d)" % m)
# above MAX_JIFFY_OFFSET: clamped (ktimers keeps the result < 2**30)
eq(J.msecs_to_jiffies(2 ** 31 - 1), MAX, "HZ=1000 clamp")
eq(J.usecs_to_jiffies(1001), 2, "HZ=1000 usecs up")
eq(J.usecs_to_jiffies(1000), 1, "HZ=1000 usecs exact")
eq(J.nsecs_to_jiffies(999999), 0, "HZ=1000 nsecs truncate")
eq(J.jiffies_to_usecs(1), 1000, "HZ=1000 jiffies_to_usecs")
eq(J.jiffies_to_clock_t(15), 1, "HZ=1000 clock_t")

# --- odd HZ values (set directly, restored below) -------------------------
J._set_hz(300)      # 3.33 ms per jiffy: exact ceilings
eq(J.msecs_to_jiffies(1), 1, "HZ=300 ceil(0.3)")
eq(J.msecs_to_jiffies(4), 2, "HZ=300 ceil(1.2)")
eq(J.msecs_to_jiffies(10), 3, "HZ=300 exactly 3")
eq(J.jiffies_to_msecs(1), 4, "HZ=300 ceil(3.33)")
eq(J.jiffies_to_msecs(3), 10, "HZ=300 exactly 10")
eq(J.INITIAL_JIFFIES, (-90000) & U32, "INITIAL_JIFFIES follows HZ")
J._set_hz(2000)     # a multiple of 1000: m * 2
eq(J.msecs_to_jiffies(3), 6, "HZ=2000 msecs")
eq(J.jiffies_to_msecs(3), 2, "HZ=2000 jiffies_to_msecs ceil(1.5)")
J._set_hz(1200)
eq(J.msecs_to_jiffies(1), 2, "HZ=1200 ceil(1.2)")
raises(ValueError, J._set_hz, (0,), "_set_hz: hz")
raises(TypeError, J._set_hz, (250.0,), "_set_hz: hz must be int")
J._set_hz(1000)

# --- argument checks ---------------------------------------------------------
raises(TypeError, J.msecs_to_jiffies, (1.5,), "msecs_to_jiffies: m must be int, got float")
raises(TypeError, J.usecs_to_jiffies, (None,), "usecs_to_jiffies: u must be int")
raises(TypeError, J.jiffies_to_msecs, (False,), "jiffies_to_msecs: j must be int, got bool")
raises(ValueError, J.nsecs_to_jiffies, (-1,), "nsecs_to_jiffies: n must be >= 0")
raises(ValueError, J.secs_to_jiffies, (-1,), "secs_to_jiffies: s must be >= 0")
raises(TypeError, J.round_jiffies, ("1",), "round_jiffies: j must be int")

# --- round_jiffies at HZ = 1000 (quarter = 250) ----------------------------
hw = _init("sim", hz=1000)
now = core.jiffies()                  # INITIAL_JIFFIES = 4294667296, % 1000 = 296
eq(now % 1000, 296, "INITIAL_JIFFIES % 1000")
base = now - 296                      # a whole second
eq(J.round_jiffies(base + 5100), base + 5000, "rem 100 < 250 rounds down")
eq(J.round_jiffies(base + 5249), base + 5000, "rem 249 rounds down")
eq(J.round_jiffies(base + 5250), base + 6000, "rem 250 rounds up")
eq(J.round_jiffies(base + 5000), base + 5000, "whole second stays")
eq(J.round_jiffies_up(base + 5100), base + 6000, "_up never rounds down")
eq(J.round_jiffies_up(base + 5000), base + 6000, "_up adds HZ to a whole second (Linux)")
eq(J.round_jiffies(now - 100), now - 100, "past value returned unchanged")
eq(J.round_jiffies(now), base + 1000, "now (rem 296) rounds up to the next second")
# rounding across the 32-bit wrap: 2**32 % 1000 = 296
eq(J.round_jiffies(4294967100), 4294967000, "round down near wrap")
eq(J.round_jiffies(U32), (4294968000) & U32, "round up wraps to 704")
eq(J.round_jiffies(U32), 704, "704")
hw.advance(804 * 1000000)             # now % 1000 == 100
now = core.jiffies()
eq(now, base + 1100, "sim advanced 804 jiffies")
eq(J.round_jiffies(now + 50), now + 50, "would round into the past: unchanged")
eq(J.round_jiffies_up(now + 50), base + 2000, "_up: next second")
eq(J.round_jiffies_relative(3000), 2900, "relative: base+4000 - now")
eq(J.round_jiffies_up_relative(3000), 3900, "up relative: base+5000 - now")
eq(J.round_jiffies_relative(50), 50, "relative into the past: unchanged")

# --- round_jiffies at HZ = 250 (quarter = 62) -------------------------------
_init("sim", hz=250)
now = core.jiffies()                  # 4294892296 % 250 = 46
eq(now % 250, 46, "INITIAL_JIFFIES % 250")
base = now - 46
eq(J.round_jiffies(base + 2500 + 61), base + 2500, "HZ=250 rem 61 rounds down")
eq(J.round_jiffies(base + 2500 + 62), base + 2750, "HZ=250 rem 62 rounds up")
eq(J.round_jiffies_up(base + 2500 + 1), base + 2750, "HZ=250 up")

print("KTEST PASS")
