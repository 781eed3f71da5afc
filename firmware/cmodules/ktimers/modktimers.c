// _ktimers -- the optional C core of ktimers (the pure-Python fallback is lib/ktimers).
//
//     import _ktimers
//     _ktimers.modules()        # ROM modules in sys.modules: ktimers.ktime, .jiffies ...
//     _ktimers.install()        # the package's lazily loaded names -> ROM proxies
//     p = _ktimers.lazy(0)      # a proxy object in ROM: no heap, no GC work
//
// The package calls modules() first thing and install() last (lib/ktimers/__init__.py).
// The whole modules live in their own files (ktime.c, jiffies.c, completion.c, delay.c,
// bug.c, printk.c); this file has the proxies and what the files share.
//
// ktimers binds every name of a part that loads on first use to a proxy.  In Python a
// proxy is an instance of a class in ktimers._parts: 16 bytes of heap each, ~100 of them,
// and every gc.collect() marks each one.  Here the proxies are a const array in flash: the
// package's dict points at them, the collector skips them (they are outside the heap), and
// install() binds them without loading ktimers._parts.
//
// A proxy has no state.  Calling one looks it up in the package's `_res` (proxy -> the real
// object, filled when its part loads) and, the first time, loads the part here (kt_resolve:
// the import, then the names bound in the package and in place of every proxy a star import
// copied), so ktimers._parts, the pure-Python proxies' module, never loads.  The arguments
// are passed through as they came (positional and keyword, no tuple or dict built), so a
// resolved proxy allocates nothing: hard-IRQ code may call one.  Everything is found through
// sys.modules on each call, so nothing here outlives a soft reset.
//
//     lazy(i)       proxy number i, 0 <= i < NLAZY (the same object for the same i)
//     NLAZY         how many there are
//     install()     bind proxy i to the package's lazily loaded name i (task context)
//     lazy_names()  those names, as _parts_table._LAZY lists them (a tuple; for the tests)
//     lazy_part(p)  (first proxy number, names) of part p; lazy_where(proxy): (name, part)
//     mod(name)     load part name (binding its lazy names), return its module (task)
//     resolve(p)    the real object behind proxy p, its part loaded (task)
//     modules()     register the ROM modules (task context)
//     hrtimer_irq   the clock event handlers' type (hrtimer_irq.c; hrtimer_base makes one)
//     hrtimer_base()   ktimers.hrtimer_base made in C (hrtimer_base.c; ktimers.hrtimer calls it)
//     hrtimer_calls()  the hrtimer calls in C (hrtimer.c; ktimers.hrtimer binds them)
//     trace_off     the timer code's `_tr` while ktimers.trace is not loaded (enabled False)
//
// Cost: a resolved call is three dict lookups -- sys.modules and the package's globals (by
// qstr) and _res (by identity) -- O(1), about 0.5 us on the emulated Cortex-M3, no
// allocation.
#include "py/runtime.h"
#include "py/builtin.h"
#include "py/objmodule.h"
#include "py/objstr.h"
#include "modktimers.h"

#define KT_NLAZY (160)

typedef struct _kt_lazy_obj_t {
    mp_obj_base_t base;
} kt_lazy_obj_t;

extern const mp_obj_type_t kt_lazy_type;

static const kt_lazy_obj_t kt_lazy_objs[KT_NLAZY] = {
    [0 ... KT_NLAZY - 1] = {{&kt_lazy_type}},
};

