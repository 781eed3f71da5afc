// _ktimers: ktimers.ktime and ktimers.defs as whole modules in ROM (Linux ktime.h,
// timekeeping.c; the flags and modes of timer.h and hrtimer.h).
//
// lib/ktimers/ktime.py and defs.py are the reference and the fallback.  Where the firmware
// has the C core, `import ktimers` registers these two module objects in sys.modules
// (_ktimers.modules(), called by the package before its own imports), so the package and
// the parts that load later find them instead of the Python files.  A ROM module costs no
// heap at all: its globals are a const table (the Python module's dict, its function
// objects and, from .mpy, its bytecode are not allocated) and gc.collect() never scans
// them.  tests/host/test_c_core.py runs the arithmetic here and in ktime.py (under
// CPython) on the same inputs: same results, same errors.
//
//     name                          context      as in ktime.py
//     ktime_set, *_to_ktime,        any (small   plain ints of any size; TypeError names
//     ktime_add/sub/add_safe,       ints only    the argument; big values are heap ints,
//     ktime_divns, ktime_to_*       in hard IRQ) so not in hard IRQ on a 32-bit board
//     ktime_get(_ns/_raw/_raw_ns)   softirq/task ktimers.core.ktime_get() (the package binds
//                                                the core's function itself: one call less)
//     ktime_get_boottime/real/      softirq/task core.ktime_get() + the clock's offset
//     clocktai(_ns), clock_offset   any          offsets: ktimers.core._offs (boot, real, tai)
//     __getattr__                   task         the rare helpers: ktimers._ktime (imported)
//
// The clock offsets live in ktimers.core (a list; _ktime's setters write it), so this
// module has no state: it reads them on each call (a dict probe and an index each).
#include "py/runtime.h"
#include "py/objint.h"
#include "modktimers.h"

// KTIME_MAX, KTIME_MIN and KTIME_SEC_MAX pass 2**30: int objects in ROM (KT_ROM_INT)
KT_ROM_INT(kt_ktime_max_obj, 0, 0x7FFFFFFFu, 0xFFFFFFFFu);
KT_ROM_INT(kt_ktime_min_obj, 1, 0x80000000u, 0x00000000u);
KT_ROM_INT(kt_ktime_sec_max_obj, 0, 0x00000002u, 0x25C17D04u);  // 9223372036

#define KTIME_MAX MP_OBJ_FROM_PTR(&kt_ktime_max_obj)
#define NSEC_PER_USEC (1000)
#define NSEC_PER_MSEC (1000000)
#define NSEC_PER_SEC (1000000000)
#define CLOCK_REALTIME (0)
#define CLOCK_MONOTONIC (1)
#define CLOCK_MONOTONIC_RAW (4)
#define CLOCK_BOOTTIME (7)
#define CLOCK_TAI (11)

static const MP_DEFINE_STR_OBJ(kt_ktime_ext_name_obj, "ktimers._ktime");
// __name__ (a str object: a user C module cannot add a qstr with a dot)
static const MP_DEFINE_STR_OBJ(kt_ktime_name_obj, "ktimers.ktime");
static const MP_DEFINE_STR_OBJ(kt_defs_name_obj, "ktimers.defs");

static mp_obj_t add(mp_obj_t a, mp_obj_t b) {
    return mp_binary_op(MP_BINARY_OP_ADD, a, b);
}

static mp_obj_t mul(mp_obj_t a, mp_int_t b) {
    return mp_binary_op(MP_BINARY_OP_MULTIPLY, a, MP_OBJ_NEW_SMALL_INT(b));
}

static bool less(mp_obj_t a, mp_obj_t b) {
    return mp_binary_op(MP_BINARY_OP_LESS, a, b) == mp_const_true;
}

// --- the argument checks, shared with ktimers._ktime (as _bad and _ints) -----------------

static void ints(const char *fn, const char *an, mp_obj_t a, const char *bn, mp_obj_t b) {
    kt_check_int(fn, an, a);
    kt_check_int(fn, bn, b);
}

