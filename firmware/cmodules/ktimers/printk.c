// _ktimers: ktimers.printk, printk's public half, as a ROM module (Linux kernel/printk).
//
// lib/ktimers/printk.py is the reference and the fallback; `import ktimers` registers this
// module in sys.modules where the firmware has the C core (see ktime.c).  Both keep their
// state, and the engine that formats and stores a message, in ktimers._printk (Python,
// loaded with the package): _log(level, fmt, args, prefix), _log_once(key, ...), the ring,
// _cur_module, _console_loglevel, _dyndbg, _dropped.  So this file is the API's glue: the
// KERN_* and LOGLEVEL_* constants, and functions that read or set that state or call _log
// with the level each name stands for.
//
//     name                               context          does
//     printk(fmt, *args)                 softirq/task     _log(None: KERN_* prefix parsed)
//     pr_emerg ... pr_info, pr_cont      softirq/task     _log(0..6 with the module prefix;
//                                                         -1: KERN_CONT)
//     pr_debug                           softirq/task     _log(7) where dynamic_debug() is on
//     printk_once, pr_*_once             softirq/task     _log_once((key, fmt), ...)
//     set_current_module, current_module any              _printk._cur_module (no allocation)
//     console_loglevel(n=None), dynamic_debug, dmesg_dropped    the state
//     __getattr__                        task             dmesg() & co: ktimers._dmesg
//
// In hard IRQ _log stores nothing and counts a drop; a call with no format arguments
// allocates nothing here (the empty tuple is a constant).
#include "py/runtime.h"
#include "modktimers.h"

#define KT_CONT (-1)

static const MP_DEFINE_STR_OBJ(kt_printk_name_obj, "ktimers.printk");
static const MP_DEFINE_STR_OBJ(kt_star_obj, "*");
// KERN_<LEVEL>: KERN_SOH ("\x01") and the level digit, as in Linux's kern_levels.h
static const MP_DEFINE_STR_OBJ(kt_kern_soh_obj, "\x01");
static const MP_DEFINE_STR_OBJ(kt_kern_emerg_obj, "\x01" "0");
static const MP_DEFINE_STR_OBJ(kt_kern_alert_obj, "\x01" "1");
static const MP_DEFINE_STR_OBJ(kt_kern_crit_obj, "\x01" "2");
static const MP_DEFINE_STR_OBJ(kt_kern_err_obj, "\x01" "3");
static const MP_DEFINE_STR_OBJ(kt_kern_warning_obj, "\x01" "4");
static const MP_DEFINE_STR_OBJ(kt_kern_notice_obj, "\x01" "5");
static const MP_DEFINE_STR_OBJ(kt_kern_info_obj, "\x01" "6");
static const MP_DEFINE_STR_OBJ(kt_kern_debug_obj, "\x01" "7");
static const MP_DEFINE_STR_OBJ(kt_kern_cont_obj, "\x01" "c");

static void set_state(qstr attr, mp_obj_t v) {
    mp_obj_t m = kt_module_lookup_module(MP_OBJ_FROM_PTR(&kt_printk_state_name_obj));
    if (m == MP_OBJ_NULL) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("ktimers._printk: not loaded"));
    }
    mp_store_attr(m, attr, v);  // an existing global: no allocation
}

// _printk._log(level, fmt, args[1:], prefix): args[0] is fmt
static mp_obj_t log_args(mp_obj_t level, size_t n_args, const mp_obj_t *args, bool prefix) {
    mp_obj_t call[4] = {
        level, args[0], mp_obj_new_tuple(n_args - 1, args + 1), mp_obj_new_bool(prefix),
    };
    return mp_call_function_n_kw(kt_printk_attr(MP_QSTR__log), 4, 0, call);
}

// _printk._log_once((key, fmt), level, fmt, args[1:], prefix)
static mp_obj_t log_once(mp_obj_t key, mp_obj_t level, size_t n_args, const mp_obj_t *args,
    bool prefix) {
    mp_obj_t k[2] = {key, args[0]};
    mp_obj_t call[5] = {
        mp_obj_new_tuple(2, k), level, args[0], mp_obj_new_tuple(n_args - 1, args + 1),
        mp_obj_new_bool(prefix),
    };
    return mp_call_function_n_kw(kt_printk_attr(MP_QSTR__log_once), 5, 0, call);
}

