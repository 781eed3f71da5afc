"""ktimers._dmesg -- the rarely used half of printk, loaded on first use.

Reached through ktimers.printk's module __getattr__ (and the package's lazy
names): dmesg(), dmesg_entries/lines/clear/resize, print_exception_to_dmesg, and _cfmt(), which rewrites C
length modifiers (%ld, %llu, %zu, %hhx) and %p[ext] into Python's % format.
printk's own path tries ``fmt % args`` first and comes here only when that
fails (every C modifier is a ValueError for Python's %), so a program that
logs plain formats never loads this module.

The ring and its counters stay in ktimers._printk (_P below); this module
reads and resets them there.  Contexts: softirq and task.
"""

import sys

_P = sys.modules["ktimers._printk"]  # printk's state and engine


# --- C format strings ----------------------------------------------------

_fmt_cache = {}  # fmt -> rewritten fmt, at most 64 entries


def _cfmt(fmt):
    # C printf -> Python %: drop length modifiers (%ld, %llu, %zu, %hhx ...),
    # %p[ext] -> %s.  Cached per format string.
    r = _fmt_cache.get(fmt)
    if r is not None:
        return r
    out = []
    start = 0
    n = len(fmt)
    i = fmt.find("%")
    while 0 <= i < n - 1:
        j = i + 1
        while j < n and fmt[j] in "-+ #0":
            j += 1
        while j < n and (fmt[j].isdigit() or fmt[j] in ".*"):
            j += 1
        k = j
        while k < n and fmt[k] in "hlLqjzZt":
            k += 1
        if k < n and fmt[k] == "p":
            out.append(fmt[start:j])
            out.append("s")
            k += 1
            while k < n and (fmt[k].isalpha() or fmt[k].isdigit()):
                k += 1     # kernel %pS, %pK ... extensions
            start = k
            k -= 1
        elif k != j:
            out.append(fmt[start:j])
            start = k
        i = fmt.find("%", k + 1)
    out.append(fmt[start:])
    r = "".join(out)
    if len(_fmt_cache) >= 64:
        _fmt_cache.clear()
    _fmt_cache[fmt] = r
    return r


# --- exceptions ------------------------------------------------------------

def print_exception_to_dmesg(exc, where, owner=None):
    """Log a callback's exception at KERN_ERR: ``<owner>: callback <where> raised``.

    Then one KERN_ERR record per traceback line.  owner defaults to the
    current module or "ktimers".  Used by the core; softirq/task.  Returns None.
    """
    if _P._in_hardirq():
        _P._log(3, "", (), False)
        return
    if owner is None:
        owner = _P._cur_module if _P._cur_module is not None else "ktimers"
    _P._store(3, "%s: callback %s raised" % (owner, where))
    try:
        import io
        buf = io.StringIO()
        pe = getattr(sys, "print_exception", None)
        if pe is not None:
            pe(exc, buf)
        else:  # CPython
            import traceback
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=buf)
        text = buf.getvalue()
    except Exception:
        text = "%s: %s" % (type(exc).__name__, exc)
    for line in text.split("\n"):
        if line:
            _P._store(3, line)


# --- dmesg -----------------------------------------------------------------

def dmesg_entries(level=None):
    """Return the stored records oldest first as a list of (level, ts_ns, text).

    level: only records with level <= level (None: all).  Softirq/task.
    """
    if level is not None and type(level) is not int:
        raise TypeError("dmesg: level must be int, got %s" % type(level).__name__)
    ring = _P._ring
    out = []
    if ring is None:
        return out
    n = len(ring)
    i = (_P._head - _P._count) % n
    for _ in range(_P._count):
        e = ring[i]
        if level is None or e[0] <= level:
            out.append((e[0], e[1], e[2]))
        i = (i + 1) % n
    return out


def dmesg_lines(level=None):
    """Return the records as kernel-style lines ``[    5.000123] text``; softirq/task."""
    f = _P._fmt_line
    return [f(e[1], e[2]) for e in dmesg_entries(level)]


def dmesg(level=None):
    """Print the ring (records with level <= level, None: all); returns None.  Task."""
    for line in dmesg_lines(level):
        print(line)


def dmesg_clear():
    """Empty the ring (dmesg -C); returns None.  Softirq/task."""
    ring = _P._ring
    if ring is not None:
        for i in range(len(ring)):
            ring[i] = None
    _P._head = 0
    _P._count = 0
    _P._open = False


def dmesg_resize(n):
    """Resize the ring to n records, keeping the newest; returns None.  Task."""
    if type(n) is not int:
        raise TypeError("dmesg_resize: n must be int, got %s" % type(n).__name__)
    if n < 1:
        raise ValueError("dmesg_resize: n must be >= 1, got %d" % n)
    keep = dmesg_entries()[-n:]
    ring = [None] * n
    for i in range(len(keep)):
        ring[i] = list(keep[i])
    _P._ring = ring
    _P._count = len(keep)
    _P._head = _P._count % n