// The lazily loaded names, in ktimers._parts_table._LAZY's order: name i is bound to proxy i.
// tests/device/test_lazy_core.py checks this list and kt_lazy_parts against _LAZY.
static const qstr_short_t kt_lazy_names[] = {
    MP_QSTR_timer_list, MP_QSTR_timer_setup, MP_QSTR_timer_pending, MP_QSTR_mod_timer,
    MP_QSTR_mod_timer_pending, MP_QSTR_timer_reduce, MP_QSTR_add_timer,
    MP_QSTR_add_timer_local, MP_QSTR_add_timer_global, MP_QSTR_timer_delete,
    MP_QSTR_timer_delete_sync, MP_QSTR_del_timer, MP_QSTR_del_timer_sync, MP_QSTR_wheel_check,
    MP_QSTR_hrtimer, MP_QSTR_hrtimer_setup, MP_QSTR_hrtimer_cancel,
    MP_QSTR_hrtimer_start_range_ns, MP_QSTR_hrtimer_start, MP_QSTR_hrtimer_try_to_cancel,
    MP_QSTR_hrtimer_forward, MP_QSTR_hrtimer_forward_now, MP_QSTR_hrtimer_active,
    MP_QSTR_hrtimer_get_expires,
    MP_QSTR_hrtimer_init, MP_QSTR_hrtimer_start_expires, MP_QSTR_hrtimer_restart,
    MP_QSTR_hrtimer_is_queued, MP_QSTR_hrtimer_callback_running,
    MP_QSTR_hrtimer_get_softexpires, MP_QSTR_hrtimer_get_remaining,
    MP_QSTR_hrtimer_set_expires, MP_QSTR_hrtimer_set_expires_range_ns,
    MP_QSTR_hrtimer_add_expires, MP_QSTR_hrtimer_add_expires_ns, MP_QSTR_clock_was_set,
    MP_QSTR_module_init, MP_QSTR_module_exit, MP_QSTR_module_param, MP_QSTR_MODULE_PARM_DESC,
    MP_QSTR_MODULE_LICENSE, MP_QSTR_MODULE_AUTHOR, MP_QSTR_MODULE_DESCRIPTION, MP_QSTR_modinfo,
    MP_QSTR_insmod, MP_QSTR_rmmod, MP_QSTR_lsmod, MP_QSTR_timer_list_lines,
    MP_QSTR_timer_list_show, MP_QSTR_DEFINE_TIMER, MP_QSTR_init_timer, MP_QSTR_setup_timer,
    MP_QSTR_add_timer_on, MP_QSTR_timer_delete_sync_try, MP_QSTR_try_to_del_timer_sync,
    MP_QSTR_timer_shutdown, MP_QSTR_timer_shutdown_sync, MP_QSTR_wait_for_completion,
    MP_QSTR_wait_for_completion_timeout, MP_QSTR_wait_for_completion_interruptible,
    MP_QSTR_wait_for_completion_interruptible_timeout, MP_QSTR_wait_for_completion_killable,
    MP_QSTR_wait_for_completion_killable_timeout, MP_QSTR_hrtimer_sleeper,
    MP_QSTR_hrtimer_setup_sleeper_on_stack, MP_QSTR_hrtimer_sleeper_start_expires,
    MP_QSTR_schedule_hrtimeout_range, MP_QSTR_schedule_hrtimeout, MP_QSTR_hrtimer_nanosleep,
    MP_QSTR_schedule_timeout, MP_QSTR_schedule_timeout_uninterruptible,
    MP_QSTR_schedule_timeout_interruptible, MP_QSTR_schedule_timeout_idle, MP_QSTR_msleep,
    MP_QSTR_msleep_interruptible, MP_QSTR_ssleep, MP_QSTR_usleep_range, MP_QSTR_fsleep,
    MP_QSTR_ktime_add_ns, MP_QSTR_ktime_sub_ns, MP_QSTR_ktime_add_us, MP_QSTR_ktime_add_ms,
    MP_QSTR_ktime_sub_us, MP_QSTR_ktime_sub_ms, MP_QSTR_ktime_us_delta, MP_QSTR_ktime_ms_delta,
    MP_QSTR_ktime_compare, MP_QSTR_ktime_after, MP_QSTR_ktime_before,
    MP_QSTR_ktime_to_timespec64, MP_QSTR_ktime_to_timespec, MP_QSTR_timespec64_to_ktime,
    MP_QSTR_ktime_get_seconds, MP_QSTR_ktime_get_real_seconds, MP_QSTR_ktime_get_clock,
    MP_QSTR_do_settimeofday64, MP_QSTR_ktime_set_real, MP_QSTR_timekeeping_set_tai_offset,
    MP_QSTR_dmesg, MP_QSTR_dmesg_entries, MP_QSTR_dmesg_lines, MP_QSTR_dmesg_clear,
    MP_QSTR_dmesg_resize, MP_QSTR_print_exception_to_dmesg,
};

// The parts, in _LAZY's order: part i gives the next n names of kt_lazy_names (so
// proxy k stands for name k of part kt_lazy_parts[j] where the counts before it sum to <= k).
typedef struct _kt_lazy_part_t {
    qstr_short_t part;
    uint8_t n;
} kt_lazy_part_t;

static const kt_lazy_part_t kt_lazy_parts[] = {
    {MP_QSTR_timer, 14}, {MP_QSTR_hrtimer, 10}, {MP_QSTR__hrtimer_ext, 12}, {MP_QSTR_module, 11},
    {MP_QSTR_proc, 2}, {MP_QSTR__timer_ext, 8}, {MP_QSTR__completion_wait, 6}, {MP_QSTR_sleep, 15},
    {MP_QSTR__ktime, 20}, {MP_QSTR__dmesg, 6},
};

