// _ktimers: ktimers.completion as a ROM module (Linux kernel/sched/completion.c).
//
// lib/ktimers/completion.py is the reference and the fallback; `import ktimers` registers
// this module in sys.modules where the firmware has the C core (see ktime.c).  The module
// costs no heap, and a completion is a 16-byte object (the Python class's instance carries
// a dict of its two attributes).  The waits stay in Python (ktimers._completion_wait,
// loaded on first use through __getattr__): they loop on core.idle().
//
//     name                         context    does
//     completion()                 task/soft  a struct completion: .done, .nwait (ints)
//     DECLARE_COMPLETION(_ONSTACK) task/soft  completion()
//     init_completion(x)           task/soft  done = nwait = 0
//     reinit_completion(x)         any        done = 0
//     complete(x)                  any        done += 1 (saturating at complete_all's count)
//     complete_all(x)              any        done = 0x3FFFFFFF (Linux UINT_MAX)
//     try_wait_for_completion(x)   any        consume one if done: True, else False
//     completion_done(x)           any        done != 0
//
// "any" includes hard IRQ: those functions allocate nothing.  x may be an instance of a
// subclass; the fields are the native object's (a subclass instance that assigns .done
// itself shadows them, so the waits consume through try_wait_for_completion).
#include "py/runtime.h"
#include "modktimers.h"

#define COMPLETE_ALL (0x3FFFFFFF)  // the largest 31-bit small int

typedef struct _kt_completion_obj_t {
    mp_obj_base_t base;
    mp_int_t done;
    mp_int_t nwait;
} kt_completion_obj_t;

extern const mp_obj_type_t kt_completion_type;

KT_ROM_INT(kt_max_schedule_timeout_obj, 0, 0, 0x7FFFFFFFu);  // LONG_MAX on 32-bit

static const MP_DEFINE_STR_OBJ(kt_completion_name_obj, "ktimers.completion");
static const MP_DEFINE_STR_OBJ(kt_completion_wait_name_obj, "ktimers._completion_wait");

// x's struct completion, or TypeError "<fn>: x must be a completion, got <type>".  No
// allocation (a subclass instance gives its native part).
static kt_completion_obj_t *chk(const char *fn, mp_obj_t x) {
    mp_obj_t c = mp_obj_cast_to_native_base(x, MP_OBJ_FROM_PTR(&kt_completion_type));
    if (c == MP_OBJ_NULL) {
        mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("%s: x must be a completion, got %s"),
            fn, mp_obj_get_type_str(x));
    }
    return MP_OBJ_TO_PTR(c);
}

static mp_obj_t completion_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    (void)args;
    mp_arg_check_num(n_args, n_kw, 0, 0, false);
    kt_completion_obj_t *self = mp_obj_malloc(kt_completion_obj_t, type);
    self->done = 0;
    self->nwait = 0;
    return MP_OBJ_FROM_PTR(self);
}

static void completion_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    kt_completion_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "<completion done=%d nwait=%d>", (int)self->done, (int)self->nwait);
}

// .done and .nwait: read and written as ints (an int outside mp_int_t: OverflowError)
static void completion_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    kt_completion_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_int_t *f = attr == MP_QSTR_done ? &self->done : attr == MP_QSTR_nwait ? &self->nwait : NULL;
    if (f == NULL) {
        return;
    }
    if (dest[0] == MP_OBJ_NULL) {
        dest[0] = mp_obj_new_int(*f);
    } else if (dest[1] != MP_OBJ_NULL) {
        *f = mp_obj_get_int(dest[1]);
        dest[0] = MP_OBJ_NULL;
    }
}

MP_DEFINE_CONST_OBJ_TYPE(
    kt_completion_type,
    MP_QSTR_completion,
    MP_TYPE_FLAG_NONE,
    make_new, completion_make_new,
    print, completion_print,
    attr, completion_attr
    );

