"""ktimers.printk -- printk, pr_*, WARN and a dmesg ring (Linux kernel/printk).

Usage::

    from ktimers.printk import *
    pr_info("delay is set to %dns\\n", delay_ns)
    printk(KERN_ERR + "bad value %d\\n", v)   # C's KERN_ERR "..." concatenation
    dmesg()                                    # [    5.000123] ...

Levels: KERN_EMERG (0) .. KERN_DEBUG (7); a printk without a level prefix
is stored at the default message loglevel 4 (KERN_WARNING), as Linux.
Every message goes into the ring; it is also printed on the console when
its level is below console_loglevel() (default 7, so pr_debug shows only at
loglevel 8).  The format is applied with ``fmt % args`` -- always, as a C
format string is, so write ``%%`` for a percent sign; C length modifiers
(``%ld``, ``%llu``, ``%zu``, ``%hhx``) are accepted and ``%p`` prints like ``%s``.

Module prefix (pr_fmt): while a module's init/exit runs (module.py) or a
timer armed by a module runs its callback (the core), current_module() is
that module's name and pr_* messages get ``name: `` in front.  printk()
itself and pr_cont() do not (as in Linux).

Records: the ring keeps the newest DMESG_SIZE (64) records, each
(level, ts_ns, text); the timestamp is the core's ktime_get() (0 before the
core exists).  A trailing newline is dropped.  A KERN_CONT / pr_cont()
message is appended to the previous record if that one did not end with a
newline, else it starts a new record; on the console a continuation is
printed on its own line, without timestamp.

Contexts: softirq and task.  In hard IRQ (core.in_hardirq()) printk stores
and prints nothing and only counts the message as dropped (allocation-free,
provided the call passes no format arguments -- building the argument tuple
already allocates); the next printk outside hard IRQ first logs
"** N printk messages dropped **" as Linux does.

Memory: this module is the public half; the state, the ring and _log are in
ktimers._printk, loaded with it.  Where the firmware has the C core this
module is a ROM module (firmware/cmodules/ktimers/printk.c) with the same
names and behaviour, and this file is not loaded.  The ring's list is made
on the first message; dmesg(), dmesg_entries/lines/clear/resize, the
print_exception_to_dmesg and the C length-modifier rewrite (%ld, %zu, %p
...) live in ktimers._dmesg, loaded on first use through this module's
__getattr__ (so `printk.dmesg` and `from ktimers import *` still work).
"""

from . import _printk as _s  # the state and the engine (not `import sys`: names here are star-exported)

KERN_SOH = "\x01"
KERN_EMERG = "\x010"
KERN_ALERT = "\x011"
KERN_CRIT = "\x012"
KERN_ERR = "\x013"
KERN_WARNING = "\x014"
KERN_NOTICE = "\x015"
KERN_INFO = "\x016"
KERN_DEBUG = "\x017"
KERN_DEFAULT = ""
KERN_CONT = "\x01c"

LOGLEVEL_EMERG = 0
LOGLEVEL_ALERT = 1
LOGLEVEL_CRIT = 2
LOGLEVEL_ERR = 3
LOGLEVEL_WARNING = 4
LOGLEVEL_NOTICE = 5
LOGLEVEL_INFO = 6
LOGLEVEL_DEBUG = 7

MESSAGE_LOGLEVEL_DEFAULT = 4
CONSOLE_LOGLEVEL_DEFAULT = 7
DMESG_SIZE = 64


# --- current module (pr_fmt) ---------------------------------------------

def set_current_module(name):
    """Set the module name pr_* messages are prefixed with (None: none).

    Returns the previous name so callers can restore it.  Any context
    (allocation-free: stores a reference).
    """
    prev = _s._cur_module
    _s._cur_module = name
    return prev


def current_module():
    """Return the current module name or None; any context."""
    return _s._cur_module


# --- printk, pr_* ------------------------------------------------------------

def printk(fmt, *args):
    """Log ``fmt % args`` (optional KERN_* prefix in fmt); returns the length
    stored (without a trailing newline), 0 if dropped.

    Softirq/task; hard IRQ: dropped and counted (see module doc).
    """
    return _s._log(None, fmt, args, False)


def pr_emerg(fmt, *args):
    """Log at KERN_EMERG with the module prefix; returns the length logged."""
    return _s._log(0, fmt, args, True)


def pr_alert(fmt, *args):
    """Log at KERN_ALERT with the module prefix."""
    return _s._log(1, fmt, args, True)


def pr_crit(fmt, *args):
    """Log at KERN_CRIT with the module prefix."""
    return _s._log(2, fmt, args, True)


def pr_err(fmt, *args):
    """Log at KERN_ERR with the module prefix."""
    return _s._log(3, fmt, args, True)


def pr_warn(fmt, *args):
    """Log at KERN_WARNING with the module prefix."""
    return _s._log(4, fmt, args, True)


pr_warning = pr_warn


def pr_notice(fmt, *args):
    """Log at KERN_NOTICE with the module prefix."""
    return _s._log(5, fmt, args, True)


def pr_info(fmt, *args):
    """Log at KERN_INFO with the module prefix."""
    return _s._log(6, fmt, args, True)


def dynamic_debug(module, on=True):
    """Turn pr_debug on/off for module (None: code outside any module, "*":
    every module), like ``echo 'module m +p' > .../dynamic_debug/control``."""
    if on:
        _s._dyndbg.add(module)
    else:
        _s._dyndbg.discard(module)


def pr_debug(fmt, *args):
    """Log at KERN_DEBUG with the module prefix, only where dynamic_debug()
    enabled it for the current module (off by default, as with
    CONFIG_DYNAMIC_DEBUG); returns 0 when off.  Console only at loglevel 8."""
    d = _s._dyndbg
    if d and (_s._cur_module in d or "*" in d):
        return _s._log(7, fmt, args, True)
    return 0


def pr_cont(fmt, *args):
    """Continue the previous unterminated record (KERN_CONT); no prefix."""
    return _s._log(-1, fmt, args, False)


# --- console level, drops ------------------------------------------------

def console_loglevel(n=None):
    """Return the console loglevel in effect before the call; set it to n (0..8) if given.

    Messages with level < loglevel are printed.  Task context.
    """
    prev = _s._console_loglevel
    if n is not None:
        if type(n) is not int:
            raise TypeError("console_loglevel: n must be int, got %s" % type(n).__name__)
        if n < 0 or n > 8:
            raise ValueError("console_loglevel: n must be 0..8, got %d" % n)
        _s._console_loglevel = n
    return prev


def dmesg_dropped():
    """Return how many messages were dropped in hard IRQ since boot; any context."""
    return _s._dropped


# --- once: "once" is per format string (Python has no per-call-site static) ------------------

def printk_once(fmt, *args):
    """printk() the first time this fmt is used; returns True if it logged."""
    return _s._log_once(("printk", fmt), None, fmt, args, False)


def pr_info_once(fmt, *args):
    """pr_info() once per format string; returns True if it logged."""
    return _s._log_once((6, fmt), 6, fmt, args, True)


def pr_warn_once(fmt, *args):
    """pr_warn() once per format string; returns True if it logged."""
    return _s._log_once((4, fmt), 4, fmt, args, True)


def pr_err_once(fmt, *args):
    """pr_err() once per format string; returns True if it logged."""
    return _s._log_once((3, fmt), 3, fmt, args, True)


def __getattr__(name):
    # dmesg(), dmesg_*, print_exception_to_dmesg: loaded on first use
    if name.startswith("_"):
        raise AttributeError(name)
    return getattr(_s._ext(), name)