// sys.modules' key for ktimers._parts: a str object in ROM (a qstr lookup by text would
// scan the whole qstr pool; this is a hash of 14 bytes and one probe of sys.modules)
const MP_DEFINE_STR_OBJ(kt_core_name_obj, "ktimers.core");
const MP_DEFINE_STR_OBJ(kt_printk_state_name_obj, "ktimers._printk");

// sys.modules[name] (name: a str object, e.g. in ROM) if it is a module, else MP_OBJ_NULL;
// and its global <attr>, or MP_OBJ_NULL if the module is not loaded or has no such name
// (a module's __getattr__ is not called).  One and two dict probes, no allocation.
mp_obj_t kt_module_lookup_module(mp_obj_t name) {
    mp_map_elem_t *m = mp_map_lookup(&MP_STATE_VM(mp_loaded_modules_dict).map, name,
        MP_MAP_LOOKUP);
    return m == NULL || !mp_obj_is_type(m->value, &mp_type_module) ? MP_OBJ_NULL : m->value;
}

mp_obj_t kt_module_lookup(mp_obj_t name, qstr attr) {
    mp_obj_t m = kt_module_lookup_module(name);
    if (m == MP_OBJ_NULL) {
        return MP_OBJ_NULL;
    }
    mp_map_elem_t *a = mp_map_lookup(&mp_obj_module_get_globals(m)->map,
        MP_OBJ_NEW_QSTR(attr), MP_MAP_LOOKUP);
    return a == NULL ? MP_OBJ_NULL : a->value;
}

// sys.modules[name].<attr>; RuntimeError if the module or the name is missing.
mp_obj_t kt_module_attr(mp_obj_t name, qstr attr) {
    mp_obj_t v = kt_module_lookup(name, attr);
    if (v == MP_OBJ_NULL) {
        mp_raise_msg_varg(&mp_type_RuntimeError, MP_ERROR_TEXT("%s.%q: not loaded"),
            mp_obj_str_get_str(name), attr);
    }
    return v;
}

mp_obj_t kt_core_attr(qstr attr) {
    return kt_module_attr(MP_OBJ_FROM_PTR(&kt_core_name_obj), attr);
}

mp_obj_t kt_printk_attr(qstr attr) {
    return kt_module_attr(MP_OBJ_FROM_PTR(&kt_printk_state_name_obj), attr);
}

// The value of an int argument, or TypeError "<fn>: <arg> must be int, got <type>"
// (bool and int subclasses are refused, as `type(v) is not int` does).
void kt_check_int(const char *fn, const char *arg, mp_obj_t v) {
    if (!mp_obj_is_small_int(v) && !mp_obj_is_exact_type(v, &mp_type_int)) {
        mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("%s: %s must be int, got %s"),
            fn, arg, mp_obj_get_type_str(v));
    }
}

// The package's dict of resolved proxies, `ktimers._res` (proxy -> the real object, keyed
// by identity), or MP_OBJ_NULL before the first part loads.  In the package's globals, not
// in a root pointer: it goes with the heap at a soft reset.  Allocates nothing.
static mp_obj_t kt_res_dict(mp_obj_t pkg) {
    mp_map_elem_t *e = mp_map_lookup(&mp_obj_module_get_globals(pkg)->map,
        MP_OBJ_NEW_QSTR(MP_QSTR__res), MP_MAP_LOOKUP);
    return e != NULL && mp_obj_is_type(e->value, &mp_type_dict) ? e->value : MP_OBJ_NULL;
}

// "ktimers.<part>" as a str (task context: allocates)
mp_obj_t kt_dotted(qstr part) {
    vstr_t v;
    vstr_init(&v, 24);
    vstr_add_str(&v, "ktimers.");
    vstr_add_str(&v, qstr_str(part));
    return mp_obj_new_str_from_vstr(&v);
}

// o.<name>(args...) without a bound method object (the bytecode's LOAD_METHOD): no
// allocation of its own, so hard-IRQ code may use it.  At most 5 arguments
mp_obj_t kt_call(mp_obj_t o, qstr name, size_t n, const mp_obj_t *args) {
    mp_obj_t dest[2 + 5];
    mp_load_method(o, name, dest);
    for (size_t i = 0; i < n; i++) {
        dest[2 + i] = args[i];
    }
    return mp_call_method_n_kw(n, 0, dest);
}

// isinstance(v, int) and not a bool (int subclasses included, as the Python's check)
bool kt_is_int(mp_obj_t v) {
    return !mp_obj_is_bool(v) && (mp_obj_is_int(v)
           || mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(v)), MP_OBJ_FROM_PTR(&mp_type_int)));
}

