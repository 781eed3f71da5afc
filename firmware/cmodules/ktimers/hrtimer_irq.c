// _ktimers.hrtimer_irq: the clock event device's handlers (hrtimer_interrupt) in C.
//
//     import _ktimers
//     i = _ktimers.hrtimer_irq()    # hrtimer_base does this when it loads
//     i._hard_head = t; i._ce_irq   # the same names as ktimers.hrtimer_irq's globals
//
// The reference is lib/ktimers/hrtimer_irq.py; the same source compiled by mpy-cross as
// native code is hrtimer_irq_n.mpy.  Both are modules whose globals hold the IRQ side's
// state.  Loaded from a filesystem or ROMFS, either puts its code on the heap (bytecode, or
// 4.1 KB of machine code copied out of ROMFS), and every gc.collect() marks it: that is
// what a SOFT callback waits for under load.  This object holds the same state in one
// C struct (about 150 bytes of heap), its handlers are in flash, and it has the same
// attribute names, so hrtimer_base, hrtimer and the tests read and set it alike.
//
//     attribute            kind     set by                  read by
//     _hard_head, _zombie  object   hrtimer_base, _ce_irq   _ce_irq, _fix
//     _hs_raw, _ha_raw     int      _reprogram, _ce_irq     _ce_irq
//     _s_head, _ss_raw     obj/int  _reprogram              _ce_soft
//     _ce_irq, _ce_soft    handler  (made once per object)  the backend's timer IRQ
//     _program             function (made once)             _reprogram, interrupts off
//     _forward_irq         function (made once)             hrtimer_forward_now, hard IRQ
//
// Contexts are the reference's: _ce_irq and _forward_irq in hard IRQ (small ints only,
// nothing allocated: the handlers are made when the object is), _ce_soft in HRTIMER_SOFTIRQ,
// _program with interrupts off.  Ints are C ints; a field set to an int that is not small
// raises OverflowError, as it would be a heap int in the reference's hard IRQ.
#include <stddef.h>
#include "py/runtime.h"
#include "py/objlist.h"
#include "py/builtin.h"
#include "modktimers.h"

#define KT_SMALL_MAX (0x3FFFFFFF)

typedef struct _kt_irq_obj_t {
    mp_obj_base_t base;
    // objects
    mp_obj_t heap, finish, hard_head, zombie, h_defer, irq_exc, irq_exc_t, irq_badret;
    mp_obj_t irq_run, h_fn, s_head, s_fn, cs, rearm, tr, pk, core, b, max_hang_time;
    mp_obj_t ce_irq, ce_soft, program, forward_irq;  // made once: no allocation per use
    mp_obj_t run_softirq, finish_c;  // HRTIMER_SOFTIRQ (hrtimer_softirq.py's), made once
    // ints
    mp_int_t hs_raw, ha_raw, lim_raw, ss_raw, mask, half, npc, dmax, imax, cmin, cmax;
    mp_int_t nr_events, nr_irq_errors, nr_retries, nr_hangs;
    // flags
    mp_int_t lim, moved, sure, trc, s_fast;
} kt_irq_obj_t;

// one of the object's handlers: a callable that knows its object
typedef struct _kt_irq_fn_t {
    mp_obj_base_t base;
    kt_irq_obj_t *self;
    mp_int_t which;
} kt_irq_fn_t;

enum { KT_OBJ, KT_INT, KT_BOOL, KT_RO };

typedef struct _kt_irq_field_t {
    qstr_short_t name;
    uint8_t kind;
    uint8_t offset;
} kt_irq_field_t;