static mp_obj_t ktime__ints(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    ints(mp_obj_str_get_str(args[0]), mp_obj_str_get_str(args[1]), args[2],
        mp_obj_str_get_str(args[3]), args[4]);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(kt_ktime__ints_obj, 5, 5, ktime__ints);

// --- construction and arithmetic (any context; allocates for values past 2**30) -----------

static mp_obj_t ktime_set(mp_obj_t secs, mp_obj_t nsecs) {
    ints("ktime_set", "secs", secs, "nsecs", nsecs);
    if (!less(secs, MP_OBJ_FROM_PTR(&kt_ktime_sec_max_obj))) {
        return KTIME_MAX;
    }
    return add(mul(secs, NSEC_PER_SEC), nsecs);
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_ktime_set_obj, ktime_set);

static mp_obj_t ns_to_ktime(mp_obj_t ns) {
    kt_check_int("ns_to_ktime", "ns", ns);
    return ns;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_ns_to_ktime_obj, ns_to_ktime);

static mp_obj_t us_to_ktime(mp_obj_t us) {
    kt_check_int("us_to_ktime", "us", us);
    return mul(us, NSEC_PER_USEC);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_us_to_ktime_obj, us_to_ktime);

static mp_obj_t ms_to_ktime(mp_obj_t ms) {
    kt_check_int("ms_to_ktime", "ms", ms);
    return mul(ms, NSEC_PER_MSEC);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_ms_to_ktime_obj, ms_to_ktime);

static mp_obj_t ktime_add(mp_obj_t lhs, mp_obj_t rhs) {
    ints("ktime_add", "lhs", lhs, "rhs", rhs);
    return add(lhs, rhs);
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_ktime_add_obj, ktime_add);

static mp_obj_t ktime_sub(mp_obj_t lhs, mp_obj_t rhs) {
    ints("ktime_sub", "lhs", lhs, "rhs", rhs);
    return mp_binary_op(MP_BINARY_OP_SUBTRACT, lhs, rhs);
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_ktime_sub_obj, ktime_sub);

// lhs + rhs, or KTIME_MAX when the s64 sum would overflow (and, as Linux, when it is
// negative or smaller than either operand)
static mp_obj_t ktime_add_safe(mp_obj_t lhs, mp_obj_t rhs) {
    ints("ktime_add_safe", "lhs", lhs, "rhs", rhs);
    mp_obj_t res = add(lhs, rhs);
    if (mp_obj_int_sign(res) < 0 || less(res, lhs) || less(res, rhs) || less(KTIME_MAX, res)) {
        return KTIME_MAX;
    }
    return res;
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_ktime_add_safe_obj, ktime_add_safe);

// kt / div truncated toward zero (as C); div must be > 0
static mp_obj_t ktime_divns(mp_obj_t kt, mp_obj_t div) {
    ints("ktime_divns", "kt", kt, "div", div);
    if (mp_obj_int_sign(div) <= 0) {
        kt_raise_with_int(&mp_type_ValueError, "ktime_divns: div must be > 0, got ", div);
    }
    if (mp_obj_int_sign(kt) < 0) {
        mp_obj_t q = mp_binary_op(MP_BINARY_OP_FLOOR_DIVIDE,
            mp_unary_op(MP_UNARY_OP_NEGATIVE, kt), div);
        return mp_unary_op(MP_UNARY_OP_NEGATIVE, q);
    }
    return mp_binary_op(MP_BINARY_OP_FLOOR_DIVIDE, kt, div);
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_ktime_divns_obj, ktime_divns);

static mp_obj_t ktime_to_ns(mp_obj_t kt) {
    kt_check_int("ktime_to_ns", "kt", kt);
    return kt;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_ktime_to_ns_obj, ktime_to_ns);

static mp_obj_t ktime_to_us(mp_obj_t kt) {
    return ktime_divns(kt, MP_OBJ_NEW_SMALL_INT(NSEC_PER_USEC));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_ktime_to_us_obj, ktime_to_us);

static mp_obj_t ktime_to_ms(mp_obj_t kt) {
    return ktime_divns(kt, MP_OBJ_NEW_SMALL_INT(NSEC_PER_MSEC));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_ktime_to_ms_obj, ktime_to_ms);

// --- clocks (softirq / task) ------------------------------------------------------------

// core._offs[i]: the offset of BOOTTIME (0), REALTIME (1) or TAI - UTC (2), in ns
static mp_obj_t offs(mp_int_t i) {
    return mp_obj_subscr(kt_core_attr(MP_QSTR__offs), MP_OBJ_NEW_SMALL_INT(i), MP_OBJ_SENTINEL);
}

static mp_obj_t ktime_get(void) {
    return mp_call_function_0(kt_core_attr(MP_QSTR_ktime_get));
}
static MP_DEFINE_CONST_FUN_OBJ_0(kt_ktime_get_obj, ktime_get);

static mp_obj_t ktime_get_boottime(void) {
    return add(ktime_get(), offs(0));
}
static MP_DEFINE_CONST_FUN_OBJ_0(kt_ktime_get_boottime_obj, ktime_get_boottime);

static mp_obj_t ktime_get_real(void) {
    return add(ktime_get(), offs(1));
}
static MP_DEFINE_CONST_FUN_OBJ_0(kt_ktime_get_real_obj, ktime_get_real);

static mp_obj_t ktime_get_clocktai(void) {
    return add(ktime_get_real(), offs(2));
}
static MP_DEFINE_CONST_FUN_OBJ_0(kt_ktime_get_clocktai_obj, ktime_get_clocktai);

// Offset in ns of clock clockid from CLOCK_MONOTONIC (the hrtimer bases use it); ValueError
// for an unknown id.  Any context.
static mp_obj_t clock_offset(mp_obj_t clockid) {
    kt_check_int("clock_offset", "clockid", clockid);
    switch (mp_obj_is_small_int(clockid) ? MP_OBJ_SMALL_INT_VALUE(clockid) : -1) {
        case CLOCK_MONOTONIC:
        case CLOCK_MONOTONIC_RAW:
            return MP_OBJ_NEW_SMALL_INT(0);
        case CLOCK_REALTIME:
            return offs(1);
        case CLOCK_BOOTTIME:
            return offs(0);
        case CLOCK_TAI:
            return add(offs(1), offs(2));
        default:
            kt_raise_with_int(&mp_type_ValueError, "clock_offset: unknown clockid ", clockid);
    }
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_clock_offset_obj, clock_offset);

// The rarely used helpers: ktimers._ktime, imported on first use.  Task context.
static mp_obj_t ktime___getattr__(mp_obj_t name) {
    return kt_import_attr(MP_OBJ_FROM_PTR(&kt_ktime_ext_name_obj), name);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_ktime___getattr___obj, ktime___getattr__);

static const mp_rom_map_elem_t kt_ktime_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_PTR(&kt_ktime_name_obj) },
    { MP_ROM_QSTR(MP_QSTR___getattr__), MP_ROM_PTR(&kt_ktime___getattr___obj) },
    { MP_ROM_QSTR(MP_QSTR_NSEC_PER_USEC), MP_ROM_INT(NSEC_PER_USEC) },
    { MP_ROM_QSTR(MP_QSTR_NSEC_PER_MSEC), MP_ROM_INT(NSEC_PER_MSEC) },
    { MP_ROM_QSTR(MP_QSTR_NSEC_PER_SEC), MP_ROM_INT(NSEC_PER_SEC) },
    { MP_ROM_QSTR(MP_QSTR_USEC_PER_MSEC), MP_ROM_INT(1000) },
    { MP_ROM_QSTR(MP_QSTR_USEC_PER_SEC), MP_ROM_INT(1000000) },
    { MP_ROM_QSTR(MP_QSTR_MSEC_PER_SEC), MP_ROM_INT(1000) },
    { MP_ROM_QSTR(MP_QSTR_KTIME_MAX), MP_ROM_PTR(&kt_ktime_max_obj) },
    { MP_ROM_QSTR(MP_QSTR_KTIME_MIN), MP_ROM_PTR(&kt_ktime_min_obj) },
    { MP_ROM_QSTR(MP_QSTR_KTIME_SEC_MAX), MP_ROM_PTR(&kt_ktime_sec_max_obj) },
    { MP_ROM_QSTR(MP_QSTR_CLOCK_REALTIME), MP_ROM_INT(CLOCK_REALTIME) },
    { MP_ROM_QSTR(MP_QSTR_CLOCK_MONOTONIC), MP_ROM_INT(CLOCK_MONOTONIC) },
    { MP_ROM_QSTR(MP_QSTR_CLOCK_MONOTONIC_RAW), MP_ROM_INT(CLOCK_MONOTONIC_RAW) },
    { MP_ROM_QSTR(MP_QSTR_CLOCK_BOOTTIME), MP_ROM_INT(CLOCK_BOOTTIME) },
    { MP_ROM_QSTR(MP_QSTR_CLOCK_TAI), MP_ROM_INT(CLOCK_TAI) },
    { MP_ROM_QSTR(MP_QSTR__bad), MP_ROM_PTR(&kt_bad_obj) },
    { MP_ROM_QSTR(MP_QSTR__ints), MP_ROM_PTR(&kt_ktime__ints_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_set), MP_ROM_PTR(&kt_ktime_set_obj) },
    { MP_ROM_QSTR(MP_QSTR_ns_to_ktime), MP_ROM_PTR(&kt_ns_to_ktime_obj) },
    { MP_ROM_QSTR(MP_QSTR_us_to_ktime), MP_ROM_PTR(&kt_us_to_ktime_obj) },
    { MP_ROM_QSTR(MP_QSTR_ms_to_ktime), MP_ROM_PTR(&kt_ms_to_ktime_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_add), MP_ROM_PTR(&kt_ktime_add_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_sub), MP_ROM_PTR(&kt_ktime_sub_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_add_safe), MP_ROM_PTR(&kt_ktime_add_safe_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_divns), MP_ROM_PTR(&kt_ktime_divns_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_to_ns), MP_ROM_PTR(&kt_ktime_to_ns_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_to_us), MP_ROM_PTR(&kt_ktime_to_us_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_to_ms), MP_ROM_PTR(&kt_ktime_to_ms_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_get), MP_ROM_PTR(&kt_ktime_get_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_get_ns), MP_ROM_PTR(&kt_ktime_get_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_get_raw), MP_ROM_PTR(&kt_ktime_get_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_get_raw_ns), MP_ROM_PTR(&kt_ktime_get_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_get_boottime), MP_ROM_PTR(&kt_ktime_get_boottime_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_get_boottime_ns), MP_ROM_PTR(&kt_ktime_get_boottime_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_get_real), MP_ROM_PTR(&kt_ktime_get_real_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_get_real_ns), MP_ROM_PTR(&kt_ktime_get_real_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_get_clocktai), MP_ROM_PTR(&kt_ktime_get_clocktai_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_get_clocktai_ns), MP_ROM_PTR(&kt_ktime_get_clocktai_obj) },
    { MP_ROM_QSTR(MP_QSTR_clock_offset), MP_ROM_PTR(&kt_clock_offset_obj) },
};
static MP_DEFINE_CONST_DICT(kt_ktime_globals, kt_ktime_globals_table);