// exception object e is a <type> (an except clause's test)
bool kt_is_exc(mp_obj_t e, const mp_obj_type_t *type) {
    return mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(e)), MP_OBJ_FROM_PTR(type));
}

// Bind part's lazy names to the real objects of its module m: in the package (and its
// _res, for proxies held anywhere), and in place of every proxy a star import copied into
// __main__ or a loaded module.  O(names x modules), once per part.  Task context.
static void kt_bind(mp_obj_t pkg, size_t j, mp_obj_t m) {
    size_t k = 0;
    for (size_t i = 0; i < j; ++i) {
        k += kt_lazy_parts[i].n;
    }
    size_t n = kt_lazy_parts[j].n;
    mp_obj_t res = kt_res_dict(pkg);
    if (res == MP_OBJ_NULL) {
        res = mp_obj_new_dict(0);
        mp_store_attr(pkg, MP_QSTR__res, res);
    }
    for (size_t i = k; i < k + n; ++i) {
        mp_obj_t v = mp_load_attr(m, kt_lazy_names[i]);
        mp_obj_dict_store(res, MP_OBJ_FROM_PTR(&kt_lazy_objs[i]), v);
        mp_store_attr(pkg, kt_lazy_names[i], v);
    }
    // the other namespaces: every loaded module's globals (ROM ones hold no proxy), then
    // __main__'s.  The loop reads sys.modules' table by index: binding adds no module.
    mp_map_t *mods = &MP_STATE_VM(mp_loaded_modules_dict).map;
    for (size_t s = 0; s <= mods->alloc; ++s) {
        mp_map_t *d;
        if (s == mods->alloc) {
            d = &MP_STATE_VM(dict_main).map;
        } else {
            if (!mp_map_slot_is_filled(mods, s)) {
                continue;
            }
            mp_obj_t x = mods->table[s].value;
            if (x == pkg || !mp_obj_is_type(x, &mp_type_module)) {
                continue;
            }
            d = &mp_obj_module_get_globals(x)->map;
        }
        if (d->is_fixed) {
            continue;
        }
        for (size_t i = k; i < k + n; ++i) {
            mp_map_elem_t *e = mp_map_lookup(d, MP_OBJ_NEW_QSTR(kt_lazy_names[i]), MP_MAP_LOOKUP);
            if (e != NULL && mp_obj_is_type(e->value, &kt_lazy_type)) {
                e->value = mp_load_attr(m, kt_lazy_names[i]);
            }
        }
    }
}

// The names that are both a submodule and a kernel object the package binds (its
// `from .x import *`): while a part imports they point at the submodules, so the part's
// `from . import printk` gets the module; afterwards the package's objects come back.
static const qstr_short_t kt_clash[] = {
    MP_QSTR_jiffies, MP_QSTR_printk, MP_QSTR_hrtimer, MP_QSTR_completion, MP_QSTR_kstruct,
};

// Import ktimers.<part> and bind its names (j: its index in kt_lazy_parts, or -1 for a
// module without lazy names).  Task context, once per part (nests: sleep loads hrtimer).
// Returns the module.
static mp_obj_t kt_load(mp_obj_t pkg, qstr part, int j) {
    mp_map_t *mods = &MP_STATE_VM(mp_loaded_modules_dict).map;
    mp_map_t *g = &mp_obj_module_get_globals(pkg)->map;
    mp_obj_t name = kt_dotted(part);
    mp_obj_t saved[MP_ARRAY_SIZE(kt_clash)];
    for (size_t i = 0; i < MP_ARRAY_SIZE(kt_clash); ++i) {
        mp_map_elem_t *e = mp_map_lookup(g, MP_OBJ_NEW_QSTR(kt_clash[i]), MP_MAP_LOOKUP);
        saved[i] = e != NULL ? e->value : MP_OBJ_NULL;
        mp_obj_t sub = kt_module_lookup_module(kt_dotted(kt_clash[i]));
        if (e != NULL && sub != MP_OBJ_NULL) {
            e->value = sub;
        }
    }
    nlr_buf_t nlr;
    bool ok = nlr_push(&nlr) == 0;
    if (ok) {
        mp_call_function_1(MP_OBJ_FROM_PTR(&mp_builtin___import___obj), name);
        nlr_pop();
    }
    for (size_t i = 0; i < MP_ARRAY_SIZE(kt_clash); ++i) {
        mp_map_elem_t *e = mp_map_lookup(g, MP_OBJ_NEW_QSTR(kt_clash[i]), MP_MAP_LOOKUP);
        if (e != NULL && saved[i] != MP_OBJ_NULL && mp_obj_is_type(e->value, &mp_type_module)) {
            e->value = saved[i];
        }
    }
    if (!ok) {
        nlr_jump(nlr.ret_val);
    }
    mp_map_elem_t *m = mp_map_lookup(mods, name, MP_MAP_LOOKUP);
    if (m == NULL) {
        mp_raise_msg_varg(&mp_type_ImportError, MP_ERROR_TEXT("%s: not in sys.modules"),
            mp_obj_str_get_str(name));
    }
    if (j >= 0) {
        kt_bind(pkg, j, m->value);
    }
    return m->value;
}