#define F(n, k, f) {MP_QSTR_##n, k, offsetof(kt_irq_obj_t, f)}
static const kt_irq_field_t kt_irq_fields[] = {
    F(_heap, KT_OBJ, heap), F(_finish, KT_OBJ, finish), F(_hard_head, KT_OBJ, hard_head),
    F(_zombie, KT_OBJ, zombie), F(_h_defer, KT_OBJ, h_defer), F(_irq_exc, KT_OBJ, irq_exc),
    F(_irq_exc_t, KT_OBJ, irq_exc_t), F(_irq_badret, KT_OBJ, irq_badret),
    F(_irq_run, KT_OBJ, irq_run), F(_h_fn, KT_OBJ, h_fn), F(_s_head, KT_OBJ, s_head),
    F(_s_fn, KT_OBJ, s_fn), F(_cs, KT_OBJ, cs), F(_rearm, KT_OBJ, rearm), F(_tr, KT_OBJ, tr),
    F(_pk, KT_OBJ, pk), F(core, KT_OBJ, core), F(_b, KT_OBJ, b),
    F(max_hang_time, KT_OBJ, max_hang_time),
    F(_ce_irq, KT_RO, ce_irq), F(_ce_soft, KT_RO, ce_soft), F(_program, KT_RO, program),
    F(_forward_irq, KT_RO, forward_irq), F(_run_softirq, KT_RO, run_softirq),
    F(_finish_c, KT_RO, finish_c),
    F(_hs_raw, KT_INT, hs_raw), F(_ha_raw, KT_INT, ha_raw), F(_lim_raw, KT_INT, lim_raw),
    F(_ss_raw, KT_INT, ss_raw), F(_mask, KT_INT, mask), F(_half, KT_INT, half),
    F(_npc, KT_INT, npc), F(_dmax, KT_INT, dmax), F(_imax, KT_INT, imax),
    F(_cmin, KT_INT, cmin), F(_cmax, KT_INT, cmax), F(nr_events, KT_INT, nr_events),
    F(nr_irq_errors, KT_INT, nr_irq_errors), F(nr_retries, KT_INT, nr_retries),
    F(nr_hangs, KT_INT, nr_hangs),
    F(_lim, KT_BOOL, lim), F(_moved, KT_BOOL, moved), F(_sure, KT_BOOL, sure),
    F(_trc, KT_BOOL, trc), F(_s_fast, KT_BOOL, s_fast),
};
#undef F

// what the reference's module name says (the bench and the tests print it)
static const MP_DEFINE_STR_OBJ(kt_irq_name_obj, "ktimers.hrtimer_irq_c");

// --- small helpers: attributes of the timer and of ktimers.core ------------------------

static mp_int_t kt_get(mp_obj_t o, qstr attr) {
    return mp_obj_get_int(mp_load_attr(o, attr));
}

static void kt_set(mp_obj_t o, qstr attr, mp_int_t v) {
    mp_store_attr(o, attr, mp_obj_new_int(v));  // small: no allocation
}

static bool kt_true(mp_obj_t o, qstr attr) {
    return mp_obj_is_true(mp_load_attr(o, attr));
}


static mp_int_t kt_cs(kt_irq_obj_t *s) {
    return mp_obj_get_int(mp_call_function_0(s->cs));
}

// core.raw_add: (a + b) & CS_MASK for raw values 0 <= a, b <= CS_MASK, the same way
static mp_int_t kt_raw_add(kt_irq_obj_t *s, mp_int_t a, mp_int_t b) {
    mp_int_t d = s->mask - a;
    return b > d ? b - d - 1 : a + b;
}

// Python's x // n (floor) for n > 0
static mp_int_t kt_floordiv(mp_int_t x, mp_int_t n) {
    mp_int_t q = x / n;
    return (x % n != 0 && x < 0) ? q - 1 : q;
}

static void kt_raise_softirq(kt_irq_obj_t *s) {
    mp_obj_t a = MP_OBJ_NEW_SMALL_INT(2);  // HRTIMER_SOFTIRQ
    kt_call(s->core, MP_QSTR_raise_softirq_irq, 1, &a);
}

static void kt_trace(kt_irq_obj_t *s, mp_int_t ev, mp_obj_t t, mp_obj_t a, mp_int_t b) {
    mp_obj_t args[5] = {MP_OBJ_NEW_SMALL_INT(ev), mp_load_attr(t, MP_QSTR_trace_id),
                        mp_obj_new_int(kt_cs(s)), a, MP_OBJ_NEW_SMALL_INT(b)};
    kt_call(s->tr, MP_QSTR_record, 5, args);
}

