"""ktimers.completion -- completions (Linux kernel/sched/completion.c).

A completion counts "done" events; a task waits for one.  complete() may be
called from any context, including hard IRQ; the waits only from task
context (they loop on core.idle(), which runs softirqs and scheduled
callbacks, so timer callbacks keep running while a task waits).

Usage (the Blackfin timer_test pattern)::

    from ktimers import *
    timer_done = DECLARE_COMPLETION()

    def timer_function(t):
        if still_going:
            mod_timer(t, jiffies() + 24)
        else:
            complete(timer_done)

    still_going = 0
    mod_timer(console_timer, jiffies() + 1)
    wait_for_completion(timer_done)

Memory: the waits (task context only) are in ktimers._completion_wait,
loaded on first use through the package's proxies or this module's
__getattr__ (ktimers.completion.wait_for_completion works too); complete()
and the struct stay loaded, as a hard IRQ may call them.

Timeouts are in jiffies (use msecs_to_jiffies()), measured with
core.jiffies(); MAX_SCHEDULE_TIMEOUT waits forever.  The interruptible
forms return -ERESTARTSYS (-512) on KeyboardInterrupt (Ctrl-C is the only
"signal" here); the plain forms let KeyboardInterrupt propagate, so a stuck
wait can still be broken at the REPL (Linux's D state cannot).
"""

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_COMPLETE_ALL = const(0x3FFFFFFF)   # Linux UINT_MAX; the largest 31-bit small int
_U32 = const(0xFFFFFFFF)
_SIGN32 = const(0x80000000)

MAX_SCHEDULE_TIMEOUT = 0x7FFFFFFF   # LONG_MAX on 32-bit
ERESTARTSYS = 512


class completion:
    """struct completion: ``done`` count and ``nwait`` (tasks waiting)."""

    def __init__(self):
        self.done = 0
        self.nwait = 0

    def __repr__(self):
        return "<completion done=%d nwait=%d>" % (self.done, self.nwait)


def _chk(fn, x):
    if not isinstance(x, completion):
        raise TypeError("%s: x must be a completion, got %s" % (fn, type(x).__name__))


def DECLARE_COMPLETION():
    """Return a new, initialised completion; any context but hard IRQ (allocates)."""
    return completion()


DECLARE_COMPLETION_ONSTACK = DECLARE_COMPLETION


def init_completion(x):
    """Initialise x (done = 0); returns None.  Task/softirq context."""
    _chk("init_completion", x)
    x.done = 0
    x.nwait = 0


def reinit_completion(x):
    """Reset x.done to 0 for reuse (waiters untouched); returns None.  Any context."""
    _chk("reinit_completion", x)
    x.done = 0


def complete(x):
    """Signal one completion: wakes one waiter (or lets the next wait pass).

    Returns None.  Any context, including hard IRQ (allocation-free).
    """
    _chk("complete", x)
    if x.done != _COMPLETE_ALL:
        x.done += 1


def complete_all(x):
    """Signal all current and future waiters until reinit_completion(); any context."""
    _chk("complete_all", x)
    x.done = _COMPLETE_ALL


def try_wait_for_completion(x):
    """Consume one completion without waiting: True if one was available.

    Any context.
    """
    _chk("try_wait_for_completion", x)
    if not x.done:
        return False
    if x.done != _COMPLETE_ALL:
        x.done -= 1
    return True


def completion_done(x):
    """True if a wait on x would not block (done > 0); any context."""
    _chk("completion_done", x)
    return x.done != 0


def __getattr__(name):
    # wait_for_completion* (ktimers._completion_wait), loaded on first use
    import sys

    m = sys.modules.get("ktimers._completion_wait")
    if m is None:
        __import__("ktimers._completion_wait")
        m = sys.modules["ktimers._completion_wait"]
    return getattr(m, name)
