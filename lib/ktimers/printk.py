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

Memory: this module holds only what every printk needs.  The ring's list is
made on the first message; dmesg(), dmesg_entries/lines/clear/resize, the
print_exception_to_dmesg and the C length-modifier rewrite
(%ld, %zu, %p ...) live in ktimers._dmesg, loaded on first use through this
module's __getattr__ (so `printk.dmesg` and `from ktimers import *` still work).
"""

import sys

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

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

_CONT = const(-1)

_console_loglevel = CONSOLE_LOGLEVEL_DEFAULT
_cur_module = None
_dropped = 0          # total dropped (hard IRQ) since boot
_dropped_unreported = 0
_ring = None          # [None] * DMESG_SIZE on first use; entries [level, ts_ns, text]
_head = 0             # next slot to write
_count = 0            # valid records
_open = False         # last record did not end with a newline
_core = None
_once = set()  # keys of the *_once messages already logged


def _get_core():
    global _core
    if _core is None:
        try:
            from . import core
        except ImportError:
            return None
        _core = core
    return _core


def _in_hardirq():
    # allocation-free: no import, no bound method
    global _core
    c = _core
    if c is None:
        m = sys.modules
        if "ktimers.core" not in m:
            return False
        c = _core = m["ktimers.core"]
    try:
        return c.in_hardirq()
    except AttributeError:
        return False


def _now():
    c = _get_core()
    if c is None:
        return 0
    try:
        return c.ktime_get()
    except Exception:
        return 0


# --- current module (pr_fmt) ---------------------------------------------

def set_current_module(name):
    """Set the module name pr_* messages are prefixed with (None: none).

    Returns the previous name so callers can restore it.  Any context
    (allocation-free: stores a reference).
    """
    global _cur_module
    prev = _cur_module
    _cur_module = name
    return prev


def current_module():
    """Return the current module name or None; any context."""
    return _cur_module


# --- the ring --------------------------------------------------------------

def _store(level, text):
    global _ring, _head, _count, _open
    if _ring is None:
        _ring = [None] * DMESG_SIZE
    term = text.endswith("\n")
    if term:
        text = text[:-1]
    if level == _CONT:
        if _open and _count:
            e = _ring[(_head - 1) % len(_ring)]
            e[2] = e[2] + text
            _open = not term
            if _console_loglevel > e[0]:
                _emit(text)
            return
        level = MESSAGE_LOGLEVEL_DEFAULT
    ts = _now()
    _ring[_head] = [level, ts, text]
    _head = (_head + 1) % len(_ring)
    if _count < len(_ring):
        _count += 1
    _open = not term
    if level < _console_loglevel:
        _emit(_fmt_line(ts, text))


def _emit(line):
    # the console; tests may replace it
    print(line)


def _fmt_line(ts, text):
    if ts < 0:
        ts = 0
    return "[%5d.%06d] %s" % (ts // 1000000000, (ts % 1000000000) // 1000, text)


def _format(fn, fmt, args):
    # a C format string is always a format: "%%" is a percent sign
    if not args and "%" not in fmt:
        return fmt
    try:
        return fmt % args
    except (TypeError, ValueError):
        pass  # C length modifiers or %p: rewrite (ktimers._dmesg) and retry
    try:
        return _ext()._cfmt(fmt) % args
    except (TypeError, ValueError) as e:
        raise TypeError("%s: fmt %r does not match its arguments: %s" % (fn, fmt, e))


def _log(level, fmt, args, prefix):
    # level: 0..7, _CONT, or None (parse a KERN_* prefix from fmt)
    global _dropped, _dropped_unreported
    if _in_hardirq():
        _dropped += 1
        _dropped_unreported += 1
        return 0
    if type(fmt) is not str:
        raise TypeError("printk: fmt must be str, got %s" % type(fmt).__name__)
    if level is None:
        level = MESSAGE_LOGLEVEL_DEFAULT
        while len(fmt) >= 2 and fmt[0] == KERN_SOH:
            c = fmt[1]
            if "0" <= c <= "7":
                level = ord(c) - 48
            elif c == "c":
                level = _CONT
            fmt = fmt[2:]
    text = _format("printk", fmt, args)
    if _dropped_unreported:
        n = _dropped_unreported
        _dropped_unreported = 0
        _store(LOGLEVEL_WARNING, "** %d printk messages dropped **" % n)
    if prefix and _cur_module is not None and level != _CONT:
        text = "%s: %s" % (_cur_module, text)
    _store(level, text)
    # Linux returns the stored length: without the trailing newline
    return len(text) - 1 if text.endswith("\n") else len(text)


def printk(fmt, *args):
    """Log ``fmt % args`` (optional KERN_* prefix in fmt); returns the length
    stored (without a trailing newline), 0 if dropped.

    Softirq/task; hard IRQ: dropped and counted (see module doc).
    """
    return _log(None, fmt, args, False)


def pr_emerg(fmt, *args):
    """Log at KERN_EMERG with the module prefix; returns the length logged."""
    return _log(0, fmt, args, True)


def pr_alert(fmt, *args):
    """Log at KERN_ALERT with the module prefix."""
    return _log(1, fmt, args, True)


def pr_crit(fmt, *args):
    """Log at KERN_CRIT with the module prefix."""
    return _log(2, fmt, args, True)


def pr_err(fmt, *args):
    """Log at KERN_ERR with the module prefix."""
    return _log(3, fmt, args, True)


def pr_warn(fmt, *args):
    """Log at KERN_WARNING with the module prefix."""
    return _log(4, fmt, args, True)


pr_warning = pr_warn


def pr_notice(fmt, *args):
    """Log at KERN_NOTICE with the module prefix."""
    return _log(5, fmt, args, True)


def pr_info(fmt, *args):
    """Log at KERN_INFO with the module prefix."""
    return _log(6, fmt, args, True)


_dyndbg = set()  # modules whose pr_debug is on (dynamic debug); "*" = all


def dynamic_debug(module, on=True):
    """Turn pr_debug on/off for module (None: code outside any module, "*":
    every module), like ``echo 'module m +p' > .../dynamic_debug/control``."""
    if on:
        _dyndbg.add(module)
    else:
        _dyndbg.discard(module)


def pr_debug(fmt, *args):
    """Log at KERN_DEBUG with the module prefix, only where dynamic_debug()
    enabled it for the current module (off by default, as with
    CONFIG_DYNAMIC_DEBUG); returns 0 when off.  Console only at loglevel 8."""
    if _dyndbg and (_cur_module in _dyndbg or "*" in _dyndbg):
        return _log(7, fmt, args, True)
    return 0


def pr_cont(fmt, *args):
    """Continue the previous unterminated record (KERN_CONT); no prefix."""
    return _log(_CONT, fmt, args, False)


# --- console level, drops ------------------------------------------------

def console_loglevel(n=None):
    """Return the console loglevel in effect before the call; set it to n (0..8) if given.

    Messages with level < loglevel are printed.  Task context.
    """
    global _console_loglevel
    prev = _console_loglevel
    if n is not None:
        if type(n) is not int:
            raise TypeError("console_loglevel: n must be int, got %s" % type(n).__name__)
        if n < 0 or n > 8:
            raise ValueError("console_loglevel: n must be 0..8, got %d" % n)
        _console_loglevel = n
    return prev


# --- once (eager: callable in any context; hard IRQ: counted, not logged) -----------------------------------------------------------------

def _once_key(key):
    if key in _once:
        return False
    _once.add(key)
    return True


def _log_once(key, level, fmt, args, prefix):
    # "once" is per format string: Python has no per-call-site static
    if _in_hardirq() or not _once_key(key):
        return False
    _log(level, fmt, args, prefix)
    return True


def printk_once(fmt, *args):
    """printk() the first time this fmt is used; returns True if it logged."""
    return _log_once(("printk", fmt), None, fmt, args, False)


def pr_info_once(fmt, *args):
    """pr_info() once per format string; returns True if it logged."""
    return _log_once((6, fmt), 6, fmt, args, True)


def pr_warn_once(fmt, *args):
    """pr_warn() once per format string; returns True if it logged."""
    return _log_once((4, fmt), 4, fmt, args, True)


def pr_err_once(fmt, *args):
    """pr_err() once per format string; returns True if it logged."""
    return _log_once((3, fmt), 3, fmt, args, True)


def _ext():
    # the rarely used half (see the module docstring); O(1) after the first call
    m = sys.modules.get("ktimers._dmesg")
    if m is None:
        __import__("ktimers._dmesg")
        m = sys.modules["ktimers._dmesg"]
    return m


def __getattr__(name):
    # dmesg(), dmesg_*, *_once, print_exception_to_dmesg: loaded on first use
    if name.startswith("_"):
        raise AttributeError(name)
    return getattr(_ext(), name)


def dmesg_dropped():
    """Return how many messages were dropped in hard IRQ since boot; any context."""
    return _dropped