static void kt_clear_state(mp_obj_t t) {  // t._f &= ~3: inactive
    kt_set(t, MP_QSTR__f, kt_get(t, MP_QSTR__f) & ~3);
}

// --- the handlers (the reference's functions, statement by statement) --------------------

// _ce_irq: hrtimer_interrupt, hard half.  Hard IRQ: small ints, O(1), no allocation.
static void kt_ce_irq(kt_irq_obj_t *s) {
    mp_obj_t t = s->hard_head;
    if (t == mp_const_none) {
        s->nr_events++;
        kt_raise_softirq(s);
        return;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        if (s->sure || ((kt_cs(s) - s->hs_raw) & s->mask) < s->half) {
            if (s->trc) {
                kt_trace(s, 6, t, mp_obj_new_int(s->hs_raw), 1);
            }
            s->irq_run = t;  // state CALLBACK
            mp_obj_t r = mp_call_function_1(s->h_fn, t);  // an exception: below, NORESTART
            s->irq_run = mp_const_none;
            s->nr_events++;
            bool restart = mp_obj_equal(r, MP_OBJ_NEW_SMALL_INT(1));
            if (!restart && !mp_obj_equal(r, MP_OBJ_NEW_SMALL_INT(0))) {
                s->irq_badret = t;
                r = MP_OBJ_NEW_SMALL_INT(0);
            }
            if (s->trc) {
                kt_trace(s, 7, t, r, 0);
            }
            if (!restart || !s->moved || s->h_defer != mp_const_none) {
                if (!restart) {
                    kt_clear_state(t);  // still listed: _fix drops it
                    s->hard_head = mp_const_none;
                    s->zombie = t;
                }
                s->sure = false;
                kt_raise_softirq(s);
                nlr_pop();
                return;
            }
            s->moved = false;
            // the forwarded expiry, on raw counter values (small ints, masked)
            mp_int_t er = kt_get(s->core, MP_QSTR__ep_raw);
            mp_int_t e = kt_get(t, MP_QSTR__e);
            mp_int_t c = -kt_floordiv(-(e - kt_get(t, MP_QSTR__d)), s->npc);
            s->hs_raw = c >= 0 ? kt_raw_add(s, er, c) : ((er + c) & s->mask);
            s->ha_raw = kt_raw_add(s, er, -kt_floordiv(-e, s->npc));
        } else {
            s->nr_events++;
        }
        // next event: the hard head again, or the next queued event if sooner; once that
        // one is due, only the softirq can serve it (no IRQ storm)
        mp_int_t at = s->ha_raw;
        bool sure = true;
        if (s->lim) {
            if (((kt_cs(s) - s->lim_raw) & s->mask) < s->half) {
                kt_raise_softirq(s);
            } else if (((at - s->lim_raw) & s->mask) < s->half) {
                at = s->lim_raw;
                sure = false;
            }
        }
        s->sure = sure;
        mp_int_t d = (at - kt_cs(s)) & s->mask;  // read last: the device counts from its start
        if (d >= s->half || d < s->cmin) {
            d = s->cmin;
        } else if (d > s->cmax) {
            d = s->cmax;
            s->sure = false;
        }
        mp_call_function_1(s->rearm, MP_OBJ_NEW_SMALL_INT(d));
        nlr_pop();
    } else {  // the device must keep firing
        s->sure = false;
        if (s->irq_run != mp_const_none) {  // the callback raised: logged by the softirq
            s->irq_run = mp_const_none;
            s->nr_events++;
            s->irq_exc = MP_OBJ_FROM_PTR(nlr.ret_val);
            s->irq_exc_t = t;
            kt_clear_state(t);
            s->hard_head = mp_const_none;
            s->zombie = t;
        } else {
            s->nr_irq_errors++;
        }
        kt_raise_softirq(s);
    }
}