// The package, or RuntimeError naming what is missing
static mp_obj_t kt_package(void);

// The index in kt_lazy_parts of part name q, or -1
static int kt_part_index(qstr q) {
    for (size_t j = 0; j < MP_ARRAY_SIZE(kt_lazy_parts); ++j) {
        if (kt_lazy_parts[j].part == q) {
            return j;
        }
    }
    return -1;
}

// The real object behind proxy p: loads its part on the first call, or binds it if the
// part was loaded another way (ktimers.hrtimer_base, an import).  Task context.
static mp_obj_t kt_resolve(mp_obj_t p) {
    mp_obj_t pkg = kt_module_lookup_module(MP_OBJ_NEW_QSTR(MP_QSTR_ktimers));
    if (pkg == MP_OBJ_NULL) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("ktimers: lazy proxy without ktimers"));
    }
    size_t i = (const kt_lazy_obj_t *)MP_OBJ_TO_PTR(p) - kt_lazy_objs;
    size_t k = 0;
    for (size_t j = 0; j < MP_ARRAY_SIZE(kt_lazy_parts) && i < MP_ARRAY_SIZE(kt_lazy_names); ++j) {
        if (i < k + kt_lazy_parts[j].n) {
            mp_obj_t m = kt_module_lookup_module(kt_dotted(kt_lazy_parts[j].part));
            if (m == MP_OBJ_NULL) {
                kt_load(pkg, kt_lazy_parts[j].part, j);
            } else {
                kt_bind(pkg, j, m);
            }
            break;
        }
        k += kt_lazy_parts[j].n;
    }
    mp_obj_t res = kt_res_dict(pkg);
    mp_map_elem_t *e = res == MP_OBJ_NULL ? NULL :
        mp_map_lookup(mp_obj_dict_get_map(res), p, MP_MAP_LOOKUP);
    if (e == NULL) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("ktimers: unbound lazy proxy"));
    }
    return e->value;
}

// The real object behind proxy self.  Resolved: two dict probes and the _res lookup, no
// allocation.  First call: task context (kt_resolve imports the part).
static mp_obj_t kt_lazy_target(mp_obj_t self) {
    mp_obj_t pkg = kt_module_lookup_module(MP_OBJ_NEW_QSTR(MP_QSTR_ktimers));
    if (pkg != MP_OBJ_NULL) {
        mp_obj_t res = kt_res_dict(pkg);
        if (res != MP_OBJ_NULL) {
            mp_map_elem_t *e = mp_map_lookup(mp_obj_dict_get_map(res), self, MP_MAP_LOOKUP);
            if (e != NULL) {
                return e->value;
            }
        }
    }
    return kt_resolve(self);
}

static mp_obj_t kt_lazy_call(mp_obj_t self, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    return mp_call_function_n_kw(kt_lazy_target(self), n_args, n_kw, args);
}

static void kt_lazy_print(const mp_print_t *print, mp_obj_t self, mp_print_kind_t kind) {
    (void)kind;
    // Its name while the package binds it there (proxy i stands for kt_lazy_names[i]);
    // "(loaded)" once the name is bound to the real object, or for a spare proxy.
    size_t i = (const kt_lazy_obj_t *)MP_OBJ_TO_PTR(self) - kt_lazy_objs;
    mp_obj_t pkg = kt_module_lookup_module(MP_OBJ_NEW_QSTR(MP_QSTR_ktimers));
    if (i < MP_ARRAY_SIZE(kt_lazy_names) && pkg != MP_OBJ_NULL) {
        mp_map_elem_t *e = mp_map_lookup(&mp_obj_module_get_globals(pkg)->map,
            MP_OBJ_NEW_QSTR(kt_lazy_names[i]), MP_MAP_LOOKUP);
        if (e != NULL && e->value == self) {
            mp_printf(print, "<lazy ktimers.%q>", (qstr)kt_lazy_names[i]);
            return;
        }
    }
    mp_print_str(print, "<lazy ktimers.(loaded)>");
}

