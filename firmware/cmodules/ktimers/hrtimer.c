// _ktimers.hrtimer_calls: the hrtimer calls (hrtimer.h) in C.
//
//     from _ktimers import hrtimer_calls
//     calls = hrtimer_calls()   # ktimers.hrtimer binds them when it loads
//     calls.hrtimer_start(t, 1000000, HRTIMER_MODE_REL)
//
// The reference is lib/ktimers/_hrtimer_calls.py (the pure-Python path, statement by
// statement the same); ktimers.hrtimer keeps the hrtimer class and binds these names.  From
// a filesystem the Python module puts 3 KB of bytecode and 20 function objects on the heap,
// where every gc.collect() scans them; here they are in flash.  The queue and the clock
// event are hrtimer_base's (found through ktimers.core._hrtimer_mod), the class and ktime and
// printk and the tracer ktimers.hrtimer's (hrtimer_base._H, so a test can stand in for them):
// every queue operation
// here holds softirqs off (core.local_bh_disable), the base lock, and computes what may
// allocate (64-bit ns, list growth) before it changes anything.
//
//     call                     context           cost
//     hrtimer_setup            task              O(1)
//     hrtimer_start(_range_ns) task, softirq     O(log n); MONOTONIC REL under ~1 s: no
//                                                 allocation on a started list
//     hrtimer_(try_to_)cancel  task, softirq     O(log n)
//     hrtimer_forward_now      softirq, its own  O(1); small ints: no allocation
//                              HARD callback
//     hrtimer_forward, _active, _get_expires     task, softirq
#include "py/runtime.h"
#include "py/objstr.h"
#include "py/builtin.h"
#include "modktimers.h"

#define ENQUEUED (1)
#define CALLBACK (2)
#define HARD (4)
#define RANKS (0x18)
#define SMALL_MAX (0x3FFFFFFF)
#define MODE_REL (0x01)
#define MODE_HARD (0x08)
#define SMALL(v) MP_OBJ_NEW_SMALL_INT(v)

static const MP_DEFINE_STR_OBJ(warn_clock_obj, "hrtimer_init: unknown clock %r, using CLOCK_MONOTONIC");
static const MP_DEFINE_STR_OBJ(warn_queued_obj, "hrtimer_forward: timer %d is queued");

// --- what the calls share ----------------------------------------------------------------


static mp_obj_t op(mp_binary_op_t o, mp_obj_t a, mp_obj_t b) {
    return mp_binary_op(o, a, b);  // two small ints with a small result: no allocation
}

static mp_obj_t base(void) {  // ktimers.hrtimer_base (core._hrtimer_mod)
    mp_obj_t b = kt_core_get(MP_QSTR__hrtimer_mod);
    if (b == mp_const_none) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("ktimers.hrtimer_base: not loaded"));
    }
    return b;
}

// ktimers.hrtimer (hrtimer_base._H): the class, and what the calls reach through it so
// that a test can stand in for them: _kt (ktimers.ktime), _pk (ktimers.printk)
static mp_obj_t hmod(void) {
    return mp_load_attr(base(), MP_QSTR__H);
}

// ktimers.core, as hrtimer_base holds it: two qstr probes (a sys.modules lookup by its
// dotted name would hash the name on every call, once per forward_now expiry)
static mp_obj_t core(void) {
    return mp_load_attr(base(), MP_QSTR_core);
}

static mp_obj_t irq(mp_obj_t b) {  // hrtimer_base._i: the IRQ side
    return mp_load_attr(b, MP_QSTR__i);
}

static bool tracing(mp_obj_t b) {  // ktimers.hrtimer's _tr (the trace module, or a stand-in)
    (void)b;
    return mp_obj_is_true(mp_load_attr(mp_load_attr(hmod(), MP_QSTR__tr), MP_QSTR_enabled));
}

static mp_int_t get_f(mp_obj_t t) {
    return mp_obj_get_int(mp_load_attr(t, MP_QSTR__f));
}

static void set_f(mp_obj_t t, mp_int_t f) {
    mp_store_attr(t, MP_QSTR__f, mp_obj_new_int(f));
}

static void bh_disable(void) {
    kt_call(core(), MP_QSTR_local_bh_disable, 0, NULL);
}

