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

All-or-nothing: an arm computes the bucket and the new next expiry (heap
ints on 32-bit boards) before it unlinks or links anything; links, counts and
indexes are then changed with no allocation.  wheel_check() verifies links,
counts, indexes, collected lists and next_expiry.

jiffies and expires are 32-bit (unsigned long on a 32-bit kernel) and compared
with time_after(), so the wheel works across the wrap 5 minutes after start.
"""

from micropython import const
from . import core
from . import trace as _tr
from . import printk as _pk
from . import bug as _bug

TIMER_DEFERRABLE = const(0x00080000)
TIMER_PINNED = const(0x00100000)
TIMER_IRQSAFE = const(0x00200000)
_FLAGS_OK = const(0x00380000)
_M32 = const(0xFFFFFFFF)
_J30 = const(0x3FFFFFFF)
_LVL_SIZE = const(64)

_buckets = []
_coll = []  # per level: timers collected for expiry, still pending
_lvl_count = []
_depth = 9
_clk = 0  # next jiffy the wheel will process
_next_expiry = None
_cutoff = 0
_timeout_max = 0
_trace_seq = 0


def _after(a, b):  # time_after on 32-bit values
    return ((b - a) & _M32) >= 0x80000000


def _reset(j):
    global _buckets, _lvl_count, _depth, _clk, _next_expiry, _cutoff, _timeout_max, _coll
    for t in list(_all_pending()):
        t._idx = -1
        t._next = t._prev = None
    _depth = 9 if core.HZ > 100 else 8
    _buckets = [None] * (_LVL_SIZE * _depth)
    _coll = [None] * _depth
    _lvl_count = [0] * _depth
    _clk = j
    _next_expiry = None
    _cutoff = 63 << (3 * _depth - 3)  # LVL_START(LVL_DEPTH)
    _timeout_max = _cutoff - (1 << (3 * _depth - 3))


def _calc(expires, clk):
    # calc_wheel_index: -> (bucket index, bucket expiry).  O(depth).
    delta = (expires - clk) & _M32
    if delta >= 0x80000000:  # already expired: as if due at clk, i.e. the next tick
        expires = clk
        delta = 0
    lvl = 0
    start = 63
    while lvl < _depth - 1 and delta >= start:
        lvl += 1
        start <<= 3
    if lvl == _depth - 1 and delta >= _cutoff:
        expires = (clk + _timeout_max) & _M32
    sh = 3 * lvl
    e = (expires >> sh) + 1
    return lvl * _LVL_SIZE + (e & 63), (e << sh) & _M32


class timer_list:
    """struct timer_list.  Fields: function, expires (32-bit jiffies), flags,
    data (legacy init_timer/setup_timer callbacks receive data, not the timer)."""

    def __init__(self, function=None, flags=0):
        global _trace_seq
        self.function = function
        self.expires = 0
        self.flags = flags
        self.data = 0
        self._idx = -1
        self._next = None
        self._prev = None
        self._legacy = False
        self._running = False
        self._owner = None
        self._container = None
        _trace_seq = _trace_seq % 0x7FFF + 1
        self.trace_id = _trace_seq  # 1..0x7FFF (hrtimers use 0x8000..0xFFFE)

    def __repr__(self):
        return "<timer_list %d expires=%d%s>" % (
            self.trace_id,
            self.expires,
            " pending" if self._idx != -1 else "",
        )


def _check_timer(fn, t):
    if not isinstance(t, timer_list):
        raise TypeError("%s: timer must be a timer_list, got %s" % (fn, type(t).__name__))


def _check_expires(fn, expires):
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise TypeError("%s: expires must be int jiffies, got %s" % (fn, type(expires).__name__))
    return expires & _M32


def timer_setup(timer, callback, flags=0):
    """Initialise timer: callback(timer) runs in softirq context.  Task context."""
    _check_timer("timer_setup", timer)
    if not callable(callback):
        raise TypeError("timer_setup: callback must be callable")
    if not isinstance(flags, int) or flags & ~_FLAGS_OK:
        raise ValueError("timer_setup: flags must be TIMER_* bits, got %r" % (flags,))
    if timer._idx != -1:
        _detach(timer)
    timer.function = callback
    timer.flags = flags
    timer._legacy = False


def DEFINE_TIMER(callback, flags=0):
    """Return a timer_list set up with callback (DEFINE_TIMER(name, fn))."""
    t = timer_list()
    timer_setup(t, callback, flags)
    return t


def init_timer(timer):
    """Legacy (pre-4.15): initialise; set .function, .data, .expires after."""
    _check_timer("init_timer", timer)
    if timer._idx != -1:
        _detach(timer)
    timer._legacy = True


def setup_timer(timer, function, data=0):
    """Legacy: function(data) runs on expiry."""
    init_timer(timer)
    if not callable(function):
        raise TypeError("setup_timer: function must be callable")
    timer.function = function
    timer.data = data


def timer_pending(timer):
    """True if queued on the wheel or collected for expiry and not yet run.
    Any context."""
    _check_timer("timer_pending", timer)
    return timer._idx != -1


def _forward_clk(j):
    # forward_timer_base (5.9+): an idle base's clk catches up with jiffies
    global _clk
    if _after(j, _clk):
        if _next_expiry is None or _after(_next_expiry, j):
            _clk = j
        elif _after(_next_expiry, _clk):
            _clk = _next_expiry


def _link(t, expires, idx):
    # commit: no allocation (small-int indexes and references only)
    head = _buckets[idx]
    t._next = head
    t._prev = None
    if head is not None:
        head._prev = t
    _buckets[idx] = t
    t._idx = idx
    t.expires = expires
    _lvl_count[idx >> 6] += 1


def _detach(t):
    # unlink from its bucket or expiry list.  No allocation.  O(1).
    idx = t._idx
    n = t._next
    p = t._prev
    if p is not None:
        p._next = n
    elif idx >= 0:
        _buckets[idx] = n
    else:
        _coll[-2 - idx] = n
    if n is not None:
        n._prev = p
    t._idx = -1
    t._next = t._prev = None
    if idx >= 0:
        _lvl_count[idx >> 6] -= 1


def _mod(fn, timer, expires, pending_only=False, reduce=False):
    global _next_expiry
    _check_timer(fn, timer)
    expires = _check_expires(fn, expires)
    if timer.function is None:  # shut down: every arm is ignored
        _pk.printk("\x017timer: %s on shut-down timer %d ignored", fn, timer.trace_id)
        return 0
    core.local_bh_disable()
    try:
        was = timer._idx != -1
        if was:
            if timer.expires == expires:
                return 1
            if reduce and not _after(timer.expires, expires):
                return 1
        elif pending_only:
            return 0
        # everything that may allocate first.  The trace's arm time is read
        # before jiffies: "fires >= d tick periods after the arm" holds for it.
        c = core.hw.cs_read()
        j = core.jiffies()
        _forward_clk(j)
        idx, bexp = _calc(expires, _clk)
        owner = _pk.current_module()
        if was and idx == timer._idx:  # same bucket: keep its place
            timer.expires = expires
            return 1
        newnext = _next_expiry is None or _after(_next_expiry, bexp)
        tr = _tr._on
        if tr:
            a, b = expires & _J30, j & _J30
        # commit
        if was:
            _detach(timer)
        _link(timer, expires, idx)
        timer._owner = owner
        if newnext:
            _next_expiry = bexp
        if tr:
            _tr.record(1, timer.trace_id, c, a, b)
        if newnext:
            try:
                core.update_tick_budget()
            except MemoryError:
                core._tick_budget = 0  # the next tick looks again
        return 1 if was else 0
    finally:
        core.local_bh_enable()


def mod_timer(timer, expires):
    """Start or move timer to expires.  0 if it was inactive, 1 if pending.
    Task or softirq context (a callback may re-arm its own timer)."""
    return _mod("mod_timer", timer, expires)


def mod_timer_pending(timer, expires):
    """Move a pending timer; never starts an inactive one.  0 / 1."""
    return _mod("mod_timer_pending", timer, expires, pending_only=True)


def timer_reduce(timer, expires):
    """Move timer earlier only (start it if idle).  0 inactive / 1 pending."""
    return _mod("timer_reduce", timer, expires, reduce=True)


def add_timer(timer):
    """Start an inactive timer at timer.expires (a past expiry fires at the next
    tick).  On a pending timer: WARN once in dmesg and do nothing."""
    _check_timer("add_timer", timer)
    if timer._idx != -1:
        _bug.WARN(True, "add_timer: timer %d already pending", timer.trace_id)
        return
    _mod("add_timer", timer, timer.expires)


def add_timer_on(timer, cpu):
    """add_timer on CPU `cpu`: this is a uniprocessor, only cpu 0 exists."""
    if cpu != 0:
        raise ValueError("add_timer_on: cpu must be 0 (uniprocessor), got %r" % (cpu,))
    add_timer(timer)


add_timer_local = add_timer
add_timer_global = add_timer


def timer_delete(timer):
    """Deactivate: 1 if it was pending, else 0.  Does not wait for a running
    callback.  Any context but hard IRQ."""
    _check_timer("timer_delete", timer)
    core.local_bh_disable()
    try:
        if timer._idx == -1:
            return 0
        _detach(timer)
    finally:
        core.local_bh_enable()
    _tr.record(4, timer.trace_id, core.hw.cs_read(), 0, 0)
    return 1


def timer_delete_sync_try(timer):
    """-1 if the callback is running, else as timer_delete()."""
    _check_timer("timer_delete_sync_try", timer)
    if timer._running:
        return -1
    return timer_delete(timer)


def timer_delete_sync(timer):
    """Deactivate and wait for a running callback: 0 / 1.  Task context.  From
    the timer's own callback this would deadlock: RuntimeError instead."""
    _check_timer("timer_delete_sync", timer)
    if timer._running:
        raise RuntimeError("timer_delete_sync: called from the timer's own callback (deadlock)")
    if core.in_hardirq() and not timer.flags & TIMER_IRQSAFE:
        raise RuntimeError("timer_delete_sync: from hard IRQ needs TIMER_IRQSAFE")
    return timer_delete(timer)


