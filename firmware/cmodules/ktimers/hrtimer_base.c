// ktimers.hrtimer_base in C: the hrtimer queue and the clock event device
// (struct hrtimer_cpu_base / hrtimer_clock_base, tick_program_event).
//
//     from _ktimers import hrtimer_base as make
//     b = make()        # ktimers.hrtimer does this: sys.modules["ktimers.hrtimer_base"]
//     b._heap; b._fix() # the same names as lib/ktimers/hrtimer_base.py's
//
// The reference is lib/ktimers/hrtimer_base.py: the algorithm (one list sorted latest first,
// the head is its last element; keys are small ints since the epoch; the clock event is
// programmed one-shot for the head and reprogrammed only when that changes; everything that
// may allocate comes before the commit) is described there, and each function here is its
// namesake statement by statement.  As ktimers.core (core.c), the module is a real module
// whose globals dict holds the state and whose functions are in flash: from a filesystem
// the Python module puts 4 KB of bytecode and 21 function objects on the heap, where every
// gc.collect() scans them.  The IRQ side (_i: the C core's hrtimer_irq object, or the
// native/bytecode hrtimer_irq module) and HRTIMER_SOFTIRQ are reached through attributes,
// so init(IRQ_CODE=...) may pick any of them.  Things other modules may stand in for (a
// test's MemoryError injection) are called through the globals that hold them: core, _kt.
//
//     context         functions
//     softirq         _rebase (core.ep_advance), _fix, _reprogram, _forward_rel, _raw_at
//     task/softirq    the rest, with softirqs held off by the caller (ktimers.hrtimer)
//     hard IRQ        _rearm_ce (allocation-free)
#include "py/runtime.h"
#include "py/objlist.h"
#include "py/objstr.h"
#include "modktimers.h"

MP_REGISTER_ROOT_POINTER(mp_obj_dict_t *kt_base_globals);

#define ENQUEUED (1)
#define HARD (4)
#define RANKS (0x18)
#define SMALL_MAX (0x3FFFFFFF)
#define SMALL(v) MP_OBJ_NEW_SMALL_INT(v)

static const MP_DEFINE_STR_OBJ(kt_base_name_obj, "ktimers.hrtimer_base");
static const MP_DEFINE_STR_OBJ(warn_ret_obj,
    "hrtimer: callback of timer %d returned %s, not HRTIMER_NORESTART/RESTART");
static const MP_DEFINE_STR_OBJ(not_int_obj, "hrtimer_forward_now: interval must be int (ktime ns), got ");
static const MP_DEFINE_STR_OBJ(hard_kind_obj, "hrtimer (hard)");
static const MP_DEFINE_STR_OBJ(hard_badret_obj, "not 0/1 (hard)");
static const MP_DEFINE_STR_OBJ(kind_hrtimer_obj, "hrtimer");

// --- globals, attributes, arithmetic --------------------------------------------------------

static mp_obj_t G(qstr q) {
    mp_map_elem_t *e = mp_map_lookup(&MP_STATE_VM(kt_base_globals)->map, MP_OBJ_NEW_QSTR(q), MP_MAP_LOOKUP);
    if (e == NULL) {
        mp_raise_msg_varg(&mp_type_NameError, MP_ERROR_TEXT("name '%q' isn't defined"), q);
    }
    return e->value;
}

static void S(qstr q, mp_obj_t v) {  // allocates only for a new global
    mp_map_lookup(&MP_STATE_VM(kt_base_globals)->map, MP_OBJ_NEW_QSTR(q), MP_MAP_LOOKUP_ADD_IF_NOT_FOUND)->value = v;
}

static mp_obj_t A(mp_obj_t o, qstr q) {
    return mp_load_attr(o, q);
}

static void SA(mp_obj_t o, qstr q, mp_obj_t v) {
    mp_store_attr(o, q, v);
}

static mp_int_t AI(mp_obj_t o, qstr q) {
    return mp_obj_get_int(mp_load_attr(o, q));
}


static mp_obj_t op(mp_binary_op_t o, mp_obj_t a, mp_obj_t b) {
    return mp_binary_op(o, a, b);  // small ints with a small result: no allocation
}

static bool lt(mp_obj_t a, mp_obj_t b) {
    if (mp_obj_is_small_int(a) && mp_obj_is_small_int(b)) {
        return MP_OBJ_SMALL_INT_VALUE(a) < MP_OBJ_SMALL_INT_VALUE(b);
    }
    return op(MP_BINARY_OP_LESS, a, b) == mp_const_true;
}

static bool le(mp_obj_t a, mp_obj_t b) {
    return !lt(b, a);
}

static mp_obj_t sub(mp_obj_t a, mp_obj_t b) {
    return op(MP_BINARY_OP_SUBTRACT, a, b);
}

static mp_obj_t add(mp_obj_t a, mp_obj_t b) {
    return op(MP_BINARY_OP_ADD, a, b);
}

static mp_obj_t core(void) {
    return G(MP_QSTR_core);
}

static mp_obj_t irq(void) {
    return G(MP_QSTR__i);
}