#define KT_PR(fn, level, prefix) \
    static mp_obj_t fn(size_t n_args, const mp_obj_t *args) { \
        return log_args(level, n_args, args, prefix); \
    } \
    static MP_DEFINE_CONST_FUN_OBJ_VAR(kt_##fn##_obj, 1, fn)

KT_PR(printk, mp_const_none, false);
KT_PR(pr_emerg, MP_OBJ_NEW_SMALL_INT(0), true);
KT_PR(pr_alert, MP_OBJ_NEW_SMALL_INT(1), true);
KT_PR(pr_crit, MP_OBJ_NEW_SMALL_INT(2), true);
KT_PR(pr_err, MP_OBJ_NEW_SMALL_INT(3), true);
KT_PR(pr_warn, MP_OBJ_NEW_SMALL_INT(4), true);
KT_PR(pr_notice, MP_OBJ_NEW_SMALL_INT(5), true);
KT_PR(pr_info, MP_OBJ_NEW_SMALL_INT(6), true);
KT_PR(pr_cont, MP_OBJ_NEW_SMALL_INT(KT_CONT), false);

#define KT_PR_ONCE(fn, key, level, prefix) \
    static mp_obj_t fn(size_t n_args, const mp_obj_t *args) { \
        return log_once(key, level, n_args, args, prefix); \
    } \
    static MP_DEFINE_CONST_FUN_OBJ_VAR(kt_##fn##_obj, 1, fn)

KT_PR_ONCE(printk_once, MP_OBJ_NEW_QSTR(MP_QSTR_printk), mp_const_none, false);
KT_PR_ONCE(pr_info_once, MP_OBJ_NEW_SMALL_INT(6), MP_OBJ_NEW_SMALL_INT(6), true);
KT_PR_ONCE(pr_warn_once, MP_OBJ_NEW_SMALL_INT(4), MP_OBJ_NEW_SMALL_INT(4), true);
KT_PR_ONCE(pr_err_once, MP_OBJ_NEW_SMALL_INT(3), MP_OBJ_NEW_SMALL_INT(3), true);

// pr_debug: only where dynamic_debug() turned it on for the current module (or "*")
static mp_obj_t pr_debug(size_t n_args, const mp_obj_t *args) {
    mp_obj_t on = kt_printk_attr(MP_QSTR__dyndbg);
    if (mp_obj_is_true(on)
        && (mp_binary_op(MP_BINARY_OP_CONTAINS, on, kt_printk_attr(MP_QSTR__cur_module)) == mp_const_true
            || mp_binary_op(MP_BINARY_OP_CONTAINS, on, MP_OBJ_FROM_PTR(&kt_star_obj))
            == mp_const_true)) {
        return log_args(MP_OBJ_NEW_SMALL_INT(7), n_args, args, true);
    }
    return MP_OBJ_NEW_SMALL_INT(0);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR(kt_pr_debug_obj, 1, pr_debug);

// dynamic_debug(module, on=True): add module to (or discard it from) the pr_debug set
static mp_obj_t dynamic_debug(size_t n_args, const mp_obj_t *args) {
    mp_obj_t call[3];
    bool on = n_args < 2 || mp_obj_is_true(args[1]);
    mp_load_method(kt_printk_attr(MP_QSTR__dyndbg), on ? MP_QSTR_add : MP_QSTR_discard, call);
    call[2] = args[0];
    mp_call_method_n_kw(1, 0, call);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(kt_dynamic_debug_obj, 1, 2, dynamic_debug);

// set_current_module(name): the previous name.  Any context: no allocation.
static mp_obj_t set_current_module(mp_obj_t name) {
    mp_obj_t prev = kt_printk_attr(MP_QSTR__cur_module);
    set_state(MP_QSTR__cur_module, name);
    return prev;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_set_current_module_obj, set_current_module);

static mp_obj_t current_module(void) {
    return kt_printk_attr(MP_QSTR__cur_module);
}
static MP_DEFINE_CONST_FUN_OBJ_0(kt_current_module_obj, current_module);

// console_loglevel(n=None): the loglevel before the call; sets it to n (0..8) if given
static mp_obj_t console_loglevel(size_t n_args, const mp_obj_t *args) {
    mp_obj_t prev = kt_printk_attr(MP_QSTR__console_loglevel);
    if (n_args > 0 && args[0] != mp_const_none) {
        mp_obj_t n = args[0];
        kt_check_int("console_loglevel", "n", n);
        if (!mp_obj_is_small_int(n) || MP_OBJ_SMALL_INT_VALUE(n) < 0
            || MP_OBJ_SMALL_INT_VALUE(n) > 8) {
            kt_raise_with_int(&mp_type_ValueError, "console_loglevel: n must be 0..8, got ", n);
        }
        set_state(MP_QSTR__console_loglevel, n);
    }
    return prev;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(kt_console_loglevel_obj, 0, 1, console_loglevel);

static mp_obj_t dmesg_dropped(void) {
    return kt_printk_attr(MP_QSTR__dropped);
}
static MP_DEFINE_CONST_FUN_OBJ_0(kt_dmesg_dropped_obj, dmesg_dropped);

// dmesg(), dmesg_*, print_exception_to_dmesg: ktimers._dmesg, loaded on first use
static mp_obj_t printk___getattr__(mp_obj_t name) {
    const char *s = mp_obj_str_get_str(name);
    if (s[0] == '_') {
        nlr_raise(mp_obj_new_exception_arg1(&mp_type_AttributeError, name));
    }
    return mp_load_attr(mp_call_function_0(kt_printk_attr(MP_QSTR__ext)), mp_obj_str_get_qstr(name));
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_printk___getattr___obj, printk___getattr__);

static const mp_rom_map_elem_t kt_printk_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_PTR(&kt_printk_name_obj) },
    { MP_ROM_QSTR(MP_QSTR___getattr__), MP_ROM_PTR(&kt_printk___getattr___obj) },
    { MP_ROM_QSTR(MP_QSTR_KERN_SOH), MP_ROM_PTR(&kt_kern_soh_obj) },
    { MP_ROM_QSTR(MP_QSTR_KERN_EMERG), MP_ROM_PTR(&kt_kern_emerg_obj) },
    { MP_ROM_QSTR(MP_QSTR_KERN_ALERT), MP_ROM_PTR(&kt_kern_alert_obj) },
    { MP_ROM_QSTR(MP_QSTR_KERN_CRIT), MP_ROM_PTR(&kt_kern_crit_obj) },
    { MP_ROM_QSTR(MP_QSTR_KERN_ERR), MP_ROM_PTR(&kt_kern_err_obj) },
    { MP_ROM_QSTR(MP_QSTR_KERN_WARNING), MP_ROM_PTR(&kt_kern_warning_obj) },
    { MP_ROM_QSTR(MP_QSTR_KERN_NOTICE), MP_ROM_PTR(&kt_kern_notice_obj) },
    { MP_ROM_QSTR(MP_QSTR_KERN_INFO), MP_ROM_PTR(&kt_kern_info_obj) },
    { MP_ROM_QSTR(MP_QSTR_KERN_DEBUG), MP_ROM_PTR(&kt_kern_debug_obj) },
    { MP_ROM_QSTR(MP_QSTR_KERN_DEFAULT), MP_ROM_QSTR(MP_QSTR_) },
    { MP_ROM_QSTR(MP_QSTR_KERN_CONT), MP_ROM_PTR(&kt_kern_cont_obj) },
    { MP_ROM_QSTR(MP_QSTR_LOGLEVEL_EMERG), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR_LOGLEVEL_ALERT), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR_LOGLEVEL_CRIT), MP_ROM_INT(2) },
    { MP_ROM_QSTR(MP_QSTR_LOGLEVEL_ERR), MP_ROM_INT(3) },
    { MP_ROM_QSTR(MP_QSTR_LOGLEVEL_WARNING), MP_ROM_INT(4) },
    { MP_ROM_QSTR(MP_QSTR_LOGLEVEL_NOTICE), MP_ROM_INT(5) },
    { MP_ROM_QSTR(MP_QSTR_LOGLEVEL_INFO), MP_ROM_INT(6) },
    { MP_ROM_QSTR(MP_QSTR_LOGLEVEL_DEBUG), MP_ROM_INT(7) },
    { MP_ROM_QSTR(MP_QSTR_MESSAGE_LOGLEVEL_DEFAULT), MP_ROM_INT(4) },
    { MP_ROM_QSTR(MP_QSTR_CONSOLE_LOGLEVEL_DEFAULT), MP_ROM_INT(7) },
    { MP_ROM_QSTR(MP_QSTR_DMESG_SIZE), MP_ROM_INT(64) },
    { MP_ROM_QSTR(MP_QSTR_set_current_module), MP_ROM_PTR(&kt_set_current_module_obj) },
    { MP_ROM_QSTR(MP_QSTR_current_module), MP_ROM_PTR(&kt_current_module_obj) },
    { MP_ROM_QSTR(MP_QSTR_printk), MP_ROM_PTR(&kt_printk_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_emerg), MP_ROM_PTR(&kt_pr_emerg_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_alert), MP_ROM_PTR(&kt_pr_alert_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_crit), MP_ROM_PTR(&kt_pr_crit_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_err), MP_ROM_PTR(&kt_pr_err_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_warn), MP_ROM_PTR(&kt_pr_warn_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_warning), MP_ROM_PTR(&kt_pr_warn_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_notice), MP_ROM_PTR(&kt_pr_notice_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_info), MP_ROM_PTR(&kt_pr_info_obj) },
    { MP_ROM_QSTR(MP_QSTR_dynamic_debug), MP_ROM_PTR(&kt_dynamic_debug_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_debug), MP_ROM_PTR(&kt_pr_debug_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_cont), MP_ROM_PTR(&kt_pr_cont_obj) },
    { MP_ROM_QSTR(MP_QSTR_console_loglevel), MP_ROM_PTR(&kt_console_loglevel_obj) },
    { MP_ROM_QSTR(MP_QSTR_dmesg_dropped), MP_ROM_PTR(&kt_dmesg_dropped_obj) },
    { MP_ROM_QSTR(MP_QSTR_printk_once), MP_ROM_PTR(&kt_printk_once_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_info_once), MP_ROM_PTR(&kt_pr_info_once_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_warn_once), MP_ROM_PTR(&kt_pr_warn_once_obj) },
    { MP_ROM_QSTR(MP_QSTR_pr_err_once), MP_ROM_PTR(&kt_pr_err_once_obj) },
};
static MP_DEFINE_CONST_DICT(kt_printk_globals, kt_printk_globals_table);

const mp_obj_module_t kt_printk_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kt_printk_globals,
};
