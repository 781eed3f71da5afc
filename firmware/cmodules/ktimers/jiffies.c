// _ktimers: ktimers.jiffies as a ROM module (Linux include/linux/jiffies.h).
//
// lib/ktimers/jiffies.py is the reference and the fallback; `import ktimers` registers this
// module in sys.modules where the firmware has the C core (see ktime.c).  Same arguments,
// results and errors (tests/host/test_c_core.py runs both on the same inputs); what
// changes is the heap (a const table of ROM functions: no dict, no function objects, and
// from .mpy no bytecode) and the speed.
//
// State: the HZ the conversions use is ktimers.core.HZ (the core sets it in init(), before
// it calls _set_hz; _set_hz(hz) here validates and stores it there).  HZ, INITIAL_JIFFIES
// and TICK_NSEC are attributes computed from it by the module's __getattr__, so
// `ktimers.jiffies.HZ` and `from ktimers.jiffies import HZ` work as with the Python module;
// `from ktimers.jiffies import *` does not copy them (the package binds its own in init()).
//
// Values are Python ints of any size.  A 32-bit function uses its arguments modulo 2**32
// and a 64-bit one modulo 2**64, which is what the Python masks give; small-int arguments
// allocate nothing, so the comparisons keep their "any context" contract.  HZ is read from
// ktimers.core on each call (one dict probe), so there is no C copy to keep in step with
// ktimers.init(); the current jiffies come from ktimers.core too.
//
//     function                 context      as in jiffies.py
//     time_after ... _eq64     any          (b - a) & sign bit, 32 or 64 bits
//     time_is_*_jiffies[64]    softirq/task against core.jiffies() / get_jiffies_64()
//     *_to_jiffies, *_to_*secs softirq/task exact ceilings/floors at the current HZ
//     round_jiffies*           softirq/task whole seconds, never into the past
#include "py/runtime.h"
#include "py/objint.h"
#include "py/smallint.h"
#include "py/objstr.h"
#include "modktimers.h"

#define U32 (0xFFFFFFFFu)
#define SIGN32 (0x80000000u)
#define SIGN64 (0x8000000000000000ull)
#define MAX_JIFFY_OFFSET ((0x7FFFFFFF >> 1) - 1)
#define LONG_MAX32 (0x7FFFFFFF)
#define MSEC_PER_SEC (1000u)
#define USEC_PER_SEC (1000000u)
#define NSEC_PER_SEC (1000000000u)
#define USER_HZ (100u)

static const MP_DEFINE_STR_OBJ(kt_jiffies_name_obj, "ktimers.jiffies");
KT_ROM_INT(kt_long_max_obj, 0, 0, 0x7FFFFFFFu);  // LONG_MAX (BITS_PER_LONG 32)

static uint32_t low32(mp_obj_t v) {
    return (uint32_t)mp_obj_int_get_truncated(v);
}

// v modulo 2**64 (two's complement for negative values), any size
static uint64_t low64(mp_obj_t v) {
    if (mp_obj_is_small_int(v)) {
        return (uint64_t)(int64_t)MP_OBJ_SMALL_INT_VALUE(v);
    }
    byte b[8];
    mp_obj_int_to_bytes_impl(v, false, sizeof(b), b);
    uint64_t r = 0;
    for (int i = 7; i >= 0; --i) {
        r = (r << 8) | b[i];
    }
    return r;
}

static bool is_negative(mp_obj_t v) {
    return mp_obj_int_sign(v) < 0;
}

static mp_obj_t u32_obj(uint32_t v) {
    return mp_obj_new_int_from_uint(v);
}

static mp_obj_t u64_obj(uint64_t v) {
    return v <= (uint64_t)MP_SMALL_INT_MAX ? MP_OBJ_NEW_SMALL_INT((mp_int_t)v)
                                           : mp_obj_new_int_from_ull(v);
}

static uint32_t cur_hz(void) {
    return (uint32_t)mp_obj_get_int(kt_core_attr(MP_QSTR_HZ));
}

static uint32_t tick_nsec(uint32_t hz) {  // TICK_NSEC: ns per jiffy, rounded
    return (NSEC_PER_SEC + hz / 2) / hz;
}

static uint32_t initial_jiffies(uint32_t hz) {  // INITIAL_JIFFIES: 5 minutes before the wrap
    return (uint32_t)0 - 300u * hz;
}

static mp_obj_t now32(void) {
    return mp_call_function_0(kt_core_attr(MP_QSTR_jiffies));
}

static mp_obj_t now64(void) {
    return mp_call_function_0(kt_core_attr(MP_QSTR_get_jiffies_64));
}