// _program(at, start): start the clock event for raw counter value `at`; interrupts off.
// The counter is read last and the device started at once.  O(1).
static void kt_program(kt_irq_obj_t *s, mp_obj_t at_in, mp_obj_t start) {
    mp_int_t at = mp_obj_get_int(at_in);
    mp_int_t d = (at - kt_cs(s)) & s->mask;
    if (d >= s->half || d < s->cmin) {
        d = s->cmin;
    } else if (d > s->cmax) {
        d = s->cmax;
    }
    mp_call_function_1(start, MP_OBJ_NEW_SMALL_INT(d));
}

// _forward_irq(t, interval): hrtimer_forward_now from the hard head's own callback, on ns
// since the epoch (small ints); what needs a heap int is left to the softirq (_h_defer),
// and so is an interval that is not an int (the softirq logs the TypeError: raising one
// here would allocate its message in hard IRQ).
static mp_obj_t kt_forward_irq(kt_irq_obj_t *s, mp_obj_t t, mp_obj_t iv) {
    mp_int_t d = (kt_cs(s) - kt_get(s->core, MP_QSTR__ep_raw)) & s->mask;
    mp_int_t interval = mp_obj_is_small_int(iv) ? MP_OBJ_SMALL_INT_VALUE(iv) : 0;
    if (d > s->dmax || !mp_obj_is_small_int(iv) || interval < 1 || interval > s->imax) {
        s->h_defer = iv;
        s->moved = true;
        return MP_OBJ_NEW_SMALL_INT(1);
    }
    mp_int_t now = d * s->npc;
    mp_int_t e = kt_get(t, MP_QSTR__e);
    mp_int_t delta = now - e;
    if (delta < 0) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    if (delta > KT_SMALL_MAX - interval || now > KT_SMALL_MAX - interval) {
        s->h_defer = iv;
        s->moved = true;
        return MP_OBJ_NEW_SMALL_INT(1);
    }
    mp_int_t orun = delta / interval + 1;
    kt_set(t, MP_QSTR__e, e + orun * interval);
    s->moved = true;
    return MP_OBJ_NEW_SMALL_INT(orun);
}

// _ce_soft: the clock event delivered through the schedule queue (softirq context).
// Short path: the attached SOFT head, due on the counter, nothing holding softirqs off or
// pending before us -> its callback at once; the rest of HRTIMER_SOFTIRQ after it.
static void kt_ce_soft(kt_irq_obj_t *s) {
    mp_obj_t t = s->s_head;
    mp_obj_t c = s->core;
    bool fast = t != mp_const_none && s->s_fast && ((kt_cs(s) - s->ss_raw) & s->mask) < s->half;
    if (fast) {
        fast = !(kt_true(c, MP_QSTR__softirq) || kt_true(c, MP_QSTR__bh) || kt_true(c, MP_QSTR__pending))
            && mp_load_attr(s->pk, MP_QSTR__cur_module) == mp_const_none;
    }
    if (fast) {
        s->s_head = mp_const_none;
        kt_call(s->heap, MP_QSTR_pop, 0, NULL);
        kt_set(t, MP_QSTR__f, kt_get(t, MP_QSTR__f) ^ 3);  // ENQUEUED -> CALLBACK
        kt_set(c, MP_QSTR__softirq, kt_get(c, MP_QSTR__softirq) + 1);
        nlr_buf_t outer;
        if (nlr_push(&outer) == 0) {
            mp_obj_t r;
            nlr_buf_t inner;
            if (nlr_push(&inner) == 0) {
                r = mp_call_function_1(s->s_fn, t);
                nlr_pop();
            } else {
                mp_obj_t e = MP_OBJ_FROM_PTR(inner.ret_val);
                if (!mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(e)),
                    MP_OBJ_FROM_PTR(&mp_type_Exception))) {
                    nlr_jump(inner.ret_val);  // a BaseException: through the finally below
                }
                mp_obj_t args[3] = {MP_OBJ_NEW_QSTR(MP_QSTR_hrtimer), t, e};
                kt_call(c, MP_QSTR_log_callback_error, 3, args);
                r = MP_OBJ_NEW_SMALL_INT(0);
            }
            mp_obj_t fa[2] = {t, r};
            mp_call_function_n_kw(s->finish, 2, 0, fa);
            nlr_pop();
        } else {  // finally
            kt_set(c, MP_QSTR__softirq, kt_get(c, MP_QSTR__softirq) - 1);
            nlr_jump(outer.ret_val);
        }
        kt_set(c, MP_QSTR__softirq, kt_get(c, MP_QSTR__softirq) - 1);
        s->nr_events++;
        mp_store_attr(c, MP_QSTR__ce_watch, mp_const_false);
    } else {
        // long path: HRTIMER_SOFTIRQ, in vector order after a pending TIMER_SOFTIRQ
        s->nr_events++;
        if (kt_true(c, MP_QSTR__direct)
            && ((kt_cs(s) - kt_get(c, MP_QSTR__tick_raw)) & s->mask) >= kt_get(c, MP_QSTR__tick_cyc)) {
            kt_raise_softirq(s);  // a jiffy is due at this instant: the tick runs first
            return;
        }
    }
    mp_obj_t hw = mp_load_attr(c, MP_QSTR_hw);
    mp_obj_t st = kt_call(hw, MP_QSTR_irq_save, 0, NULL);
    kt_set(c, MP_QSTR__pending, kt_get(c, MP_QSTR__pending) | 2);
    kt_call(hw, MP_QSTR_irq_restore, 1, &st);
    kt_call(c, MP_QSTR_run_softirq, 0, NULL);
}