MP_DEFINE_CONST_OBJ_TYPE(
    kt_lazy_type,
    MP_QSTR_lazy,
    MP_TYPE_FLAG_NONE,
    call, kt_lazy_call,
    print, kt_lazy_print
    );

// lazy(i): proxy number i.  Any context (returns a ROM object).
static mp_obj_t kt_lazy(mp_obj_t i_in) {
    mp_int_t i = mp_obj_get_int(i_in);
    if (i < 0 || i >= KT_NLAZY) {
        mp_raise_msg_varg(&mp_type_IndexError, MP_ERROR_TEXT("lazy: i must be 0..%d"), KT_NLAZY - 1);
    }
    return MP_OBJ_FROM_PTR(&kt_lazy_objs[i]);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_lazy_obj, kt_lazy);

// <exc>("<text><v>"): v printed in full, any size (the Python's "%d" % v)
NORETURN void kt_raise_with_int(const mp_obj_type_t *exc, const char *text, mp_obj_t v) {
    vstr_t vstr;
    mp_print_t print;
    vstr_init_print(&vstr, 48, &print);
    mp_print_str(&print, text);
    mp_obj_print_helper(&print, v, PRINT_REPR);
    nlr_raise(mp_obj_new_exception_arg1(exc, mp_obj_new_str_from_vstr(&vstr)));
}

// _bad(fn, arg, v): raise kt_check_int's TypeError for v (the modules' _bad helper, which
// the Python parts loaded later call)
static mp_obj_t kt_bad(mp_obj_t fn, mp_obj_t arg, mp_obj_t v) {
    mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("%s: %s must be int, got %s"),
        mp_obj_str_get_str(fn), mp_obj_str_get_str(arg), mp_obj_get_type_str(v));
}
MP_DEFINE_CONST_FUN_OBJ_3(kt_bad_obj, kt_bad);

// sys.modules[name].<attr> for a str attr, importing module name first if it is not
// loaded (a module __getattr__ that loads a rarely used part).  Task context.
mp_obj_t kt_import_attr(mp_obj_t name, mp_obj_t attr) {
    mp_map_t *mods = &MP_STATE_VM(mp_loaded_modules_dict).map;
    mp_map_elem_t *m = mp_map_lookup(mods, name, MP_MAP_LOOKUP);
    if (m == NULL) {
        mp_call_function_1(MP_OBJ_FROM_PTR(&mp_builtin___import___obj), name);
        m = mp_map_lookup(mods, name, MP_MAP_LOOKUP);
        if (m == NULL) {
            mp_raise_msg_varg(&mp_type_ImportError, MP_ERROR_TEXT("%s: not in sys.modules"),
                mp_obj_str_get_str(name));
        }
    }
    return mp_load_attr(m->value, mp_obj_str_get_qstr(attr));
}

// modules(): register the whole modules in ROM in sys.modules, where `import ktimers` and
// its parts find them before any file: ktimers.ktime and .defs (ktime.c), .completion
// (completion.c), .jiffies (jiffies.c), .delay (delay.c), .printk (printk.c) and .bug
// (bug.c).  Called by the package first thing (lib/ktimers/__init__.py).  Task context;
// returns None.
static const struct {
    qstr name;  // the package's attribute
    const mp_obj_module_t *module;
} kt_rom_modules[] = {
    {MP_QSTR_ktime, &kt_ktime_module},
    {MP_QSTR_defs, &kt_defs_module},
    {MP_QSTR_completion, &kt_completion_module},
    {MP_QSTR_jiffies, &kt_jiffies_module},
    {MP_QSTR_delay, &kt_delay_module},
    {MP_QSTR_printk, &kt_printk_module},
    {MP_QSTR_bug, &kt_bug_module},
};