// --- comparisons (any context) ------------------------------------------------------------

static bool after(const char *fn, mp_obj_t a, mp_obj_t b) {  // (b - a) & SIGN32 != 0
    kt_check_int(fn, "a", a);
    kt_check_int(fn, "b", b);
    return ((low32(b) - low32(a)) & SIGN32) != 0;
}

static bool after_eq(const char *fn, mp_obj_t a, mp_obj_t b) {  // (a - b) & SIGN32 == 0
    kt_check_int(fn, "a", a);
    kt_check_int(fn, "b", b);
    return ((low32(a) - low32(b)) & SIGN32) == 0;
}

static bool after64(mp_obj_t a, mp_obj_t b) {
    kt_check_int("time_after64", "a", a);
    kt_check_int("time_after64", "b", b);
    return ((low64(b) - low64(a)) & SIGN64) != 0;
}

static bool after_eq64(mp_obj_t a, mp_obj_t b) {
    kt_check_int("time_after_eq64", "a", a);
    kt_check_int("time_after_eq64", "b", b);
    return ((low64(a) - low64(b)) & SIGN64) == 0;
}

static mp_obj_t time_after(mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_bool(after("time_after", a, b));
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_time_after_obj, time_after);

static mp_obj_t time_before(mp_obj_t a, mp_obj_t b) {
    kt_check_int("time_before", "a", a);
    kt_check_int("time_before", "b", b);
    return mp_obj_new_bool(((low32(a) - low32(b)) & SIGN32) != 0);
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_time_before_obj, time_before);

static mp_obj_t time_after_eq(mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_bool(after_eq("time_after_eq", a, b));
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_time_after_eq_obj, time_after_eq);

static bool before_eq(mp_obj_t a, mp_obj_t b) {  // (b - a) & SIGN32 == 0
    kt_check_int("time_before_eq", "a", a);
    kt_check_int("time_before_eq", "b", b);
    return ((low32(b) - low32(a)) & SIGN32) == 0;
}

static mp_obj_t time_before_eq(mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_bool(before_eq(a, b));
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_time_before_eq_obj, time_before_eq);

// time_after_eq(a, b) and time_before_eq(a, c): c is not looked at when the first is False
static mp_obj_t time_in_range(mp_obj_t a, mp_obj_t b, mp_obj_t c) {
    return mp_obj_new_bool(after_eq("time_after_eq", a, b) && before_eq(a, c));
}
static MP_DEFINE_CONST_FUN_OBJ_3(kt_time_in_range_obj, time_in_range);

static mp_obj_t time_in_range_open(mp_obj_t a, mp_obj_t b, mp_obj_t c) {
    return mp_obj_new_bool(after_eq("time_after_eq", a, b)
        && mp_obj_is_true(time_before(a, c)));
}
static MP_DEFINE_CONST_FUN_OBJ_3(kt_time_in_range_open_obj, time_in_range_open);

static mp_obj_t time_after64(mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_bool(after64(a, b));
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_time_after64_obj, time_after64);

static mp_obj_t time_before64(mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_bool(after64(b, a));
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_time_before64_obj, time_before64);

static mp_obj_t time_after_eq64(mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_bool(after_eq64(a, b));
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_time_after_eq64_obj, time_after_eq64);

static mp_obj_t time_before_eq64(mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_bool(after_eq64(b, a));
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_time_before_eq64_obj, time_before_eq64);

static mp_obj_t time_in_range64(mp_obj_t a, mp_obj_t b, mp_obj_t c) {
    return mp_obj_new_bool(after_eq64(a, b) && after_eq64(c, a));
}
static MP_DEFINE_CONST_FUN_OBJ_3(kt_time_in_range64_obj, time_in_range64);

// --- against the current jiffies (softirq/task) --------------------------------------------

static mp_obj_t time_is_before_jiffies(mp_obj_t a) {
    return mp_obj_new_bool(after("time_after", now32(), a));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_time_is_before_jiffies_obj, time_is_before_jiffies);

static mp_obj_t time_is_after_jiffies(mp_obj_t a) {
    return time_before(now32(), a);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_time_is_after_jiffies_obj, time_is_after_jiffies);

static mp_obj_t time_is_before_eq_jiffies(mp_obj_t a) {
    return mp_obj_new_bool(after_eq("time_after_eq", now32(), a));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_time_is_before_eq_jiffies_obj, time_is_before_eq_jiffies);

static mp_obj_t time_is_after_eq_jiffies(mp_obj_t a) {
    return mp_obj_new_bool(before_eq(now32(), a));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_time_is_after_eq_jiffies_obj, time_is_after_eq_jiffies);

