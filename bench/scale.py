# Scaling and op costs (MicroPython, on the board), timed on the clocksource (core.hw.cs_read,
# raw cycles -> ns).  Host appends: scale(big_timers, big_hr, tick) -- 10000 / 1000 / 1 on
# the emulated board (the unix run uses fewer timers, and tick=0: its tick is a host thread).
#   BENCH scale mod_timer_small=<ns> mod_timer_big=<ns> n_small=10 n_big=<N>
#   BENCH scale hr_small=<ns> hr_big=<ns> (hrtimer_start + hrtimer_cancel) hr_n_big=<M>
#   BENCH scale tick_empty=<ns> tick_big=<ns> tick_n_big=<N> tick_fired=<callbacks>: CPU time
#         one tick takes, from a busy loop's lost iterations against the same loop with the
#         tick stopped, over 4 s (so the softirq's periodic passes, every 67 ticks, and the
#         epoch steps, every 268 ms, count alike in both), the lower of two interleaved
#         runs; the idle timers are due after the window (tick_fired counts any callback
#         that ran in one: 0, or the figure is not a tick's cost)
#   BENCH ops ktime_get=<ns> core_ktime_get=<ns> jiffies=<ns>
import gc
import sys
import ktimers
from ktimers import *

_core = sys.modules["ktimers.core"]
_cs = _core.hw.cs_read
_MASK = _core.CS_MASK
_HALF = (_MASK + 1) >> 1
_NS = 1000000000 // _core.CS_HZ
_REP = 500


def _diff(a, b):
    d = (a - b) & _MASK
    return d - _MASK - 1 if d >= _HALF else d


_fired = [0, 0]  # callbacks run; of them, in a tick-cost window


def _fn(t):
    _fired[0] += 1
    return 0


def _timers(n, base):
    ts = [None] * n
    for i in range(n):
        t = timer_list()
        timer_setup(t, _fn, 0)
        # spread over the wheel's levels: 70 jiffies .. ~2.3 h
        mod_timer(t, base + 70 + (i * 7919) % 2000000)
        ts[i] = t
    return ts


def _cost_mod_timer(n):
    ts = _timers(n, jiffies())
    t = timer_list()
    timer_setup(t, _fn, 0)
    gc.collect()
    j = jiffies()
    t0 = _cs()
    for i in range(_REP):
        mod_timer(t, j + 100 + (i * 37) % 5000)
    d = _diff(_cs(), t0)
    timer_delete(t)
    for x in ts:
        timer_delete(x)
    return d * _NS // _REP


def _cost_hr(n):
    hs = [None] * n
    for i in range(n):
        h = hrtimer()
        hrtimer_setup(h, _fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
        hrtimer_start(h, 10_000_000_000 + (i * 7919) % 1_000_000_000, HRTIMER_MODE_REL)
        hs[i] = h
    h = hrtimer()
    hrtimer_setup(h, _fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
    gc.collect()
    t0 = _cs()
    for i in range(_REP):
        hrtimer_start(h, 5_000_000_000 + i * 1000, HRTIMER_MODE_REL)
        hrtimer_cancel(h)
    d = _diff(_cs(), t0)
    for x in hs:
        hrtimer_cancel(x)
    return d * _NS // _REP


def _spin_iters(ms):
    # busy loop for ms milliseconds of clocksource time; returns iterations
    lim = ms * (_core.CS_HZ // 1000)
    t0 = _cs()
    n = 0
    while _diff(_cs(), t0) < lim:
        n += 1
    return n


def _tick_cost(n, ms=4000):
    # (iterations lost to the tick) * (ns per iteration) / ticks; the n timers are idle: the
    # first is due 2 s after the window ends (making them takes about 0.4 s at 10,000)
    ts = _timers(n, jiffies() + (ms + 2000) * HZ // 1000) if n else []
    gc.collect()
    _spin_iters(20)
    j0 = jiffies()
    f0 = _fired[0]
    busy = _spin_iters(ms)
    ticks = (jiffies() - j0) & 0xFFFFFFFF
    _fired[1] += _fired[0] - f0
    ktimers.deinit()  # tick stopped: the same loop, undisturbed
    ts = None
    gc.collect()
    quiet = _spin_iters(ms)
    ktimers.init()  # a fresh subsystem (the idle timers were dropped with the old one)
    if not ticks or not quiet:
        return -1
    return (quiet - busy) * (ms * 1000000 // quiet) // ticks


def _cost_call(f, n=_REP):
    t0 = _cs()
    for i in range(n):
        f()
    return _diff(_cs(), t0) * _NS // n


def _empty():
    pass


def scale(n_big=10000, hr_big=1000, tick=1):
    ms = _cost_mod_timer(10)
    mb = _cost_mod_timer(n_big)
    print("BENCH scale mod_timer_small=%d mod_timer_big=%d n_small=10 n_big=%d" % (ms, mb, n_big))
    gc.collect()
    hs = _cost_hr(10)
    hb = _cost_hr(hr_big)
    print("BENCH scale hr_small=%d hr_big=%d hr_n_small=10 hr_n_big=%d" % (hs, hb, hr_big))
    gc.collect()
    if tick:
        _fired[1] = 0
        # interleaved twice, the lower of each: an event that lands in one 4 s window and
        # not in the other (a clock event, one softirq pass more) is ~8% of a tick's cost
        te = _tick_cost(0)
        tb = _tick_cost(n_big)
        te = min(te, _tick_cost(0))
        tb = min(tb, _tick_cost(n_big))
        print(
            "BENCH scale tick_empty=%d tick_big=%d tick_n_big=%d tick_fired=%d"
            % (te, tb, n_big, _fired[1])
        )
    else:  # the unix port's tick is a host thread: a busy loop cannot see its cost
        print("BENCH scale tick_empty=na tick_big=na tick_n_big=%d" % n_big)
    loop = _cost_call(_empty)
    print(
        "BENCH ops ktime_get=%d core_ktime_get=%d jiffies=%d call_overhead=%d"
        % (_cost_call(ktime_get) - loop, _cost_call(_core.ktime_get) - loop,
           _cost_call(jiffies) - loop, loop)
    )
