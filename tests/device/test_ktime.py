# test_ktime: ktime_t arithmetic (Linux ktime.h) and the clocks on the sim backend.
import ktimers
from ktimers import core
from ktest import eq, raises
from ktimers import ktime as K

_init = getattr(ktimers, "init", None) or core.init


# constants
eq(K.KTIME_MAX, 9223372036854775807, "KTIME_MAX")
eq(K.KTIME_SEC_MAX, 9223372036, "KTIME_SEC_MAX = KTIME_MAX / NSEC_PER_SEC")
eq((K.NSEC_PER_SEC, K.NSEC_PER_MSEC, K.NSEC_PER_USEC), (10 ** 9, 10 ** 6, 1000), "NSEC_PER_*")
eq((K.USEC_PER_SEC, K.MSEC_PER_SEC, K.USEC_PER_MSEC), (10 ** 6, 1000, 1000), "*_PER_*")
eq((K.CLOCK_REALTIME, K.CLOCK_MONOTONIC, K.CLOCK_MONOTONIC_RAW, K.CLOCK_BOOTTIME, K.CLOCK_TAI),
   (0, 1, 4, 7, 11), "clock ids (Linux values)")

# construction
eq(K.ktime_set(1, 500), 1000000500, "ktime_set")
eq(K.ktime_set(-1, 0), -10 ** 9, "negative ktime")
eq(K.ktime_set(K.KTIME_SEC_MAX, 0), K.KTIME_MAX, "ktime_set saturates at KTIME_SEC_MAX")
eq(K.ktime_set(K.KTIME_SEC_MAX + 100, 5), K.KTIME_MAX, "ktime_set saturates above")
eq(K.ktime_set(K.KTIME_SEC_MAX - 1, 0), (K.KTIME_SEC_MAX - 1) * 10 ** 9, "just below")
eq(K.ns_to_ktime(123), 123, "ns_to_ktime")
eq(K.us_to_ktime(7), 7000, "us_to_ktime")
eq(K.ms_to_ktime(3), 3000000, "ms_to_ktime")

# arithmetic
eq(K.ktime_add(5, 7), 12, "ktime_add")
eq(K.ktime_sub(5, 7), -2, "ktime_sub")
eq(K.ktime_add_ns(10, 5), 15, "add_ns")
eq(K.ktime_add_us(10, 5), 5010, "add_us")
eq(K.ktime_add_ms(10, 5), 5000010, "add_ms")
eq(K.ktime_sub_ns(10, 5), 5, "sub_ns")
eq(K.ktime_sub_us(10000, 5), 5000, "sub_us")
eq(K.ktime_sub_ms(10 ** 7, 5), 5000000, "sub_ms")
eq(K.ktime_add_safe(1, 2), 3, "add_safe normal")
eq(K.ktime_add_safe(K.KTIME_MAX, 1), K.KTIME_MAX, "add_safe overflow saturates")
eq(K.ktime_add_safe(K.KTIME_MAX - 10, 10), K.KTIME_MAX, "add_safe exactly max")
eq(K.ktime_add_safe(2 ** 62, 2 ** 62), K.KTIME_MAX, "add_safe 2**63 overflows")
# Linux: res < lhs || res < rhs || res < 0 -> KTIME_MAX, so a negative operand saturates
eq(K.ktime_add_safe(10, -3), K.KTIME_MAX, "add_safe negative rhs (Linux)")
eq(K.ktime_add_safe(-5, 3), K.KTIME_MAX, "add_safe negative result (Linux)")

# conversions (C division truncates toward zero)
eq(K.ktime_to_ns(42), 42, "to_ns")
eq(K.ktime_to_us(1999), 1, "to_us truncates")
eq(K.ktime_to_us(-1999), -1, "to_us truncates toward zero")
eq(K.ktime_to_ms(2999999), 2, "to_ms")
eq(K.ktime_divns(10 ** 9 + 1, 10 ** 9), 1, "divns")
eq(K.ktime_divns(-7, 2), -3, "divns toward zero")
raises(ValueError, K.ktime_divns, (5, 0), "ktime_divns: div must be > 0")
eq(K.ktime_us_delta(5000, 2000), 3, "us_delta")
eq(K.ktime_ms_delta(2 * 10 ** 6, 5 * 10 ** 6), -3, "ms_delta negative")
eq(K.ktime_to_timespec(1500000000), (1, 500000000), "to_timespec")
eq(K.ktime_to_timespec64(-1), (-1, 999999999), "negative timespec: tv_nsec >= 0 (Linux)")
eq(K.timespec64_to_ktime((2, 5)), 2000000005, "timespec64_to_ktime")