static mp_obj_t time_is_before_jiffies64(mp_obj_t a) {
    return mp_obj_new_bool(after64(now64(), a));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_time_is_before_jiffies64_obj, time_is_before_jiffies64);

static mp_obj_t time_is_after_jiffies64(mp_obj_t a) {
    return mp_obj_new_bool(after64(a, now64()));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_time_is_after_jiffies64_obj, time_is_after_jiffies64);

static mp_obj_t time_is_before_eq_jiffies64(mp_obj_t a) {
    return mp_obj_new_bool(after_eq64(now64(), a));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_time_is_before_eq_jiffies64_obj, time_is_before_eq_jiffies64);

static mp_obj_t time_is_after_eq_jiffies64(mp_obj_t a) {
    return mp_obj_new_bool(after_eq64(a, now64()));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_time_is_after_eq_jiffies64_obj, time_is_after_eq_jiffies64);

// --- conversions (softirq/task) -------------------------------------------------------------

static uint32_t to_msecs(uint32_t j, uint32_t hz) {
    if (MSEC_PER_SEC % hz == 0) {
        return (MSEC_PER_SEC / hz) * j;  // modulo 2**32
    }
    return (uint32_t)(((uint64_t)j * MSEC_PER_SEC + hz - 1) / hz);
}

static uint32_t to_usecs(uint32_t j, uint32_t hz) {
    if (USEC_PER_SEC % hz == 0) {
        return (USEC_PER_SEC / hz) * j;
    }
    return (uint32_t)(((uint64_t)j * USEC_PER_SEC + hz - 1) / hz);
}

static mp_obj_t jiffies_to_msecs(mp_obj_t j) {
    kt_check_int("jiffies_to_msecs", "j", j);
    return u32_obj(to_msecs(low32(j), cur_hz()));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_jiffies_to_msecs_obj, jiffies_to_msecs);

static mp_obj_t jiffies_to_usecs(mp_obj_t j) {
    kt_check_int("jiffies_to_usecs", "j", j);
    return u32_obj(to_usecs(low32(j), cur_hz()));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_jiffies_to_usecs_obj, jiffies_to_usecs);

static mp_obj_t jiffies_to_nsecs(mp_obj_t j) {
    kt_check_int("jiffies_to_usecs", "j", j);
    return u64_obj((uint64_t)to_usecs(low32(j), cur_hz()) * 1000u);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_jiffies_to_nsecs_obj, jiffies_to_nsecs);

// floor(j * mul / div) for j < 2**64 and mul, div <= 10**9, modulo 2**64:
// j = q * div + r, so j * mul / div = q * mul + r * mul / div (r * mul < 2**60).
static uint64_t muldiv_mod64(uint64_t j, uint32_t mul, uint32_t div) {
    return (j / div) * mul + ((j % div) * mul) / div;
}

static mp_obj_t jiffies64_to_nsecs(mp_obj_t j_in) {
    kt_check_int("jiffies64_to_nsecs", "j", j_in);
    uint64_t j = low64(j_in);
    uint32_t hz = cur_hz();
    if (NSEC_PER_SEC % hz == 0) {
        return u64_obj((uint64_t)(NSEC_PER_SEC / hz) * j);
    }
    return u64_obj(muldiv_mod64(j, NSEC_PER_SEC, hz));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_jiffies64_to_nsecs_obj, jiffies64_to_nsecs);

// (j & U64) * 1000 // HZ, exact: beyond 2**64 only when HZ < 1000 (then a long int)
static mp_obj_t jiffies64_to_msecs(mp_obj_t j_in) {
    kt_check_int("jiffies64_to_msecs", "j", j_in);
    uint64_t j = low64(j_in);
    uint32_t hz = cur_hz();
    uint64_t q = j / hz, r = ((j % hz) * MSEC_PER_SEC) / hz;
    if (q <= (UINT64_MAX - r) / MSEC_PER_SEC) {
        return u64_obj(q * MSEC_PER_SEC + r);
    }
    mp_obj_t big = mp_binary_op(MP_BINARY_OP_MULTIPLY, mp_obj_new_int_from_ull(q),
        MP_OBJ_NEW_SMALL_INT(MSEC_PER_SEC));
    return mp_binary_op(MP_BINARY_OP_ADD, big, u64_obj(r));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_jiffies64_to_msecs_obj, jiffies64_to_msecs);

