"""ktimers.sleep -- sleeping and busy delays (delay.h, sched timeouts, hrtimer sleepers).

Usage:
    msleep(20)                      # timer wheel: up to 12.5% slack on level >= 1
    usleep_range(100, 200)          # hrtimer with range: coalesces
    schedule_hrtimeout_range(ns_to_ktime(500_000), 50_000, HRTIMER_MODE_REL)
    udelay(10)                      # busy wait on the clocksource

Sleeping functions are task context only: from a timer callback they raise
RuntimeError ("scheduling while atomic"), as Linux would BUG.  While a task
sleeps, core.idle() lets timer callbacks and scheduled work run.  Ctrl-C
(KeyboardInterrupt) ends a sleep: its timer is cancelled, then the exception
propagates, so a runaway script stops.
Busy delays (ndelay/udelay/mdelay) are in ktimers.delay, loaded with the
package (any context); this module loads on the first call of one of its
functions through the package (ktimers.msleep ...).
"""

from micropython import const
from . import core
import sys
_hr = sys.modules["ktimers"]._mod("hrtimer")  # the parts this needs, loaded if not yet
_tm = sys.modules["ktimers"]._mod("timer")
_jf = __import__("sys").modules["ktimers.jiffies"]  # (the package binds jiffies() there)
_pk = __import__("sys").modules["ktimers.printk"]  # not `from .`: the package binds printk() there
from . import bug as _bug
from .delay import udelay

MAX_SCHEDULE_TIMEOUT = const(0x7FFFFFFF)
_EINTR = const(4)


class hrtimer_sleeper:
    """struct hrtimer_sleeper: .timer fires and sets .task to None (woken)."""

    def __init__(self):
        self.timer = _hr.hrtimer()
        self.timer._container = self
        self.task = None


def _might_sleep(fn):
    # Linux might_sleep(): a sleeping call from a timer callback (softirq or hard IRQ)
    if core._softirq or core._hard():
        raise RuntimeError("%s: called from atomic context (timer callback)" % fn)


def _wakeup(t):
    t._container.task = None
    return _hr.HRTIMER_NORESTART


def hrtimer_setup_sleeper_on_stack(sl, clock_id, mode):
    _hr.hrtimer_setup(sl.timer, _wakeup, clock_id, mode)


def hrtimer_sleeper_start_expires(sl, mode):
    sl.task = "current"
    _hr.hrtimer_start_expires(sl.timer, mode)


def _sleep_on(sl, mode):
    hrtimer_sleeper_start_expires(sl, mode)
    try:
        while sl.task is not None:
            core.idle()
    finally:
        _hr.hrtimer_cancel(sl.timer)


def schedule_hrtimeout_range(expires, delta, mode):
    """Sleep until expires (+ up to delta slack).  0 when the timer expired.
    expires None sleeps forever (until Ctrl-C).  Task context."""
    _might_sleep("schedule_hrtimeout_range")
    if expires is None:
        while True:
            core.idle()
    _hr._check_int("schedule_hrtimeout_range", "expires", expires)
    _hr._check_int("schedule_hrtimeout_range", "delta", delta)
    if mode & _hr.HRTIMER_MODE_REL and expires <= 0:
        return 0
    sl = hrtimer_sleeper()
    hrtimer_setup_sleeper_on_stack(sl, 1, mode)
    _hr.hrtimer_set_expires_range_ns(sl.timer, expires, delta)
    _sleep_on(sl, mode)
    return 0


def schedule_hrtimeout(expires, mode):
    return schedule_hrtimeout_range(expires, 0, mode)


def hrtimer_nanosleep(rqtp, mode=_hr.HRTIMER_MODE_REL, clockid=1):
    """nanosleep: 0 when the full time passed.  Task context."""
    _might_sleep("hrtimer_nanosleep")
    _hr._check_int("hrtimer_nanosleep", "rqtp", rqtp)
    if rqtp < 0:
        raise ValueError("hrtimer_nanosleep: rqtp must be >= 0, got %d" % rqtp)
    sl = hrtimer_sleeper()
    hrtimer_setup_sleeper_on_stack(sl, clockid, mode)
    _hr.hrtimer_set_expires(sl.timer, rqtp)
    _sleep_on(sl, mode)
    return 0


def schedule_timeout(timeout):
    """Sleep for timeout jiffies on the wheel.  Returns 0 when it elapsed,
    else the jiffies left.  MAX_SCHEDULE_TIMEOUT sleeps forever; a negative
    timeout logs an error and returns 0 (as Linux).  Task context."""
    _might_sleep("schedule_timeout")
    if not isinstance(timeout, int) or isinstance(timeout, bool):
        raise TypeError("schedule_timeout: timeout must be int jiffies")
    if timeout == MAX_SCHEDULE_TIMEOUT:
        while True:
            core.idle()
    if timeout < 0:
        _pk.printk("\x013schedule_timeout: wrong timeout value %x", timeout & 0xFFFFFFFF)
        return 0
    expire = (core.jiffies() + timeout) & 0xFFFFFFFF
    woke = [False]

    def fn(t):
        woke[0] = True

    t = _tm.timer_list()
    _tm.timer_setup(t, fn, 0)
    _tm.mod_timer(t, expire)
    try:
        while not woke[0]:
            core.idle()
    finally:
        _tm.timer_delete_sync(t)
    left = (expire - core.jiffies()) & 0xFFFFFFFF
    return 0 if left >= 0x80000000 or left == 0 else left


schedule_timeout_uninterruptible = schedule_timeout
schedule_timeout_interruptible = schedule_timeout
schedule_timeout_idle = schedule_timeout


def msleep(msecs):
    """Sleep at least msecs (timer wheel).  Task context.  As Linux 6.12+
    (sleep_timeout.c): no extra jiffy -- the wheel already fires a level-0
    timer armed for jiffies + d only after d full tick periods."""
    _might_sleep("msleep")
    t = _jf.msecs_to_jiffies(msecs)
    while t:
        t = schedule_timeout(t)


def msleep_interruptible(msecs):
    """As msleep; returns 0 (no signals here)."""
    msleep(msecs)
    return 0


def ssleep(secs):
    msleep(secs * 1000)


def usleep_range(min_us, max_us):
    """Sleep between min_us and max_us (hrtimer with range).  Task context.
    max_us < min_us: WARN once and sleep min_us (as Linux's WARN_ON_ONCE)."""
    _might_sleep("usleep_range")
    if not isinstance(min_us, int) or not isinstance(max_us, int):
        raise TypeError("usleep_range: min_us and max_us must be int")
    if max_us < min_us:
        _bug.WARN_ON_ONCE(True, "usleep_range: max_us < min_us")
        max_us = min_us
    schedule_hrtimeout_range(min_us * 1000, (max_us - min_us) * 1000, _hr.HRTIMER_MODE_REL)


def fsleep(usecs):
    """Flexible sleep: udelay below 10 us, usleep_range below 20 ms, else msleep."""
    if usecs <= 10:
        udelay(usecs)
    elif usecs <= 20000:
        usleep_range(usecs, 2 * usecs)
    else:
        msleep(-(-usecs // 1000))
