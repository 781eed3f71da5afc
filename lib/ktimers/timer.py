"""ktimers.timer -- timer_list on Linux's hierarchical timer wheel (timer.h).

Usage:
    from ktimers import *
    def fn(t): pr_info("fired at %d", jiffies())
    t = timer_list(); timer_setup(t, fn, 0)
    mod_timer(t, jiffies() + msecs_to_jiffies(100))

The wheel (as kernel/time/timer.c since 4.8, no cascading).  LVL_DEPTH levels
of 64 buckets; level n has granularity 8**n jiffies and holds timers whose
delta from base clk is in [63 << 3(n-1), 63 << 3n).  The expiry is rounded UP
to the level's granularity, so a timer never fires early; the coarser levels
trade precision for O(1) add/mod/del.  At HZ=1000 (depth 9):

    level  granularity    range
    0      1 ms           0 .. 63 ms
    1      8 ms           63 ms .. 504 ms
    2      64 ms          504 ms .. 4 s
    3      512 ms         4 s .. 32 s
    ...
    8      ~4.6 h         ~5 days .. ~12 days (longer timeouts capped: WHEEL_TIMEOUT_MAX)

Worked example, clk = 1000, expires = 1100 (delta 100 -> level 1, gran 8):
    e = (1100 >> 3) + 1 = 138; bucket_expiry = 138 << 3 = 1104; index = 64 + (138 & 63)
    the timer runs when jiffies reaches 1104: 4 jiffies late, never early.

A bucket at level n is looked at only when clk is a multiple of 8**n.  Buckets
are doubly linked lists through the timers, so enqueue/detach are O(1); the
softirq jumps clk straight to next_expiry, so a tick does work only when a
bucket is due (core._tick_irq counts down a budget and raises TIMER_SOFTIRQ
only then).  Finding the next expiry scans at most 64 buckets per non-empty
level, once per expiry batch.

Expiry (__run_timers, as Linux >= 5.9): the due buckets of all levels are
moved to per-level expiry lists (_coll) and run highest level first.  A
collected timer stays pending until its callback runs: timer_delete() on it
returns 1 and it does not run; mod_timer() returns 1 and requeues it (it runs
once, later).  mod_timer() to an expiry in the same bucket only updates
expires (the timer keeps its place).  Before a timer is queued the base clock
is forwarded (forward_timer_base): to jiffies when the next expiry is later,
else to the next expiry -- so the level is chosen from now, not from the
last expiry:  jiffies 1001 (= 1 mod 8), mod_timer(jiffies + 63): clk 1001,
delta 63 -> level 1, bucket expiry 1072 (not level 0 from a stale clk 1002).
While callbacks run, clk is one ahead of the jiffy being expired.

Small ints only.  jiffies and expires are 32-bit (unsigned long on a 32-bit
kernel), compared with time_after(), so the wheel works across the wrap 5
minutes after start -- but on a 32-bit board every value >= 2**30 is a heap
int.  So the wheel runs on the low 30 bits: clk, next_expiry and bucket
expiries are 30-bit values, compared as offsets from clk (every bucket expiry
is in [clk, clk + 2**30): the deepest level's 64 buckets of 8**8 jiffies span
exactly 2**30), and a bucket index needs bits 0..29 only.  The 32-bit delta
that picks the level is exact: the two top bits of expires and of jiffies
(core.jiffies_lo() / core._now_hi) tell a far or past expiry from a near one.
clk is forwarded at every TIMER_SOFTIRQ (at least once per second), so it
stays within 2**28 jiffies of jiffies.  A timer stores expires as its low 30
bits (_e) plus two bits in its state word (_s), which also packs the bucket
index, flags, legacy and running bits:

    _s bits   0-9 queue (0 idle, 1+index: bucket, 600+level: collected)
              10 running  11 legacy  12-13 expires bits 30-31  14-16 flags >> 19

so a pending timer_list is 6 attributes (64 bytes on a 32-bit board) and
mod_timer(), add_timer() and an expiry allocate nothing: an expires >= 2**30
from the caller is split by comparisons and hash() (an int's hash is its low
word), never by arithmetic that would make a new heap int.  `t.expires`
reads back the 32-bit value (a heap int when >= 2**30: task context).

All-or-nothing: an arm computes the bucket and the new next expiry before it
unlinks or links anything; links, counts and indexes are then changed with no
allocation.  wheel_check() (ktimers._wheel_check, loaded on first use)
verifies links, counts, indexes, collected lists and next_expiry.
"""