static mp_obj_t heap(void) {
    return G(MP_QSTR__heap);
}

static mp_obj_t *items(mp_obj_t list, size_t *n) {
    mp_obj_t *it;
    mp_obj_list_get(list, n, &it);
    return it;
}

// --- the module's functions ----------------------------------------------------------------

// _reset(): (re)start on the running core's clock event (ktimers._hrtimer_setup's work,
// loaded for the call and dropped after it).  Task context
static mp_obj_t base__reset(void) {
    mp_obj_t a[2] = {MP_OBJ_NEW_QSTR(MP_QSTR__hrtimer_setup),
                     kt_module_lookup_module(MP_OBJ_FROM_PTR(&kt_base_name_obj))};
    kt_call(core(), MP_QSTR__once, 2, a);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(base__reset_obj, base__reset);

// _rearm_ce(c): the clock event restarted with the same handler (no ce_rearm).  Hard IRQ
static mp_obj_t base__rearm_ce(mp_obj_t c) {
    mp_obj_t a[2] = {c, A(irq(), MP_QSTR__ce_irq)};
    kt_call(G(MP_QSTR__hw), MP_QSTR_ce_set_next, 2, a);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(base__rearm_ce_obj, base__rearm_ce);

static mp_obj_t base__trace_changed(mp_obj_t on) {
    mp_obj_t i = irq();
    SA(i, MP_QSTR__trc, on);
    SA(i, MP_QSTR__s_fast, mp_const_false);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(base__trace_changed_obj, base__trace_changed);

// _le(a, b): a's key <= b's: hard expiry, then clock base
static bool key_le(mp_obj_t a, mp_obj_t b) {
    mp_obj_t ea = A(a, MP_QSTR__e), eb = A(b, MP_QSTR__e);
    if (!mp_obj_equal(ea, eb)) {
        return lt(ea, eb);
    }
    return (AI(a, MP_QSTR__f) & RANKS) <= (AI(b, MP_QSTR__f) & RANKS);
}

static mp_obj_t base__le(mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_bool(key_le(a, b));
}
static MP_DEFINE_CONST_FUN_OBJ_2(base__le_obj, base__le);

// _pos(t, hi): first index below hi whose key <= t's (latest first).  O(log n)
static size_t pos(mp_obj_t h, mp_obj_t t, size_t hi) {
    size_t n;
    size_t lo = 0;
    while (lo < hi) {
        size_t m = (lo + hi) >> 1;
        if (key_le(items(h, &n)[m], t)) {
            hi = m;
        } else {
            lo = m + 1;
        }
    }
    return lo;
}

static mp_obj_t base__pos(mp_obj_t t, mp_obj_t hi) {
    return SMALL(pos(heap(), t, mp_obj_get_int(hi)));
}
static MP_DEFINE_CONST_FUN_OBJ_2(base__pos_obj, base__pos);

// _insert(t): list growth is the one allocation, done by insert before it moves anything
static void insert(mp_obj_t t) {
    mp_obj_t h = heap();
    size_t n;
    items(h, &n);
    mp_obj_t a[2] = {SMALL(pos(h, t, n)), t};
    kt_call(h, MP_QSTR_insert, 2, a);
}

static mp_obj_t base__insert(mp_obj_t t) {
    insert(t);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(base__insert_obj, base__insert);

// _remove(t): allocation-free (a shrink leaves room for the next insert)
static void remove_t(mp_obj_t t) {
    mp_obj_t i_ = irq();
    if (t == A(i_, MP_QSTR__s_head)) {
        SA(i_, MP_QSTR__s_head, mp_const_none);
    }
    mp_obj_t h = heap();
    size_t n;
    size_t i = pos(h, t, (items(h, &n), n));
    mp_obj_t *it = items(h, &n);
    while (i < n && it[i] != t) {
        i++;
    }
    if (i == n) {
        mp_raise_msg(&mp_type_IndexError, MP_ERROR_TEXT("list index out of range"));
    }
    mp_obj_subscr(h, SMALL(i), MP_OBJ_NULL);  // del h[i]
}

static mp_obj_t base__remove(mp_obj_t t) {
    remove_t(t);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(base__remove_obj, base__remove);

// _settle(): the head's key grew (forwarded in IRQ): move it left to its place.  O(k)
static mp_obj_t base__settle(void) {
    size_t n;
    mp_obj_t *h = items(heap(), &n);
    size_t i = n - 1;
    mp_obj_t t = h[i];
    while (i && key_le(h[i - 1], t)) {
        h[i] = h[i - 1];
        i--;
    }
    h[i] = t;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(base__settle_obj, base__settle);

static mp_obj_t forward_abs(mp_obj_t t, mp_obj_t now, mp_obj_t interval);
static mp_obj_t abs_now(mp_obj_t t);

static void warn_ret(mp_obj_t t, mp_obj_t r) {
    mp_obj_t a[4] = {mp_const_true, MP_OBJ_FROM_PTR(&warn_ret_obj), A(t, MP_QSTR_trace_id), r};
    kt_call(G(MP_QSTR__bug), MP_QSTR_WARN_ONCE, 4, a);
}

static mp_obj_t base__warn_ret(mp_obj_t t, mp_obj_t r) {
    warn_ret(t, r);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(base__warn_ret_obj, base__warn_ret);

static void log_error(mp_obj_t t, mp_obj_t e) {
    mp_obj_t a[3] = {MP_OBJ_FROM_PTR(&hard_kind_obj), t, e};
    kt_call(core(), MP_QSTR_log_callback_error, 3, a);
}


// _fix(): take the hard head out of IRQ dispatch and fold what its IRQ did back into the
// queue.  Task/softirq context; every queue operation starts here
static void fix(void) {
    mp_obj_t i_ = irq();
    mp_obj_t t = A(i_, MP_QSTR__hard_head);
    mp_obj_t z = A(i_, MP_QSTR__zombie);
    if (t != mp_const_none || z != mp_const_none) {
        mp_obj_t hw = A(core(), MP_QSTR_hw);
        mp_obj_t st = kt_call(hw, MP_QSTR_irq_save, 0, NULL);
        SA(i_, MP_QSTR__hard_head, mp_const_none);
        SA(i_, MP_QSTR__zombie, mp_const_none);
        mp_obj_t iv = A(i_, MP_QSTR__h_defer);
        SA(i_, MP_QSTR__h_defer, mp_const_none);
        SA(i_, MP_QSTR__moved, mp_const_false);
        kt_call(hw, MP_QSTR_irq_restore, 1, &st);
        mp_obj_t h = heap();
        size_t n;
        mp_obj_t *it = items(h, &n);
        if (z != mp_const_none && n && it[n - 1] == z && !(AI(z, MP_QSTR__f) & 3)) {
            kt_call(h, MP_QSTR_pop, 0, NULL);  // its IRQ callback returned NORESTART
        } else if (t != mp_const_none && n && it[n - 1] == t) {
            base__settle();  // its IRQ may have forwarded it past others: O(1) if not
            if (iv != mp_const_none && (AI(t, MP_QSTR__f) & ENQUEUED)) {  // left to us
                remove_t(t);
                if (!kt_is_int(iv)) {  // ends, as if it raised
                    SA(t, MP_QSTR__f, SMALL(AI(t, MP_QSTR__f) & ~3));
                    vstr_t v;
                    mp_print_t print;
                    vstr_init_print(&v, 80, &print);
                    mp_print_str(&print, (const char *)not_int_obj.data);
                    mp_print_str(&print, mp_obj_get_type_str(iv));
                    log_error(t, mp_obj_new_exception_arg1(&mp_type_TypeError, mp_obj_new_str_from_vstr(&v)));
                } else {
                    nlr_buf_t nlr;
                    if (nlr_push(&nlr) == 0) {
                        forward_abs(t, abs_now(t), iv);
                        nlr_pop();
                    } else {
                        insert(t);  // finally
                        nlr_jump(nlr.ret_val);
                    }
                    insert(t);
                }
            }
        }
    }
    mp_obj_t e = A(i_, MP_QSTR__irq_exc);
    if (e != mp_const_none) {
        mp_obj_t et = A(i_, MP_QSTR__irq_exc_t);
        SA(i_, MP_QSTR__irq_exc, mp_const_none);
        SA(i_, MP_QSTR__irq_exc_t, mp_const_none);
        log_error(et, e);
    }
    mp_obj_t bt = A(i_, MP_QSTR__irq_badret);
    if (bt != mp_const_none) {
        SA(i_, MP_QSTR__irq_badret, mp_const_none);
        warn_ret(bt, MP_OBJ_FROM_PTR(&hard_badret_obj));
    }
}

static mp_obj_t base__fix(void) {
    fix();
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(base__fix_obj, base__fix);

// __getattr__(name): the IRQ side's and the softirq's state and counters, read through
// this module (tests, /proc); queue_check() is ktimers._hrtimer_ext's (loaded then)
static mp_obj_t base___getattr__(mp_obj_t name) {
    qstr q = mp_obj_str_get_qstr(name);
    if (q == MP_QSTR_queue_check) {
        mp_obj_t pkg = kt_module_lookup_module(MP_OBJ_NEW_QSTR(MP_QSTR_ktimers));
        mp_obj_t a = MP_OBJ_NEW_QSTR(MP_QSTR__hrtimer_ext);
        return A(kt_call(pkg, MP_QSTR__mod, 1, &a), MP_QSTR_queue_check);
    }
    mp_obj_t dest[2];
    mp_load_method_maybe(irq(), q, dest);
    if (dest[0] != MP_OBJ_NULL) {
        return dest[1] == MP_OBJ_NULL ? dest[0] : A(irq(), q);
    }
    return A(G(MP_QSTR__s), q);
}
static MP_DEFINE_CONST_FUN_OBJ_1(base___getattr___obj, base___getattr__);

// _rebase(shift, ep): the epoch moves by shift ns to epoch ep: every queued key moves with
// it, all-or-nothing (far keys computed into _scratch first).  Returns the hard head left
// in IRQ dispatch (core.ep_advance moves its key, interrupts off), or None.  O(n)
static mp_obj_t base__rebase(mp_obj_t shift, mp_obj_t ep) {
    mp_obj_t lo = le(shift, SMALL(SMALL_MAX)) ? add(SMALL(-SMALL_MAX), shift) : mp_const_none;
    mp_obj_t hh = A(irq(), MP_QSTR__hard_head);
    #define FAR(e) (lo == mp_const_none || !(le(lo, (e)) && le((e), SMALL(SMALL_MAX))))
    if (hh != mp_const_none && FAR(A(hh, MP_QSTR__e))) {
        fix();  // (a forward in IRQ keeps a small key small: checked once)
        hh = mp_const_none;
    }
    mp_obj_t h = heap();
    mp_obj_t scratch = G(MP_QSTR__scratch);
    size_t n, k = 0;
    for (size_t j = 0; j < (items(h, &n), n); j++) {
        mp_obj_t t = items(h, &n)[j];
        mp_obj_t e = A(t, MP_QSTR__e);
        if (t != hh && FAR(e)) {
            size_t ns;
            items(scratch, &ns);
            if (k == ns) {
                mp_obj_list_append(scratch, mp_const_none);
            }
            mp_obj_t v = sub(e, shift);
            items(scratch, &ns)[k] = v;
            k++;
        }
    }
    k = 0;
    for (size_t j = 0; j < (items(h, &n), n); j++) {
        mp_obj_t t = items(h, &n)[j];
        if (t == hh) {
            continue;
        }
        mp_obj_t e = A(t, MP_QSTR__e);
        if (FAR(e)) {
            size_t ns;
            mp_obj_t *sc = items(scratch, &ns);
            SA(t, MP_QSTR__e, sc[k]);
            sc[k] = mp_const_none;
            k++;
        } else {
            SA(t, MP_QSTR__e, sub(e, shift));
        }
        SA(t, MP_QSTR__p, ep);
    }
    #undef FAR
    S(MP_QSTR__expires_next, mp_const_none);  // the next _reprogram recomputes
    return hh;
}
static MP_DEFINE_CONST_FUN_OBJ_2(base__rebase_obj, base__rebase);

// --- exact ns --------------------------------------------------------------------------------

// _base(t): ns of the timer's clock at its epoch
static mp_obj_t tbase(mp_obj_t t) {
    return add(op(MP_BINARY_OP_MULTIPLY, A(t, MP_QSTR__p), A(core(), MP_QSTR__EP_NS)), A(t, MP_QSTR__o));
}

static mp_obj_t base__base(mp_obj_t t) {
    return tbase(t);
}
static MP_DEFINE_CONST_FUN_OBJ_1(base__base_obj, base__base);

static mp_obj_t clock_of(mp_obj_t t) {
    return mp_obj_subscr(G(MP_QSTR__CLOCK_OF), SMALL((AI(t, MP_QSTR__f) & RANKS) >> 3), MP_OBJ_SENTINEL);
}

// _abs_now(t): now on the timer's clock, in ns
static mp_obj_t abs_now(mp_obj_t t) {
    mp_obj_t c = clock_of(t);
    mp_obj_t n = kt_call(core(), MP_QSTR_ktime_get, 0, NULL);
    return mp_obj_equal(c, SMALL(1)) ? n : add(n, kt_call(G(MP_QSTR__kt), MP_QSTR_clock_offset, 1, &c));
}

static mp_obj_t base__abs_now(mp_obj_t t) {
    return abs_now(t);
}
static MP_DEFINE_CONST_FUN_OBJ_1(base__abs_now_obj, base__abs_now);

// _set_abs(t, soft, hard): expiries in ns of the timer's clock (not queued); computes
// first, then assigns
static void set_abs(mp_obj_t t, mp_obj_t soft, mp_obj_t hard) {
    mp_obj_t c = core();
    mp_obj_t ep = A(c, MP_QSTR__ep);
    mp_obj_t e = sub(sub(hard, op(MP_BINARY_OP_MULTIPLY, ep, A(c, MP_QSTR__EP_NS))), A(t, MP_QSTR__o));
    mp_obj_t d = sub(hard, soft);
    SA(t, MP_QSTR__p, ep);
    SA(t, MP_QSTR__e, e);
    if (!mp_obj_equal(A(t, MP_QSTR__d), d)) {
        SA(t, MP_QSTR__d, d);
    }
}

static mp_obj_t base__set_abs(mp_obj_t t, mp_obj_t soft, mp_obj_t hard) {
    set_abs(t, soft, hard);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(base__set_abs_obj, base__set_abs);

static mp_obj_t add_safe(mp_obj_t a, mp_obj_t b) {
    mp_obj_t x[2] = {a, b};
    return kt_call(G(MP_QSTR__kt), MP_QSTR_ktime_add_safe, 2, x);
}

// _forward_abs(t, now, interval): hrtimer_forward on ns of the timer's clock; saturates at
// KTIME_MAX.  Returns the overrun count
static mp_obj_t forward_abs(mp_obj_t t, mp_obj_t now, mp_obj_t interval) {
    mp_obj_t hard = add(A(t, MP_QSTR__e), tbase(t));
    mp_obj_t delta = sub(now, hard);
    if (lt(delta, SMALL(0))) {
        return SMALL(0);
    }
    if (lt(interval, SMALL(1))) {
        interval = SMALL(1);
    }
    mp_obj_t soft = sub(hard, A(t, MP_QSTR__d));
    mp_obj_t orun = SMALL(1);
    if (!lt(delta, interval)) {
        orun = op(MP_BINARY_OP_FLOOR_DIVIDE, delta, interval);
        mp_obj_t inc = op(MP_BINARY_OP_MULTIPLY, interval, orun);
        hard = add_safe(hard, inc);
        soft = add_safe(soft, inc);
        if (lt(now, hard)) {
            set_abs(t, soft, hard);
            return orun;
        }
        orun = add(orun, SMALL(1));
    }
    mp_obj_t s2 = add_safe(soft, interval);
    set_abs(t, s2, add_safe(hard, interval));
    return orun;
}

static mp_obj_t base__forward_abs(mp_obj_t t, mp_obj_t now, mp_obj_t interval) {
    return forward_abs(t, now, interval);
}
static MP_DEFINE_CONST_FUN_OBJ_3(base__forward_abs_obj, base__forward_abs);

// _forward_rel(t, now, interval): hrtimer_forward with now in the timer's own frame (ns
// since its epoch): small ints, allocation-free while they stay small
static mp_obj_t base__forward_rel(mp_obj_t t, mp_obj_t now, mp_obj_t interval) {
    mp_obj_t e = A(t, MP_QSTR__e);
    mp_obj_t delta = sub(now, e);
    if (lt(delta, SMALL(0))) {
        return SMALL(0);
    }
    if (lt(interval, SMALL(1))) {
        interval = SMALL(1);
    }
    mp_obj_t room = sub(SMALL(SMALL_MAX), interval);
    if (lt(room, delta) || lt(room, now)) {
        return forward_abs(t, add(now, tbase(t)), interval);  // large: exact, saturating
    }
    mp_obj_t orun = add(op(MP_BINARY_OP_FLOOR_DIVIDE, delta, interval), SMALL(1));
    SA(t, MP_QSTR__e, add(e, op(MP_BINARY_OP_MULTIPLY, orun, interval)));
    return orun;
}
static MP_DEFINE_CONST_FUN_OBJ_3(base__forward_rel_obj, base__forward_rel);

// --- the clock event device --------------------------------------------------------------------

static mp_obj_t base__clamp_cyc(mp_obj_t c) {
    mp_obj_t hw = A(core(), MP_QSTR_hw);
    mp_obj_t mn = A(hw, MP_QSTR_CE_MIN_CYC);
    if (lt(c, mn)) {
        return mn;
    }
    mp_obj_t mx = A(hw, MP_QSTR_CE_MAX_CYC);
    return lt(mx, c) ? mx : c;
}
static MP_DEFINE_CONST_FUN_OBJ_1(base__clamp_cyc_obj, base__clamp_cyc);

// _raw_at(ns): raw counter at ns since the epoch, rounded up (never early)
static mp_obj_t raw_at(mp_obj_t ns) {
    mp_obj_t c = core();
    mp_obj_t cyc = kt_call(c, MP_QSTR_ns_to_cycles_up, 1, &ns);
    mp_obj_t mask = A(irq(), MP_QSTR__mask);
    mp_obj_t er = A(c, MP_QSTR__ep_raw);
    if (lt(cyc, SMALL(0))) {  // before the epoch (an overdue timer): small ints
        return op(MP_BINARY_OP_AND, add(er, cyc), mask);
    }
    mp_obj_t a[2] = {er, op(MP_BINARY_OP_AND, cyc, mask)};
    return kt_call(c, MP_QSTR_raw_add, 2, a);
}

static mp_obj_t base__raw_at(mp_obj_t ns) {
    return raw_at(ns);
}
static MP_DEFINE_CONST_FUN_OBJ_1(base__raw_at_obj, base__raw_at);

static void set_next(mp_obj_t hw, mp_obj_t cyc, mp_obj_t fn, mp_obj_t ce_soft) {
    if (fn == ce_soft) {
        mp_obj_t a[3] = {cyc, fn, mp_const_false};
        kt_call(hw, MP_QSTR_ce_set_next, 3, a);
    } else {
        mp_obj_t a[2] = {cyc, fn};
        kt_call(hw, MP_QSTR_ce_set_next, 2, a);
    }
}

// _reprogram(force=False): program the clock event device for the head, with the handler
// that serves it.  Everything that allocates comes before the commit (interrupts off)
static void reprogram(bool force) {
    if (mp_obj_is_true(G(MP_QSTR__in_run))) {
        return;  // _run_softirq reprograms once at the end
    }
    mp_obj_t c = core();
    mp_obj_t hw = A(c, MP_QSTR_hw);
    mp_obj_t i_ = irq();
    if (A(i_, MP_QSTR__hard_head) != mp_const_none || A(i_, MP_QSTR__zombie) != mp_const_none) {
        fix();
    }
    mp_obj_t h = heap();
    size_t n;
    mp_obj_t *it = items(h, &n);
    if (!n) {
        SA(i_, MP_QSTR__s_head, mp_const_none);
        SA(c, MP_QSTR__ce_watch, mp_const_false);  // also after a hang back-off
        if (G(MP_QSTR__expires_next) != mp_const_none) {
            mp_obj_t st = kt_call(hw, MP_QSTR_irq_save, 0, NULL);
            kt_call(hw, MP_QSTR_ce_stop, 0, NULL);
            kt_call(hw, MP_QSTR_irq_restore, 1, &st);
            S(MP_QSTR__expires_next, mp_const_none);
        }
        return;
    }
    mp_obj_t t = it[n - 1];
    mp_obj_t now = kt_call(c, MP_QSTR_now_rel, 0, NULL);
    mp_obj_t cmax_ns = G(MP_QSTR__cmax_ns);
    mp_obj_t te = A(t, MP_QSTR__e);
    mp_obj_t td = A(t, MP_QSTR__d);
    // raw counter values alias beyond half the counter period: the IRQ-side shortcuts
    // (raw compares) serve only a head within the device's reach
    bool near = le(sub(te, now), cmax_ns);
    bool is_hard = near && mp_obj_is_true(G(MP_QSTR__hard_ok)) && (AI(t, MP_QSTR__f) & HARD) && le(td, cmax_ns);
    mp_obj_t hh = is_hard ? t : mp_const_none;
    mp_obj_t ce_irq = A(i_, MP_QSTR__ce_irq);
    mp_obj_t ce_soft = A(i_, MP_QSTR__ce_soft);
    mp_obj_t fn = is_hard || !mp_obj_is_true(G(MP_QSTR__soft_ok)) ? ce_irq : ce_soft;
    mp_obj_t s_head = near && !is_hard ? t : mp_const_none;
    mp_obj_t ce_mode = G(MP_QSTR__ce_mode);
    if (!is_hard && mp_obj_equal(te, G(MP_QSTR__expires_next)) && fn == ce_mode && !force
        && A(i_, MP_QSTR__s_head) == s_head) {
        return;
    }
    SA(i_, MP_QSTR__trc, A(G(MP_QSTR__tr), MP_QSTR_enabled));
    mp_obj_t at = near ? raw_at(te) : SMALL(0);  // the event: the head's hard expiry, rounded up
    mp_obj_t hs = MP_OBJ_NULL, lr = SMALL(0), hf = MP_OBJ_NULL, ss = SMALL(0), sf = MP_OBJ_NULL, wat = MP_OBJ_NULL;
    bool lim = false, fast = false;
    if (is_hard) {
        hs = raw_at(sub(te, td));
        lim = n > 1;
        if (lim) {  // the next event, or a check-in within the device's reach
            mp_obj_t ln = A(it[n - 2], MP_QSTR__e);
            lr = raw_at(le(sub(ln, now), cmax_ns) ? ln : add(now, cmax_ns));
        }
        hf = A(t, MP_QSTR_function);
    } else {
        if (near) {
            ss = raw_at(sub(te, td));
        }
        sf = A(t, MP_QSTR_function);
        fast = A(t, MP_QSTR__owner) == mp_const_none && !mp_obj_is_true(A(c, MP_QSTR__direct))
            && !mp_obj_is_true(A(i_, MP_QSTR__trc));
        mp_obj_t a[2] = {near ? at : kt_call(hw, MP_QSTR_cs_read, 0, NULL),
                         add(near ? SMALL(0) : A(i_, MP_QSTR__cmax), A(c, MP_QSTR__tick_cyc))};
        wat = kt_call(c, MP_QSTR_raw_add, 2, a);
    }
    mp_obj_t rearm_any = G(MP_QSTR__rearm_any);
    mp_obj_t st = kt_call(hw, MP_QSTR_irq_save, 0, NULL);
    if (is_hard) {
        SA(i_, MP_QSTR__hs_raw, hs);
        SA(i_, MP_QSTR__ha_raw, at);
        SA(i_, MP_QSTR__lim, mp_obj_new_bool(lim));
        SA(i_, MP_QSTR__lim_raw, lr);
        SA(i_, MP_QSTR__h_fn, hf);
        SA(i_, MP_QSTR__sure, mp_const_true);  // programmed for its own expiry
        SA(i_, MP_QSTR__moved, mp_const_false);
        SA(i_, MP_QSTR__h_defer, mp_const_none);
        SA(i_, MP_QSTR__s_head, mp_const_none);
        SA(c, MP_QSTR__ce_watch, mp_const_false);
    } else {
        SA(i_, MP_QSTR__s_head, s_head);
        SA(i_, MP_QSTR__ss_raw, ss);
        SA(i_, MP_QSTR__s_fn, sf);
        SA(i_, MP_QSTR__s_fast, mp_obj_new_bool(fast));
        SA(c, MP_QSTR__ce_watch_at, wat);
        SA(c, MP_QSTR__ce_watch, mp_obj_new_bool(fn == ce_soft));
    }
    SA(i_, MP_QSTR__hard_head, hh);
    // the counter is read last: the device counts from when it is started, so every
    // instruction between the read and the start is lateness
    mp_obj_t start = fn == ce_mode ? rearm_any : mp_const_none;
    if (start == mp_const_none && near && rearm_any != mp_const_none) {
        // a new handler or mode: switch the device first (parked at its longest delay),
        // then program the event the fast way
        set_next(hw, A(i_, MP_QSTR__cmax), fn, ce_soft);
        start = rearm_any;
    }
    if (near && start != mp_const_none) {
        mp_obj_t a[2] = {at, start};
        kt_call(i_, MP_QSTR__program, 2, a);  // the steady state: read and start at once
    } else {
        mp_obj_t cyc;
        if (near) {
            mp_int_t d = (mp_obj_get_int(at) - mp_obj_get_int(kt_call(hw, MP_QSTR_cs_read, 0, NULL)))
                & AI(i_, MP_QSTR__mask);
            mp_int_t cmin = AI(i_, MP_QSTR__cmin), cmax = AI(i_, MP_QSTR__cmax);
            cyc = SMALL(d >= AI(i_, MP_QSTR__half) || d < cmin ? cmin : d > cmax ? cmax : d);
        } else {
            cyc = A(i_, MP_QSTR__cmax);
        }
        if (start != mp_const_none) {
            mp_call_function_1(start, cyc);
        } else {
            set_next(hw, cyc, fn, ce_soft);
        }
    }
    kt_call(hw, MP_QSTR_irq_restore, 1, &st);
    S(MP_QSTR__ce_mode, fn);
    S(MP_QSTR__expires_next, te);
    S(MP_QSTR_nr_reprograms, add(G(MP_QSTR_nr_reprograms), SMALL(1)));
}

static mp_obj_t base__reprogram(size_t n_args, const mp_obj_t *args) {
    reprogram(n_args > 0 && mp_obj_is_true(args[0]));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(base__reprogram_obj, 0, 1, base__reprogram);

// _pending_of(owner): [("hrtimer", t)] for the queued timers module owner armed
static mp_obj_t base__pending_of(mp_obj_t owner) {
    mp_obj_t r = mp_obj_new_list(0, NULL);
    mp_obj_t h = heap();
    size_t n;
    for (size_t j = 0; j < (items(h, &n), n); j++) {
        mp_obj_t t = items(h, &n)[j];
        if (mp_obj_equal(A(t, MP_QSTR__owner), owner) && (AI(t, MP_QSTR__f) & ENQUEUED)) {
            mp_obj_t p[2] = {MP_OBJ_FROM_PTR(&kind_hrtimer_obj), t};
            mp_obj_list_append(r, mp_obj_new_tuple(2, p));
        }
    }
    return r;
}
static MP_DEFINE_CONST_FUN_OBJ_1(base__pending_of_obj, base__pending_of);

// --- the module ---------------------------------------------------------------------------

static const mp_rom_map_elem_t kt_base_funs[] = {
    { MP_ROM_QSTR(MP_QSTR__reset), MP_ROM_PTR(&base__reset_obj) },
    { MP_ROM_QSTR(MP_QSTR__rearm_ce), MP_ROM_PTR(&base__rearm_ce_obj) },
    { MP_ROM_QSTR(MP_QSTR__trace_changed), MP_ROM_PTR(&base__trace_changed_obj) },
    { MP_ROM_QSTR(MP_QSTR__le), MP_ROM_PTR(&base__le_obj) },
    { MP_ROM_QSTR(MP_QSTR__pos), MP_ROM_PTR(&base__pos_obj) },
    { MP_ROM_QSTR(MP_QSTR__insert), MP_ROM_PTR(&base__insert_obj) },
    { MP_ROM_QSTR(MP_QSTR__remove), MP_ROM_PTR(&base__remove_obj) },
    { MP_ROM_QSTR(MP_QSTR__settle), MP_ROM_PTR(&base__settle_obj) },
    { MP_ROM_QSTR(MP_QSTR__fix), MP_ROM_PTR(&base__fix_obj) },
    { MP_ROM_QSTR(MP_QSTR__sync), MP_ROM_PTR(&base__fix_obj) },
    { MP_ROM_QSTR(MP_QSTR___getattr__), MP_ROM_PTR(&base___getattr___obj) },
    { MP_ROM_QSTR(MP_QSTR__warn_ret), MP_ROM_PTR(&base__warn_ret_obj) },
    { MP_ROM_QSTR(MP_QSTR__rebase), MP_ROM_PTR(&base__rebase_obj) },
    { MP_ROM_QSTR(MP_QSTR__base), MP_ROM_PTR(&base__base_obj) },
    { MP_ROM_QSTR(MP_QSTR__abs_now), MP_ROM_PTR(&base__abs_now_obj) },
    { MP_ROM_QSTR(MP_QSTR__set_abs), MP_ROM_PTR(&base__set_abs_obj) },
    { MP_ROM_QSTR(MP_QSTR__forward_abs), MP_ROM_PTR(&base__forward_abs_obj) },
    { MP_ROM_QSTR(MP_QSTR__forward_rel), MP_ROM_PTR(&base__forward_rel_obj) },
    { MP_ROM_QSTR(MP_QSTR__clamp_cyc), MP_ROM_PTR(&base__clamp_cyc_obj) },
    { MP_ROM_QSTR(MP_QSTR__raw_at), MP_ROM_PTR(&base__raw_at_obj) },
    { MP_ROM_QSTR(MP_QSTR__reprogram), MP_ROM_PTR(&base__reprogram_obj) },
    { MP_ROM_QSTR(MP_QSTR__pending_of), MP_ROM_PTR(&base__pending_of_obj) },
    // state, as hrtimer_base.py starts it
    { MP_ROM_QSTR(MP_QSTR__i), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR__code), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR__expires_next), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR__ce_mode), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR__in_run), MP_ROM_FALSE },
    { MP_ROM_QSTR(MP_QSTR__hard_ok), MP_ROM_FALSE },
    { MP_ROM_QSTR(MP_QSTR__soft_ok), MP_ROM_FALSE },
    { MP_ROM_QSTR(MP_QSTR__rearm_any), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR__hw), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR__cmax_ns), MP_ROM_INT(-1) },
    { MP_ROM_QSTR(MP_QSTR_nr_reprograms), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR_hrtimer_resolution), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR__s), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR__run_softirq), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR__finish), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR__H), MP_ROM_NONE },
    { MP_ROM_QSTR(MP_QSTR__kt), MP_ROM_PTR(&kt_ktime_module) },
    { MP_ROM_QSTR(MP_QSTR__bug), MP_ROM_PTR(&kt_bug_module) },
};
static MP_DEFINE_CONST_DICT(kt_base_funs_dict, kt_base_funs);

