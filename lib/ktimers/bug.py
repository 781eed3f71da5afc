"""ktimers.bug -- WARN(), WARN_ON(), WARN_ONCE(), WARN_ON_ONCE() (asm-generic/bug.h).

Usage:
    if WARN_ON(timer_pending(t), "mydrv.c:42"): return
    WARN(x < 0, "x went negative: %d", x)

Each logs a ``WARNING: ...`` record at KERN_WARNING in the dmesg ring (with
`` [module]`` when a module is current) and returns bool(cond).  Softirq and
task context; in hard IRQ nothing is stored and printk counts a drop.
Python has no __FILE__/__LINE__: WARN_ON takes the place as an optional string.

Where the firmware has the C core this module is a ROM module
(firmware/cmodules/ktimers/bug.c) with the same behaviour; this file is the
reference and the fallback.
"""

_p = __import__("sys").modules["ktimers._printk"]  # printk's state and engine (no `sys` here: star-exported)


def _warn_text(text):
    if _p._cur_module is not None:
        text = "%s [%s]" % (text, _p._cur_module)
    _p._log(4, "%s", ("WARNING: " + text,), False)


def WARN(cond, fmt, *args):
    """If cond is true log ``WARNING: fmt % args`` at KERN_WARNING.

    Returns bool(cond).  Softirq/task (hard IRQ: counted as dropped).
    """
    if cond:
        if _p._in_hardirq():
            _p._log(4, "", (), False)
        else:
            if type(fmt) is not str:
                raise TypeError("WARN: fmt must be str, got %s" % type(fmt).__name__)
            text = _p._format("WARN", fmt, args)
            if text.endswith("\n"):
                text = text[:-1]
            _warn_text(text)
        return True
    return False


def WARN_ON(cond, what=None):
    """If cond is true log ``WARNING: at <what>`` (or ``WARNING: WARN_ON``).

    Returns bool(cond).  what names the place (Python has no __FILE__/__LINE__).
    """
    if cond:
        if _p._in_hardirq():
            _p._log(4, "", (), False)
        else:
            _warn_text("at %s" % what if what is not None else "WARN_ON")
        return True
    return False


def WARN_ON_ONCE(cond, what=None):
    """WARN_ON() that logs only the first time for a given `what`; returns bool(cond)."""
    if cond:
        if not _p._in_hardirq() and _p._once_key(("WARN_ON", what)):
            _warn_text("at %s" % what if what is not None else "WARN_ON_ONCE")
        return True
    return False


def WARN_ONCE(cond, fmt, *args):
    """WARN() that logs only the first time for a given fmt; returns bool(cond)."""
    if cond:
        if not _p._in_hardirq() and _p._once_key(("WARN", fmt)):
            WARN(True, fmt, *args)
        return True
    return False