// --- HRTIMER_SOFTIRQ (hrtimer_softirq.py's functions) ---------------------------------
//
// __hrtimer_run_queues and __run_hrtimer: every queued timer whose soft expiry has passed
// runs, head first, each taken off the list before its callback and put back on
// HRTIMER_RESTART into the slot it left; then the clock event is reprogrammed once.  Hang
// protection: after 3 passes that still find expired timers, log "hrtimer: interrupt took
// N ns", back off min(N, 100 ms), count nr_hangs.  Softirq context.  The queue and its
// operations are hrtimer_base's (self._b): ns values may be heap ints there (far timers,
// a counter whose ns per cycle is not whole), so they are Python ints here too.

#define KT_HANG_MAX_NS (100000000)

static const MP_DEFINE_STR_OBJ(kt_hang_fmt_obj, "hrtimer: interrupt took %d ns");

static mp_obj_t kt_sub(mp_obj_t a, mp_obj_t b) {
    return mp_binary_op(MP_BINARY_OP_SUBTRACT, a, b);  // small ints: no allocation
}

static bool kt_more(mp_obj_t a, mp_obj_t b) {
    return mp_binary_op(MP_BINARY_OP_MORE, a, b) == mp_const_true;
}

// t's soft expiry key (t._e - t._d) is past now
static bool kt_due(mp_obj_t t, mp_obj_t now) {
    return !kt_more(kt_sub(mp_load_attr(t, MP_QSTR__e), mp_load_attr(t, MP_QSTR__d)), now);
}


static bool kt_tracing(kt_irq_obj_t *s) {
    return mp_obj_is_true(mp_load_attr(s->tr, MP_QSTR_enabled));
}

// _finish(t, r): after the callback, the state, and the requeue on RESTART (its list slot
// was freed by the pop: no growth, allocation-free)
static void kt_finish(kt_irq_obj_t *s, mp_obj_t t, mp_obj_t r) {
    mp_int_t f = kt_get(t, MP_QSTR__f);
    bool one = mp_obj_equal(r, MP_OBJ_NEW_SMALL_INT(1));
    if (!one && !mp_obj_equal(r, MP_OBJ_NEW_SMALL_INT(0))) {
        mp_obj_t a[2] = {t, mp_call_function_1(MP_OBJ_FROM_PTR(&mp_builtin_repr_obj), r)};
        kt_call(s->b, MP_QSTR__warn_ret, 2, a);
        r = MP_OBJ_NEW_SMALL_INT(0);
    }
    if (f & 1) {  // restarted by hrtimer_start from the callback
        kt_set(t, MP_QSTR__f, f & ~2);
    } else if (one) {
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            kt_call(s->b, MP_QSTR__insert, 1, &t);
            nlr_pop();
        } else {
            if (kt_is_exc(MP_OBJ_FROM_PTR(nlr.ret_val), &mp_type_MemoryError)) {
                kt_set(t, MP_QSTR__f, f & ~3);
            }
            nlr_jump(nlr.ret_val);
        }
        kt_set(t, MP_QSTR__f, f ^ 3);  // CALLBACK -> ENQUEUED
    } else {
        kt_set(t, MP_QSTR__f, f & ~3);
    }
    if (kt_tracing(s)) {
        kt_trace(s, 7, t, r, 0);
    }
}