# comparison
eq(K.ktime_compare(1, 2), -1, "compare <")
eq(K.ktime_compare(2, 2), 0, "compare ==")
eq(K.ktime_compare(3, 2), 1, "compare >")
eq(K.ktime_compare(-(2 ** 62), 2 ** 62), -1, "compare large")
assert K.ktime_after(3, 2) and not K.ktime_after(2, 2), "ktime_after"
assert K.ktime_before(2, 3) and not K.ktime_before(3, 3), "ktime_before"

# types: int only, bool rejected, the argument is named
raises(TypeError, K.ktime_set, (1.0, 0), "ktime_set: secs must be int, got float")
raises(TypeError, K.ktime_set, (1, True), "ktime_set: nsecs must be int, got bool")
raises(TypeError, K.ns_to_ktime, ("5",), "ns_to_ktime: ns must be int")
raises(TypeError, K.ktime_add, (1, None), "ktime_add: rhs must be int")
raises(TypeError, K.ktime_add_safe, (1.5, 1), "ktime_add_safe: lhs must be int")
raises(TypeError, K.ktime_compare, (1, 2.0), "ktime_compare: cmp2 must be int")
raises(TypeError, K.ktime_add_ms, (1, False), "ktime_add_ms: msec must be int")

# --- clocks on the sim backend -----------------------------------------------
hw = _init("sim", hz=1000)
t0 = K.ktime_get()
eq(t0, 0, "monotonic starts at 0 on sim")
hw.advance(5000123000)               # 5.000123 s of virtual time
eq(K.ktime_get(), 5000123000, "ktime_get follows the clocksource")
eq(K.ktime_get_ns(), 5000123000, "ktime_get_ns")
eq(K.ktime_get_raw(), 5000123000, "raw == monotonic (no NTP)")
eq(K.ktime_get_raw_ns(), 5000123000, "raw_ns")
eq(K.ktime_get_boottime(), 5000123000, "boottime: no suspend")
eq(K.ktime_get_seconds(), 5, "ktime_get_seconds")
eq(K.ktime_us_delta(K.ktime_get(), t0), 5000123, "us delta of the clock")
eq(K.clock_offset(K.CLOCK_MONOTONIC), 0, "monotonic offset")
eq(K.clock_offset(K.CLOCK_BOOTTIME), 0, "boottime offset")
raises(ValueError, K.clock_offset, (3,), "clock_offset: unknown clockid 3")
raises(TypeError, K.clock_offset, (True,), "clock_offset: clockid must be int")

# realtime: set the wall clock to 2026-11-22 00:00:00 UTC
epoch = 1795305600 * K.NSEC_PER_SEC
eq(K.do_settimeofday64(epoch), 0, "settimeofday")
eq(K.ktime_get_real(), epoch, "real == what was set")
eq(K.clock_offset(K.CLOCK_REALTIME), epoch - 5000123000, "realtime offset from monotonic")
hw.advance(10 ** 9)
eq(K.ktime_get_real_ns(), epoch + 10 ** 9, "realtime advances with monotonic")
eq(K.ktime_get_real_seconds(), 1795305601, "real seconds")
eq(K.ktime_get_clocktai(), epoch + 10 ** 9 + 37 * 10 ** 9, "TAI = real + 37 s")
eq(K.ktime_get_clocktai_ns(), K.ktime_get_real() + 37 * 10 ** 9, "TAI ns")
eq(K.clock_offset(K.CLOCK_TAI), K.clock_offset(K.CLOCK_REALTIME) + 37 * 10 ** 9, "TAI offset")
eq(K.ktime_get_clock(K.CLOCK_TAI), K.ktime_get_clocktai(), "ktime_get_clock")
K.timekeeping_set_tai_offset(38)
eq(K.clock_offset(K.CLOCK_TAI) - K.clock_offset(K.CLOCK_REALTIME), 38 * 10 ** 9, "tai offset set")
K.timekeeping_set_tai_offset(37)
eq(K.do_settimeofday64(-1), -22, "negative time -> -EINVAL")
eq(K.do_settimeofday64((100, 5)), 0, "settimeofday with a timespec pair")
eq(K.ktime_get_real(), 100 * 10 ** 9 + 5, "real after timespec set")
eq(K.ktime_set_real(0), 0, "ktime_set_real")
eq(K.clock_offset(K.CLOCK_REALTIME), -K.ktime_get(), "real = 0 now")
raises(TypeError, K.do_settimeofday64, (1.5,), "do_settimeofday64: ns must be int")
K.ktime_set_real(K.ktime_get())       # back to offset 0 for later tests
eq(K.clock_offset(K.CLOCK_REALTIME), 0, "offset restored")

print("KTEST PASS")