static void bh_enable(void) {
    kt_call(core(), MP_QSTR_local_bh_enable, 0, NULL);
}

// f(args) with softirqs held off, Linux's base lock: core.local_bh_disable() before,
// local_bh_enable() after, also when f raises
static mp_obj_t bh_locked(mp_obj_t (*f)(const mp_obj_t *), const mp_obj_t *args) {
    bh_disable();
    mp_obj_t r;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        r = f(args);
        nlr_pop();
    } else {
        bh_enable();
        nlr_jump(nlr.ret_val);
    }
    bh_enable();
    return r;
}


// raise <type>("<fn>: <text><v's str or repr><tail>")
NORETURN static void raise_v(const mp_obj_type_t *type, const char *fn, const char *text,
    mp_obj_t v, mp_print_kind_t kind, const char *tail) {
    vstr_t s;
    mp_print_t print;
    vstr_init_print(&s, 64, &print);
    mp_printf(&print, "%s: %s", fn, text);
    if (v != MP_OBJ_NULL) {
        mp_obj_print_helper(&print, v, kind);
    }
    mp_print_str(&print, tail);
    nlr_raise(mp_obj_new_exception_arg1(type, mp_obj_new_str_from_vstr(&s)));
}

// _check(fn, t): TypeError unless t is an hrtimer (the class, ktimers.hrtimer.hrtimer)
static void check(const char *fn, mp_obj_t t) {
    mp_obj_t cls = mp_load_attr(hmod(), MP_QSTR_hrtimer);
    if (!mp_obj_is_true(mp_call_function_2(MP_OBJ_FROM_PTR(&mp_builtin_isinstance_obj), t, cls))) {
        vstr_t s;
        mp_print_t print;
        vstr_init_print(&s, 64, &print);
        mp_printf(&print, "%s: timer must be an hrtimer, got %s", fn, mp_obj_get_type_str(t));
        nlr_raise(mp_obj_new_exception_arg1(&mp_type_TypeError, mp_obj_new_str_from_vstr(&s)));
    }
}


static void check_int(const char *fn, const char *name, mp_obj_t v) {
    if (!kt_is_int(v)) {
        vstr_t s;
        mp_print_t print;
        vstr_init_print(&s, 64, &print);
        mp_printf(&print, "%s: %s must be int (ktime ns), got %s", fn, name, mp_obj_get_type_str(v));
        nlr_raise(mp_obj_new_exception_arg1(&mp_type_TypeError, mp_obj_new_str_from_vstr(&s)));
    }
}

static mp_int_t check_mode(const char *fn, mp_obj_t mode) {
    if (!kt_is_int(mode) || mp_obj_is_true(op(MP_BINARY_OP_AND, mode, SMALL(~0x0F)))) {
        raise_v(&mp_type_ValueError, fn, "mode must be HRTIMER_MODE_* bits, got ", mode, PRINT_REPR, "");
    }
    return mp_obj_get_int(mode);
}

// _state_of(t): ENQUEUED / CALLBACK bits; the hard head keeps ENQUEUED while its callback
// runs in hard IRQ (_irq_run), where the kernel says CALLBACK
static mp_int_t state_of(mp_obj_t t) {
    if (t == mp_load_attr(irq(base()), MP_QSTR__irq_run)) {
        return CALLBACK;
    }
    return get_f(t) & 3;
}

// _expires_of(t): t._e + t._p * core._EP_NS + t._o, read with softirqs held off
static mp_obj_t expires_raw(const mp_obj_t *t) {
    mp_obj_t r = op(MP_BINARY_OP_MULTIPLY, mp_load_attr(*t, MP_QSTR__p), kt_core_get(MP_QSTR__EP_NS));
    r = op(MP_BINARY_OP_ADD, mp_load_attr(*t, MP_QSTR__e), r);
    return op(MP_BINARY_OP_ADD, r, mp_load_attr(*t, MP_QSTR__o));
}

static mp_obj_t expires_of(mp_obj_t t) {
    return bh_locked(expires_raw, &t);
}

// _now_of(clock): now on that clock, in ns
static mp_obj_t now_of(mp_obj_t clock) {
    mp_obj_t n = kt_call(core(), MP_QSTR_ktime_get, 0, NULL);
    if (mp_obj_equal(clock, SMALL(1))) {
        return n;
    }
    return op(MP_BINARY_OP_ADD, n, kt_call(mp_load_attr(hmod(), MP_QSTR__kt), MP_QSTR_clock_offset, 1, &clock));
}