static mp_obj_t completion__chk(mp_obj_t fn, mp_obj_t x) {
    chk(mp_obj_str_get_str(fn), x);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(kt_completion__chk_obj, completion__chk);

static mp_obj_t declare_completion(void) {
    return completion_make_new(&kt_completion_type, 0, 0, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_0(kt_declare_completion_obj, declare_completion);

static mp_obj_t init_completion(mp_obj_t x) {
    kt_completion_obj_t *c = chk("init_completion", x);
    c->done = 0;
    c->nwait = 0;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_init_completion_obj, init_completion);

static mp_obj_t reinit_completion(mp_obj_t x) {
    chk("reinit_completion", x)->done = 0;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_reinit_completion_obj, reinit_completion);

static mp_obj_t complete(mp_obj_t x) {
    kt_completion_obj_t *c = chk("complete", x);
    if (c->done != COMPLETE_ALL) {
        c->done += 1;
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_complete_obj, complete);

static mp_obj_t complete_all(mp_obj_t x) {
    chk("complete_all", x)->done = COMPLETE_ALL;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_complete_all_obj, complete_all);

static mp_obj_t try_wait_for_completion(mp_obj_t x) {
    kt_completion_obj_t *c = chk("try_wait_for_completion", x);
    if (c->done == 0) {
        return mp_const_false;
    }
    if (c->done != COMPLETE_ALL) {
        c->done -= 1;
    }
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_try_wait_for_completion_obj, try_wait_for_completion);

static mp_obj_t completion_done(mp_obj_t x) {
    return mp_obj_new_bool(chk("completion_done", x)->done != 0);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_completion_done_obj, completion_done);

// wait_for_completion* (ktimers._completion_wait), imported on first use.  Task context.
static mp_obj_t completion___getattr__(mp_obj_t name) {
    return kt_import_attr(MP_OBJ_FROM_PTR(&kt_completion_wait_name_obj), name);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_completion___getattr___obj, completion___getattr__);

static const mp_rom_map_elem_t kt_completion_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_PTR(&kt_completion_name_obj) },
    { MP_ROM_QSTR(MP_QSTR___getattr__), MP_ROM_PTR(&kt_completion___getattr___obj) },
    { MP_ROM_QSTR(MP_QSTR_MAX_SCHEDULE_TIMEOUT), MP_ROM_PTR(&kt_max_schedule_timeout_obj) },
    { MP_ROM_QSTR(MP_QSTR_ERESTARTSYS), MP_ROM_INT(512) },
    { MP_ROM_QSTR(MP_QSTR_completion), MP_ROM_PTR(&kt_completion_type) },
    { MP_ROM_QSTR(MP_QSTR__chk), MP_ROM_PTR(&kt_completion__chk_obj) },
    { MP_ROM_QSTR(MP_QSTR_DECLARE_COMPLETION), MP_ROM_PTR(&kt_declare_completion_obj) },
    { MP_ROM_QSTR(MP_QSTR_DECLARE_COMPLETION_ONSTACK), MP_ROM_PTR(&kt_declare_completion_obj) },
    { MP_ROM_QSTR(MP_QSTR_init_completion), MP_ROM_PTR(&kt_init_completion_obj) },
    { MP_ROM_QSTR(MP_QSTR_reinit_completion), MP_ROM_PTR(&kt_reinit_completion_obj) },
    { MP_ROM_QSTR(MP_QSTR_complete), MP_ROM_PTR(&kt_complete_obj) },
    { MP_ROM_QSTR(MP_QSTR_complete_all), MP_ROM_PTR(&kt_complete_all_obj) },
    { MP_ROM_QSTR(MP_QSTR_try_wait_for_completion), MP_ROM_PTR(&kt_try_wait_for_completion_obj) },
    { MP_ROM_QSTR(MP_QSTR_completion_done), MP_ROM_PTR(&kt_completion_done_obj) },
};
static MP_DEFINE_CONST_DICT(kt_completion_globals, kt_completion_globals_table);

const mp_obj_module_t kt_completion_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kt_completion_globals,
};
