"""ktimers -- the Linux kernel's timer subsystem for MicroPython.

    from ktimers import *
    def fn(t): pr_info("jiffies %d", jiffies())
    t = timer_list(); timer_setup(t, fn, 0); mod_timer(t, jiffies() + HZ)

Importing starts the time subsystem on the board's backend (ktimers_board.py,
else autodetected): clocksource, periodic tick at HZ, one-shot clock events.
ktimers.init(backend, hz) restarts it (tests use init("sim")).

Names follow Linux: jiffies.h, timer.h, hrtimer.h, ktime.h, completion.h,
printk, module_init/exit.  `jiffies` is a function here: call jiffies().
"""

# Bind every submodule first: the star imports below rebind the names
# jiffies, printk, completion and hrtimer to the kernel objects of that name.
from . import core, trace, ktime, jiffies, printk, bug, completion, kstruct, module
from . import timer, hrtimer_base, hrtimer, sleep, proc
from .ktime import *
from .jiffies import *
from .printk import *
from .bug import *
from .completion import *
from .kstruct import *
from .module import *
from .timer import *
from .hrtimer import *
from .sleep import *
from .proc import *
from .core import init, deinit, get_jiffies_64, jiffies, in_interrupt, in_softirq, in_hardirq
from . import core as _core

HZ = 0
hrtimer_resolution = 1  # ns, one clocksource cycle: set by init()


def init(backend=None, hz=None, **cfg):  # noqa: F811 - keeps ktimers.HZ current
    global HZ, INITIAL_JIFFIES, hrtimer_resolution
    hw = _core.init(backend, hz, **cfg)
    HZ = _core.HZ
    INITIAL_JIFFIES = _core._jf.INITIAL_JIFFIES
    hrtimer_resolution = hrtimer_base.hrtimer_resolution
    return hw


init()
