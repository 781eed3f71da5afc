# Heap allocated per periodic expiry (goal: 0), and per call of a few hot functions
# (MicroPython, on the board).  gc is disabled while measuring; the waits are busy loops on
# an array element, which allocate nothing, so the gc.mem_free() difference is the
# library's own allocation (softirq entry, expiry, re-arm).
#   BENCH alloc hr_soft_total=<bytes over 300 expiries> hr_soft_per=<bytes/expiry>
#         timer_total=<bytes over 100 expiries> timer_per=<...>
#         timer_lib_total=<bytes over 100 expiries> timer_lib_per=<...> jiffies=<bytes/call>
#         jiffies_plus_1=<bytes/call> mod_timer=<bytes/call> ktime_get=<bytes/call>
# timer_total: the callback re-arms with mod_timer(t, jiffies() + 1).  That expression is
# the callback's own code: while jiffies >= 2**30 (the first 5 minutes after boot, as
# Linux's INITIAL_JIFFIES) it makes heap ints on 32-bit boards (jiffies_plus_1 per call).
# timer_lib_total: the same re-arming timer, the expiries computed before measuring (a
# list of ints), so only the library's own allocation counts.  mod_timer: per call, with
# a precomputed expires too (the library only).
import gc
from array import array
from ktimers import *

_c = array("i", [0, 0])
_WARM = 20  # first expiries may allocate once (caches); not counted
_HR_N = 300
_TL_N = 100


def _hcb(t):
    _c[0] += 1
    if _c[0] >= _c[1]:
        return HRTIMER_NORESTART
    hrtimer_forward_now(t, 1000000)
    return HRTIMER_RESTART


def _tcb(t):
    _c[0] += 1
    if _c[0] < _c[1]:
        mod_timer(t, jiffies() + 1)


_exp = []


def _tcb_lib(t):
    # re-arm one jiffy after the previous expiry, from a list made before measuring
    _c[0] += 1
    if _c[0] < _c[1]:
        mod_timer(t, _exp[_c[0]])


def _spin(n):
    while _c[0] < n:
        pass


def _measure(arm, n):
    _c[0] = 0
    _c[1] = _WARM + n
    gc.collect()
    gc.disable()
    try:
        arm()
        _spin(_WARM)
        f0 = gc.mem_free()
        _spin(_WARM + n)
        f1 = gc.mem_free()
    finally:
        gc.enable()
    return f0 - f1


_h = hrtimer()
hrtimer_setup(_h, _hcb, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT)
_hr = _measure(lambda: hrtimer_start(_h, 1000000, HRTIMER_MODE_REL_SOFT), _HR_N)
hrtimer_cancel(_h)
_t = timer_list()
timer_setup(_t, _tcb, 0)
_tl = _measure(lambda: mod_timer(_t, jiffies() + 1), _TL_N)
timer_delete_sync(_t)


def _arm_lib():
    j = jiffies()
    for i in range(_WARM + _TL_N + 1):
        _exp[i] = (j + 1 + i) & 0xFFFFFFFF
    mod_timer(_t, _exp[0])


_exp = [0] * (_WARM + _TL_N + 1)
timer_setup(_t, _tcb_lib, 0)
_tll = _measure(_arm_lib, _TL_N)
timer_delete_sync(_t)


def _per_call(f, n=50):
    f()
    gc.collect()
    gc.disable()
    try:
        a = gc.mem_free()
        for i in range(n):
            f()
        b = gc.mem_free()
    finally:
        gc.enable()
    return (a - b) // n


_t2 = timer_list()
timer_setup(_t2, _tcb, 0)
_far = [0]
_j0 = jiffies()
_fexp = [(_j0 + 1000 + (k * 7) % 5000) & 0xFFFFFFFF for k in range(64)]


def _mt():
    _far[0] = (_far[0] + 1) & 63
    mod_timer(_t2, _fexp[_far[0]])


_j = _per_call(jiffies)
_jp = _per_call(lambda: jiffies() + 1)  # the re-arming callback's own expression
_m = _per_call(_mt)
_k = _per_call(ktime_get)
timer_delete(_t2)
print(
    "BENCH alloc hr_soft_total=%d hr_soft_per=%d.%d timer_total=%d timer_per=%d.%d"
    " timer_lib_total=%d timer_lib_per=%d.%d jiffies=%d jiffies_plus_1=%d mod_timer=%d"
    " ktime_get=%d"
    % (_hr, _hr // _HR_N, (_hr * 10 // _HR_N) % 10, _tl, _tl // _TL_N, (_tl * 10 // _TL_N) % 10,
       _tll, _tll // _TL_N, (_tll * 10 // _TL_N) % 10, _j, _jp, _m, _k)
)