static mp_obj_t clock_of(mp_obj_t b, mp_int_t f) {  // _b._CLOCK_OF[(f & _RANKS) >> 3]
    return mp_obj_subscr(mp_load_attr(b, MP_QSTR__CLOCK_OF), SMALL((f & RANKS) >> 3), MP_OBJ_SENTINEL);
}

static void set_if_differs(mp_obj_t t, qstr attr, mp_obj_t v) {
    // an equal value stays the class default: no instance attribute (heap) for it
    if (!mp_obj_equal(mp_load_attr(t, attr), v)) {
        mp_store_attr(t, attr, v);
    }
}

static void trace_record(mp_obj_t b, mp_int_t ev, mp_obj_t t, mp_obj_t x, mp_obj_t y) {
    mp_obj_t hw = kt_core_get(MP_QSTR_hw);
    mp_obj_t a[5] = {SMALL(ev), mp_load_attr(t, MP_QSTR_trace_id), kt_call(hw, MP_QSTR_cs_read, 0, NULL), x, y};
    (void)b;
    kt_call(mp_load_attr(hmod(), MP_QSTR__tr), MP_QSTR_record, 5, a);
}

// --- the calls ----------------------------------------------------------------------------------

static mp_obj_t hrtimer_cancel(mp_obj_t timer);

