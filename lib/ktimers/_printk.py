"""ktimers._printk -- printk's state and engine: the ring, _log, _store.

The public half is ktimers.printk: printk.py, or where the firmware has the
C core its ROM module (firmware/cmodules/ktimers/printk.c); both keep their
state here, so this module is loaded with either (see printk.py for the
semantics).  ktimers._dmesg and ktimers.bug use the names below too.

    _log(level, fmt, args, prefix)  format, drop in hard IRQ, store, print;
                                    level 0..7, _CONT (-1) or None (parse a
                                    KERN_* prefix); returns the stored length
    _store(level, text)             the ring and the console (_emit)
    _log_once(key, ...)             _log() the first time key is seen
    _cur_module, _console_loglevel, _dyndbg, _dropped ...   the state

Contexts as printk: softirq and task; in hard IRQ _log only counts a drop.
"""

import sys

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_CONT = const(-1)
_LOGLEVEL_WARNING = const(4)
_MESSAGE_LOGLEVEL_DEFAULT = const(4)
_DMESG_SIZE = const(64)

_console_loglevel = 7  # CONSOLE_LOGLEVEL_DEFAULT
_cur_module = None
_dropped = 0          # total dropped (hard IRQ) since boot
_dropped_unreported = 0
_ring = None          # [None] * DMESG_SIZE on first use; entries [level, ts_ns, text]
_head = 0             # next slot to write
_count = 0            # valid records
_open = False         # last record did not end with a newline
_core = None
_once = set()  # keys of the *_once messages already logged
_dyndbg = set()  # modules whose pr_debug is on (dynamic debug); "*" = all


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
# --- the ring --------------------------------------------------------------

def _store(level, text):
    global _ring, _head, _count, _open
    if _ring is None:
        _ring = [None] * _DMESG_SIZE
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
        level = _MESSAGE_LOGLEVEL_DEFAULT
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
        level = _MESSAGE_LOGLEVEL_DEFAULT
        while len(fmt) >= 2 and fmt[0] == "\x01":
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
        _store(_LOGLEVEL_WARNING, "** %d printk messages dropped **" % n)
    if prefix and _cur_module is not None and level != _CONT:
        text = "%s: %s" % (_cur_module, text)
    _store(level, text)
    # Linux returns the stored length: without the trailing newline
    return len(text) - 1 if text.endswith("\n") else len(text)


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


def _ext():
    # the rarely used half (see the module docstring); O(1) after the first call
    m = sys.modules.get("ktimers._dmesg")
    if m is None:
        __import__("ktimers._dmesg")
        m = sys.modules["ktimers._dmesg"]
    return m
