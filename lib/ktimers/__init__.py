"""ktimers -- the Linux kernel's timer subsystem for MicroPython.

    from ktimers import *
    def fn(t): pr_info("jiffies %d", jiffies())
    t = timer_list(); timer_setup(t, fn, 0); mod_timer(t, jiffies() + HZ)

Importing starts the time subsystem on the board's backend (ktimers_board.py,
else autodetected): clocksource, periodic tick at HZ, one-shot clock events.
ktimers.init(backend, hz) restarts it (tests use init("sim")).

Names follow Linux: jiffies.h, timer.h, hrtimer.h, ktime.h, completion.h,
printk, module_init/exit.  `jiffies` is a function here: call jiffies().

Memory: `import ktimers` starts the core only (core and jiffies with the
board's backend, ktime, printk's basic half, bug, kstruct, completion's
any-context half, delay, and the constants of ktimers.defs).  Everything
else loads on first use, so a program that uses only timer_list never loads
the hrtimer code, and the reverse:

    timer      timer_list and the wheel (mod_timer, timer_delete ...)
    hrtimer    hrtimer, hrtimer_start ... (with hrtimer_base, hrtimer_irq,
               hrtimer_softirq; trace comes with either)
    module     module_init, insmod, rmmod ...
    proc       timer_list_show, timer_list_lines
    _timer_ext legacy init_timer/setup_timer, DEFINE_TIMER, timer_shutdown ...
    sleep      msleep, usleep_range, schedule_timeout, schedule_hrtimeout ...
    _completion_wait  wait_for_completion*
    _ktime     the rarely used ktime helpers
    _dmesg     dmesg(), dmesg_lines() ... (printk's second half)

MicroPython's `from X import *` copies the module's globals (it has no
__all__), so each of those names is bound here to a small proxy (an
instance of _lazy, 32 bytes) that loads its module on the first call and
rebinds the name to the real object: here, and in every copy that `from
ktimers import *` made in __main__ and in loaded modules, so a program calls
the real function from then on.  A copy kept elsewhere (a local, a default
argument) goes on calling through its proxy.  The timer and hrtimer proxies
take positional arguments only and then allocate nothing, so a HARD
callback may hold one; the others also take keywords (a call allocates).
A class cannot derive from a proxy: call any hrtimer/timer function first,
or use `ktimers.hrtimer` after `ktimers.hrtimer_base` (which loads it).
There is no package __getattr__ (dir() would load every part: it probes
each name): `import ktimers.timer` (or `ktimers._mod("timer")`) loads a
part and gives its module.  Import submodules through the package: a submodule
imported on its own while the package binds printk/jiffies/hrtimer to
kernel objects must look its siblings up in sys.modules, as module.py,
bug.py and _dmesg.py do.
"""

# Bind the eager submodules first: the star imports below rebind the names
# jiffies, printk, completion and kstruct to the kernel objects.
from . import core, ktime, jiffies, printk, bug, kstruct, completion, delay, defs
from .ktime import *
from .jiffies import *
from .printk import *
from .bug import *
from .kstruct import *  # eager: programs subclass kstruct (a proxy cannot be a base class)
from .completion import *  # eager: complete() is for any context, hard IRQ included
from .delay import *  # eager: udelay/ndelay/mdelay are for any context
from .defs import *  # the timer and hrtimer flags and modes: ints
from .core import init, deinit, get_jiffies_64, jiffies, in_interrupt, in_softirq, in_hardirq
from . import core as _core
import sys as _sys

HZ = 0
hrtimer_resolution = 1  # ns, as in high-resolution mode (exact ns on every board)

