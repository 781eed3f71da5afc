// _ktimers: ktimers.delay as a ROM module (Linux include/linux/delay.h: busy delays).
//
// lib/ktimers/delay.py is the reference and the fallback; `import ktimers` registers this
// module in sys.modules where the firmware has the C core (see ktime.c).
//
//     ndelay(nsecs), udelay(usecs), mdelay(msecs)    any context (hard IRQ included)
//
// Each spins on the clocksource (core.hw.cs_read()) until at least the delay has passed,
// in steps under half the counter's wrap: the same cycle counts as delay.py, rounded up.
// A step allocates nothing when the delay and the counter values are small ints.  While
// spinning it handles what the bytecode loop would: a pending KeyboardInterrupt (Ctrl-C) is
// raised, and in task context scheduled callbacks (the softirqs) run.  A backend with a
// cpu_relax(cycles) (the sim backend) is told each step, as delay.py does.
#include "py/runtime.h"
#include "modktimers.h"

static const MP_DEFINE_STR_OBJ(kt_delay_name_obj, "ktimers.delay");

// Spin for cycles counter cycles (an int, any size; <= 0: no wait).
static void spin(mp_obj_t cycles) {
    mp_obj_t hw = kt_core_attr(MP_QSTR_hw);
    mp_int_t mask = mp_obj_get_int(kt_core_attr(MP_QSTR_CS_MASK));
    mp_int_t half = mp_obj_get_int(kt_core_attr(MP_QSTR__HALF));
    mp_obj_t read[2];
    mp_load_method(hw, MP_QSTR_cs_read, read);
    mp_obj_t relax[3];
    mp_load_method_maybe(hw, MP_QSTR_cpu_relax, relax);
    mp_obj_t zero = MP_OBJ_NEW_SMALL_INT(0);
    mp_obj_t max_step = MP_OBJ_NEW_SMALL_INT(half - 1);
    while (mp_binary_op(MP_BINARY_OP_MORE, cycles, zero) == mp_const_true) {
        mp_obj_t step = mp_binary_op(MP_BINARY_OP_LESS, cycles, max_step) == mp_const_true
            ? cycles : max_step;
        mp_int_t n = mp_obj_get_int(step);
        mp_int_t start = mp_obj_get_int(mp_call_method_n_kw(0, 0, read));
        if (relax[0] != MP_OBJ_NULL) {
            relax[2] = step;
            mp_call_method_n_kw(1, 0, relax);
        }
        for (;;) {
            // core.raw_diff(now, start): signed, modulo the counter's wrap
            mp_int_t d = (mp_obj_get_int(mp_call_method_n_kw(0, 0, read)) - start) & mask;
            if (d >= half) {
                d -= mask + 1;
            }
            if (d >= n) {
                break;
            }
            mp_handle_pending(true);
        }
        cycles = mp_binary_op(MP_BINARY_OP_SUBTRACT, cycles, step);
    }
}

// ceil(v * num / den) for an int v of any size: -(-v * num // den)
static mp_obj_t ceil_scale(mp_obj_t v, mp_int_t num, mp_int_t den) {
    mp_obj_t neg = mp_binary_op(MP_BINARY_OP_MULTIPLY, mp_unary_op(MP_UNARY_OP_NEGATIVE, v),
        MP_OBJ_NEW_SMALL_INT(num));
    return mp_unary_op(MP_UNARY_OP_NEGATIVE,
        mp_binary_op(MP_BINARY_OP_FLOOR_DIVIDE, neg, MP_OBJ_NEW_SMALL_INT(den)));
}

static mp_obj_t ndelay(mp_obj_t nsecs) {
    kt_check_int("ndelay", "nsecs", nsecs);
    mp_int_t hz = mp_obj_get_int(kt_core_attr(MP_QSTR_CS_HZ));
    // small ints for small delays: ns * kHz / 10**6 when the counter's rate is whole kHz
    spin(hz % 1000 == 0 ? ceil_scale(nsecs, hz / 1000, 1000000)
                        : ceil_scale(nsecs, hz, 1000000000));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_ndelay_obj, ndelay);

static mp_obj_t udelay(mp_obj_t usecs) {
    kt_check_int("udelay", "usecs", usecs);
    mp_int_t cs_hz = mp_obj_get_int(kt_core_attr(MP_QSTR_CS_HZ));
    if (cs_hz % 1000000 == 0) {
        spin(mp_binary_op(MP_BINARY_OP_MULTIPLY, usecs, MP_OBJ_NEW_SMALL_INT(cs_hz / 1000000)));
    } else {
        ndelay(mp_binary_op(MP_BINARY_OP_MULTIPLY, usecs, MP_OBJ_NEW_SMALL_INT(1000)));
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_udelay_obj, udelay);

static mp_obj_t mdelay(mp_obj_t msecs) {
    kt_check_int("mdelay", "msecs", msecs);
    for (mp_int_t i = mp_obj_get_int(msecs); i > 0; --i) {
        udelay(MP_OBJ_NEW_SMALL_INT(1000));
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(kt_mdelay_obj, mdelay);

static const mp_rom_map_elem_t kt_delay_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_PTR(&kt_delay_name_obj) },
    { MP_ROM_QSTR(MP_QSTR_ndelay), MP_ROM_PTR(&kt_ndelay_obj) },
    { MP_ROM_QSTR(MP_QSTR_udelay), MP_ROM_PTR(&kt_udelay_obj) },
    { MP_ROM_QSTR(MP_QSTR_mdelay), MP_ROM_PTR(&kt_mdelay_obj) },
};
static MP_DEFINE_CONST_DICT(kt_delay_globals, kt_delay_globals_table);

const mp_obj_module_t kt_delay_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kt_delay_globals,
};
