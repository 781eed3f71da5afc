"""ktimers.defs -- the flags and modes of timer.h and hrtimer.h.

    from ktimers import *
    hrtimer_setup(t, fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)

Plain ints, bound by `import ktimers`: a program names them before the timer
code loads (ktimers.timer and ktimers.hrtimer load on first use and take
theirs from here).  An int costs only its name in the package's globals.
"""

from micropython import const

# timer.h: timer_list flags (bits 19-21)
TIMER_DEFERRABLE = const(0x00080000)
TIMER_PINNED = const(0x00100000)
TIMER_IRQSAFE = const(0x00200000)

# hrtimer.h: enum hrtimer_mode (bits REL 1, PINNED 2, SOFT 4, HARD 8)
HRTIMER_MODE_ABS = const(0x00)
HRTIMER_MODE_REL = const(0x01)
HRTIMER_MODE_PINNED = const(0x02)
HRTIMER_MODE_SOFT = const(0x04)
HRTIMER_MODE_HARD = const(0x08)
HRTIMER_MODE_ABS_PINNED = const(0x02)
HRTIMER_MODE_REL_PINNED = const(0x03)
HRTIMER_MODE_ABS_SOFT = const(0x04)
HRTIMER_MODE_REL_SOFT = const(0x05)
HRTIMER_MODE_ABS_PINNED_SOFT = const(0x06)
HRTIMER_MODE_REL_PINNED_SOFT = const(0x07)
HRTIMER_MODE_ABS_HARD = const(0x08)
HRTIMER_MODE_REL_HARD = const(0x09)
HRTIMER_MODE_ABS_PINNED_HARD = const(0x0A)
HRTIMER_MODE_REL_PINNED_HARD = const(0x0B)

# enum hrtimer_restart
HRTIMER_NORESTART = const(0)
HRTIMER_RESTART = const(1)