// _run_one(t): __run_hrtimer; t is already off the list
static void kt_run_one(kt_irq_obj_t *s, mp_obj_t t) {
    kt_set(t, MP_QSTR__f, (kt_get(t, MP_QSTR__f) & ~3) | 2);  // CALLBACK
    mp_obj_t ow = mp_load_attr(t, MP_QSTR__owner);
    mp_obj_t prev = mp_load_attr(s->pk, MP_QSTR__cur_module);
    if (ow != prev) {
        mp_store_attr(s->pk, MP_QSTR__cur_module, ow);
    }
    if (kt_tracing(s)) {
        mp_obj_t soft = kt_sub(mp_load_attr(t, MP_QSTR__e), mp_load_attr(t, MP_QSTR__d));
        kt_trace(s, 6, t, kt_call(s->b, MP_QSTR__raw_at, 1, &soft), 0);
    }
    mp_obj_t r;
    nlr_buf_t outer;
    if (nlr_push(&outer) == 0) {
        nlr_buf_t inner;
        if (nlr_push(&inner) == 0) {
            r = kt_call(t, MP_QSTR_function, 1, &t);  // t.function(t), as the bytecode calls it
            nlr_pop();
        } else {
            mp_obj_t e = MP_OBJ_FROM_PTR(inner.ret_val);
            if (!kt_is_exc(e, &mp_type_Exception)) {
                nlr_jump(inner.ret_val);  // a BaseException: through the finally below
            }
            mp_obj_t args[3] = {MP_OBJ_NEW_QSTR(MP_QSTR_hrtimer), t, e};
            kt_call(s->core, MP_QSTR_log_callback_error, 3, args);
            r = MP_OBJ_NEW_SMALL_INT(0);
        }
        nlr_pop();
    } else {  // finally
        if (ow != prev) {
            mp_store_attr(s->pk, MP_QSTR__cur_module, prev);
        }
        nlr_jump(outer.ret_val);
    }
    if (ow != prev) {
        mp_store_attr(s->pk, MP_QSTR__cur_module, prev);
    }
    kt_finish(s, t, r);
}

// _run_queues(): True if it backed off (a hang)
static bool kt_run_queues(kt_irq_obj_t *s) {
    s->s_head = mp_const_none;
    mp_obj_t start = kt_call(s->core, MP_QSTR_now_rel, 0, NULL);
    mp_obj_t now = start;
    mp_int_t passes = 0;
    mp_obj_t h = mp_load_attr(s->b, MP_QSTR__heap);
    for (;;) {
        size_t n;
        mp_obj_t *items;
        mp_obj_list_get(h, &n, &items);
        size_t budget = n;
        while (budget) {
            mp_obj_list_get(h, &n, &items);  // a callback may have changed the list
            if (n == 0) {
                break;
            }
            mp_obj_t t = items[n - 1];
            if (!kt_due(t, now)) {
                break;
            }
            budget--;
            kt_call(h, MP_QSTR_pop, 0, NULL);
            kt_run_one(s, t);
        }
        passes++;
        now = kt_call(s->core, MP_QSTR_now_rel, 0, NULL);
        mp_obj_list_get(h, &n, &items);
        if (n == 0 || !kt_due(items[n - 1], now)) {
            break;
        }
        s->nr_retries++;
        if (passes >= 3) {
            mp_obj_t took = kt_sub(now, start);
            s->nr_hangs++;
            if (kt_more(took, s->max_hang_time)) {
                s->max_hang_time = took;
            }
            if (s->nr_hangs == 1) {
                mp_obj_t a[4] = {MP_OBJ_NEW_SMALL_INT(4), MP_OBJ_FROM_PTR(&kt_hang_fmt_obj),
                                 mp_obj_new_tuple(1, &took), mp_const_false};
                kt_call(s->pk, MP_QSTR__log, 4, a);
            }
            mp_obj_t delay = kt_more(took, MP_OBJ_NEW_SMALL_INT(KT_HANG_MAX_NS))
                ? MP_OBJ_NEW_SMALL_INT(KT_HANG_MAX_NS) : took;
            mp_obj_t cyc = kt_call(s->core, MP_QSTR_ns_to_cycles_up, 1, &delay);
            cyc = kt_call(s->b, MP_QSTR__clamp_cyc, 1, &cyc);
            mp_obj_t a[2] = {cyc, s->ce_irq};
            kt_call(mp_load_attr(s->core, MP_QSTR_hw), MP_QSTR_ce_set_next, 2, a);
            mp_store_attr(s->b, MP_QSTR__ce_mode, s->ce_irq);
            mp_store_attr(s->b, MP_QSTR__expires_next, mp_const_none);
            return true;
        }
    }
    return false;
}

