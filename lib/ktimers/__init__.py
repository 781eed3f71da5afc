"""ktimers -- the Linux kernel's timer subsystem for MicroPython.

    from ktimers import *
    def fn(t): pr_info("jiffies %d", jiffies())
    t = timer_list(); timer_setup(t, fn, 0); mod_timer(t, jiffies() + HZ)

Importing starts the time subsystem on the board's backend (ktimers_board.py,
else autodetected): clocksource, periodic tick at HZ, one-shot clock events.
ktimers.init(backend, hz) restarts it (tests use init("sim")).

Names follow Linux: jiffies.h, timer.h, hrtimer.h, ktime.h, completion.h,
printk, module_init/exit.  `jiffies` is a function here: call jiffies().

Memory: only the timing core loads at import (core, jiffies, ktime, timer,
hrtimer, completion's any-context half, delay, kstruct, printk's basic half,
bug, trace).  The rest loads on first use:

    module     module_init, insmod, rmmod ...
    proc       timer_list_show, timer_list_lines
    _timer_ext legacy init_timer/setup_timer, DEFINE_TIMER, timer_shutdown ...
    sleep      msleep, usleep_range, schedule_timeout, schedule_hrtimeout ...
    _completion_wait  wait_for_completion*
    _ktime     the rarely used ktime helpers
    _dmesg     dmesg(), dmesg_lines() ... (printk's second half)
    _wheel_check  wheel_check()'s body

MicroPython's `from X import *` copies the module's globals (it has no
__all__), so each of those names is bound here to a small proxy (an
instance of _lazy, 32 bytes) that loads its module on the first call,
rebinds ktimers.<name> to the real object and calls it; a copy taken by
`from ktimers import *` keeps calling through the proxy (one extra call).
A proxy call allocates (its *args tuple), so nothing callable from hard IRQ
or in a timer's steady state is lazy: complete(), udelay(), the jiffies
arithmetic and the timer and hrtimer calls load eagerly, and so does
kstruct, made to be subclassed (a proxy cannot be a base class).  A lazy
module pays only when it holds much code: a proxy, its name and its
namespace entry cost about what a small function does.  Import submodules
through the package (these proxies, or `import ktimers` first): a submodule
imported on its own while the package binds printk/jiffies/hrtimer to
functions must look its siblings up in sys.modules, as module.py, bug.py
and _dmesg.py do.
"""

# Bind the eager submodules first: the star imports below rebind the names
# jiffies, printk, hrtimer, completion and kstruct to the kernel objects.
from . import core, trace, ktime, jiffies, printk, bug, kstruct, completion
from . import timer, hrtimer_base, hrtimer, delay
from .ktime import *
from .jiffies import *
from .printk import *
from .bug import *
from .kstruct import *  # eager: programs subclass kstruct (a proxy cannot be a base class)
from .completion import *  # eager: complete() is for any context, hard IRQ included
from .timer import *
from .hrtimer import *
from .delay import *  # eager: udelay/ndelay/mdelay are for any context
from .core import init, deinit, get_jiffies_64, jiffies, in_interrupt, in_softirq, in_hardirq
from . import core as _core
import sys as _sys

HZ = 0
hrtimer_resolution = 1  # ns, as in high-resolution mode: set by init()

