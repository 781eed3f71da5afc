"""ktimers._parts -- the package's parts that load on first use.

Imported by ktimers/__init__.py after its eager names are bound; binds a
proxy in the package for every lazy name (see the package docstring).
``ktimers._mod(name)`` (from here) loads a part and returns its module.

    _LAZY      part, names it gives the package, part, ... (flat)
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

# Loaded on first use: submodule, then the names it gives the package (flat:
# one tuple fewer per part on a ROMFS heap); the first two parts take
# positional proxies (_lazyp).
_LAZY = (
    "timer",
    (
        "timer_list", "timer_setup", "timer_pending", "mod_timer", "mod_timer_pending",
        "timer_reduce", "add_timer", "add_timer_local", "add_timer_global", "timer_delete",
        "timer_delete_sync", "del_timer", "del_timer_sync", "wheel_check",
    ),
    "hrtimer",
    (
        "hrtimer", "hrtimer_setup", "hrtimer_cancel", "hrtimer_start_range_ns", "hrtimer_start",
        "hrtimer_try_to_cancel", "hrtimer_forward", "hrtimer_forward_now", "hrtimer_active",
        "hrtimer_get_expires",
    ),
    "_hrtimer_ext",
    (
        "hrtimer_init", "hrtimer_start_expires", "hrtimer_restart", "hrtimer_is_queued",
        "hrtimer_callback_running", "hrtimer_get_softexpires", "hrtimer_get_remaining",
        "hrtimer_set_expires", "hrtimer_set_expires_range_ns", "hrtimer_add_expires",
        "hrtimer_add_expires_ns", "clock_was_set",
    ),
    "module",
    (
        "module_init", "module_exit", "module_param", "MODULE_PARM_DESC", "MODULE_LICENSE",
        "MODULE_AUTHOR", "MODULE_DESCRIPTION", "modinfo", "insmod", "rmmod", "lsmod",
    ),
    "proc",
    (
        "timer_list_lines", "timer_list_show",
    ),
    "_timer_ext",
    (
        "DEFINE_TIMER", "init_timer", "setup_timer", "add_timer_on", "timer_delete_sync_try",
        "try_to_del_timer_sync", "timer_shutdown", "timer_shutdown_sync",
    ),
    "_completion_wait",
    (
        "wait_for_completion", "wait_for_completion_timeout", "wait_for_completion_interruptible",
        "wait_for_completion_interruptible_timeout", "wait_for_completion_killable",
        "wait_for_completion_killable_timeout",
    ),
    "sleep",
    (
        "hrtimer_sleeper", "hrtimer_setup_sleeper_on_stack", "hrtimer_sleeper_start_expires",
        "schedule_hrtimeout_range", "schedule_hrtimeout", "hrtimer_nanosleep", "schedule_timeout",
        "schedule_timeout_uninterruptible", "schedule_timeout_interruptible",
        "schedule_timeout_idle", "msleep", "msleep_interruptible", "ssleep", "usleep_range",
        "fsleep",
    ),
    "_ktime",
    (
        "ktime_add_ns", "ktime_sub_ns", "ktime_add_us", "ktime_add_ms", "ktime_sub_us",
        "ktime_sub_ms", "ktime_us_delta", "ktime_ms_delta", "ktime_compare", "ktime_after",
        "ktime_before", "ktime_to_timespec64", "ktime_to_timespec", "timespec64_to_ktime",
        "ktime_get_seconds", "ktime_get_real_seconds", "ktime_get_clock", "do_settimeofday64",
        "ktime_set_real", "timekeeping_set_tai_offset",
    ),
    "_dmesg",
    (
        "dmesg", "dmesg_entries", "dmesg_lines", "dmesg_clear", "dmesg_resize",
        "print_exception_to_dmesg",
    ),
)
# package names that a submodule import would overwrite with the submodule
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


def _bind(mod, m):
    # The real objects for mod's lazy names: here, and in place of every
    # proxy a star import copied into __main__ or a loaded module.  O(names x
    # modules), once per part.
    import __main__

    me = _sys.modules["ktimers"]
    for i in range(0, len(_LAZY), 2):
        if _LAZY[i] == mod:
            names = _LAZY[i + 1]
            for n in names:
                v = getattr(m, n)
                p = getattr(me, n)
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
    m = _sys.modules.get("ktimers." + name)
    return m if m is not None else _load(name)


def _name(p):
    # The lazy name proxy p stands for (it is bound to it here until its part
    # loads), and its part; (None, None) once resolved.  O(lazy names).
    me = _sys.modules["ktimers"]
    for i in range(0, len(_LAZY), 2):
        for n in _LAZY[i + 1]:
            if getattr(me, n) is p:
                return n, _LAZY[i]
    return None, None


_res = {}  # resolved proxy -> the real object (keyed by identity)


try:
    # The optional C core (firmware/cmodules/ktimers): the proxies are a const array in
    # flash, so they take no heap and gc.collect() does not mark them.  A call passes its
    # arguments through (no tuple or dict): positional or keyword, it allocates nothing
    # once resolved.
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
    # setattr, not globals()[n] =: it interns n, and dir() and `import *` find
    # only interned names
    me = _sys.modules["ktimers"]
    k = 0
    for i in range(1, len(_LAZY), 2):
        for n in _LAZY[i]:
            if _rom is not None:
                p = _rom(k)  # ROM proxy number k
            else:
                p = _lazyp() if i < 6 else _lazy()  # timer, hrtimer, _hrtimer_ext
            setattr(me, n, p)
            k += 1


_install()
del _install