static mp_obj_t msecs_to_jiffies(mp_obj_t m_in) {
    kt_check_int("msecs_to_jiffies", "m", m_in);
    // m < 0 or m > LONG_MAX: "forever" (a long int beyond a small int compares as an object)
    if (is_negative(m_in)) {
        return MP_OBJ_NEW_SMALL_INT(MAX_JIFFY_OFFSET);
    }
    if (mp_obj_is_small_int(m_in) ? (uint64_t)MP_OBJ_SMALL_INT_VALUE(m_in) > LONG_MAX32
        : mp_obj_is_true(mp_binary_op(MP_BINARY_OP_MORE, m_in,
            mp_obj_new_int_from_uint(LONG_MAX32)))) {
        return MP_OBJ_NEW_SMALL_INT(MAX_JIFFY_OFFSET);
    }
    uint64_t m = low32(m_in);
    uint32_t hz = cur_hz();
    uint64_t r;
    if (MSEC_PER_SEC % hz == 0) {
        uint32_t k = MSEC_PER_SEC / hz;
        r = (m + k - 1) / k;
    } else if (hz % MSEC_PER_SEC == 0) {
        r = m * (hz / MSEC_PER_SEC);
    } else {
        r = (m * hz + MSEC_PER_SEC - 1) / MSEC_PER_SEC;
    }
    return MP_OBJ_NEW_SMALL_INT(r < MAX_JIFFY_OFFSET ? (mp_int_t)r : MAX_JIFFY_OFFSET);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_msecs_to_jiffies_obj, msecs_to_jiffies);

static mp_obj_t usecs_to_jiffies(mp_obj_t u_in) {
    kt_check_int("usecs_to_jiffies", "u", u_in);
    uint64_t u = low32(u_in);
    uint32_t hz = cur_hz();
    if (u > to_usecs(MAX_JIFFY_OFFSET, hz)) {
        return MP_OBJ_NEW_SMALL_INT(MAX_JIFFY_OFFSET);
    }
    if (USEC_PER_SEC % hz == 0) {
        uint32_t k = USEC_PER_SEC / hz;
        return u64_obj((u + k - 1) / k);
    }
    return u64_obj((u * hz + USEC_PER_SEC - 1) / USEC_PER_SEC);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_usecs_to_jiffies_obj, usecs_to_jiffies);

static uint64_t ns_to_j64(uint64_t n, uint32_t hz) {
    if (NSEC_PER_SEC % hz == 0) {
        return n / (NSEC_PER_SEC / hz);
    }
    return muldiv_mod64(n, hz, NSEC_PER_SEC);
}

static mp_obj_t nsecs_to_jiffies64(mp_obj_t n) {
    kt_check_int("nsecs_to_jiffies64", "n", n);
    if (is_negative(n)) {
        kt_raise_with_int(&mp_type_ValueError, "nsecs_to_jiffies64: n must be >= 0, got ", n);
    }
    return u64_obj(ns_to_j64(low64(n), cur_hz()));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_nsecs_to_jiffies64_obj, nsecs_to_jiffies64);

static mp_obj_t nsecs_to_jiffies(mp_obj_t n) {
    kt_check_int("nsecs_to_jiffies", "n", n);
    if (is_negative(n)) {
        kt_raise_with_int(&mp_type_ValueError, "nsecs_to_jiffies: n must be >= 0, got ", n);
    }
    return u32_obj((uint32_t)ns_to_j64(low64(n), cur_hz()));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_nsecs_to_jiffies_obj, nsecs_to_jiffies);

static mp_obj_t secs_to_jiffies(mp_obj_t s) {
    kt_check_int("secs_to_jiffies", "s", s);
    if (is_negative(s)) {
        kt_raise_with_int(&mp_type_ValueError, "secs_to_jiffies: s must be >= 0, got ", s);
    }
    return u32_obj(low32(s) * cur_hz());
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_secs_to_jiffies_obj, secs_to_jiffies);

static mp_obj_t jiffies_to_clock_t(mp_obj_t x) {
    kt_check_int("jiffies_to_clock_t", "x", x);
    return u64_obj((uint64_t)low32(x) * tick_nsec(cur_hz()) / (NSEC_PER_SEC / USER_HZ));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_jiffies_to_clock_t_obj, jiffies_to_clock_t);

// --- rounding (kernel/time/timer.c) ---------------------------------------------------------

static uint32_t round_common(uint32_t j, bool force_up) {
    uint32_t hz = cur_hz();
    uint32_t rem = j % hz;
    uint32_t r = (rem < hz / 4 && !force_up) ? j - rem : j - rem + hz;
    // never into the past: keep the original unless r is after jiffies
    return ((low32(now32()) - r) & SIGN32) != 0 ? r : j;
}

