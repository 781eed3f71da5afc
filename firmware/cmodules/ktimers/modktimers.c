// _ktimers -- the optional C core of ktimers (the pure-Python fallback is lib/ktimers).
//
//     import _ktimers
//     p = _ktimers.lazy(0)      # a proxy object in ROM: no heap, no GC work
//
// ktimers binds every name of a part that loads on first use (ktimers._parts) to a proxy.
// In Python a proxy is an instance of a class: 16 bytes of heap each, ~100 of them, and
// every gc.collect() marks each one.  Here the proxies are a const array in flash: the
// package's dict points at them, the collector skips them (they are outside the heap), and
// `import ktimers` saves their heap.
//
// A proxy has no state.  Calling one looks it up in ktimers._parts._res (proxy -> the real
// object, filled when its part loads) and, the first time, calls ktimers._parts._resolve(p)
// to load the part.  The arguments are passed through as they came (positional and keyword,
// no tuple or dict built), so a resolved proxy allocates nothing: hard-IRQ code may call
// one.  The hooks are found through sys.modules on each call, so nothing here outlives a
// soft reset.
//
//     lazy(i)       proxy number i, 0 <= i < NLAZY (the same object for the same i)
//     NLAZY         how many there are
//
// Cost: a resolved call is three dict lookups -- sys.modules (by a ROM str: a 14-byte hash),
// the module's globals (by qstr) and _res (by identity) -- O(1), about 0.5 us on the
// emulated Cortex-M3, no allocation.
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

// sys.modules' key for ktimers._parts: a str object in ROM (a qstr lookup by text would
// scan the whole qstr pool; this is a hash of 14 bytes and one probe of sys.modules)
static const MP_DEFINE_STR_OBJ(kt_parts_name_obj, "ktimers._parts");
const MP_DEFINE_STR_OBJ(kt_core_name_obj, "ktimers.core");

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

// The value of an int argument, or TypeError "<fn>: <arg> must be int, got <type>"
// (bool and int subclasses are refused, as `type(v) is not int` does).
void kt_check_int(const char *fn, const char *arg, mp_obj_t v) {
    if (!mp_obj_is_small_int(v) && !mp_obj_is_exact_type(v, &mp_type_int)) {
        mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("%s: %s must be int, got %s"),
            fn, arg, mp_obj_get_type_str(v));
    }
}

static mp_obj_t kt_parts_attr(qstr attr) {
    return kt_module_lookup(MP_OBJ_FROM_PTR(&kt_parts_name_obj), attr);
}

// The real object behind proxy self.  Resolved: no allocation.  First call: task context
// (_resolve imports the part).
static mp_obj_t kt_lazy_target(mp_obj_t self) {
    mp_obj_t res = kt_parts_attr(MP_QSTR__res);
    if (res != MP_OBJ_NULL && mp_obj_is_type(res, &mp_type_dict)) {
        mp_map_elem_t *e = mp_map_lookup(mp_obj_dict_get_map(res), self, MP_MAP_LOOKUP);
        if (e != NULL) {
            return e->value;
        }
    }
    mp_obj_t resolve = kt_parts_attr(MP_QSTR__resolve);
    if (resolve == MP_OBJ_NULL) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("ktimers: lazy proxy without ktimers"));
    }
    return mp_call_function_1(resolve, self);
}

static mp_obj_t kt_lazy_call(mp_obj_t self, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    return mp_call_function_n_kw(kt_lazy_target(self), n_args, n_kw, args);
}

static void kt_lazy_print(const mp_print_t *print, mp_obj_t self, mp_print_kind_t kind) {
    (void)kind;
    // The name is wherever the package binds this proxy: ktimers._parts._name(p) finds it.
    mp_obj_t name_fn = kt_parts_attr(MP_QSTR__name);
    mp_obj_t name = mp_const_none;
    if (name_fn != MP_OBJ_NULL) {
        mp_obj_t *items;
        mp_obj_get_array_fixed_n(mp_call_function_1(name_fn, self), 2, &items);
        name = items[0];
    }
    if (name == mp_const_none) {
        mp_print_str(print, "<lazy ktimers.(loaded)>");
    } else {
        mp_printf(print, "<lazy ktimers.%s>", mp_obj_str_get_str(name));
    }
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
// (completion.c), .jiffies (jiffies.c), .delay (delay.c) and .printk (printk.c).  Called
// by the package first thing (lib/ktimers/__init__.py).  Task context; returns None.
static mp_obj_t kt_modules(void) {
    // keys interned as the import system interns module names (a frozen firmware has them
    // already; otherwise importing the Python files would intern them too)
    mp_obj_t mods = MP_OBJ_FROM_PTR(&MP_STATE_VM(mp_loaded_modules_dict));
    mp_obj_dict_store(mods, MP_OBJ_NEW_QSTR(qstr_from_str("ktimers.ktime")),
        MP_OBJ_FROM_PTR(&kt_ktime_module));
    mp_obj_dict_store(mods, MP_OBJ_NEW_QSTR(qstr_from_str("ktimers.defs")),
        MP_OBJ_FROM_PTR(&kt_defs_module));
    mp_obj_dict_store(mods, MP_OBJ_NEW_QSTR(qstr_from_str("ktimers.completion")),
        MP_OBJ_FROM_PTR(&kt_completion_module));
    mp_obj_dict_store(mods, MP_OBJ_NEW_QSTR(qstr_from_str("ktimers.jiffies")),
        MP_OBJ_FROM_PTR(&kt_jiffies_module));
    mp_obj_dict_store(mods, MP_OBJ_NEW_QSTR(qstr_from_str("ktimers.delay")),
        MP_OBJ_FROM_PTR(&kt_delay_module));
    mp_obj_dict_store(mods, MP_OBJ_NEW_QSTR(qstr_from_str("ktimers.printk")),
        MP_OBJ_FROM_PTR(&kt_printk_module));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(kt_modules_obj, kt_modules);

static const mp_rom_map_elem_t kt_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__ktimers) },
    { MP_ROM_QSTR(MP_QSTR_lazy), MP_ROM_PTR(&kt_lazy_obj) },
    { MP_ROM_QSTR(MP_QSTR_NLAZY), MP_ROM_INT(KT_NLAZY) },
    { MP_ROM_QSTR(MP_QSTR_modules), MP_ROM_PTR(&kt_modules_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime), MP_ROM_PTR(&kt_ktime_module) },
    { MP_ROM_QSTR(MP_QSTR_defs), MP_ROM_PTR(&kt_defs_module) },
    { MP_ROM_QSTR(MP_QSTR_completion), MP_ROM_PTR(&kt_completion_module) },
    { MP_ROM_QSTR(MP_QSTR_jiffies), MP_ROM_PTR(&kt_jiffies_module) },
    { MP_ROM_QSTR(MP_QSTR_delay), MP_ROM_PTR(&kt_delay_module) },
    { MP_ROM_QSTR(MP_QSTR_printk), MP_ROM_PTR(&kt_printk_module) },
};
static MP_DEFINE_CONST_DICT(kt_module_globals, kt_module_globals_table);

const mp_obj_module_t kt_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kt_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR__ktimers, kt_module);
