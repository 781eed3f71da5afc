// _ktimers, the optional C core of ktimers: what its files share.
#ifndef KTIMERS_MODKTIMERS_H
#define KTIMERS_MODKTIMERS_H

#include "py/obj.h"
#include "py/objstr.h"
#include "py/objint.h"

// sys.modules[name].<attr> (name: a str object, e.g. in ROM), or MP_OBJ_NULL if the module
// is not loaded or lacks the name; allocates nothing (modktimers.c)
mp_obj_t kt_module_lookup(mp_obj_t name, qstr attr);

// sys.modules[name] if it is a module, else MP_OBJ_NULL
mp_obj_t kt_module_lookup_module(mp_obj_t name);

// sys.modules' key for ktimers.core (a str object in ROM)
extern const mp_obj_str_t kt_core_name_obj;

// "ktimers.<part>" as a str (task context: allocates)
mp_obj_t kt_dotted(qstr part);

// o.<name>(args...) without a bound method object (the bytecode's LOAD_METHOD); n <= 5
mp_obj_t kt_call(mp_obj_t o, qstr name, size_t n, const mp_obj_t *args);

// isinstance(v, int) and not a bool; exception object e is a <type>
bool kt_is_int(mp_obj_t v);
bool kt_is_exc(mp_obj_t e, const mp_obj_type_t *type);

// ktimers.core in C (core.c): sys.modules["ktimers.core"] if loaded, else a new module
// whose globals are core.py's state and the C functions.  Task context (modules() calls it)
mp_obj_t kt_core_new(void);

// a global of ktimers.core in C (NameError if deleted), and that module (RuntimeError if not
// loaded).  Allocate nothing
mp_obj_t kt_core_get(qstr q);
mp_obj_t kt_core_module(void);

// _ktimers.hrtimer_base(): ktimers.hrtimer_base in C (hrtimer_base.c), made and attached once
extern const mp_obj_fun_builtin_fixed_t kt_base_make_obj;

// _ktimers.hrtimer_calls(): the hrtimer calls in C (hrtimer.c), which ktimers.hrtimer binds
extern const mp_obj_fun_builtin_fixed_t kt_hrtimer_calls_obj;

// point core.c's functions at the running ktimers.core (RuntimeError if not loaded)
void kt_core_refresh(void);

// the C core's stand-in for ktimers.trace while it is not loaded (a ROM module)
mp_obj_t kt_trace_off_obj(void);

// sys.modules' key for ktimers._printk, printk's state and engine (a str object in ROM)
extern const mp_obj_str_t kt_printk_state_name_obj;

// The same, raising RuntimeError "<module>.<attr>: not loaded" where it is missing
mp_obj_t kt_module_attr(mp_obj_t name, qstr attr);

// kt_module_attr of ktimers.core and of ktimers._printk
mp_obj_t kt_core_attr(qstr attr);
mp_obj_t kt_printk_attr(qstr attr);

// TypeError "<fn>: <arg> must be int, got <type>" unless v is an int (bool and int
// subclasses are refused, as the Python's `type(v) is not int`)
void kt_check_int(const char *fn, const char *arg, mp_obj_t v);

// The functions of ktimers.jiffies (jiffies.c), one X(name) each: its module table binds
// <name> to kt_<name>_obj.
#define KT_JIFFIES_FUNS(X) \
    X(time_after) X(time_before) X(time_after_eq) X(time_before_eq) \
    X(time_in_range) X(time_in_range_open) \
    X(time_after64) X(time_before64) X(time_after_eq64) X(time_before_eq64) X(time_in_range64) \
    X(time_is_before_jiffies) X(time_is_after_jiffies) \
    X(time_is_before_eq_jiffies) X(time_is_after_eq_jiffies) \
    X(time_is_before_jiffies64) X(time_is_after_jiffies64) \
    X(time_is_before_eq_jiffies64) X(time_is_after_eq_jiffies64) \
    X(jiffies_to_msecs) X(jiffies_to_usecs) X(jiffies_to_nsecs) \
    X(jiffies64_to_nsecs) X(jiffies64_to_msecs) \
    X(msecs_to_jiffies) X(usecs_to_jiffies) X(nsecs_to_jiffies64) X(nsecs_to_jiffies) \
    X(secs_to_jiffies) X(jiffies_to_clock_t) \
    X(round_jiffies) X(round_jiffies_up) X(round_jiffies_relative) X(round_jiffies_up_relative)


