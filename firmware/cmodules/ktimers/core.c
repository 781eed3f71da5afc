// ktimers.core in C: clocksource, clock event device, periodic tick and softirqs.
//
//     import ktimers                      # _ktimers.modules() makes this module first
//     import ktimers.core as core         # a real module: its globals are a dict on the heap
//     core.ktime_get(); core._jlo         # the same names as lib/ktimers/core.py's
//
// The reference is lib/ktimers/core.py: its algorithm notes (the epoch, jiffies from the
// clocksource, the softirq's all-or-nothing fold) hold here statement by statement.  From a
// filesystem that module puts 3.7 KB of bytecode and 35 function objects (about 50 bytes
// each) on the heap, and every gc.collect() scans them: that is what a SOFT callback waits
// for under load.  Here the functions are in flash and the module is what the Python
// module's state is: a dict of its globals (about 0.7 KB), which Python code reads and sets
// as before (core._ce_watch = False, core._softirq += 1).  The functions find the dict
// through a root pointer that modules() sets each time the package is imported.
//
//     context      functions
//     hard IRQ     _tick_irq, raise_softirq_irq, raw_add, raw_diff, in_* (small ints only)
//     softirq      run_softirq, ep_advance, now_rel, jiffies_lo, update_tick_budget
//     task         init (ktimers._core_init's, loaded for the call), deinit, attach, idle
//
// ns values are Python ints (heap ints on 32-bit boards past 2**30 ns): mp_binary_op on
// two small ints allocates nothing, so the hard IRQ paths, on small ints, allocate nothing.
#include "py/runtime.h"
#include "py/builtin.h"
#include "py/objmodule.h"
#include "py/objstr.h"
#include "py/mphal.h"
#include "modktimers.h"

MP_REGISTER_ROOT_POINTER(mp_obj_dict_t *kt_core_globals);

#define G_DICT (MP_STATE_VM(kt_core_globals))
#define TIMER_SOFTIRQ (1)
#define HRTIMER_SOFTIRQ (2)

static const MP_DEFINE_STR_OBJ(kt_trace_name_obj, "ktimers.trace");
static const MP_DEFINE_STR_OBJ(kt_timer_name_obj, "ktimers.timer");
static const MP_DEFINE_STR_OBJ(kt_printk_name_obj, "ktimers.printk");

// --- the module's globals ---------------------------------------------------------------

static mp_map_elem_t *g_elem(qstr q) {
    mp_map_elem_t *e = mp_map_lookup(&G_DICT->map, MP_OBJ_NEW_QSTR(q), MP_MAP_LOOKUP);
    if (e == NULL) {  // deleted by the program: as the bytecode's LOAD_GLOBAL would
        mp_raise_msg_varg(&mp_type_NameError, MP_ERROR_TEXT("name '%q' isn't defined"), q);
    }
    return e;
}

static mp_obj_t G(qstr q) {
    return g_elem(q)->value;
}

static mp_int_t GI(qstr q) {
    return mp_obj_get_int(G(q));
}

static bool GB(qstr q) {
    return mp_obj_is_true(G(q));
}

static void S(qstr q, mp_obj_t v) {  // an existing global: no allocation
    g_elem(q)->value = v;
}

static void SI(qstr q, mp_int_t v) {
    S(q, mp_obj_new_int(v));  // small: no allocation
}

static mp_obj_t op(mp_binary_op_t o, mp_obj_t a, mp_obj_t b) {
    return mp_binary_op(o, a, b);
}

#define SMALL(v) MP_OBJ_NEW_SMALL_INT(v)


static mp_obj_t hw_call0(mp_obj_t hw, qstr name) {
    return kt_call(hw, name, 0, NULL);
}

static mp_int_t cs_read(mp_obj_t hw) {
    return mp_obj_get_int(hw_call0(hw, MP_QSTR_cs_read));
}

// --- task context: init, attach, deinit, tracer ------------------------------------------

static mp_obj_t core_module(void) {
    mp_obj_t m = kt_module_lookup_module(MP_OBJ_FROM_PTR(&kt_core_name_obj));
    if (m == MP_OBJ_NULL) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("ktimers.core: not loaded"));
    }
    return m;
}


static void drop_module(mp_obj_t pkg, qstr part) {
    mp_map_lookup(&MP_STATE_VM(mp_loaded_modules_dict).map, kt_dotted(part), MP_MAP_LOOKUP_REMOVE_IF_FOUND);
    if (pkg != MP_OBJ_NULL) {
        mp_map_lookup(&mp_obj_module_get_globals(pkg)->map, MP_OBJ_NEW_QSTR(part),
            MP_MAP_LOOKUP_REMOVE_IF_FOUND);
    }
}