from micropython import const
from . import core
_tr = core.tracer()  # ktimers.trace, or while it is not loaded a stand-in (off)
_pk = __import__("sys").modules["ktimers.printk"]  # not `from .`: the package binds printk() there

from .defs import TIMER_DEFERRABLE, TIMER_PINNED, TIMER_IRQSAFE  # (bound by the package too)

_FLAGS_OK = const(0x00380000)
_M32 = const(0xFFFFFFFF)
_J30 = const(0x3FFFFFFF)
_J29 = const(0x20000000)
_LVL_SIZE = const(64)
# _s (state word) fields
_Q = const(0x3FF)  # queue: 0 idle, 1 + bucket index, _QC + level collected
_NQ = const(-1024)  # ~_Q
_QC = const(600)
_RUN = const(0x400)
_LEGACY = const(0x800)
_HIS = const(12)  # expires bits 30-31 at _s bits 12-13
_NHI = const(-12289)  # ~0x3000
_FLS = const(5)  # flags >> 5 -> _s bits 14-16
_FLM = const(0x1C000)
_HI32 = (0, 0x40000000, 0x80000000, 0xC0000000)

_buckets = []
_coll = []  # per level: timers collected for expiry, still pending
_lvl_count = []
_depth = 9
_clk = 0  # next jiffy the wheel will process (30-bit)
_next_expiry = None  # 30-bit, never before _clk
_cutoff = 0
_timeout_max = 0
_trace_seq = 0
_xhi = 0  # bits 30-31 of the value _split() returned the low bits of
_cb = 0  # bucket expiry (30-bit) of the index _calc() returned


def _add30(a, b):
    # (a + b) & 0x3FFFFFFF without forming a + b >= 2**30
    r = _J30 - a
    return b - r - 1 if b > r else a + b


def _off(x):
    # unsigned offset of a 30-bit wheel time from clk
    return (x - _clk) & _J30


def _soff(j):
    # signed offset of a 30-bit jiffies value from clk
    d = (j - _clk) & _J30
    return d - _J30 - 1 if d >= _J29 else d


def _split(fn, x):
    # 32-bit jiffies value -> its low 30 bits; _xhi = bits 30-31.  For an int
    # in [0, 2**32) this allocates nothing: comparisons and hash() (the low
    # word of a long int) never make a heap int.
    global _xhi
    if type(x) is not int:
        raise TypeError("%s: expires must be int jiffies, got %s" % (fn, type(x).__name__))
    if 0 <= x <= _J30:
        _xhi = 0
        return x
    if not 0 <= x <= _M32:
        x &= _M32  # out of range: allocates (Linux truncates to unsigned long)
        if x <= _J30:
            _xhi = 0
            return x
    _xhi = (x >= 0x40000000) + (x >= 0x80000000) + (x >= 0xC0000000)
    return hash(x) & _J30


def _top(alo, ahi, blo, bhi):
    # bits 30-31 of (a - b) mod 2**32: >= 2 means a is before b
    return (ahi - bhi - (1 if alo < blo else 0)) & 3


def _reset(jlo):
    global _buckets, _lvl_count, _depth, _clk, _next_expiry, _cutoff, _timeout_max, _coll
    for t in list(_all_pending()):
        t._s &= _NQ
        t._next = t._prev = None
    _depth = 9 if core.HZ > 100 else 8
    _buckets = [None] * (_LVL_SIZE * _depth)
    _coll = [None] * _depth
    _lvl_count = [0] * _depth
    _clk = jlo
    _next_expiry = None
    _cutoff = 63 << (3 * _depth - 3)  # LVL_START(LVL_DEPTH)
    _timeout_max = _cutoff - (1 << (3 * _depth - 3))