static mp_obj_t round_jiffies(mp_obj_t j) {
    kt_check_int("round_jiffies", "j", j);
    return u32_obj(round_common(low32(j), false));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_round_jiffies_obj, round_jiffies);

static mp_obj_t round_jiffies_up(mp_obj_t j) {
    kt_check_int("round_jiffies_up", "j", j);
    return u32_obj(round_common(low32(j), true));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_round_jiffies_up_obj, round_jiffies_up);

static mp_obj_t round_relative(const char *fn, mp_obj_t j, bool up) {
    kt_check_int(fn, "j", j);
    uint32_t j0 = low32(now32());
    return u32_obj(round_common(low32(j) + j0, up) - j0);
}

static mp_obj_t round_jiffies_relative(mp_obj_t j) {
    return round_relative("round_jiffies_relative", j, false);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_round_jiffies_relative_obj, round_jiffies_relative);

static mp_obj_t round_jiffies_up_relative(mp_obj_t j) {
    return round_relative("round_jiffies_up_relative", j, true);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_round_jiffies_up_relative_obj, round_jiffies_up_relative);

// --- the module -------------------------------------------------------------------------

// _set_hz(hz): the HZ of the conversions (ktimers.core.HZ); called by core.init().  Task
// context; returns None.
static mp_obj_t jiffies__set_hz(mp_obj_t hz) {
    kt_check_int("_set_hz", "hz", hz);
    if (mp_binary_op(MP_BINARY_OP_LESS, hz, MP_OBJ_NEW_SMALL_INT(1)) == mp_const_true
        || mp_binary_op(MP_BINARY_OP_MORE, hz, MP_OBJ_NEW_SMALL_INT(USEC_PER_SEC))
        == mp_const_true) {
        kt_raise_with_int(&mp_type_ValueError, "_set_hz: hz must be 1..1000000, got ", hz);
    }
    mp_obj_t core = kt_module_lookup_module(MP_OBJ_FROM_PTR(&kt_core_name_obj));
    if (core == MP_OBJ_NULL) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("ktimers.core: not loaded"));
    }
    mp_store_attr(core, MP_QSTR_HZ, hz);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_jiffies__set_hz_obj, jiffies__set_hz);

// HZ, INITIAL_JIFFIES and TICK_NSEC, from ktimers.core.HZ.  Any context (small ints).
static mp_obj_t jiffies___getattr__(mp_obj_t name) {
    qstr q = mp_obj_str_get_qstr(name);
    if (q == MP_QSTR_HZ) {
        return MP_OBJ_NEW_SMALL_INT(cur_hz());
    } else if (q == MP_QSTR_INITIAL_JIFFIES) {
        return u32_obj(initial_jiffies(cur_hz()));
    } else if (q == MP_QSTR_TICK_NSEC) {
        return u32_obj(tick_nsec(cur_hz()));
    }
    mp_raise_msg_varg(&mp_type_AttributeError,
        MP_ERROR_TEXT("module 'ktimers.jiffies' has no attribute '%q'"), q);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_jiffies___getattr___obj, jiffies___getattr__);

static const mp_rom_map_elem_t kt_jiffies_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_PTR(&kt_jiffies_name_obj) },
    { MP_ROM_QSTR(MP_QSTR___getattr__), MP_ROM_PTR(&kt_jiffies___getattr___obj) },
    { MP_ROM_QSTR(MP_QSTR_BITS_PER_LONG), MP_ROM_INT(32) },
    { MP_ROM_QSTR(MP_QSTR_LONG_MAX), MP_ROM_PTR(&kt_long_max_obj) },
    { MP_ROM_QSTR(MP_QSTR_MAX_JIFFY_OFFSET), MP_ROM_INT(MAX_JIFFY_OFFSET) },
    { MP_ROM_QSTR(MP_QSTR_USER_HZ), MP_ROM_INT(USER_HZ) },
    { MP_ROM_QSTR(MP_QSTR__set_hz), MP_ROM_PTR(&kt_jiffies__set_hz_obj) },
    { MP_ROM_QSTR(MP_QSTR__bad), MP_ROM_PTR(&kt_bad_obj) },
    #define KT_ENTRY(name) { MP_ROM_QSTR(MP_QSTR_##name), MP_ROM_PTR(&kt_##name##_obj) },
    KT_JIFFIES_FUNS(KT_ENTRY)
};
static MP_DEFINE_CONST_DICT(kt_jiffies_globals, kt_jiffies_globals_table);

const mp_obj_module_t kt_jiffies_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kt_jiffies_globals,
};