// _hrtimer_init(timer, clock_id, mode): hrtimer_init's work (hrtimer_setup's too)
static mp_obj_t hrtimer__init(mp_obj_t timer, mp_obj_t clock_id, mp_obj_t mode_in) {
    check("hrtimer_init", timer);
    mp_int_t mode = check_mode("hrtimer_init", mode_in);
    if (get_f(timer) & ENQUEUED) {
        hrtimer_cancel(timer);
    }
    if (!mp_obj_equal(clock_id, SMALL(0)) && !mp_obj_equal(clock_id, SMALL(1))
        && !mp_obj_equal(clock_id, SMALL(7)) && !mp_obj_equal(clock_id, SMALL(11))) {
        mp_obj_t a[3] = {mp_const_true, MP_OBJ_FROM_PTR(&warn_clock_obj), clock_id};
        kt_call(MP_OBJ_FROM_PTR(&kt_bug_module), MP_QSTR_WARN, 3, a);
        clock_id = SMALL(1);
    }
    if (mp_obj_equal(clock_id, SMALL(0)) && (mode & MODE_REL)) {
        clock_id = SMALL(1);
    }
    mp_int_t rank = mp_obj_get_int(mp_obj_subscr(mp_load_attr(base(), MP_QSTR__RANK), clock_id, MP_OBJ_SENTINEL));
    set_f(timer, (get_f(timer) & ~0xFF) | rank << 3 | ((mode & MODE_HARD) ? HARD : 0));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(hrtimer__init_obj, hrtimer__init);

// hrtimer_setup(timer, function, clock_id, mode): initialise timer (6.13+)
static mp_obj_t hrtimer_setup(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    if (!mp_obj_is_callable(args[1])) {
        mp_raise_TypeError(MP_ERROR_TEXT("hrtimer_setup: function must be callable"));
    }
    hrtimer__init(args[0], args[2], args[3]);
    mp_store_attr(args[0], MP_QSTR_function, args[1]);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(hrtimer_setup_obj, 4, 4, hrtimer_setup);

static void start_range_ns(mp_obj_t timer, mp_obj_t tim, mp_obj_t range_ns, mp_obj_t mode_in) {
    const char *fn = "hrtimer_start_range_ns";
    check(fn, timer);
    check_int(fn, "tim", tim);
    check_int(fn, "range_ns", range_ns);
    mp_int_t mode = check_mode(fn, mode_in);
    if (mp_obj_int_sign(range_ns) < 0) {
        raise_v(&mp_type_ValueError, fn, "range_ns must be >= 0, got ", range_ns, PRINT_STR, "");
    }
    if (mp_load_attr(timer, MP_QSTR_function) == mp_const_none) {
        mp_raise_ValueError(MP_ERROR_TEXT("hrtimer_start_range_ns: timer has no function (hrtimer_setup first)"));
    }
    mp_obj_t c = core();
    if (mp_obj_is_true(kt_call(c, MP_QSTR_in_hardirq, 0, NULL))) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("hrtimer_start: not from hard IRQ; return HRTIMER_RESTART"));
    }
    mp_obj_t b = base();
    kt_call(b, MP_QSTR__fix, 0, NULL);
    // everything that allocates first (64-bit ns), then the commit
    mp_int_t f = get_f(timer);
    mp_obj_t ep = kt_core_get(MP_QSTR__ep);
    mp_obj_t s, e, o;
    if (!(f & RANKS) && (mode & MODE_REL) && mp_obj_is_small_int(tim) && MP_OBJ_SMALL_INT_VALUE(tim) >= 0
        && MP_OBJ_SMALL_INT_VALUE(tim) <= SMALL_MAX && mp_obj_is_small_int(range_ns)
        && MP_OBJ_SMALL_INT_VALUE(range_ns) <= SMALL_MAX) {
        o = SMALL(0);  // MONOTONIC, relative, near: small ints (ns since the epoch)
        s = op(MP_BINARY_OP_ADD, kt_call(c, MP_QSTR_now_rel, 0, NULL), tim);
        e = op(MP_BINARY_OP_ADD, s, range_ns);
    } else {
        mp_obj_t clk = clock_of(b, f);
        mp_obj_t kt = mp_load_attr(hmod(), MP_QSTR__kt);
        o = mp_obj_equal(clk, SMALL(1)) ? SMALL(0) : kt_call(kt, MP_QSTR_clock_offset, 1, &clk);
        if (mode & MODE_REL) {
            mp_obj_t a[2] = {now_of(clk), tim};
            tim = kt_call(kt, MP_QSTR_ktime_add_safe, 2, a);
        }
        mp_obj_t a[2] = {tim, range_ns};
        mp_obj_t hard = kt_call(kt, MP_QSTR_ktime_add_safe, 2, a);
        mp_obj_t bs = op(MP_BINARY_OP_ADD, op(MP_BINARY_OP_MULTIPLY, ep, kt_core_get(MP_QSTR__EP_NS)), o);
        s = op(MP_BINARY_OP_SUBTRACT, tim, bs);
        e = op(MP_BINARY_OP_SUBTRACT, hard, bs);
    }
    mp_obj_t owner = kt_call(mp_load_attr(hmod(), MP_QSTR__pk), MP_QSTR_current_module, 0, NULL);
    bool tr = tracing(b);
    mp_obj_t ra = mp_const_none, rb = mp_const_none;
    if (tr) {
        ra = kt_call(b, MP_QSTR__raw_at, 1, &s);
        rb = kt_call(b, MP_QSTR__raw_at, 1, &e);
    }
    mp_obj_t q = mp_load_attr(b, MP_QSTR__heap);
    mp_obj_t oe = mp_load_attr(timer, MP_QSTR__e);  // for the undo
    mp_obj_t op_ = mp_load_attr(timer, MP_QSTR__p);
    mp_obj_t od = mp_load_attr(timer, MP_QSTR__d);
    mp_obj_t oo = mp_load_attr(timer, MP_QSTR__o);
    mp_obj_t ow = mp_load_attr(timer, MP_QSTR__owner);
    if (f & ENQUEUED) {
        kt_call(b, MP_QSTR__remove, 1, &timer);  // a shrink leaves room: the insert cannot grow
    } else {
        mp_obj_t none = mp_const_none;
        kt_call(q, MP_QSTR_append, 1, &none);  // room for the insert (MemoryError: nothing changed)
        kt_call(q, MP_QSTR_pop, 0, NULL);
    }
    mp_store_attr(timer, MP_QSTR__e, e);
    mp_store_attr(timer, MP_QSTR__p, ep);
    set_if_differs(timer, MP_QSTR__d, op(MP_BINARY_OP_SUBTRACT, e, s));
    set_if_differs(timer, MP_QSTR__o, o);
    kt_call(b, MP_QSTR__insert, 1, &timer);
    set_f(timer, f | ENQUEUED);
    if (mp_load_attr(timer, MP_QSTR__owner) != owner) {
        mp_store_attr(timer, MP_QSTR__owner, owner);
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        kt_call(b, MP_QSTR__reprogram, 0, NULL);
        nlr_pop();
    } else {
        if (kt_is_exc(MP_OBJ_FROM_PTR(nlr.ret_val), &mp_type_MemoryError)) {  // undo: the queue and the device as before
            kt_call(b, MP_QSTR__remove, 1, &timer);
            mp_store_attr(timer, MP_QSTR__e, oe);
            mp_store_attr(timer, MP_QSTR__p, op_);
            mp_store_attr(timer, MP_QSTR__d, od);
            mp_store_attr(timer, MP_QSTR__o, oo);
            mp_store_attr(timer, MP_QSTR__owner, ow);
            set_f(timer, f);
            if (f & ENQUEUED) {
                kt_call(b, MP_QSTR__insert, 1, &timer);  // its old slot: no growth
            }
            mp_obj_t t = mp_const_true;
            kt_call(b, MP_QSTR__reprogram, 1, &t);
        }
        nlr_jump(nlr.ret_val);
    }
    if (tr) {
        trace_record(b, 5, timer, ra, rb);
    }
}