def timer_shutdown(timer):
    """Deactivate and set function to None: later arms are ignored until
    timer_setup() again.  Returns as timer_delete()."""
    r = timer_delete(timer)
    timer.function = None
    return r


def timer_shutdown_sync(timer):
    r = timer_delete_sync(timer)
    timer.function = None
    return r


del_timer = timer_delete
del_timer_sync = timer_delete_sync
try_to_del_timer_sync = timer_delete_sync_try


def _collect(clk):
    # collect_expired_timers: move every bucket due at clk to its level's
    # expiry list; the timers stay pending (idx -2 - level).  Returns the
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
            while t is not None:
                t._idx = -2 - lv
                n += 1
                t = t._next
            _lvl_count[lv] -= n
        lv += 1
        if c & 7:
            break
        c >>= 3
    return lv


def _recalc_next():
    global _next_expiry
    best = None
    for lvl in range(_depth):
        if not _lvl_count[lvl]:
            continue
        sh = 3 * lvl
        slot = ((_clk + (1 << sh) - 1) & _M32) >> sh
        base = lvl * _LVL_SIZE
        for off in range(_LVL_SIZE):
            s = slot + off
            if _buckets[base + (s & 63)] is not None:
                e = (s << sh) & _M32
                if best is None or _after(best, e):
                    best = e
                break
    _next_expiry = best