def _calc(elo, ehi, jlo, jhi):
    # calc_wheel_index for expires (elo, ehi) armed at jiffies (jlo, jhi):
    # -> bucket index; _cb = the bucket's expiry.  O(depth), small ints only.
    global _cb
    k = _top(elo, ehi, jlo, jhi)
    d = (elo - jlo) & _J30  # expires - jiffies, mod 2**30
    s = _soff(jlo)  # jiffies - clk: small
    eff = elo
    if k == 0:  # 0 <= expires - jiffies < 2**30
        delta = d + s if d < _cutoff - s else _cutoff  # (never forms a sum >= 2**30)
    elif k == 3:  # -2**30 <= expires - jiffies < 0
        delta = d - _J30 - 1 + s if d >= _J29 else -1
    elif k == 1:  # 2**30 <= expires - jiffies < 2**31: beyond the cutoff ...
        delta = -1 if s > 0 and d > _J30 - s else _cutoff  # ... unless >= 2**31 from clk
    else:  # in the past, unless clk is ahead of jiffies and (long)(expires - clk) > 0
        delta = _cutoff if s < 0 and d < -s else -1
    if delta < 0:  # already expired: as if due at clk, i.e. the next tick
        eff = _clk
        delta = 0
    lvl = 0
    start = 63
    while lvl < _depth - 1 and delta >= start:
        lvl += 1
        start <<= 3
    if lvl == _depth - 1 and delta >= _cutoff:
        eff = _add30(_clk, _timeout_max)
    sh = 3 * lvl
    e = ((eff >> sh) + 1) & (_J30 >> sh)
    _cb = e << sh
    return lvl * _LVL_SIZE + (e & 63)


class timer_list:
    """struct timer_list.  Fields: function, expires (32-bit jiffies), flags,
    data (legacy init_timer/setup_timer callbacks receive data, not the timer)."""

    data = 0
    _owner = None
    _container = None

    def __init__(self, function=None, flags=0):
        global _trace_seq
        if not isinstance(flags, int) or flags & ~_FLAGS_OK:
            raise ValueError("timer_list: flags must be TIMER_* bits, got %r" % (flags,))
        # every attribute a pending timer needs, created here: linking it
        # never grows the instance's dict (no allocation in the commit)
        self.function = function
        self._s = (flags >> _FLS) & _FLM
        self._e = 0
        self._next = None
        self._prev = None
        _trace_seq = _trace_seq % 0x7FFF + 1
        self.trace_id = _trace_seq  # 1..0x7FFF (hrtimers use 0x8000..0xFFFE)

    @property
    def expires(self):
        return _HI32[(self._s >> _HIS) & 3] + self._e

    @expires.setter
    def expires(self, v):
        lo = _split("timer_list.expires", v)
        self._s = (self._s & _NHI) | (_xhi << _HIS)
        self._e = lo

    @property
    def flags(self):
        return (self._s & _FLM) << _FLS

    @flags.setter
    def flags(self, v):
        if not isinstance(v, int) or v & ~_FLAGS_OK:
            raise ValueError("timer_list.flags must be TIMER_* bits, got %r" % (v,))
        self._s = (self._s & ~_FLM) | ((v >> _FLS) & _FLM)

    def __repr__(self):
        return "<timer_list %d expires=%d%s>" % (
            self.trace_id,
            self.expires,
            " pending" if self._s & _Q else "",
        )


def _check_timer(fn, t):
    if not isinstance(t, timer_list):
        raise TypeError("%s: timer must be a timer_list, got %s" % (fn, type(t).__name__))


def timer_setup(timer, callback, flags=0):
    """Initialise timer: callback(timer) runs in softirq context.  Task context."""
    _check_timer("timer_setup", timer)
    if not callable(callback):
        raise TypeError("timer_setup: callback must be callable")
    if not isinstance(flags, int) or flags & ~_FLAGS_OK:
        raise ValueError("timer_setup: flags must be TIMER_* bits, got %r" % (flags,))
    if timer._s & _Q:
        _detach(timer)
    timer.function = callback
    timer._s = (timer._s & ~(_FLM | _LEGACY)) | ((flags >> _FLS) & _FLM)


def timer_pending(timer):
    """True if queued on the wheel or collected for expiry and not yet run.
    Any context."""
    _check_timer("timer_pending", timer)
    return timer._s & _Q != 0


def _forward_clk(jlo):
    # forward_timer_base (5.9+): an idle base's clk catches up with jiffies
    global _clk
    s = _soff(jlo)
    if s > 0:
        if _next_expiry is None or _off(_next_expiry) > s:
            _clk = jlo
        elif _next_expiry != _clk:
            _clk = _next_expiry


def _link(t, elo, ehi, idx):
    # commit: no allocation (small ints and references only).  A detached
    # timer's links are None already: each store on a timer_list looks the
    # class up first (it has properties), so none is made that changes nothing.
    head = _buckets[idx]
    if head is not None:
        t._next = head
        head._prev = t
    _buckets[idx] = t
    t._s = (t._s & _NQ & _NHI) | (ehi << _HIS) | (idx + 1)
    if t._e != elo:
        t._e = elo
    _lvl_count[idx >> 6] += 1