static mp_obj_t kt_modules(void) {
    // sys.modules' key is the module's __name__, a str in ROM: nothing is interned (a qstr
    // made here would take heap, a qstr pool on its own).  The package, if it is loading,
    // gets the modules as attributes now, so its `from . import ktime` finds them without
    // the import system building (and interning) "ktimers.ktime".
    mp_map_t *mods = &MP_STATE_VM(mp_loaded_modules_dict).map;
    mp_map_elem_t *pkg = mp_map_lookup(mods, MP_OBJ_NEW_QSTR(MP_QSTR_ktimers), MP_MAP_LOOKUP);
    // ktimers.core (core.c): a module on the heap, its state a dict as core.py's would be
    mp_obj_t core = kt_core_new();
    mp_map_lookup(mods, MP_OBJ_FROM_PTR(&kt_core_name_obj), MP_MAP_LOOKUP_ADD_IF_NOT_FOUND)->value = core;
    if (pkg != NULL) {
        mp_store_attr(pkg->value, MP_QSTR_core, core);
    }
    for (size_t i = 0; i < MP_ARRAY_SIZE(kt_rom_modules); ++i) {
        mp_obj_t mod = MP_OBJ_FROM_PTR(kt_rom_modules[i].module);
        mp_map_elem_t *name = mp_map_lookup(&kt_rom_modules[i].module->globals->map,
            MP_OBJ_NEW_QSTR(MP_QSTR___name__), MP_MAP_LOOKUP);
        mp_map_lookup(mods, name->value, MP_MAP_LOOKUP_ADD_IF_NOT_FOUND)->value = mod;
        if (pkg != NULL) {
            mp_store_attr(pkg->value, kt_rom_modules[i].name, mod);
        }
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(kt_modules_obj, kt_modules);


static mp_obj_t kt_package(void) {
    mp_map_elem_t *pkg = mp_map_lookup(&MP_STATE_VM(mp_loaded_modules_dict).map,
        MP_OBJ_NEW_QSTR(MP_QSTR_ktimers), MP_MAP_LOOKUP);
    if (pkg == NULL) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("ktimers: not loaded"));
    }
    return pkg->value;
}

// install(): bind every lazily loaded name of the package to its proxy, as ktimers._parts
// does on import; so `import ktimers` need not load ktimers._parts (the proxies load it on
// their first call).  Task context; returns how many names it bound.
static mp_obj_t kt_install(void) {
    mp_obj_t pkg = kt_package();
    for (size_t i = 0; i < MP_ARRAY_SIZE(kt_lazy_names); ++i) {
        mp_store_attr(pkg, kt_lazy_names[i], MP_OBJ_FROM_PTR(&kt_lazy_objs[i]));
    }
    return MP_OBJ_NEW_SMALL_INT(MP_ARRAY_SIZE(kt_lazy_names));
}
static MP_DEFINE_CONST_FUN_OBJ_0(kt_install_obj, kt_install);

// lazy_names(): the list above as a tuple of str (for the test).  Allocates.
static mp_obj_t kt_names_tuple(size_t first, size_t n) {
    mp_obj_t t = mp_obj_new_tuple(n, NULL);
    for (size_t i = 0; i < n; ++i) {
        ((mp_obj_tuple_t *)MP_OBJ_TO_PTR(t))->items[i] = MP_OBJ_NEW_QSTR(kt_lazy_names[first + i]);
    }
    return t;
}

// lazy_names(): every lazy name, in order (for the tests).  Task context (a new tuple).
static mp_obj_t kt_lazy_names_fn(void) {
    return kt_names_tuple(0, MP_ARRAY_SIZE(kt_lazy_names));
}
static MP_DEFINE_CONST_FUN_OBJ_0(kt_lazy_names_obj, kt_lazy_names_fn);