const mp_obj_module_t kt_ktime_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kt_ktime_globals,
};

// ktimers.defs: the flags and modes of timer.h and hrtimer.h (plain ints).
static const mp_rom_map_elem_t kt_defs_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_PTR(&kt_defs_name_obj) },
    // timer.h: timer_list flags (bits 19-21)
    { MP_ROM_QSTR(MP_QSTR_TIMER_DEFERRABLE), MP_ROM_INT(0x00080000) },
    { MP_ROM_QSTR(MP_QSTR_TIMER_PINNED), MP_ROM_INT(0x00100000) },
    { MP_ROM_QSTR(MP_QSTR_TIMER_IRQSAFE), MP_ROM_INT(0x00200000) },
    // hrtimer.h: enum hrtimer_mode (bits REL 1, PINNED 2, SOFT 4, HARD 8)
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_ABS), MP_ROM_INT(0x00) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_REL), MP_ROM_INT(0x01) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_PINNED), MP_ROM_INT(0x02) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_SOFT), MP_ROM_INT(0x04) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_HARD), MP_ROM_INT(0x08) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_ABS_PINNED), MP_ROM_INT(0x02) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_REL_PINNED), MP_ROM_INT(0x03) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_ABS_SOFT), MP_ROM_INT(0x04) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_REL_SOFT), MP_ROM_INT(0x05) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_ABS_PINNED_SOFT), MP_ROM_INT(0x06) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_REL_PINNED_SOFT), MP_ROM_INT(0x07) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_ABS_HARD), MP_ROM_INT(0x08) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_REL_HARD), MP_ROM_INT(0x09) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_ABS_PINNED_HARD), MP_ROM_INT(0x0A) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_MODE_REL_PINNED_HARD), MP_ROM_INT(0x0B) },
    // enum hrtimer_restart
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_NORESTART), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR_HRTIMER_RESTART), MP_ROM_INT(1) },
};
static MP_DEFINE_CONST_DICT(kt_defs_globals, kt_defs_globals_table);

const mp_obj_module_t kt_defs_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kt_defs_globals,
};