# Loaded on first use: (submodule, names it gives the package); the first
# two take positional proxies (_lazyp).
_LAZY = (
    (
        "timer",
        (
            "timer_list", "timer_setup", "timer_pending", "mod_timer", "mod_timer_pending",
            "timer_reduce", "add_timer", "add_timer_local", "add_timer_global", "timer_delete",
            "timer_delete_sync", "del_timer", "del_timer_sync", "wheel_check",
        ),
    ),
    (
        "hrtimer",
        (
            "hrtimer", "hrtimer_setup", "hrtimer_init", "hrtimer_cancel", "hrtimer_start_range_ns",
            "hrtimer_start", "hrtimer_start_expires", "hrtimer_restart", "hrtimer_try_to_cancel",
            "hrtimer_forward", "hrtimer_forward_now", "hrtimer_active", "hrtimer_is_queued",
            "hrtimer_callback_running", "hrtimer_get_expires", "hrtimer_get_softexpires",
            "hrtimer_get_remaining", "hrtimer_set_expires", "hrtimer_set_expires_range_ns",
            "hrtimer_add_expires", "hrtimer_add_expires_ns", "clock_was_set",
        ),
    ),
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


_MODULE = type(_sys)


def _load(mod):
    # Import ktimers.<mod> and bind its lazy names here.  Task context, once
    # per module.  While it imports, the clashing names point at their loaded
    # submodules, so the module's `from . import printk` gets the module; any
    # name the import left a module (the import binds ktimers.hrtimer to its
    # module) gets its kernel object back.  Nests (sleep loads hrtimer).
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
            if type(g[_CLASH[i]]) is _MODULE:
                g[_CLASH[i]] = saved[i]
    m = mods["ktimers." + mod]
    _bind(mod, m)
    return m


def _bind(mod, m):
    # The real objects for mod's lazy names: here, and in place of every
    # proxy a star import copied into __main__ or a loaded module.  O(names x
    # modules), once per part.
    import __main__

    me = _sys.modules["ktimers"]
    for entry in _LAZY:
        if entry[0] == mod:
            names = entry[1]
            for n in names:
                v = getattr(m, n)
                p = getattr(me, n)
                if isinstance(p, _lazy):
                    p.f = v  # a proxy held anywhere calls v from now on
                setattr(me, n, v)
            spaces = [x for x in _sys.modules.values() if x is not me]
            spaces.append(__main__)
            for x in spaces:
                d = getattr(x, "__dict__", None)
                if d is not None:
                    for n in names:
                        if isinstance(d.get(n), _lazy):
                            d[n] = getattr(m, n)


def _mod(name):
    # ktimers.<name>, loaded (and its names bound) if it is not yet.  Task context.
    m = _sys.modules.get("ktimers." + name)
    return m if m is not None else _load(name)


def _find(name):
    for entry in _LAZY:
        if name in entry[1]:
            return entry[0]
    return None


_NA = object()  # "no argument" for _lazyp


class _lazy:
    # The proxy bound to a lazy name: an instance of two attributes (32 bytes
    # on a 32-bit board).  Task context: a call allocates its *args tuple and
    # **kw dict, and the first one imports the module.
    def __init__(self, name):
        self.n = name
        self.f = None

    def __call__(self, *args, **kw):
        f = self.f
        return (f if f is not None else _resolve(self.n))(*args, **kw)

    def __repr__(self):
        return "<lazy ktimers.%s>" % self.n


class _lazyp(_lazy):
    # The timer and hrtimer proxies: positional arguments only (kernel calls
    # are), so once resolved a call allocates nothing -- hard-IRQ code may
    # hold one (a HARD callback's hrtimer_forward_now bound before any hrtimer
    # call).  The first call loads the part: task context.
    def __call__(self, a=_NA, b=_NA, c=_NA, d=_NA, e=_NA):
        f = self.f
        if f is None:
            f = self.f = _resolve(self.n)
        if a is _NA:
            return f()
        if b is _NA:
            return f(a)
        if c is _NA:
            return f(a, b)
        if d is _NA:
            return f(a, b, c)
        if e is _NA:
            return f(a, b, c, d)
        return f(a, b, c, d, e)


def _resolve(name):
    # The real object behind a proxy; loads its part on the first call.
    mod = _find(name)
    m = _sys.modules.get("ktimers." + mod)
    if m is None:
        m = _load(mod)
    elif isinstance(getattr(_sys.modules["ktimers"], name), _lazy):
        _bind(mod, m)  # loaded another way (ktimers.hrtimer_base, an import)
    return getattr(m, name)


def _install():
    # setattr, not globals()[n] =: it interns n, and dir() and `import *` find
    # only interned names
    me = _sys.modules["ktimers"]
    for i in range(len(_LAZY)):
        cls = _lazyp if i < 2 else _lazy
        for n in _LAZY[i][1]:
            setattr(me, n, cls(n))


_install()


def init(backend=None, hz=None, **cfg):  # noqa: F811 - keeps ktimers.HZ current
    global HZ, INITIAL_JIFFIES
    hw = _core.init(backend, hz, **cfg)
    HZ = _core.HZ
    INITIAL_JIFFIES = _core._jf.INITIAL_JIFFIES
    return hw


init()