// _once(part, *args): ktimers.<part>.run(*args), the part loaded for the call and dropped
// after it with the board file and ktimers.backends, which only init reads.  Task context.
static mp_obj_t core__once(size_t n_args, const mp_obj_t *args) {
    qstr part = mp_obj_str_get_qstr(args[0]);
    mp_obj_t name = kt_dotted(part);
    mp_call_function_1(MP_OBJ_FROM_PTR(&mp_builtin___import___obj), name);
    mp_obj_t r = mp_const_none;
    nlr_buf_t nlr;
    bool ok = nlr_push(&nlr) == 0;
    if (ok) {
        mp_obj_t mod = mp_obj_dict_get(MP_OBJ_FROM_PTR(&MP_STATE_VM(mp_loaded_modules_dict)), name);
        mp_obj_t dest[2 + 4];
        mp_load_method(mod, MP_QSTR_run, dest);
        size_t n = n_args - 1 > 4 ? 4 : n_args - 1;
        for (size_t i = 0; i < n; i++) {
            dest[2 + i] = args[1 + i];
        }
        r = mp_call_method_n_kw(n, 0, dest);
        nlr_pop();
    }
    mp_obj_t pkg = kt_module_lookup_module(MP_OBJ_NEW_QSTR(MP_QSTR_ktimers));
    drop_module(pkg, part);
    drop_module(pkg, MP_QSTR_backends);
    mp_map_lookup(&MP_STATE_VM(mp_loaded_modules_dict).map, MP_OBJ_NEW_QSTR(MP_QSTR_ktimers_board),
        MP_MAP_LOOKUP_REMOVE_IF_FOUND);
    if (!ok) {
        nlr_jump(nlr.ret_val);
    }
    return r;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(core__once_obj, 1, 5, core__once);

// init(backend=None, hz=None, **cfg): (re)start the time subsystem (see core.py).  Task
// context.  Returns the ClockHw instance.
static mp_obj_t core_init(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    if (n_args > 2) {
        mp_raise_TypeError(MP_ERROR_TEXT("init: at most 2 positional arguments"));
    }
    mp_obj_t backend = n_args > 0 ? pos[0] : mp_const_none;
    mp_obj_t hz = n_args > 1 ? pos[1] : mp_const_none;
    mp_obj_t cfg = mp_obj_new_dict(kw->used);
    for (size_t i = 0; i < kw->alloc; i++) {
        if (!mp_map_slot_is_filled(kw, i)) {
            continue;
        }
        mp_obj_t k = kw->table[i].key;
        if (k == MP_OBJ_NEW_QSTR(MP_QSTR_backend) && n_args == 0) {
            backend = kw->table[i].value;
        } else if (k == MP_OBJ_NEW_QSTR(MP_QSTR_hz) && n_args < 2) {
            hz = kw->table[i].value;
        } else {
            mp_obj_dict_store(cfg, k, kw->table[i].value);
        }
    }
    mp_obj_t a[5] = {MP_OBJ_NEW_QSTR(MP_QSTR__core_init), core_module(), backend, hz, cfg};
    return core__once(5, a);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(core_init_obj, 0, core_init);

// tracer(): ktimers.trace once it is loaded, else the C core's stand-in (enabled False)
static mp_obj_t core_tracer(void) {
    mp_obj_t t = kt_module_lookup_module(MP_OBJ_FROM_PTR(&kt_trace_name_obj));
    return t != MP_OBJ_NULL ? t : kt_trace_off_obj();
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_tracer_obj, core_tracer);

// attach(mod): a timer module loaded on first use joins the running core
static mp_obj_t core_attach(mp_obj_t mod) {
    mp_obj_t name = mp_load_attr(mod, MP_QSTR___name__);
    bool have_hw = G(MP_QSTR_hw) != mp_const_none;
    if (mp_obj_equal(name, MP_OBJ_FROM_PTR(&kt_timer_name_obj))) {
        if (have_hw) {
            mp_obj_t jlo = G(MP_QSTR__jlo);
            kt_call(mod, MP_QSTR__reset, 1, &jlo);
        }
        S(MP_QSTR__timer_mod, mod);
    } else {
        if (have_hw) {
            kt_call(mod, MP_QSTR__reset, 0, NULL);
        }
        S(MP_QSTR__hrtimer_mod, mod);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(core_attach_obj, core_attach);

// deinit(): stop tick and clock event; drop pending timers
static mp_obj_t core_deinit(void) {
    mp_obj_t h = G(MP_QSTR_hw);
    if (h != mp_const_none) {
        hw_call0(h, MP_QSTR_tick_stop);  // first: a tick IRQ taken before this still finds hw
        hw_call0(h, MP_QSTR_ce_stop);
        S(MP_QSTR_hw, mp_const_none);
        hw_call0(h, MP_QSTR_deinit);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_deinit_obj, core_deinit);

// --- clocksource ---------------------------------------------------------------------------

// (_ep, cycles since it), consistent although a softirq may move the epoch meanwhile
static void ep_read(mp_obj_t *e, mp_int_t *d) {
    for (;;) {
        *e = G(MP_QSTR__ep);
        *d = (cs_read(G(MP_QSTR_hw)) - GI(MP_QSTR__ep_raw)) & GI(MP_QSTR_CS_MASK);
        if (mp_obj_equal(*e, G(MP_QSTR__ep))) {
            return;
        }
    }
}

static mp_obj_t core__ep_read(void) {
    mp_obj_t t[2];
    mp_int_t d;
    ep_read(&t[0], &d);
    t[1] = mp_obj_new_int(d);
    return mp_obj_new_tuple(2, t);
}
static MP_DEFINE_CONST_FUN_OBJ_0(core__ep_read_obj, core__ep_read);

// d cycles -> ns: d * _ns_num // _ns_den (d * _ns_num when _ns_den is 1)
static mp_obj_t cyc_ns(mp_int_t d) {
    mp_obj_t r = op(MP_BINARY_OP_MULTIPLY, mp_obj_new_int(d), G(MP_QSTR__ns_num));
    mp_obj_t den = G(MP_QSTR__ns_den);
    return den == SMALL(1) ? r : op(MP_BINARY_OP_FLOOR_DIVIDE, r, den);
}

// now_rel(): ns since the epoch (hrtimer queue time).  O(1)
static mp_obj_t core_now_rel(void) {
    mp_int_t d = (cs_read(G(MP_QSTR_hw)) - GI(MP_QSTR__ep_raw)) & GI(MP_QSTR_CS_MASK);
    return cyc_ns(d);
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_now_rel_obj, core_now_rel);

// raw_add(a, b): (a + b) & CS_MASK without forming a + b.  Any context
static mp_int_t raw_add(mp_int_t a, mp_int_t b) {
    mp_int_t d = GI(MP_QSTR_CS_MASK) - a;
    return b > d ? b - d - 1 : a + b;
}

static mp_obj_t core_raw_add(mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_int(raw_add(mp_obj_get_int(a), mp_obj_get_int(b)));
}
static MP_DEFINE_CONST_FUN_OBJ_2(core_raw_add_obj, core_raw_add);

// raw_diff(a, b): signed a - b of two raw counter values.  Any context
static mp_obj_t core_raw_diff(mp_obj_t a, mp_obj_t b) {
    mp_int_t mask = GI(MP_QSTR_CS_MASK);
    mp_int_t d = (mp_obj_get_int(a) - mp_obj_get_int(b)) & mask;
    return mp_obj_new_int(d >= GI(MP_QSTR__HALF) ? d - mask - 1 : d);
}
static MP_DEFINE_CONST_FUN_OBJ_2(core_raw_diff_obj, core_raw_diff);

// ep_advance(): move the epoch to the last whole step before now, rebasing the hrtimer
// queue first (all-or-nothing).  Softirq context
static void ep_advance(void) {
    mp_obj_t hw = G(MP_QSTR_hw);
    mp_int_t epc = GI(MP_QSTR__EP_C);
    mp_int_t d = (cs_read(hw) - GI(MP_QSTR__ep_raw)) & GI(MP_QSTR_CS_MASK);
    if (d < epc) {
        return;
    }
    mp_int_t n = d / epc;
    mp_obj_t shift = op(MP_BINARY_OP_MULTIPLY, SMALL(n), G(MP_QSTR__EP_NS));
    mp_obj_t hm = G(MP_QSTR__hrtimer_mod);
    mp_obj_t ep_n = op(MP_BINARY_OP_ADD, G(MP_QSTR__ep), SMALL(n));
    mp_obj_t hh = mp_const_none;
    if (hm != mp_const_none) {
        mp_obj_t a[2] = {shift, ep_n};
        hh = kt_call(hm, MP_QSTR__rebase, 2, a);  // MemoryError: nothing changed
    }
    mp_obj_t st = hw_call0(hw, MP_QSTR_irq_save);
    S(MP_QSTR__ep, ep_n);
    SI(MP_QSTR__ep_raw, raw_add(GI(MP_QSTR__ep_raw), n * epc));
    if (hh != mp_const_none) {  // the hard head, which its IRQ reads against _ep_raw
        mp_store_attr(hh, MP_QSTR__e, op(MP_BINARY_OP_SUBTRACT, mp_load_attr(hh, MP_QSTR__e), shift));
        mp_store_attr(hh, MP_QSTR__p, ep_n);
    }
    kt_call(hw, MP_QSTR_irq_restore, 1, &st);
    if (hh == mp_const_none && hm != mp_const_none) {
        mp_obj_t t = mp_const_true;
        kt_call(hm, MP_QSTR__reprogram, 1, &t);
    }
}

static mp_obj_t core_ep_advance(void) {
    ep_advance();
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_ep_advance_obj, core_ep_advance);

// cycles_to_ns(c): rounded down
static mp_obj_t core_cycles_to_ns(mp_obj_t c) {
    mp_obj_t npc = G(MP_QSTR_NS_PER_CYC);
    if (mp_obj_is_true(npc)) {
        return op(MP_BINARY_OP_MULTIPLY, c, npc);
    }
    return op(MP_BINARY_OP_FLOOR_DIVIDE, op(MP_BINARY_OP_MULTIPLY, c, SMALL(1000000000)),
        G(MP_QSTR_CS_HZ));
}
static MP_DEFINE_CONST_FUN_OBJ_1(core_cycles_to_ns_obj, core_cycles_to_ns);

// ns_to_cycles_up(ns): rounded up (an expiry is never early): -(-x // y)
static mp_obj_t core_ns_to_cycles_up(mp_obj_t ns) {
    mp_obj_t npc = G(MP_QSTR_NS_PER_CYC);
    mp_obj_t neg = mp_unary_op(MP_UNARY_OP_NEGATIVE, ns);
    mp_obj_t q;
    if (mp_obj_is_true(npc)) {
        q = op(MP_BINARY_OP_FLOOR_DIVIDE, neg, npc);
    } else {
        q = op(MP_BINARY_OP_FLOOR_DIVIDE, op(MP_BINARY_OP_MULTIPLY, neg, G(MP_QSTR_CS_HZ)),
            SMALL(1000000000));
    }
    return mp_unary_op(MP_UNARY_OP_NEGATIVE, q);
}
static MP_DEFINE_CONST_FUN_OBJ_1(core_ns_to_cycles_up_obj, core_ns_to_cycles_up);

// ns_to_raw(ns): monotonic ns -> raw counter value at that instant, rounded up
static mp_obj_t core_ns_to_raw(mp_obj_t ns) {
    mp_obj_t c = op(MP_BINARY_OP_ADD, core_ns_to_cycles_up(ns), G(MP_QSTR__raw0));
    return op(MP_BINARY_OP_AND, c, G(MP_QSTR_CS_MASK));
}
static MP_DEFINE_CONST_FUN_OBJ_1(core_ns_to_raw_obj, core_ns_to_raw);

// ktime_get(): monotonic ns since init.  Task or softirq context (a heap int)
static mp_obj_t core_ktime_get(void) {
    mp_obj_t e;
    mp_int_t d;
    ep_read(&e, &d);
    mp_obj_t r = op(MP_BINARY_OP_MULTIPLY, e, G(MP_QSTR__EP_NS));
    mp_obj_t x = op(MP_BINARY_OP_FLOOR_DIVIDE,
        op(MP_BINARY_OP_MULTIPLY, mp_obj_new_int(d), G(MP_QSTR__ns_num)), G(MP_QSTR__ns_den));
    return op(MP_BINARY_OP_ADD, r, x);
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_ktime_get_obj, core_ktime_get);

// --- jiffies ----------------------------------------------------------------------------------

// ticks counted by the IRQ plus whole periods it has not counted yet
static mp_int_t ticks_unfolded(void) {
    mp_obj_t hw = G(MP_QSTR_hw);
    if (hw == mp_const_none) {
        return GI(MP_QSTR__tick_pending);
    }
    mp_obj_t st = hw_call0(hw, MP_QSTR_irq_save);
    mp_int_t n = GI(MP_QSTR__tick_pending)
        + ((cs_read(hw) - GI(MP_QSTR__tick_raw)) & GI(MP_QSTR_CS_MASK)) / GI(MP_QSTR__tick_cyc);
    kt_call(hw, MP_QSTR_irq_restore, 1, &st);
    return n;
}

static mp_obj_t core__ticks_unfolded(void) {
    return mp_obj_new_int(ticks_unfolded());
}
static MP_DEFINE_CONST_FUN_OBJ_0(core__ticks_unfolded_obj, core__ticks_unfolded);

// (lo, hi) += n ticks, jiffies_64 as its low 30 bits and the rest: never forms lo + n
// >= 2**30 (a heap int on 32-bit boards)
static void add_ticks(mp_int_t *lo, mp_int_t *hi, mp_int_t n) {
    mp_int_t r = 0x3FFFFFFF - *lo;
    if (n > r) {
        *lo = n - r - 1;
        *hi += 1;
    } else {
        *lo += n;
    }
}

// jiffies_lo(): jiffies now, low 30 bits; sets _now_hi to the bits above.  Allocates nothing
static mp_int_t jiffies_lo(void) {
    mp_int_t lo = GI(MP_QSTR__jlo);
    mp_int_t hi = GI(MP_QSTR__jhi);
    add_ticks(&lo, &hi, ticks_unfolded());
    SI(MP_QSTR__now_hi, hi);
    return lo;
}

static mp_obj_t core_jiffies_lo(void) {
    return mp_obj_new_int(jiffies_lo());
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_jiffies_lo_obj, core_jiffies_lo);

// jiffies_64 counted so far: (_jhi << 30) + _jlo + _tick_pending.  Task context
static mp_obj_t core_jiffies_counted(void) {
    mp_obj_t r = op(MP_BINARY_OP_LSHIFT, G(MP_QSTR__jhi), SMALL(30));
    r = op(MP_BINARY_OP_ADD, r, G(MP_QSTR__jlo));
    return op(MP_BINARY_OP_ADD, r, G(MP_QSTR__tick_pending));
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_jiffies_counted_obj, core_jiffies_counted);

// get_jiffies_64(): jiffies_64 as the clocksource says now
static mp_obj_t core_get_jiffies_64(void) {
    mp_int_t lo = jiffies_lo();
    return op(MP_BINARY_OP_ADD, op(MP_BINARY_OP_LSHIFT, G(MP_QSTR__now_hi), SMALL(30)), SMALL(lo));
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_get_jiffies_64_obj, core_get_jiffies_64);

// jiffies(): 32-bit jiffies; one heap int on 32-bit boards while jiffies >= 2**30
static mp_obj_t core_jiffies(void) {
    mp_int_t lo = jiffies_lo();
    mp_obj_t hi = mp_obj_subscr(G(MP_QSTR__HI32), SMALL(GI(MP_QSTR__now_hi) & 3), MP_OBJ_SENTINEL);
    return op(MP_BINARY_OP_ADD, hi, SMALL(lo));
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_jiffies_obj, core_jiffies);

// jiffy_start_raw(j): raw counter value at which 32-bit jiffy j began
static mp_obj_t core_jiffy_start_raw(mp_obj_t j) {
    mp_obj_t hw = G(MP_QSTR_hw);
    mp_obj_t st = hw_call0(hw, MP_QSTR_irq_save);
    mp_int_t base = (GI(MP_QSTR__jlo) + GI(MP_QSTR__tick_pending)) & 0x3FFFFFFF;
    mp_int_t r = GI(MP_QSTR__tick_raw);
    kt_call(hw, MP_QSTR_irq_restore, 1, &st);
    mp_int_t jl = mp_obj_get_int(op(MP_BINARY_OP_AND, j, SMALL(0x3FFFFFFF)));
    mp_int_t d = (jl - base) & 0x3FFFFFFF;
    if (d >= 0x20000000) {
        d -= 0x40000000;
    }
    return mp_obj_new_int((r + d * GI(MP_QSTR__tick_cyc)) & GI(MP_QSTR_CS_MASK));
}
static MP_DEFINE_CONST_FUN_OBJ_1(core_jiffy_start_raw_obj, core_jiffy_start_raw);

// hard IRQ context: a counted handler, or a HARD hrtimer callback (hrtimer_base marks it)
static bool hard(void) {
    if (GI(MP_QSTR__hardirq) > 0) {
        return true;
    }
    mp_obj_t hm = G(MP_QSTR__hrtimer_mod);
    return hm != mp_const_none
           && mp_load_attr(mp_load_attr(hm, MP_QSTR__i), MP_QSTR__irq_run) != mp_const_none;
}

static mp_obj_t core_in_hardirq(void) {
    return mp_obj_new_bool(hard());
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_in_hardirq_obj, core_in_hardirq);

static mp_obj_t core_in_softirq(void) {
    return mp_obj_new_bool(GI(MP_QSTR__softirq) > 0);
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_in_softirq_obj, core_in_softirq);

static mp_obj_t core_in_interrupt(void) {
    return mp_obj_new_bool(GI(MP_QSTR__softirq) > 0 || hard());
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_in_interrupt_obj, core_in_interrupt);

// --- tick and softirqs -------------------------------------------------------------------------

static void raise_softirq_irq(mp_int_t nr);

// _tick_irq(_): hard IRQ (or scheduled).  Small ints only, O(1): every whole period since
// _tick_raw is counted (tick_do_update_jiffies64)
static mp_obj_t core__tick_irq(mp_obj_t arg) {
    (void)arg;
    mp_obj_t h = G(MP_QSTR_hw);
    if (h == mp_const_none) {  // a tick delivered through the schedule queue after deinit()
        return mp_const_none;
    }
    mp_int_t raw = cs_read(h);
    mp_int_t mask = GI(MP_QSTR_CS_MASK);
    mp_int_t tc = GI(MP_QSTR__tick_cyc);
    mp_int_t d = (raw - GI(MP_QSTR__tick_raw)) & mask;
    if (d >= tc) {
        mp_int_t n = d / tc;
        SI(MP_QSTR__tick_raw, raw_add(GI(MP_QSTR__tick_raw), n * tc));
        SI(MP_QSTR__tick_pending, GI(MP_QSTR__tick_pending) + n);
        SI(MP_QSTR__tick_budget, GI(MP_QSTR__tick_budget) - n);
    }
    if (GI(MP_QSTR__tick_budget) <= 0) {
        raise_softirq_irq(TIMER_SOFTIRQ);
    }
    if (GB(MP_QSTR__ce_watch) && ((raw - GI(MP_QSTR__ce_watch_at)) & mask) < GI(MP_QSTR__HALF)) {
        // a clock event delivered through the schedule queue is overdue (a full queue
        // drops it): the softirq serves the hrtimer queue instead
        raise_softirq_irq(HRTIMER_SOFTIRQ);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(core__tick_irq_obj, core__tick_irq);

// raise_softirq_irq(nr): mark softirq nr pending and make sure it runs.  Any context;
// allocates nothing.  A full schedule queue is retried at the next tick
static void raise_softirq_irq(mp_int_t nr) {
    SI(MP_QSTR__pending, GI(MP_QSTR__pending) | nr);
    if (GB(MP_QSTR__direct) || GB(MP_QSTR__armed)) {
        return;
    }
    if (mp_sched_schedule(G(MP_QSTR__softirq_entry), SMALL(0))) {
        S(MP_QSTR__armed, mp_const_true);
    } else {  // the schedule queue is full: the next tick raises again
        SI(MP_QSTR__tick_budget, 0);
    }
}

static mp_obj_t core_raise_softirq_irq(mp_obj_t nr) {
    raise_softirq_irq(mp_obj_get_int(nr));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(core_raise_softirq_irq_obj, core_raise_softirq_irq);

static void run_softirq(void);

static mp_obj_t core__softirq_entry(mp_obj_t arg) {
    (void)arg;
    S(MP_QSTR__armed, mp_const_false);
    if (GI(MP_QSTR__pending)) {  // a clock event served meanwhile may have left nothing
        run_softirq();
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(core__softirq_entry_obj, core__softirq_entry);

// a MemoryError cut a softirq short: its vector stays pending, the next tick runs it again
static mp_obj_t core__softirq_failed(void) {
    SI(MP_QSTR_nr_softirq_errors, GI(MP_QSTR_nr_softirq_errors) + 1);
    SI(MP_QSTR__tick_budget, 0);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(core__softirq_failed_obj, core__softirq_failed);

static void pending_set(mp_obj_t hw, mp_int_t or_bits, mp_int_t and_bits) {
    mp_obj_t st = hw_call0(hw, MP_QSTR_irq_save);
    SI(MP_QSTR__pending, (GI(MP_QSTR__pending) | or_bits) & and_bits);
    kt_call(hw, MP_QSTR_irq_restore, 1, &st);
}

static void update_tick_budget(void);


// run_softirq(): pending softirqs in vector order, TIMER_SOFTIRQ then HRTIMER_SOFTIRQ.  A
// vector is cleared only once it ran; counted ticks are folded all-or-nothing
static void run_softirq(void) {
    mp_obj_t hw = G(MP_QSTR_hw);
    if (GI(MP_QSTR__softirq) || GI(MP_QSTR__bh) || hw == mp_const_none) {
        return;  // nested, or task context holds the bases: local_bh_enable runs it
    }
    SI(MP_QSTR__softirq, GI(MP_QSTR__softirq) + 1);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        ep_advance();
        mp_int_t p = GI(MP_QSTR__pending);
        bool tp = (p & TIMER_SOFTIRQ) || !(p & HRTIMER_SOFTIRQ);
        if (tp) {  // an HRTIMER_SOFTIRQ alone leaves the wheel and jiffies alone
            mp_int_t n = GI(MP_QSTR__tick_pending);
            mp_int_t lo = GI(MP_QSTR__jlo);
            mp_int_t hi = GI(MP_QSTR__jhi);
            add_ticks(&lo, &hi, n);
            mp_obj_t st = hw_call0(hw, MP_QSTR_irq_save);
            SI(MP_QSTR__tick_pending, GI(MP_QSTR__tick_pending) - n);  // keep the IRQ's newer ones
            SI(MP_QSTR__jlo, lo);
            SI(MP_QSTR__jhi, hi);
            kt_call(hw, MP_QSTR_irq_restore, 1, &st);
            mp_obj_t tm = G(MP_QSTR__timer_mod);
            if (tm != mp_const_none) {
                mp_obj_t a = SMALL(lo);
                kt_call(tm, MP_QSTR__run_timers, 1, &a);
            }
        }
        if (GI(MP_QSTR__pending) & HRTIMER_SOFTIRQ) {
            pending_set(hw, 0, ~HRTIMER_SOFTIRQ);
            mp_obj_t hm = G(MP_QSTR__hrtimer_mod);
            nlr_buf_t inner;
            if (nlr_push(&inner) == 0) {
                if (hm != mp_const_none) {  // raised only once it is loaded
                    kt_call(hm, MP_QSTR__run_softirq, 0, NULL);
                }
                nlr_pop();
            } else {
                if (kt_is_exc(MP_OBJ_FROM_PTR(inner.ret_val), &mp_type_MemoryError)) {
                    pending_set(hw, HRTIMER_SOFTIRQ, ~0);  // the next tick runs it again
                }
                nlr_jump(inner.ret_val);
            }
        }
        if (tp) {
            pending_set(hw, 0, ~TIMER_SOFTIRQ);
            update_tick_budget();
        }
        nlr_pop();
    } else {
        SI(MP_QSTR__softirq, GI(MP_QSTR__softirq) - 1);
        if (kt_is_exc(MP_OBJ_FROM_PTR(nlr.ret_val), &mp_type_MemoryError)) {
            core__softirq_failed();
            return;
        }
        nlr_jump(nlr.ret_val);
    }
    SI(MP_QSTR__softirq, GI(MP_QSTR__softirq) - 1);
}

static mp_obj_t core_run_softirq(void) {
    run_softirq();
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_run_softirq_obj, core_run_softirq);

// local_bh_disable(): keep softirqs out while task context edits the wheel or the hrtimer
// queue (Linux's base lock).  O(1)
static mp_obj_t core_local_bh_disable(void) {
    SI(MP_QSTR__bh, GI(MP_QSTR__bh) + 1);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_local_bh_disable_obj, core_local_bh_disable);

// local_bh_enable(): undo it; run softirqs that were held back
static mp_obj_t core_local_bh_enable(void) {
    mp_int_t bh = GI(MP_QSTR__bh) - 1;
    SI(MP_QSTR__bh, bh);
    if (!bh && GI(MP_QSTR__pending) && !GI(MP_QSTR__softirq) && !hard() && G(MP_QSTR_hw) != mp_const_none) {
        run_softirq();
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_local_bh_enable_obj, core_local_bh_enable);

// update_tick_budget(): after the wheel's next expiry changed.  Task/softirq context
static void update_tick_budget(void) {
    mp_obj_t tm = G(MP_QSTR__timer_mod);
    mp_obj_t nxt = mp_const_none;
    if (tm != mp_const_none) {
        mp_obj_t a = SMALL((GI(MP_QSTR__jlo) + GI(MP_QSTR__tick_pending)) & 0x3FFFFFFF);
        nxt = kt_call(tm, MP_QSTR__next_delta, 1, &a);
    }
    // the counter must be folded (an epoch step) within half its period: never let more
    // than _budget_max ticks pass without a softirq
    mp_obj_t bmax = G(MP_QSTR__budget_max);
    mp_obj_t b = nxt == mp_const_none || op(MP_BINARY_OP_MORE, nxt, bmax) == mp_const_true ? bmax : nxt;
    mp_obj_t hw = G(MP_QSTR_hw);
    mp_obj_t st = hw_call0(hw, MP_QSTR_irq_save);
    S(MP_QSTR__tick_budget, op(MP_BINARY_OP_MORE, b, SMALL(0)) == mp_const_true ? b : SMALL(0));
    if (mp_obj_equal(G(MP_QSTR__tick_budget), SMALL(0))) {
        raise_softirq_irq(TIMER_SOFTIRQ);
    }
    kt_call(hw, MP_QSTR_irq_restore, 1, &st);
}

static mp_obj_t core_update_tick_budget(void) {
    update_tick_budget();
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_update_tick_budget_obj, core_update_tick_budget);

// idle(): let time pass, waiting for an interrupt while scheduled work runs.  Task context
static mp_obj_t core_idle(void) {
    if (GI(MP_QSTR__softirq) || hard()) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("BUG: scheduling while atomic (sleep in timer callback)"));
    }
    hw_call0(G(MP_QSTR_hw), MP_QSTR_idle);
    if (GI(MP_QSTR__pending) && (GB(MP_QSTR__direct) || !GB(MP_QSTR__armed))) {
        run_softirq();
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(core_idle_obj, core_idle);

// pending_timers_of(owner): [(kind, timer)] for pending timers armed by module owner
static mp_obj_t core_pending_timers_of(mp_obj_t owner) {
    mp_obj_t tm = G(MP_QSTR__timer_mod);
    mp_obj_t hm = G(MP_QSTR__hrtimer_mod);
    mp_obj_t r = tm != mp_const_none ? kt_call(tm, MP_QSTR__pending_of, 1, &owner) : mp_obj_new_list(0, NULL);
    return hm != mp_const_none ? op(MP_BINARY_OP_ADD, r, kt_call(hm, MP_QSTR__pending_of, 1, &owner)) : r;
}
static MP_DEFINE_CONST_FUN_OBJ_1(core_pending_timers_of_obj, core_pending_timers_of);

// log_callback_error(kind, t, e): a raising callback to dmesg with its traceback
static mp_obj_t core_log_callback_error(mp_obj_t kind, mp_obj_t t, mp_obj_t e) {
    vstr_t v;
    mp_print_t print;
    vstr_init_print(&v, 24, &print);
    mp_obj_print_helper(&print, kind, PRINT_STR);
    mp_print_str(&print, " ");
    nlr_buf_t nlr;  // getattr(t, "trace_id", "?")
    if (nlr_push(&nlr) == 0) {
        mp_obj_t id = mp_load_attr(t, MP_QSTR_trace_id);
        nlr_pop();
        mp_obj_print_helper(&print, id, PRINT_STR);
    } else {
        if (!kt_is_exc(MP_OBJ_FROM_PTR(nlr.ret_val), &mp_type_AttributeError)) {
            nlr_jump(nlr.ret_val);
        }
        mp_print_str(&print, "?");
    }
    mp_obj_t a[2] = {e, mp_obj_new_str_from_vstr(&v)};
    mp_obj_t pk = kt_module_lookup_module(MP_OBJ_FROM_PTR(&kt_printk_name_obj));
    if (pk == MP_OBJ_NULL) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("ktimers.printk: not loaded"));
    }
    kt_call(pk, MP_QSTR_print_exception_to_dmesg, 2, a);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(core_log_callback_error_obj, core_log_callback_error);

// for the other C files: a global of ktimers.core, and the module
mp_obj_t kt_core_get(qstr q) {
    return G(q);
}

mp_obj_t kt_core_module(void) {
    return core_module();
}

// Point the functions at the running ktimers.core's dict (RuntimeError if it is not
// loaded).  The root pointer outlives a soft reset (mp_init does not clear it): whatever
// hands out C functions that use it without going through a module made this session
// calls this first (_ktimers.hrtimer_calls()).  Task context
void kt_core_refresh(void) {
    MP_STATE_VM(kt_core_globals) = mp_obj_module_get_globals(core_module());
}

// --- the module ---------------------------------------------------------------------------

// Its functions (in flash), then its state with the values core.py starts it with
static const mp_rom_map_elem_t kt_core_funs[] = {
    { MP_ROM_QSTR(MP_QSTR_init), MP_ROM_PTR(&core_init_obj) },
    { MP_ROM_QSTR(MP_QSTR__once), MP_ROM_PTR(&core__once_obj) },
    { MP_ROM_QSTR(MP_QSTR_tracer), MP_ROM_PTR(&core_tracer_obj) },
    { MP_ROM_QSTR(MP_QSTR_attach), MP_ROM_PTR(&core_attach_obj) },
    { MP_ROM_QSTR(MP_QSTR_deinit), MP_ROM_PTR(&core_deinit_obj) },
    { MP_ROM_QSTR(MP_QSTR__ep_read), MP_ROM_PTR(&core__ep_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_now_rel), MP_ROM_PTR(&core_now_rel_obj) },
    { MP_ROM_QSTR(MP_QSTR_ep_advance), MP_ROM_PTR(&core_ep_advance_obj) },
    { MP_ROM_QSTR(MP_QSTR_cycles_to_ns), MP_ROM_PTR(&core_cycles_to_ns_obj) },
    { MP_ROM_QSTR(MP_QSTR_ns_to_cycles_up), MP_ROM_PTR(&core_ns_to_cycles_up_obj) },
    { MP_ROM_QSTR(MP_QSTR_ns_to_raw), MP_ROM_PTR(&core_ns_to_raw_obj) },
    { MP_ROM_QSTR(MP_QSTR_ktime_get), MP_ROM_PTR(&core_ktime_get_obj) },
    { MP_ROM_QSTR(MP_QSTR_raw_add), MP_ROM_PTR(&core_raw_add_obj) },
    { MP_ROM_QSTR(MP_QSTR_raw_diff), MP_ROM_PTR(&core_raw_diff_obj) },
    { MP_ROM_QSTR(MP_QSTR__ticks_unfolded), MP_ROM_PTR(&core__ticks_unfolded_obj) },
    { MP_ROM_QSTR(MP_QSTR_jiffies_lo), MP_ROM_PTR(&core_jiffies_lo_obj) },
    { MP_ROM_QSTR(MP_QSTR_jiffies_counted), MP_ROM_PTR(&core_jiffies_counted_obj) },
    { MP_ROM_QSTR(MP_QSTR_get_jiffies_64), MP_ROM_PTR(&core_get_jiffies_64_obj) },
    { MP_ROM_QSTR(MP_QSTR_jiffies), MP_ROM_PTR(&core_jiffies_obj) },
    { MP_ROM_QSTR(MP_QSTR_jiffy_start_raw), MP_ROM_PTR(&core_jiffy_start_raw_obj) },
    { MP_ROM_QSTR(MP_QSTR__hard), MP_ROM_PTR(&core_in_hardirq_obj) },
    { MP_ROM_QSTR(MP_QSTR_in_hardirq), MP_ROM_PTR(&core_in_hardirq_obj) },
    { MP_ROM_QSTR(MP_QSTR_in_softirq), MP_ROM_PTR(&core_in_softirq_obj) },
    { MP_ROM_QSTR(MP_QSTR_in_interrupt), MP_ROM_PTR(&core_in_interrupt_obj) },
    { MP_ROM_QSTR(MP_QSTR__tick_irq), MP_ROM_PTR(&core__tick_irq_obj) },
    { MP_ROM_QSTR(MP_QSTR_raise_softirq_irq), MP_ROM_PTR(&core_raise_softirq_irq_obj) },
    { MP_ROM_QSTR(MP_QSTR__softirq_entry), MP_ROM_PTR(&core__softirq_entry_obj) },
    { MP_ROM_QSTR(MP_QSTR__softirq_failed), MP_ROM_PTR(&core__softirq_failed_obj) },
    { MP_ROM_QSTR(MP_QSTR_run_softirq), MP_ROM_PTR(&core_run_softirq_obj) },
    { MP_ROM_QSTR(MP_QSTR_local_bh_disable), MP_ROM_PTR(&core_local_bh_disable_obj) },
    { MP_ROM_QSTR(MP_QSTR_local_bh_enable), MP_ROM_PTR(&core_local_bh_enable_obj) },
    { MP_ROM_QSTR(MP_QSTR_update_tick_budget), MP_ROM_PTR(&core_update_tick_budget_obj) },
    { MP_ROM_QSTR(MP_QSTR_idle), MP_ROM_PTR(&core_idle_obj) },
    { MP_ROM_QSTR(MP_QSTR_pending_timers_of), MP_ROM_PTR(&core_pending_timers_of_obj) },
    { MP_ROM_QSTR(MP_QSTR_log_callback_error), MP_ROM_PTR(&core_log_callback_error_obj) },
    // state (core.py's module globals, as it starts them)
    { MP_ROM_QSTR(MP_QSTR_hw), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR_HZ), MP_ROM_INT(250) },
    { MP_ROM_QSTR(MP_QSTR_CS_HZ), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR_CS_MASK), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR__HALF), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR_NS_PER_CYC), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__raw0), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__ep), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__ep_raw), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__EP_C), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR__EP_NS), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR__ns_num), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR__ns_den), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR__jlo), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__jhi), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__now_hi), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__tick_pending), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__tick_budget), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__tick_raw), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__tick_cyc), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR__budget_max), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR_nr_softirq_errors), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__pending), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__armed), MP_ROM_FALSE },
    { MP_ROM_QSTR(MP_QSTR__direct), MP_ROM_FALSE },
    { MP_ROM_QSTR(MP_QSTR__hardirq), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__softirq), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__bh), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__timer_mod), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR__hrtimer_mod), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR__ce_watch), MP_ROM_FALSE },
    { MP_ROM_QSTR(MP_QSTR__ce_watch_at), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR__jf), MP_ROM_PTR(&kt_jiffies_module) },
    { MP_ROM_QSTR(MP_QSTR_sys), MP_ROM_PTR(&mp_module_sys) },
};
static MP_DEFINE_CONST_DICT(kt_core_funs_dict, kt_core_funs);