def _detach(t):
    # unlink from its bucket or expiry list.  No allocation.  O(1).
    q = t._s & _Q
    n = t._next
    p = t._prev
    if p is not None:
        p._next = n
    elif q < _QC:
        _buckets[q - 1] = n
    else:
        _coll[q - _QC] = n
    if n is not None:
        n._prev = p
        t._next = None
    if p is not None:
        t._prev = None
    t._s &= _NQ
    if q < _QC:
        _lvl_count[(q - 1) >> 6] -= 1


def _mod(fn, timer, elo, ehi, pending_only, reduce):
    # expires = (ehi << 30) + elo, split by the caller (_split)
    global _next_expiry
    if timer.function is None:  # shut down: every arm is ignored
        _pk.printk("\x017timer: %s on shut-down timer %d ignored", fn, timer.trace_id)
        return 0
    core.local_bh_disable()
    try:
        st = timer._s
        q = st & _Q
        if q:
            ohi = (st >> _HIS) & 3
            if timer._e == elo and ohi == ehi:
                return 1
            if reduce and _top(elo, ehi, timer._e, ohi) < 2:  # not earlier
                return 1
        elif pending_only:
            return 0
        # everything that may allocate first.  The trace's arm time is read
        # before jiffies: "fires >= d tick periods after the arm" holds for it.
        c = core.hw.cs_read()
        jlo = core.jiffies_lo()
        _forward_clk(jlo)
        idx = _calc(elo, ehi, jlo, core._now_hi & 3)
        bexp = _cb
        owner = _pk.current_module()
        if q and idx + 1 == q:  # same bucket: keep its place
            timer._s = (st & _NHI) | (ehi << _HIS)
            timer._e = elo
            return 1
        newnext = _next_expiry is None or _off(_next_expiry) > _off(bexp)
        if owner is not timer._owner:
            timer._owner = owner  # the first time: grows the instance dict
        # commit
        if q:
            _detach(timer)
        _link(timer, elo, ehi, idx)
        if newnext:
            _next_expiry = bexp
        if _tr.enabled:
            _tr.record(1, timer.trace_id, c, elo, jlo)
        if newnext:
            try:
                core.update_tick_budget()
            except MemoryError:
                core._tick_budget = 0  # the next tick looks again
        return 1 if q else 0
    finally:
        core.local_bh_enable()


def mod_timer(timer, expires):
    """Start or move timer to expires.  0 if it was inactive, 1 if pending.
    Task or softirq context (a callback may re-arm its own timer)."""
    _check_timer("mod_timer", timer)
    return _mod("mod_timer", timer, _split("mod_timer", expires), _xhi, False, False)


def mod_timer_pending(timer, expires):
    """Move a pending timer; never starts an inactive one.  0 / 1."""
    _check_timer("mod_timer_pending", timer)
    return _mod("mod_timer_pending", timer, _split("mod_timer_pending", expires), _xhi, True, False)


def timer_reduce(timer, expires):
    """Move timer earlier only (start it if idle).  0 inactive / 1 pending."""
    _check_timer("timer_reduce", timer)
    return _mod("timer_reduce", timer, _split("timer_reduce", expires), _xhi, False, True)


def add_timer(timer):
    """Start an inactive timer at timer.expires (a past expiry fires at the next
    tick).  On a pending timer: WARN once in dmesg and do nothing."""
    _check_timer("add_timer", timer)
    if timer._s & _Q:
        import sys

        sys.modules["ktimers.bug"].WARN(True, "add_timer: timer %d already pending", timer.trace_id)
        return
    # expires straight from the timer's fields: no 32-bit value is formed
    _mod("add_timer", timer, timer._e, (timer._s >> _HIS) & 3, False, False)


add_timer_local = add_timer
add_timer_global = add_timer


def timer_delete(timer):
    """Deactivate: 1 if it was pending, else 0.  Does not wait for a running
    callback.  Any context but hard IRQ."""
    _check_timer("timer_delete", timer)
    core.local_bh_disable()
    try:
        if not timer._s & _Q:
            return 0
        _detach(timer)
    finally:
        core.local_bh_enable()
    if _tr.enabled:
        _tr.record(4, timer.trace_id, core.hw.cs_read(), 0, 0)
    return 1


def timer_delete_sync(timer):
    """Deactivate and wait for a running callback: 0 / 1.  Task context.  From
    the timer's own callback this would deadlock: RuntimeError instead."""
    _check_timer("timer_delete_sync", timer)
    if timer._s & _RUN:
        raise RuntimeError("timer_delete_sync: called from the timer's own callback (deadlock)")
    if core.in_hardirq() and not timer._s & (TIMER_IRQSAFE >> _FLS):
        raise RuntimeError("timer_delete_sync: from hard IRQ needs TIMER_IRQSAFE")
    return timer_delete(timer)


