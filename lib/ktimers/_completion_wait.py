"""ktimers._completion_wait -- wait_for_completion and its variants
(completion.h), loaded on first use through the package: waiting is task
context only, so these need not be in memory for complete() callers.

    from ktimers import *
    done = DECLARE_COMPLETION()
    ...                                   # a timer callback calls complete(done)
    wait_for_completion_timeout(done, HZ)  # jiffies left (>= 1), or 0 on timeout
"""

import sys

_C = sys.modules["ktimers.completion"]  # not `from . import`: the package binds completion
_MAX = 0x7FFFFFFF  # MAX_SCHEDULE_TIMEOUT
_ERESTARTSYS = 512
_U32 = 0xFFFFFFFF
_SIGN32 = 0x80000000


def _wait(x, timeout, fn, interruptible):
    # Linux do_wait_for_common(): returns remaining jiffies (>= 1) when done,
    # 0 on timeout, -_ERESTARTSYS if interrupted (interruptible only).
    _C._chk(fn, x)
    if type(timeout) is not int:
        raise TypeError("%s: timeout must be int, got %s" % (fn, type(timeout).__name__))
    if timeout < 0 or timeout > _MAX:
        raise ValueError("%s: timeout must be 0.._MAX, got %d" % (fn, timeout))
    core = sys.modules["ktimers.core"]
    if core.in_interrupt():
        raise RuntimeError("%s: called from interrupt context (task context only)" % fn)
    if not x.done:
        x.nwait += 1
        try:
            if timeout == _MAX:
                while not x.done:
                    core.idle()
            else:
                expire = (core.jiffies() + timeout) & _U32
                while not x.done and timeout:
                    core.idle()
                    d = (expire - core.jiffies()) & _U32
                    timeout = 0 if (d == 0 or d & _SIGN32) else d
        except KeyboardInterrupt:
            if interruptible:
                return -_ERESTARTSYS
            raise
        finally:
            x.nwait -= 1
        if not x.done:
            return timeout
    _C.try_wait_for_completion(x)  # consume one (a C completion's own field)
    return timeout or 1


def wait_for_completion(x):
    """Wait (forever) until x is completed, then consume it; returns None.

    Task context only (RuntimeError from hard IRQ / softirq).
    """
    _wait(x, _MAX, "wait_for_completion", False)


def wait_for_completion_timeout(x, timeout):
    """Wait at most timeout jiffies: 0 on timeout, else remaining jiffies (>= 1).

    Task context only.
    """
    return _wait(x, timeout, "wait_for_completion_timeout", False)


def wait_for_completion_interruptible(x):
    """Wait forever; returns 0, or -_ERESTARTSYS on KeyboardInterrupt.  Task only."""
    r = _wait(x, _MAX, "wait_for_completion_interruptible", True)
    return r if r < 0 else 0


def wait_for_completion_interruptible_timeout(x, timeout):
    """Wait at most timeout jiffies: -_ERESTARTSYS, 0 (timeout) or remaining (>= 1).

    Task context only.
    """
    return _wait(x, timeout, "wait_for_completion_interruptible_timeout", True)


def wait_for_completion_killable(x):
    """As wait_for_completion_interruptible (Ctrl-C is the only signal)."""
    r = _wait(x, _MAX, "wait_for_completion_killable", True)
    return r if r < 0 else 0


def wait_for_completion_killable_timeout(x, timeout):
    """As wait_for_completion_interruptible_timeout."""
    return _wait(x, timeout, "wait_for_completion_killable_timeout", True)