// The module, made by modules() each time the package is imported: its globals are a new
// dict (core.py's state, and its functions from flash) and sys.modules["ktimers.core"] is
// it.  Task context (allocates the module and its dict once).
mp_obj_t kt_core_new(void) {
    mp_obj_t have = kt_module_lookup_module(MP_OBJ_FROM_PTR(&kt_core_name_obj));
    if (have != MP_OBJ_NULL) {  // the package imported again: the running core stays
        MP_STATE_VM(kt_core_globals) = mp_obj_module_get_globals(have);
        return have;
    }
    const mp_map_t *rom = &kt_core_funs_dict.map;
    mp_obj_dict_t *d = MP_OBJ_TO_PTR(mp_obj_new_dict(rom->used + 8));
    mp_obj_dict_store(MP_OBJ_FROM_PTR(d), MP_OBJ_NEW_QSTR(MP_QSTR___name__), MP_OBJ_FROM_PTR(&kt_core_name_obj));
    for (size_t i = 0; i < rom->used; i++) {
        mp_obj_dict_store(MP_OBJ_FROM_PTR(d), rom->table[i].key, rom->table[i].value);
    }
    // _HI32: bits 30..31 of a 32-bit jiffies value; _offs: the clock offsets from
    // MONOTONIC in ns [BOOTTIME, REALTIME, TAI - UTC (37 s)]
    mp_obj_t hi[4] = {SMALL(0), mp_obj_new_int_from_uint(0x40000000u),
                      mp_obj_new_int_from_uint(0x80000000u), mp_obj_new_int_from_uint(0xC0000000u)};
    mp_obj_dict_store(MP_OBJ_FROM_PTR(d), MP_OBJ_NEW_QSTR(MP_QSTR__HI32), mp_obj_new_tuple(4, hi));
    mp_obj_t offs[3] = {SMALL(0), SMALL(0), mp_obj_new_int_from_ll(37LL * 1000000000LL)};
    mp_obj_dict_store(MP_OBJ_FROM_PTR(d), MP_OBJ_NEW_QSTR(MP_QSTR__offs), mp_obj_new_list(3, offs));
    mp_obj_module_t *m = mp_obj_malloc(mp_obj_module_t, &mp_type_module);
    m->globals = d;
    MP_STATE_VM(kt_core_globals) = d;
    return MP_OBJ_FROM_PTR(m);
}