del_timer = timer_delete
del_timer_sync = timer_delete_sync


def _collect(clk):
    # collect_expired_timers: move every bucket due at clk to its level's
    # expiry list; the timers stay pending (queue _QC + level).  Returns the
    # number of levels collected.  No allocation.
    c = clk
    lv = 0
    while lv < _depth:
        idx = lv * _LVL_SIZE + (c & 63)
        t = _buckets[idx]
        if t is not None:
            _buckets[idx] = None
            _coll[lv] = t
            n = 0
            q = _QC + lv
            while t is not None:
                t._s = (t._s & _NQ) | q
                n += 1
                t = t._next
            _lvl_count[lv] -= n
        lv += 1
        if c & 7:
            break
        c >>= 3
    return lv


def _recalc_next():
    # the earliest non-empty bucket's expiry (30-bit), as an offset from clk.
    # O(64) per non-empty level; small ints only.
    global _next_expiry
    best = -1
    for lvl in range(_depth):
        if not _lvl_count[lvl]:
            continue
        sh = 3 * lvl
        m = _J30 >> sh
        slot = _add30(_clk, (1 << sh) - 1) >> sh
        base = lvl * _LVL_SIZE
        for off in range(_LVL_SIZE):
            s = slot + off
            if _buckets[base + (s & 63)] is not None:
                eo = _off((s & m) << sh)
                if best < 0 or eo < best:
                    best = eo
                break
    _next_expiry = None if best < 0 else _add30(_clk, best)


def _run_timers(jnow):
    # TIMER_SOFTIRQ (__run_timers); jnow = jiffies & 0x3FFFFFFF.  Softirq
    # context.  Levels run highest first; a timer deleted or re-armed by an
    # earlier callback is no longer on its expiry list and does not run here.
    # Allocates nothing of its own (the callbacks may).
    global _clk
    while _next_expiry is not None and _off(_next_expiry) <= _soff(jnow):
        _clk = _next_expiry
        levels = _collect(_clk)
        _clk = _add30(_clk, 1)
        _recalc_next()
        while levels:
            levels -= 1
            while _coll[levels] is not None:
                t = _coll[levels]
                _detach(t)
                fn = t.function
                if fn is None:
                    continue
                _expire(t, fn, jnow)
    _forward_clk(jnow)  # an idle base keeps up with jiffies (clk stays near)


def _expire(t, fn, jnow):
    t._s |= _RUN
    prev = _pk.set_current_module(t._owner)
    if _tr.enabled:
        _tr.record(2, t.trace_id, core.hw.cs_read(), t._e, jnow)
    try:
        fn(t.data if t._s & _LEGACY else t)
    except Exception as e:
        core.log_callback_error("timer", t, e)
    finally:
        t._s &= ~_RUN
        _pk.set_current_module(prev)
        if _tr.enabled:
            _tr.record(3, t.trace_id, core.hw.cs_read(), 0, 0)


def _next_delta(jnow):
    """Jiffies from jnow (30-bit) until the next bucket is due (may be <= 0),
    or None.  Small ints only."""
    if _next_expiry is None:
        return None
    return _off(_next_expiry) - _soff(jnow)


def _level(t):
    """Wheel level of a timer queued in a bucket, else -1 (/proc dump)."""
    q = t._s & _Q
    return (q - 1) >> 6 if 0 < q < _QC else -1


def _all_pending():
    for head in _buckets + _coll:
        t = head
        while t is not None:
            yield t
            t = t._next


def _pending_of(owner):
    return [("timer_list", t) for t in _all_pending() if t._owner == owner]


def wheel_check(*timers):
    """Invariant check (tests): the number of pending timers, or
    AssertionError.  Task context; the check itself is ktimers._wheel_check,
    loaded on first use."""
    from ._wheel_check import wheel_check as check

    return check(*timers)


def __getattr__(name):
    # the rarely used calls (ktimers._timer_ext: legacy init_timer/setup_timer,
    # DEFINE_TIMER, add_timer_on, timer_shutdown*, timer_delete_sync_try)
    import sys

    m = sys.modules.get("ktimers._timer_ext")
    if m is None:
        __import__("ktimers._timer_ext")
        m = sys.modules["ktimers._timer_ext"]
    return getattr(m, name)


core.attach(__import__("sys").modules[__name__])  # loaded on first use: join the running core