// _run_softirq(): HRTIMER_SOFTIRQ: run expired timers, then reprogram
static void kt_run_softirq(kt_irq_obj_t *s) {
    kt_call(s->b, MP_QSTR__fix, 0, NULL);
    mp_store_attr(s->b, MP_QSTR__in_run, mp_const_true);
    bool hang;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        hang = kt_run_queues(s);
        nlr_pop();
    } else {
        mp_store_attr(s->b, MP_QSTR__in_run, mp_const_false);
        nlr_jump(nlr.ret_val);
    }
    mp_store_attr(s->b, MP_QSTR__in_run, mp_const_false);
    if (!hang) {
        mp_obj_t a = mp_const_true;
        kt_call(s->b, MP_QSTR__reprogram, 1, &a);
    }
}

// --- the handler objects and the state object ----------------------------------------

enum { KT_FN_CE_IRQ, KT_FN_CE_SOFT, KT_FN_PROGRAM, KT_FN_FORWARD, KT_FN_RUN_SOFTIRQ, KT_FN_FINISH };

static mp_obj_t kt_irq_fn_call(mp_obj_t fn_in, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    kt_irq_fn_t *fn = MP_OBJ_TO_PTR(fn_in);
    kt_irq_obj_t *s = fn->self;
    switch (fn->which) {
        case KT_FN_CE_IRQ:
            mp_arg_check_num(n_args, n_kw, 1, 1, false);
            kt_ce_irq(s);
            return mp_const_none;
        case KT_FN_CE_SOFT:
            mp_arg_check_num(n_args, n_kw, 1, 1, false);
            kt_ce_soft(s);
            return mp_const_none;
        case KT_FN_PROGRAM:
            mp_arg_check_num(n_args, n_kw, 2, 2, false);
            kt_program(s, args[0], args[1]);
            return mp_const_none;
        case KT_FN_FORWARD:
            mp_arg_check_num(n_args, n_kw, 2, 2, false);
            return kt_forward_irq(s, args[0], args[1]);
        case KT_FN_RUN_SOFTIRQ:
            mp_arg_check_num(n_args, n_kw, 0, 0, false);
            kt_run_softirq(s);
            return mp_const_none;
        default:
            mp_arg_check_num(n_args, n_kw, 2, 2, false);
            kt_finish(s, args[0], args[1]);
            return mp_const_none;
    }
}

static void kt_irq_fn_print(const mp_print_t *print, mp_obj_t self, mp_print_kind_t kind) {
    (void)kind;
    static const qstr names[] = {MP_QSTR__ce_irq, MP_QSTR__ce_soft, MP_QSTR__program, MP_QSTR__forward_irq,
                                 MP_QSTR__run_softirq, MP_QSTR__finish};
    mp_printf(print, "<function ktimers.hrtimer_irq_c.%q>",
        names[((kt_irq_fn_t *)MP_OBJ_TO_PTR(self))->which]);
}