static mp_obj_t hrtimer__start_range_ns(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    start_range_ns(args[0], args[1], args[2], args[3]);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(hrtimer__start_range_ns_obj, 4, 4, hrtimer__start_range_ns);

// hrtimer_start_range_ns(timer, tim, range_ns, mode): (re)start timer to fire within
// [tim, tim + range_ns]; softirqs held off around it
static mp_obj_t start_args(const mp_obj_t *a) {
    start_range_ns(a[0], a[1], a[2], a[3]);
    return mp_const_none;
}

static void start_locked(mp_obj_t timer, mp_obj_t tim, mp_obj_t range_ns, mp_obj_t mode) {
    mp_obj_t a[4] = {timer, tim, range_ns, mode};
    bh_locked(start_args, a);
}

static mp_obj_t hrtimer_start_range_ns(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    start_locked(args[0], args[1], args[2], args[3]);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(hrtimer_start_range_ns_obj, 4, 4, hrtimer_start_range_ns);

static mp_obj_t hrtimer_start(mp_obj_t timer, mp_obj_t tim, mp_obj_t mode) {
    start_locked(timer, tim, SMALL(0), mode);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(hrtimer_start_obj, hrtimer_start);

// _hrtimer_try_to_cancel(timer): 0 not active, 1 removed, -1 callback running
static mp_int_t try_to_cancel(mp_obj_t timer) {
    check("hrtimer_try_to_cancel", timer);
    mp_int_t f = state_of(timer);  // the state alone: the hard head stays in IRQ dispatch
    if (f & CALLBACK) {
        return -1;
    }
    if (!(f & ENQUEUED)) {
        return 0;
    }
    mp_obj_t b = base();
    kt_call(b, MP_QSTR__fix, 0, NULL);
    f = get_f(timer);
    kt_call(b, MP_QSTR__remove, 1, &timer);
    set_f(timer, f & ~3);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        kt_call(b, MP_QSTR__reprogram, 0, NULL);
        nlr_pop();
    } else {
        if (kt_is_exc(MP_OBJ_FROM_PTR(nlr.ret_val), &mp_type_MemoryError)) {  // undo
            set_f(timer, f);
            kt_call(b, MP_QSTR__insert, 1, &timer);
            mp_obj_t t = mp_const_true;
            kt_call(b, MP_QSTR__reprogram, 1, &t);
        }
        nlr_jump(nlr.ret_val);
    }
    if (tracing(b)) {
        trace_record(b, 8, timer, SMALL(0), SMALL(0));
    }
    return 1;
}

static mp_obj_t hrtimer__try_to_cancel(mp_obj_t timer) {
    return SMALL(try_to_cancel(timer));
}
static MP_DEFINE_CONST_FUN_OBJ_1(hrtimer__try_to_cancel_obj, hrtimer__try_to_cancel);

static mp_obj_t cancel_args(const mp_obj_t *t) {
    return SMALL(try_to_cancel(*t));
}

static mp_int_t try_to_cancel_locked(mp_obj_t timer) {
    return MP_OBJ_SMALL_INT_VALUE(bh_locked(cancel_args, &timer));
}

static mp_obj_t hrtimer_try_to_cancel(mp_obj_t timer) {
    return SMALL(try_to_cancel_locked(timer));
}
static MP_DEFINE_CONST_FUN_OBJ_1(hrtimer_try_to_cancel_obj, hrtimer_try_to_cancel);

// hrtimer_cancel(timer): cancel and wait for a running callback: 0 / 1
static mp_obj_t hrtimer_cancel(mp_obj_t timer) {
    mp_int_t r = try_to_cancel_locked(timer);
    if (r < 0) {
        mp_raise_msg(&mp_type_RuntimeError,
            MP_ERROR_TEXT("hrtimer_cancel: called from the timer's own callback (would spin forever)"));
    }
    return SMALL(r);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hrtimer_cancel_obj, hrtimer_cancel);

// hrtimer_forward(timer, now, interval): push the expiry past now in whole intervals;
// returns the overrun count (see hrtimer_base._forward_abs)
static mp_obj_t hrtimer_forward(mp_obj_t timer, mp_obj_t now, mp_obj_t interval) {
    const char *fn = "hrtimer_forward";
    check(fn, timer);
    check_int(fn, "now", now);
    check_int(fn, "interval", interval);
    if (mp_obj_int_sign(op(MP_BINARY_OP_SUBTRACT, now, expires_of(timer))) < 0) {
        return SMALL(0);
    }
    if (state_of(timer) & ENQUEUED) {
        mp_obj_t a[3] = {mp_const_true, MP_OBJ_FROM_PTR(&warn_queued_obj), mp_load_attr(timer, MP_QSTR_trace_id)};
        kt_call(MP_OBJ_FROM_PTR(&kt_bug_module), MP_QSTR_WARN, 3, a);
        return SMALL(0);
    }
    mp_obj_t a[3] = {timer, now, interval};
    return kt_call(base(), MP_QSTR__forward_abs, 3, a);
}
static MP_DEFINE_CONST_FUN_OBJ_3(hrtimer_forward_obj, hrtimer_forward);

// hrtimer_forward_now(timer, interval): hrtimer_forward(timer, now of its clock, interval).
// From its own HARD callback in hard IRQ (the IRQ side's _forward_irq), or a MONOTONIC
// timer's callback in softirq with a small interval: small ints, no allocation.  O(1)
static mp_obj_t hrtimer_forward_now(mp_obj_t timer, mp_obj_t interval) {
    mp_obj_t b = base();
    mp_obj_t i = irq(b);
    if (timer == mp_load_attr(i, MP_QSTR__irq_run)) {  // its own hard callback, in hard IRQ
        mp_obj_t a[2] = {timer, interval};
        return kt_call(i, MP_QSTR__forward_irq, 2, a);
    }
    check("hrtimer_forward_now", timer);
    check_int("hrtimer_forward_now", "interval", interval);
    mp_int_t f = get_f(timer);
    if (!(f & (RANKS | ENQUEUED)) && mp_obj_equal(mp_load_attr(timer, MP_QSTR__p), kt_core_get(MP_QSTR__ep))) {
        mp_obj_t a[3] = {timer, kt_call(core(), MP_QSTR_now_rel, 0, NULL), interval};
        return kt_call(b, MP_QSTR__forward_rel, 3, a);
    }
    return hrtimer_forward(timer, now_of(clock_of(b, f)), interval);
}
static MP_DEFINE_CONST_FUN_OBJ_2(hrtimer_forward_now_obj, hrtimer_forward_now);

static mp_obj_t hrtimer_active(mp_obj_t timer) {
    check("hrtimer_active", timer);
    return mp_obj_new_bool(state_of(timer) != 0);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hrtimer_active_obj, hrtimer_active);

// hrtimer_get_expires(timer): the hard expiry, ns of the timer's clock
static mp_obj_t hrtimer_get_expires(mp_obj_t timer) {
    check("hrtimer_get_expires", timer);
    return expires_of(timer);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hrtimer_get_expires_obj, hrtimer_get_expires);

// the helpers the rarely used calls (ktimers._hrtimer_ext, sleep) share
static mp_obj_t hrtimer__check(mp_obj_t fn, mp_obj_t t) {
    check(mp_obj_str_get_str(fn), t);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(hrtimer__check_obj, hrtimer__check);

static mp_obj_t hrtimer__check_int(mp_obj_t fn, mp_obj_t name, mp_obj_t v) {
    check_int(mp_obj_str_get_str(fn), mp_obj_str_get_str(name), v);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(hrtimer__check_int_obj, hrtimer__check_int);

static mp_obj_t hrtimer__check_mode(mp_obj_t fn, mp_obj_t mode) {
    check_mode(mp_obj_str_get_str(fn), mode);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(hrtimer__check_mode_obj, hrtimer__check_mode);

static mp_obj_t hrtimer__state_of(mp_obj_t t) {
    return SMALL(state_of(t));
}
static MP_DEFINE_CONST_FUN_OBJ_1(hrtimer__state_of_obj, hrtimer__state_of);

static mp_obj_t hrtimer__expires_of(mp_obj_t t) {
    return expires_of(t);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hrtimer__expires_of_obj, hrtimer__expires_of);

static mp_obj_t hrtimer__locked(mp_obj_t fn, mp_obj_t t) {
    (void)fn;
    return expires_of(t);
}
static MP_DEFINE_CONST_FUN_OBJ_2(hrtimer__locked_obj, hrtimer__locked);

static mp_obj_t hrtimer__now_of(mp_obj_t clock) {
    return now_of(clock);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hrtimer__now_of_obj, hrtimer__now_of);

static const mp_rom_map_elem_t hrtimer_calls_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_hrtimer_calls) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_setup), MP_ROM_PTR(&hrtimer_setup_obj) },
    { MP_ROM_QSTR(MP_QSTR__hrtimer_init), MP_ROM_PTR(&hrtimer__init_obj) },
    { MP_ROM_QSTR(MP_QSTR__hrtimer_start_range_ns), MP_ROM_PTR(&hrtimer__start_range_ns_obj) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_start_range_ns), MP_ROM_PTR(&hrtimer_start_range_ns_obj) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_start), MP_ROM_PTR(&hrtimer_start_obj) },
    { MP_ROM_QSTR(MP_QSTR__hrtimer_try_to_cancel), MP_ROM_PTR(&hrtimer__try_to_cancel_obj) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_try_to_cancel), MP_ROM_PTR(&hrtimer_try_to_cancel_obj) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_cancel), MP_ROM_PTR(&hrtimer_cancel_obj) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_forward), MP_ROM_PTR(&hrtimer_forward_obj) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_forward_now), MP_ROM_PTR(&hrtimer_forward_now_obj) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_active), MP_ROM_PTR(&hrtimer_active_obj) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_get_expires), MP_ROM_PTR(&hrtimer_get_expires_obj) },
    { MP_ROM_QSTR(MP_QSTR__check), MP_ROM_PTR(&hrtimer__check_obj) },
    { MP_ROM_QSTR(MP_QSTR__check_int), MP_ROM_PTR(&hrtimer__check_int_obj) },
    { MP_ROM_QSTR(MP_QSTR__check_mode), MP_ROM_PTR(&hrtimer__check_mode_obj) },
    { MP_ROM_QSTR(MP_QSTR__state_of), MP_ROM_PTR(&hrtimer__state_of_obj) },
    { MP_ROM_QSTR(MP_QSTR__expires_of), MP_ROM_PTR(&hrtimer__expires_of_obj) },
    { MP_ROM_QSTR(MP_QSTR__locked), MP_ROM_PTR(&hrtimer__locked_obj) },
    { MP_ROM_QSTR(MP_QSTR__now_of), MP_ROM_PTR(&hrtimer__now_of_obj) },
};
static MP_DEFINE_CONST_DICT(hrtimer_calls_globals, hrtimer_calls_table);

static const mp_obj_module_t kt_hrtimer_calls_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&hrtimer_calls_globals,
};

// hrtimer_calls(): the module above, once ktimers.core is loaded (RuntimeError before): the
// calls reach the core through a root pointer that a soft reset leaves stale, so they are
// handed out only after it is pointed at this session's core.  Task context
static mp_obj_t kt_hrtimer_calls(void) {
    kt_core_refresh();
    return MP_OBJ_FROM_PTR(&kt_hrtimer_calls_module);
}
MP_DEFINE_CONST_FUN_OBJ_0(kt_hrtimer_calls_obj, kt_hrtimer_calls);
