"""ktimers.proc -- /proc/timer_list: a dump of the clock devices and every
pending timer_list and hrtimer.  Task context.

    from ktimers import timer_list_show
    timer_list_show()              # prints; timer_list_lines() returns the lines
"""

import sys
from . import core

_tm = sys.modules["ktimers"]._mod("timer")  # the dump loads both parts
_hr = sys.modules["ktimers"]._mod("hrtimer_base")


def _fname(f):
    return getattr(f, "__name__", repr(f)) if f is not None else "<shut down>"


def timer_list_lines():
    now = core.ktime_get()
    j = core.jiffies()
    hw = core.hw
    out = [
        "Timer List Version: ktimers 1",
        "now at %d nsecs" % now,
        "jiffies: %d  HZ: %d  wheel depth: %d  clk: %d" % (j, core.HZ, _tm._depth, _tm._clk),
        "clocksource: %s  freq: %d Hz  mask: 0x%x  resolution: %d nsecs"
        % (hw.NAME, core.CS_HZ, core.CS_MASK, _hr.hrtimer_resolution),
        "clock event device: %s  min_delta: %d cyc  max_delta: %d cyc  hard irq: %s"
        % (hw.NAME, hw.CE_MIN_CYC, hw.CE_MAX_CYC, "yes" if hw.HARD_IRQ else "no"),
        "  nr_events: %d  nr_retries: %d  nr_hangs: %d  max_hang_time: %d  reprograms: %d"
        % (_hr.nr_events, _hr.nr_retries, _hr.nr_hangs, _hr.max_hang_time, _hr.nr_reprograms),
        "active timer_list:",
    ]
    n = 0
    for t in _tm._all_pending():
        d = (t.expires - j) & 0xFFFFFFFF
        if d >= 0x80000000:
            d -= 0x100000000
        out.append(
            " #%d: <%d>, %s, expires: %d (in %d jiffies), level %d, owner %s"
            % (n, t.trace_id, _fname(t.function), t.expires, d, _tm._level(t), t._owner)
        )
        n += 1
    out.append("active hrtimers:")
    _hr._sync()
    for n, t in enumerate(sorted(_hr._heap, key=lambda t: (t._key, t._seq))):
        out.append(" #%d: <%d>, %s, S:%02x, %s" % (n, t.trace_id, _fname(t.function), t._state, "hard" if t._hard else "soft"))
        out.append(
            " # expires at %d-%d nsecs [in %d to %d nsecs]"
            % (t._softexpires, t._expires, t._skey - now, t._key - now)
        )
    return out


def timer_list_show():
    for line in timer_list_lines():
        print(line)