# Loaded on first use: (submodule, names it gives the package).
_LAZY = (
    (
        "module",
        (
            "module_init", "module_exit", "module_param", "MODULE_PARM_DESC", "MODULE_LICENSE",
            "MODULE_AUTHOR", "MODULE_DESCRIPTION", "modinfo", "insmod", "rmmod", "lsmod",
        ),
    ),
    ("proc", ("timer_list_lines", "timer_list_show")),
    (
        "_timer_ext",
        (
            "DEFINE_TIMER", "init_timer", "setup_timer", "add_timer_on", "timer_delete_sync_try",
            "try_to_del_timer_sync", "timer_shutdown", "timer_shutdown_sync",
        ),
    ),
    (
        "_completion_wait",
        (
            "wait_for_completion", "wait_for_completion_timeout",
            "wait_for_completion_interruptible", "wait_for_completion_interruptible_timeout",
            "wait_for_completion_killable", "wait_for_completion_killable_timeout",
        ),
    ),
    (
        "sleep",
        (
            "hrtimer_sleeper", "hrtimer_setup_sleeper_on_stack", "hrtimer_sleeper_start_expires",
            "schedule_hrtimeout_range", "schedule_hrtimeout", "hrtimer_nanosleep",
            "schedule_timeout", "schedule_timeout_uninterruptible",
            "schedule_timeout_interruptible", "schedule_timeout_idle", "msleep",
            "msleep_interruptible", "ssleep", "usleep_range", "fsleep",
        ),
    ),
    (
        "_ktime",
        (
            "ktime_add_ns", "ktime_sub_ns", "ktime_add_us", "ktime_add_ms", "ktime_sub_us",
            "ktime_sub_ms", "ktime_us_delta", "ktime_ms_delta", "ktime_compare", "ktime_after",
            "ktime_before", "ktime_to_timespec64", "ktime_to_timespec", "timespec64_to_ktime",
            "ktime_get_seconds", "ktime_get_real_seconds", "ktime_get_clock",
            "do_settimeofday64", "ktime_set_real", "timekeeping_set_tai_offset",
        ),
    ),
    (
        "_dmesg",
        (
            "dmesg", "dmesg_entries", "dmesg_lines", "dmesg_clear", "dmesg_resize",
            "print_exception_to_dmesg",
        ),
    ),
)
# package names that a submodule import would overwrite with the submodule
_CLASH = ("jiffies", "printk", "hrtimer", "completion", "kstruct")


def _load(mod):
    # Import ktimers.<mod> and bind its lazy names here.  Task context, once
    # per module.  While it imports, the clashing names point at their
    # submodules, so the module's `from . import printk` gets the module.
    g = globals()
    mods = _sys.modules
    saved = [g[n] for n in _CLASH]
    for n in _CLASH:
        if "ktimers." + n in mods:
            g[n] = mods["ktimers." + n]
    try:
        __import__("ktimers." + mod)
    finally:
        for i in range(len(_CLASH)):
            g[_CLASH[i]] = saved[i]
    m = mods["ktimers." + mod]
    me = mods["ktimers"]
    for entry in _LAZY:
        if entry[0] == mod:
            for n in entry[1]:
                setattr(me, n, getattr(m, n))
    return m


def _find(name):
    for entry in _LAZY:
        if name in entry[1]:
            return entry[0]
    return None


class _lazy:
    # The proxy bound to a lazy name: an instance with one attribute (32 bytes
    # on a 32-bit board, half a closure's).  Task context: a call allocates
    # its *args tuple, and the first one imports the module.
    def __init__(self, name):
        self.n = name

    def __call__(self, *args, **kw):
        return _resolve(self.n)(*args, **kw)

    def __repr__(self):
        return "<lazy ktimers.%s>" % self.n


def _proxy(name):
    return _lazy(name)


def _resolve(name):
    # The real object behind a proxy; loads its module on the first call.
    mod = _find(name)
    m = _sys.modules.get("ktimers." + mod)
    if m is None:
        m = _load(mod)
    v = getattr(m, name)
    setattr(_sys.modules["ktimers"], name, v)
    return v


def _install():
    # setattr, not globals()[n] =: it interns n, and dir() and `import *` find
    # only interned names
    me = _sys.modules["ktimers"]
    for entry in _LAZY:
        for n in entry[1]:
            setattr(me, n, _proxy(n))


_install()


def init(backend=None, hz=None, **cfg):  # noqa: F811 - keeps ktimers.HZ current
    global HZ, INITIAL_JIFFIES, hrtimer_resolution
    hw = _core.init(backend, hz, **cfg)
    HZ = _core.HZ
    INITIAL_JIFFIES = _core._jf.INITIAL_JIFFIES
    hrtimer_resolution = hrtimer_base.hrtimer_resolution
    return hw


init()