static MP_DEFINE_CONST_OBJ_TYPE(
    kt_irq_fn_type,
    MP_QSTR_function,
    MP_TYPE_FLAG_NONE,
    call, kt_irq_fn_call,
    print, kt_irq_fn_print
    );

static void kt_irq_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    kt_irq_obj_t *s = MP_OBJ_TO_PTR(self_in);
    if (attr == MP_QSTR___name__ && dest[0] == MP_OBJ_NULL) {
        dest[0] = MP_OBJ_FROM_PTR(&kt_irq_name_obj);
        return;
    }
    for (size_t i = 0; i < MP_ARRAY_SIZE(kt_irq_fields); i++) {
        const kt_irq_field_t *f = &kt_irq_fields[i];
        if (f->name != attr) {
            continue;
        }
        char *p = (char *)s + f->offset;
        if (dest[0] == MP_OBJ_NULL) {  // load
            switch (f->kind) {
                case KT_INT:
                    dest[0] = mp_obj_new_int(*(mp_int_t *)p);
                    break;
                case KT_BOOL:
                    dest[0] = mp_obj_new_bool(*(mp_int_t *)p);
                    break;
                default:
                    dest[0] = *(mp_obj_t *)p;
            }
        } else if (dest[1] != MP_OBJ_NULL && f->kind != KT_RO) {  // store
            switch (f->kind) {
                case KT_INT:
                    *(mp_int_t *)p = mp_obj_get_int(dest[1]);
                    break;
                case KT_BOOL:
                    *(mp_int_t *)p = mp_obj_is_true(dest[1]);
                    break;
                default:
                    *(mp_obj_t *)p = dest[1];
            }
            dest[0] = MP_OBJ_NULL;  // done
        }
        return;
    }
}

static mp_obj_t kt_irq_fn_new(kt_irq_obj_t *s, mp_int_t which) {
    kt_irq_fn_t *fn = mp_obj_malloc(kt_irq_fn_t, &kt_irq_fn_type);
    fn->self = s;
    fn->which = which;
    return MP_OBJ_FROM_PTR(fn);
}

extern const mp_obj_type_t kt_irq_type;

// hrtimer_irq(core, trace, printk_state): a new IRQ side on those modules, its state as
// hrtimer_irq.py's module starts it (hrtimer_base._reset fills in the rest).  Task context:
// allocates the object and its four handlers, once.
static mp_obj_t kt_irq_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 3, 3, false);
    kt_irq_obj_t *s = mp_obj_malloc(kt_irq_obj_t, type);
    for (mp_obj_t *o = &s->heap; o <= &s->finish_c; o++) {
        *o = mp_const_none;
    }
    s->core = args[0];
    s->tr = args[1];
    s->pk = args[2];
    s->hs_raw = s->ha_raw = s->lim_raw = s->ss_raw = s->mask = s->half = 0;
    s->npc = s->dmax = s->imax = 0;
    s->cmin = s->cmax = 1;
    s->nr_events = s->nr_irq_errors = s->nr_retries = s->nr_hangs = 0;
    s->max_hang_time = MP_OBJ_NEW_SMALL_INT(0);
    s->lim = s->moved = s->sure = s->trc = s->s_fast = 0;
    s->ce_irq = kt_irq_fn_new(s, KT_FN_CE_IRQ);
    s->ce_soft = kt_irq_fn_new(s, KT_FN_CE_SOFT);
    s->program = kt_irq_fn_new(s, KT_FN_PROGRAM);
    s->forward_irq = kt_irq_fn_new(s, KT_FN_FORWARD);
    s->run_softirq = kt_irq_fn_new(s, KT_FN_RUN_SOFTIRQ);
    s->finish_c = kt_irq_fn_new(s, KT_FN_FINISH);
    return MP_OBJ_FROM_PTR(s);
}

MP_DEFINE_CONST_OBJ_TYPE(
    kt_irq_type,
    MP_QSTR_hrtimer_irq,
    MP_TYPE_FLAG_NONE,
    make_new, kt_irq_make_new,
    attr, kt_irq_attr
    );