def _run_timers(jnow):
    # TIMER_SOFTIRQ (__run_timers).  Softirq context.  Levels run highest
    # first; a timer deleted or re-armed by an earlier callback is no longer
    # on its expiry list and does not run here.
    global _clk
    while _next_expiry is not None and not _after(_next_expiry, jnow):
        _clk = _next_expiry
        levels = _collect(_clk)
        _clk = (_clk + 1) & _M32
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


def _expire(t, fn, jnow):
    t._running = True
    prev = _pk.set_current_module(t._owner)
    _tr.record(2, t.trace_id, core.hw.cs_read(), t.expires & _J30, jnow & _J30)
    try:
        fn(t.data if t._legacy else t)
    except Exception as e:
        core.log_callback_error("timer", t, e)
    finally:
        t._running = False
        _pk.set_current_module(prev)
        _tr.record(3, t.trace_id, core.hw.cs_read(), 0, 0)


def _next_delta(jnow):
    """Jiffies until the next bucket is due (may be <= 0), or None."""
    if _next_expiry is None:
        return None
    d = (_next_expiry - jnow) & _M32
    return d - 0x100000000 if d >= 0x80000000 else d


def _all_pending():
    for head in _buckets + _coll:
        t = head
        while t is not None:
            yield t
            t = t._next


def _pending_of(owner):
    return [("timer_list", t) for t in _all_pending() if t._owner == owner]


def wheel_check(*timers):
    """Invariant check for tests: every pending timer is in the bucket (or
    expiry list) its links say, counts match, next_expiry is not after any
    bucket's expiry, and each timer given is pending exactly when it is
    linked.  Returns the number of pending timers; raises AssertionError."""
    n = 0
    counts = [0] * _depth
    seen = set()
    heads = [(i, _buckets[i]) for i in range(len(_buckets))] + [(-2 - k, _coll[k]) for k in range(_depth)]
    for idx, t in heads:
        prev = None
        while t is not None:
            assert t._idx == idx, "timer %d in bucket %d says %d" % (t.trace_id, idx, t._idx)
            assert t._prev is prev, "broken back link at timer %d" % t.trace_id
            assert id(t) not in seen, "timer %d linked twice" % t.trace_id
            seen.add(id(t))
            if idx >= 0:
                counts[idx >> 6] += 1
                sh = 3 * (idx >> 6)
                e = ((_clk + (1 << sh) - 1) & _M32) >> sh
                # the bucket's expiry is >= clk: next_expiry is not after it
                be = e + ((idx & 63) - (e & 63)) % 64
                assert _next_expiry is not None and not _after(_next_expiry, (be << sh) & _M32), (
                    "next_expiry %r after bucket %d" % (_next_expiry, idx)
                )
            n += 1
            prev = t
            t = t._next
    assert counts == _lvl_count, "level counts %r != %r" % (counts, _lvl_count)
    for t in timers:
        assert (t._idx != -1) == (id(t) in seen), "timer %d: idx %d but linked=%r" % (
            t.trace_id,
            t._idx,
            id(t) in seen,
        )
    return n
