// _ktimers: ktimers.bug as a ROM module: WARN(), WARN_ON(), WARN_ONCE(), WARN_ON_ONCE()
// (Linux include/asm-generic/bug.h).
//
// lib/ktimers/bug.py is the reference and the fallback; `import ktimers` registers this
// module in sys.modules where the firmware has the C core (see ktime.c).  Each logs a
// "WARNING: ..." record at KERN_WARNING through ktimers._printk (with " [module]" when a
// module is current) and returns bool(cond).  Softirq and task context; in hard IRQ
// nothing is stored and printk counts a drop.
//
//     WARN(cond, fmt, *args)         "WARNING: " + fmt % args
//     WARN_ON(cond, what=None)       "WARNING: at <what>" (or "WARNING: WARN_ON")
//     WARN_ONCE, WARN_ON_ONCE        the same, the first time for a given fmt / what
#include "py/runtime.h"
#include "modktimers.h"

static const MP_DEFINE_STR_OBJ(kt_bug_name_obj, "ktimers.bug");
static const MP_DEFINE_STR_OBJ(kt_pct_s_obj, "%s");

static bool in_hardirq(void) {
    return mp_obj_is_true(mp_call_function_0(kt_printk_attr(MP_QSTR__in_hardirq)));
}

// _printk._log(4, fmt, args, False)
static void log4(mp_obj_t fmt, mp_obj_t args) {
    mp_obj_t call[4] = {MP_OBJ_NEW_SMALL_INT(4), fmt, args, mp_const_false};
    mp_call_function_n_kw(kt_printk_attr(MP_QSTR__log), 4, 0, call);
}

static void drop(void) {  // in hard IRQ: printk counts a drop
    log4(MP_OBJ_NEW_QSTR(MP_QSTR_), mp_const_empty_tuple);
}

// "WARNING: <text>[ [<module>]]" at KERN_WARNING
static void warn_text(mp_obj_t text) {
    vstr_t vstr;
    mp_print_t print;
    vstr_init_print(&vstr, 32, &print);
    mp_print_str(&print, "WARNING: ");
    mp_obj_print_helper(&print, text, PRINT_STR);
    mp_obj_t cur = kt_printk_attr(MP_QSTR__cur_module);
    if (cur != mp_const_none) {
        mp_print_str(&print, " [");
        mp_obj_print_helper(&print, cur, PRINT_STR);
        mp_print_str(&print, "]");
    }
    mp_obj_t line = mp_obj_new_str_from_vstr(&vstr);
    log4(MP_OBJ_FROM_PTR(&kt_pct_s_obj), mp_obj_new_tuple(1, &line));
}

// "at <what>", or dflt when what is None
static mp_obj_t at_what(mp_obj_t what, qstr dflt) {
    if (what == mp_const_none) {
        return MP_OBJ_NEW_QSTR(dflt);
    }
    vstr_t vstr;
    mp_print_t print;
    vstr_init_print(&vstr, 16, &print);
    mp_print_str(&print, "at ");
    mp_obj_print_helper(&print, what, PRINT_STR);
    return mp_obj_new_str_from_vstr(&vstr);
}

// _printk._once_key((tag, key)): True the first time
static bool once(qstr tag, mp_obj_t key) {
    mp_obj_t k[2] = {MP_OBJ_NEW_QSTR(tag), key};
    return mp_obj_is_true(mp_call_function_1(kt_printk_attr(MP_QSTR__once_key), mp_obj_new_tuple(2, k)));
}

static void warn_fmt(size_t n_args, const mp_obj_t *args) {  // args: cond, fmt, *args
    if (in_hardirq()) {
        drop();
        return;
    }
    if (!mp_obj_is_str(args[1])) {
        mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("WARN: fmt must be str, got %s"),
            mp_obj_get_type_str(args[1]));
    }
    mp_obj_t call[3] = {
        MP_OBJ_NEW_QSTR(MP_QSTR_WARN), args[1], mp_obj_new_tuple(n_args - 2, args + 2),
    };
    mp_obj_t text = mp_call_function_n_kw(kt_printk_attr(MP_QSTR__format), 3, 0, call);
    size_t len;
    const char *s = mp_obj_str_get_data(text, &len);
    if (len > 0 && s[len - 1] == '\n') {
        text = mp_obj_new_str(s, len - 1);
    }
    warn_text(text);
}

static mp_obj_t WARN(size_t n_args, const mp_obj_t *args) {
    if (!mp_obj_is_true(args[0])) {
        return mp_const_false;
    }
    warn_fmt(n_args, args);
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR(kt_WARN_obj, 2, WARN);

static mp_obj_t WARN_ON(size_t n_args, const mp_obj_t *args) {
    if (!mp_obj_is_true(args[0])) {
        return mp_const_false;
    }
    if (in_hardirq()) {
        drop();
    } else {
        warn_text(at_what(n_args > 1 ? args[1] : mp_const_none, MP_QSTR_WARN_ON));
    }
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(kt_WARN_ON_obj, 1, 2, WARN_ON);

static mp_obj_t WARN_ON_ONCE(size_t n_args, const mp_obj_t *args) {
    if (!mp_obj_is_true(args[0])) {
        return mp_const_false;
    }
    mp_obj_t what = n_args > 1 ? args[1] : mp_const_none;
    if (!in_hardirq() && once(MP_QSTR_WARN_ON, what)) {
        warn_text(at_what(what, MP_QSTR_WARN_ON_ONCE));
    }
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(kt_WARN_ON_ONCE_obj, 1, 2, WARN_ON_ONCE);

static mp_obj_t WARN_ONCE(size_t n_args, const mp_obj_t *args) {
    if (!mp_obj_is_true(args[0])) {
        return mp_const_false;
    }
    if (!in_hardirq() && once(MP_QSTR_WARN, args[1])) {
        warn_fmt(n_args, args);
    }
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR(kt_WARN_ONCE_obj, 2, WARN_ONCE);

static const mp_rom_map_elem_t kt_bug_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_PTR(&kt_bug_name_obj) },
    { MP_ROM_QSTR(MP_QSTR_WARN), MP_ROM_PTR(&kt_WARN_obj) },
    { MP_ROM_QSTR(MP_QSTR_WARN_ON), MP_ROM_PTR(&kt_WARN_ON_obj) },
    { MP_ROM_QSTR(MP_QSTR_WARN_ONCE), MP_ROM_PTR(&kt_WARN_ONCE_obj) },
    { MP_ROM_QSTR(MP_QSTR_WARN_ON_ONCE), MP_ROM_PTR(&kt_WARN_ON_ONCE_obj) },
};
static MP_DEFINE_CONST_DICT(kt_bug_globals, kt_bug_globals_table);

const mp_obj_module_t kt_bug_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kt_bug_globals,
};
