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
    hrtimer    hrtimer, hrtimer_start ... (with hrtimer_base, hrtimer_softirq
               and the clock event handlers: the C core's, else hrtimer_irq)
    _hrtimer_ext  hrtimer_init, hrtimer_restart, the expiry setters ...
    (trace loads when a program imports ktimers.trace: until then the timer
    code holds the C core's stand-in, or loads it where there is none)
    module     module_init, insmod, rmmod ...
    proc       timer_list_show, timer_list_lines
    _timer_ext legacy init_timer/setup_timer, DEFINE_TIMER, timer_shutdown ...
    sleep      msleep, usleep_range, schedule_timeout, schedule_hrtimeout ...
    _completion_wait  wait_for_completion*
    _ktime     the rarely used ktime helpers
    _dmesg     dmesg(), dmesg_lines() ... (printk's second half)

MicroPython's `from X import *` copies the module's globals (it has no
__all__), so each of those names is bound here to a small proxy that loads
its module on the first call and rebinds the name to the real object: here,
and in every copy that `from ktimers import *` made in __main__ and in loaded
modules, so a program calls the real function from then on.  A copy kept
elsewhere (a local, a default argument) goes on calling through its proxy.
Where the firmware has the C core (_ktimers, firmware/cmodules/ktimers) a
proxy is a ROM object: no heap, and a resolved call allocates nothing
whatever its arguments, so a HARD callback may hold any; the C core binds
them and loads their parts itself (ktimers._parts never loads).  Without it
a proxy is an instance of a class in ktimers._parts (16 bytes each): the
timer and hrtimer ones take positional arguments only and then allocate
nothing; the others also take keywords (a call allocates).

The C core also holds ktime, defs, jiffies, completion, delay, bug and
printk's public half as ROM modules (no heap at all), and core, hrtimer_base
and the hrtimer calls as C functions over a module dict: the package
registers them before its imports, and the Python files are their reference
and fallback (docs/DESIGN.md, "The optional C core").
A class cannot derive from a proxy: call any hrtimer/timer function first,
or use `ktimers.hrtimer` after `ktimers.hrtimer_base` (which loads it).
There is no package __getattr__ (dir() would load every part: it probes
each name): `import ktimers.timer` (or `ktimers._mod("timer")`) loads a
part and gives its module.  Import submodules through the package: a submodule
imported on its own while the package binds printk/jiffies/hrtimer to
kernel objects must look its siblings up in sys.modules, as module.py,
bug.py and _dmesg.py do.
"""

# Where the firmware has the C core, ktimers.ktime, defs, jiffies, completion, delay,
# bug and printk are ROM modules (no heap): it puts them in sys.modules (and here)
# before the imports below.
try:
    __import__("_ktimers").modules()
except ImportError:
    pass

# Bind the eager submodules first: the star imports below rebind the names
# jiffies, printk, completion and kstruct to the kernel objects.
from . import core, ktime, jiffies, _printk, printk, bug, kstruct, completion, delay, defs


def _star(*mods):
    # `from .<m> import *` for each of mods, without the import system building the name
    # "ktimers.<m>" (it would intern it: heap for a qstr the C core's ROM modules never need)
    g = globals()
    for m in mods:
        for k, v in m.__dict__.items():
            if not k.startswith("_"):
                g[k] = v


_star(ktime, jiffies, printk, bug)
from .kstruct import *  # eager: programs subclass kstruct (a proxy cannot be a base class)
# completion: eager, complete() is for any context, hard IRQ included; delay: the same for
# udelay/ndelay/mdelay; defs: the timer and hrtimer flags and modes (ints)
_star(completion, delay, defs)
del _star
from .core import init, deinit, get_jiffies_64, jiffies, in_interrupt, in_softirq, in_hardirq
from .core import ktime_get  # the core's clock itself (the C core's ktime.ktime_get calls it)

ktime_get_ns = ktime_get_raw = ktime_get_raw_ns = ktime_get

globals().pop("const", None)  # copied by a star import (micropython.const): not an API name

HZ = 0
hrtimer_resolution = 1  # ns, as in high-resolution mode (exact ns on every board)

# The parts that load on first use, and their proxies (ktimers._parts): the
# names are bound here by its import -- or, where the firmware has the C core,
# by _ktimers.install(), which loads the parts itself.  ktimers._parts keeps its
# own globals so the package's namespace stays under 293 names, a size step of
# MicroPython's dict (the next is 389 slots, 768 bytes more).
try:
    from _ktimers import install as _mod, mod as _m

    _mod()  # bind the lazy names to the ROM proxies
    _mod = _m  # ktimers._mod(name): load a part, return its module
    del _m
except ImportError:
    from ._parts import _mod


def init(backend=None, hz=None, **cfg):  # noqa: F811 - keeps ktimers.HZ current
    global HZ, INITIAL_JIFFIES, TICK_NSEC
    hw = core.init(backend, hz, **cfg)
    HZ = core.HZ
    INITIAL_JIFFIES = core._jf.INITIAL_JIFFIES
    TICK_NSEC = core._jf.TICK_NSEC
    return hw


init()