// _bad(fn, arg, v) for the modules' tables: TypeError "<fn>: <arg> must be int, got <type>"
extern const mp_obj_fun_builtin_fixed_t kt_bad_obj;

// raise <exc>("<text><v>"), v printed in full (an int of any size: the Python's "%d" % v)
NORETURN void kt_raise_with_int(const mp_obj_type_t *exc, const char *text, mp_obj_t v);

// sys.modules[name].<attr> (attr a str), importing module name first if needed; task
// context (a ROM module's __getattr__ loading a rarely used part)
mp_obj_t kt_import_attr(mp_obj_t name, mp_obj_t attr);

// whole modules in ROM: ktimers.ktime and ktimers.defs (ktime.c), ktimers.completion
// (completion.c), ktimers.jiffies (jiffies.c), ktimers.delay (delay.c), ktimers.printk
// (printk.c), ktimers.bug (bug.c)
extern const mp_obj_module_t kt_ktime_module;
extern const mp_obj_module_t kt_defs_module;
extern const mp_obj_module_t kt_completion_module;
extern const mp_obj_module_t kt_jiffies_module;
extern const mp_obj_module_t kt_delay_module;
extern const mp_obj_module_t kt_printk_module;
extern const mp_obj_module_t kt_bug_module;

// the clock event handlers and their state, as one object (hrtimer_irq.c)
extern const mp_obj_type_t kt_irq_type;

// An int constant past the small-int range (2**30 on 32-bit boards) as an object in ROM,
// as mpy-tool freezes long int constants: KT_ROM_INT(name, negative, hi, lo) is the int
// -+(hi << 32 | lo) (hi, lo: the magnitude's 32-bit halves).
#define KT_MAG64(hi, lo) (((unsigned long long)(hi) << 32) | (lo))
#if MICROPY_LONGINT_IMPL == MICROPY_LONGINT_IMPL_MPZ
#include "py/mpz.h"
#if MPZ_DIG_SIZE == 16
#define KT_DIGITS64(hi, lo) {(lo) & 0xFFFF, (lo) >> 16, (hi) & 0xFFFF, (hi) >> 16}
#define KT_NDIG64(hi, lo) ((hi) >> 16 ? 4 : (hi) & 0xFFFF ? 3 : (lo) >> 16 ? 2 : (lo) ? 1 : 0)
#elif MPZ_DIG_SIZE == 32
#define KT_DIGITS64(hi, lo) {(lo), (hi)}
#define KT_NDIG64(hi, lo) ((hi) ? 2 : (lo) ? 1 : 0)
#else
#error "_ktimers: KT_ROM_INT needs MPZ_DIG_SIZE 16 or 32"
#endif
// mpz digits least significant first; len counts up to the top non-zero digit (normalised)
#define KT_ROM_INT(name, negative, hi, lo) \
    static const mpz_dig_t name##_dig[] = KT_DIGITS64(hi, lo); \
    static const mp_obj_int_t name = {{&mp_type_int}, {.neg = (negative), .fixed_dig = 1, \
                                                       .alloc = KT_NDIG64(hi, lo), \
                                                       .len = KT_NDIG64(hi, lo), \
                                                       .dig = (mpz_dig_t *)name##_dig}}
#elif MICROPY_LONGINT_IMPL == MICROPY_LONGINT_IMPL_LONGLONG
#define KT_ROM_INT(name, negative, hi, lo) \
    static const mp_obj_int_t name = {{&mp_type_int}, \
                                      (long long)((negative) ? 0 - KT_MAG64(hi, lo) : KT_MAG64(hi, lo))}
#else
#error "_ktimers needs long ints (MICROPY_LONGINT_IMPL MPZ or LONGLONG)"
#endif

#endif