// hrtimer_base(): sys.modules["ktimers.hrtimer_base"], made (its globals a new dict: the
// functions above and hrtimer_base.py's state), registered and attached to the running core
// if it is not there yet.  Task context (ktimers.hrtimer calls it when it loads).
static mp_obj_t kt_base_make(void) {
    mp_obj_t have = kt_module_lookup_module(MP_OBJ_FROM_PTR(&kt_base_name_obj));
    if (have != MP_OBJ_NULL) {
        return have;  // made already (or the Python module, imported on its own first)
    }
    const mp_map_t *rom = &kt_base_funs_dict.map;
    mp_obj_t d = mp_obj_new_dict(rom->used + 12);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR___name__), MP_OBJ_FROM_PTR(&kt_base_name_obj));
    for (size_t i = 0; i < rom->used; i++) {
        mp_obj_dict_store(d, rom->table[i].key, rom->table[i].value);
    }
    mp_obj_t c = kt_core_module();
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_core), c);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR__tr), kt_call(c, MP_QSTR_tracer, 0, NULL));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR__heap), mp_obj_new_list(0, NULL));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR__scratch), mp_obj_new_list(0, NULL));
    mp_obj_t rank = mp_obj_new_dict(4);  // base order: MONOTONIC, REALTIME, BOOTTIME, TAI
    mp_obj_dict_store(rank, SMALL(1), SMALL(0));
    mp_obj_dict_store(rank, SMALL(0), SMALL(1));
    mp_obj_dict_store(rank, SMALL(7), SMALL(2));
    mp_obj_dict_store(rank, SMALL(11), SMALL(3));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR__RANK), rank);
    mp_obj_t clocks[4] = {SMALL(1), SMALL(0), SMALL(7), SMALL(11)};
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR__CLOCK_OF), mp_obj_new_tuple(4, clocks));
    mp_obj_module_t *m = mp_obj_malloc(mp_obj_module_t, &mp_type_module);
    m->globals = MP_OBJ_TO_PTR(d);
    mp_obj_t mod = MP_OBJ_FROM_PTR(m);
    MP_STATE_VM(kt_base_globals) = m->globals;
    mp_map_lookup(&MP_STATE_VM(mp_loaded_modules_dict).map, MP_OBJ_FROM_PTR(&kt_base_name_obj),
        MP_MAP_LOOKUP_ADD_IF_NOT_FOUND)->value = mod;
    mp_obj_t pkg = kt_module_lookup_module(MP_OBJ_NEW_QSTR(MP_QSTR_ktimers));
    if (pkg != MP_OBJ_NULL) {
        mp_store_attr(pkg, MP_QSTR_hrtimer_base, mod);
    }
    kt_call(c, MP_QSTR_attach, 1, &mod);  // join the running core
    return mod;
}
MP_DEFINE_CONST_FUN_OBJ_0(kt_base_make_obj, kt_base_make);
