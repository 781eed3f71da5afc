"""ktimers._parts -- the package's parts that load on first use.

Imported by ktimers/__init__.py after its eager names are bound; binds a
proxy in the package for every lazy name (see the package docstring).
``ktimers._mod(name)`` (from here) loads a part and returns its module.

    _part      (first proxy number, names) of a part: the C core's table in
               flash, else ktimers._parts_table._LAZY
    _lazy      the proxies' type: the C core's (_ktimers.lazy, ROM objects
               that take no heap) where the firmware has it, else a class
               here whose instances take 16 bytes each; _res maps a resolved one
    _lazyp     the Python positional proxy of the timer and hrtimer names
    _load      import a part and bind its names (task context, once a part)

These live outside the package's own namespace: a MicroPython dict grows
only when full, in steps (293 slots, then 389), so the package keeps its
~285 names in the smaller table.
"""

import sys as _sys

_CLASH = ("jiffies", "printk", "hrtimer", "completion", "kstruct")


_MODULE = type(_sys)


def _load(mod):
    # Import ktimers.<mod> and bind its lazy names here.  Task context, once
    # per module.  While it imports, the clashing names point at their loaded
    # submodules, so the module's `from . import printk` gets the module; any
    # name the import left a module (the import binds ktimers.hrtimer to its
    # module) gets its kernel object back.  Nests (sleep loads hrtimer).
    mods = _sys.modules
    g = mods["ktimers"].__dict__
    saved = [g[n] for n in _CLASH]
    for n in _CLASH:
        if "ktimers." + n in mods:
            g[n] = mods["ktimers." + n]
    try:
        __import__("ktimers." + mod)
    finally:
        for i in range(len(_CLASH)):
            if type(g[_CLASH[i]]) is _MODULE:
                g[_CLASH[i]] = saved[i]
    m = mods["ktimers." + mod]
    _bind(mod, m)
    return m


def _table():
    # the pure-Python path's table of lazy names (ktimers._parts_table)
    from ._parts_table import _LAZY

    return _LAZY


def _part(mod):
    # (number of part mod's first proxy, its names), or (0, ()): from the C core's
    # table in flash where there is one.  O(parts)
    if _rom is not None:
        r = _c.lazy_part(mod)
        return r if r is not None else (0, ())
    lz = _table()
    k = 0
    for i in range(0, len(lz), 2):
        if lz[i] == mod:
            return k, lz[i + 1]
        k += len(lz[i + 1])
    return 0, ()


def _bind(mod, m):
    # The real objects for mod's lazy names: here, and in place of every
    # proxy a star import copied into __main__ or a loaded module.  O(names x
    # modules), once per part.
    import __main__

    me = _sys.modules["ktimers"]
    k, names = _part(mod)
    if not names:
        return
    for n in names:
        v = getattr(m, n)
        p = _rom(k) if _rom is not None else getattr(me, n)  # a ROM proxy is its name's
        k += 1
        if isinstance(p, _lazy):
            _res[p] = v  # a proxy held anywhere calls v from now on
        setattr(me, n, v)
    spaces = [x for x in _sys.modules.values() if x is not me]
    spaces.append(__main__)
    for x in spaces:
        d = getattr(x, "__dict__", None)
        if d is not None:
            for n in names:
                if isinstance(d.get(n), _lazy):
                    d[n] = getattr(m, n)


def _mod(name):
    # ktimers.<name>, loaded (and its names bound) if it is not yet.  Task context.
    # hrtimer_base comes with hrtimer (which makes it where the C core is)
    m = _sys.modules.get("ktimers." + name)
    if m is None and name == "hrtimer_base":
        _mod("hrtimer")
        m = _sys.modules.get("ktimers." + name)
    return m if m is not None else _load(name)


def _name(p):
    # The lazy name proxy p stands for, and its part: a ROM proxy always stands for
    # its own; a Python one is bound to its name here until its part loads, (None,
    # None) after.  O(lazy names).
    if _rom is not None:
        w = _c.lazy_where(p)
        return w if w is not None else (None, None)
    me = _sys.modules["ktimers"]
    lz = _table()
    for i in range(0, len(lz), 2):
        for n in lz[i + 1]:
            if getattr(me, n) is p:
                return n, lz[i]
    return None, None


_res = {}  # resolved proxy -> the real object (keyed by identity)


try:
    # The optional C core (firmware/cmodules/ktimers): the proxies are a const array in
    # flash, so they take no heap and gc.collect() does not mark them.  A call passes its
    # arguments through (no tuple or dict): positional or keyword, it allocates nothing
    # once resolved.
    import _ktimers as _c
    from _ktimers import lazy as _rom

    _lazy = type(_rom(0))
except ImportError:
    _rom = None
    _NA = object()  # "no argument" for _lazyp

    class _lazy:
        # The proxy bound to a lazy name: an instance with no attributes, 16 bytes
        # on a 32-bit board (its name is where the package binds it; once its part
        # is loaded, _res maps it to the real object: a dict lookup by identity,
        # no allocation).  Task context: a call allocates its *args tuple and **kw
        # dict, and the first one imports the module.
        def __call__(self, *args, **kw):
            f = _res.get(self)
            return (f if f is not None else _resolve(self))(*args, **kw)

        def __repr__(self):
            return "<lazy ktimers.%s>" % (_name(self)[0] or "(loaded)")

    class _lazyp(_lazy):
        # The timer and hrtimer proxies (and _hrtimer_ext's): positional arguments only (kernel calls
        # are), so once resolved a call allocates nothing -- hard-IRQ code may
        # hold one (a HARD callback's hrtimer_forward_now bound before any hrtimer
        # call).  The first call loads the part: task context.
        def __call__(self, a=_NA, b=_NA, c=_NA, d=_NA, e=_NA):
            f = _res.get(self)
            if f is None:
                f = _resolve(self)
            if a is _NA:
                return f()
            if b is _NA:
                return f(a)
            if c is _NA:
                return f(a, b)
            if d is _NA:
                return f(a, b, c)
            if e is _NA:
                return f(a, b, c, d)
            return f(a, b, c, d, e)


def _resolve(p):
    # The real object behind proxy p; loads its part on the first call, or
    # binds it if the part was loaded another way (ktimers.hrtimer_base, an
    # import).
    name, mod = _name(p)
    if name is not None:
        m = _sys.modules.get("ktimers." + mod)
        if m is None:
            _load(mod)
        else:
            _bind(mod, m)
    f = _res.get(p)
    if f is None:
        raise RuntimeError("ktimers: unbound lazy proxy")
    return f


def _install():
    # the Python proxies (the C core binds its ROM ones itself: _ktimers.install).
    # setattr, not globals()[n] =: it interns n, and dir() and `import *` find
    # only interned names
    me = _sys.modules["ktimers"]
    lz = _table()
    for i in range(1, len(lz), 2):
        for n in lz[i]:
            setattr(me, n, _lazyp() if i < 6 else _lazy())  # timer, hrtimer, _hrtimer_ext


if _rom is None:
    _install()
else:  # the C core loads the parts itself (its own _res, in the package): only tests load this
    _mod = _c.mod
    _resolve = _c.resolve
del _install