// lazy_part(part): (number of its first proxy, its names) for part (a str such as
// "hrtimer"), or None for a name that is not a part.  Task context (_parts binds a part's
// names when it loads; the table stays in flash instead of a tuple on the heap).
static mp_obj_t kt_lazy_part(mp_obj_t part) {
    qstr q = mp_obj_str_get_qstr(part);
    size_t k = 0;
    for (size_t j = 0; j < MP_ARRAY_SIZE(kt_lazy_parts); ++j) {
        if (kt_lazy_parts[j].part == q) {
            mp_obj_t r[2] = {MP_OBJ_NEW_SMALL_INT(k), kt_names_tuple(k, kt_lazy_parts[j].n)};
            return mp_obj_new_tuple(2, r);
        }
        k += kt_lazy_parts[j].n;
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_lazy_part_obj, kt_lazy_part);

// lazy_where(p): (name, part) that ROM proxy p stands for, or None (a spare proxy, or not a
// proxy).  Task context.
static mp_obj_t kt_lazy_where(mp_obj_t p) {
    if (!mp_obj_is_type(p, &kt_lazy_type)) {
        return mp_const_none;
    }
    size_t i = (const kt_lazy_obj_t *)MP_OBJ_TO_PTR(p) - kt_lazy_objs;
    size_t k = 0;
    for (size_t j = 0; j < MP_ARRAY_SIZE(kt_lazy_parts); ++j) {
        if (i < k + kt_lazy_parts[j].n) {
            mp_obj_t r[2] = {MP_OBJ_NEW_QSTR(kt_lazy_names[i]), MP_OBJ_NEW_QSTR(kt_lazy_parts[j].part)};
            return mp_obj_new_tuple(2, r);
        }
        k += kt_lazy_parts[j].n;
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_lazy_where_obj, kt_lazy_where);

// mod(name): ktimers.<name>, loaded (and its lazy names bound) if it is not yet: ktimers._mod
// where the package has the C core.  Task context.
static mp_obj_t kt_mod(mp_obj_t name) {
    qstr q = mp_obj_str_get_qstr(name);
    mp_obj_t m = kt_module_lookup_module(kt_dotted(q));
    if (m != MP_OBJ_NULL) {
        return m;
    }
    if (q == MP_QSTR_hrtimer_base) {  // made by ktimers.hrtimer (the C core's, hrtimer_base.c)
        kt_mod(MP_OBJ_NEW_QSTR(MP_QSTR_hrtimer));
        m = kt_module_lookup_module(kt_dotted(q));
        if (m != MP_OBJ_NULL) {
            return m;
        }
    }
    return kt_load(kt_package(), q, kt_part_index(q));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_mod_obj, kt_mod);

// resolve(p): the real object behind proxy p, loading its part (ktimers._parts._resolve
// where the package has the C core).  Task context.
static mp_obj_t kt_resolve_fn(mp_obj_t p) {
    if (!mp_obj_is_type(p, &kt_lazy_type)) {
        mp_raise_TypeError(MP_ERROR_TEXT("resolve: p must be a lazy proxy"));
    }
    return kt_resolve(p);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_resolve_obj, kt_resolve_fn);

// trace_off: what the timer code holds as `_tr` while ktimers.trace is not loaded
// (core.tracer): `enabled` is False, so no call site goes further.  A module in ROM: no
// heap at all, where the trace module would take 0.4 KB frozen and 2 KB from .mpy.
static const mp_rom_map_elem_t kt_trace_off_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_trace_off) },
    { MP_ROM_QSTR(MP_QSTR_enabled), MP_ROM_FALSE },
};
static MP_DEFINE_CONST_DICT(kt_trace_off_globals, kt_trace_off_table);

static const mp_obj_module_t kt_trace_off_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kt_trace_off_globals,
};

mp_obj_t kt_trace_off_obj(void) {
    return MP_OBJ_FROM_PTR(&kt_trace_off_module);
}

static const mp_rom_map_elem_t kt_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__ktimers) },
    { MP_ROM_QSTR(MP_QSTR_lazy), MP_ROM_PTR(&kt_lazy_obj) },
    { MP_ROM_QSTR(MP_QSTR_NLAZY), MP_ROM_INT(KT_NLAZY) },
    { MP_ROM_QSTR(MP_QSTR_modules), MP_ROM_PTR(&kt_modules_obj) },
    { MP_ROM_QSTR(MP_QSTR_install), MP_ROM_PTR(&kt_install_obj) },
    { MP_ROM_QSTR(MP_QSTR_lazy_names), MP_ROM_PTR(&kt_lazy_names_obj) },
    { MP_ROM_QSTR(MP_QSTR_lazy_part), MP_ROM_PTR(&kt_lazy_part_obj) },
    { MP_ROM_QSTR(MP_QSTR_lazy_where), MP_ROM_PTR(&kt_lazy_where_obj) },
    { MP_ROM_QSTR(MP_QSTR_mod), MP_ROM_PTR(&kt_mod_obj) },
    { MP_ROM_QSTR(MP_QSTR_resolve), MP_ROM_PTR(&kt_resolve_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime), MP_ROM_PTR(&kt_ktime_module) },
    { MP_ROM_QSTR(MP_QSTR_defs), MP_ROM_PTR(&kt_defs_module) },
    { MP_ROM_QSTR(MP_QSTR_completion), MP_ROM_PTR(&kt_completion_module) },
    { MP_ROM_QSTR(MP_QSTR_jiffies), MP_ROM_PTR(&kt_jiffies_module) },
    { MP_ROM_QSTR(MP_QSTR_delay), MP_ROM_PTR(&kt_delay_module) },
    { MP_ROM_QSTR(MP_QSTR_printk), MP_ROM_PTR(&kt_printk_module) },
    { MP_ROM_QSTR(MP_QSTR_bug), MP_ROM_PTR(&kt_bug_module) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_irq), MP_ROM_PTR(&kt_irq_type) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_calls), MP_ROM_PTR(&kt_hrtimer_calls_obj) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_base), MP_ROM_PTR(&kt_base_make_obj) },
    { MP_ROM_QSTR(MP_QSTR_trace_off), MP_ROM_PTR(&kt_trace_off_module) },
};
static MP_DEFINE_CONST_DICT(kt_module_globals, kt_module_globals_table);

const mp_obj_module_t kt_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kt_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR__ktimers, kt_module);
