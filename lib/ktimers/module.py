"""ktimers.module -- loadable "kernel modules": module_init/exit, insmod, rmmod, lsmod.

A ktimers module is a plain Python module that ends like a Linux one::

    from ktimers import *
    delay_ns = module_param("delay_ns", 1000000000, int, "timer delay in ns")
    MODULE_LICENSE("GPL")

    def hires_timer_init():
        pr_info("delay is set to %dns\\n", delay_ns)   # "hires_timer: delay ..."
        ...
        return 0

    def hires_timer_exit():
        hrtimer_cancel(hires_tinfo.timer)

    module_init(hires_timer_init)
    module_exit(hires_timer_exit)

Then ``insmod("hires_timer", delay_ns=500000)``, ``lsmod()``,
``rmmod("hires_timer")``.  module_init/module_exit also work as decorators.

insmod(name, **params) imports the module by name from sys.path (again, if
it was imported before) while a "loading" context holds name and params;
module_init only records the init function, which insmod then runs with
current_module() = name.  Return value (Linux): 0 loaded; -EEXIST (-17)
already loaded; -ENOENT (-2) no such module (import failed: logged with
its traceback); -EINVAL (-22) a parameter was invalid; init's negative
return: not loaded.  A positive init return loads anyway with a warning;
None counts as 0.  An exception raised by init propagates (not loaded).
Unknown parameters are ignored with "name: unknown parameter 'x' ignored".

Run directly (no insmod loading: a script, or a frozen "built-in" module),
module_init(fn) runs fn at once as module ``name`` (default: fn.__name__
without a trailing "_init") and registers it, so rmmod(name) works;
module_exit(fn) attaches fn to the module just initialised.  As a
decorator in a script this runs init at the decorator, so put it after
everything init uses (as the end-of-file call does).

rmmod(name): runs exit with current_module() = name, forgets the module,
then warns in dmesg about timers it still has pending
(core.pending_timers_of(name)).  -ENOENT if not loaded; -EBUSY (-16) if
the module has an init but no exit (Linux refuses those) unless force=True.

All of this is task context only.
"""

import sys

from . import bug as _bug

_pk = sys.modules["ktimers.printk"]  # not `from . import`: the package binds printk()

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_ENOENT = const(2)
_EBUSY = const(16)
_EEXIST = const(17)
_EINVAL = const(22)


class _ParamError(ValueError):
    pass


class _Mod:
    def __init__(self, name):
        self.name = name
        self.init = None
        self.exit = None
        self.args = {}      # insmod keyword params
        self.params = {}    # declared params -> value used
        self.used = set()
        self.info = {}      # license, author, description, parm descriptions


_modules = {}       # name -> _Mod (loaded)
_order = []         # load order
_loading = None     # _Mod being loaded by insmod
_pending = None     # _Mod collecting params/info of a directly run module
_last = None        # (name, loaded?) of the last directly initialised module


def _meta():
    # the record that module_param/MODULE_* write to
    global _pending
    if _loading is not None:
        return _loading
    if _pending is None:
        _pending = _Mod(None)
    return _pending


def _run(mod, fn, what):
    prev = _pk.set_current_module(mod.name)
    try:
        return fn()
    finally:
        _pk.set_current_module(prev)


def _init_ret(mod, ret):
    # Linux do_init_module(): <0 fails, >0 warns and loads anyway
    if ret is None:
        ret = 0
    if type(ret) is not int:
        _pk.pr_warn("%s: init returned %r, it should follow 0/-E convention",
                    mod.name, ret)
        return 0
    if ret > 0:
        _pk.pr_warn("do_init_module: '%s'->init suspiciously returned %d, it should "
                    "follow 0/-E convention", mod.name, ret)
        _pk.pr_warn("do_init_module: loading module anyway...")
        return 0
    return ret


def _register(mod):
    _modules[mod.name] = mod
    _order.append(mod.name)


def _derive_name(fn, suffix):
    n = getattr(fn, "__name__", None)
    if type(n) is not str:
        raise ValueError("module_init: cannot derive a module name from %r; pass name=" % fn)
    if n.endswith(suffix) and len(n) > len(suffix):
        n = n[:-len(suffix)]
    return n


def module_init(fn, name=None):
    """Declare fn as the module's init function; returns fn (usable as decorator).

    During insmod: records fn.  Otherwise runs fn now as module name
    (default derived from fn.__name__) and registers the module.  Task context.
    """
    global _pending, _last
    if not callable(fn):
        raise TypeError("module_init: fn must be callable, got %s" % type(fn).__name__)
    if name is not None and type(name) is not str:
        raise TypeError("module_init: name must be str, got %s" % type(name).__name__)
    if _loading is not None:
        if _loading.init is not None:
            _pk.pr_err("module_init: %s already has an init function, ignoring %s",
                       _loading.name, getattr(fn, "__name__", "?"))
        else:
            _loading.init = fn
        return fn
    # direct run: a built-in module initialised at "boot"
    mod = _pending if _pending is not None else _Mod(None)
    _pending = None
    mod.name = name if name is not None else _derive_name(fn, "_init")
    mod.init = fn
    if mod.name in _modules:
        _pk.pr_err("module_init: module %s already loaded", mod.name)
        _last = (mod.name, False)
        return fn
    _last = (mod.name, False)
    ret = _init_ret(mod, _run(mod, fn, "init"))
    if ret < 0:
        _pk.pr_err("%s: init failed with error %d, module not loaded", mod.name, ret)
        return fn
    _register(mod)
    _last = (mod.name, True)
    return fn


def module_exit(fn):
    """Declare fn as the exit function of the module being loaded or just
    initialised (directly run); returns fn.  Task context.
    """
    global _last
    if not callable(fn):
        raise TypeError("module_exit: fn must be callable, got %s" % type(fn).__name__)
    if _loading is not None:
        _loading.exit = fn
        return fn
    if _last is not None:
        name, ok = _last
        if ok and name in _modules:
            _modules[name].exit = fn
        return fn
    _meta().exit = fn    # before module_init: module_init keeps it
    return fn


def _convert(pname, value, ptype):
    if ptype is bool:
        if type(value) is bool:
            return value
        if type(value) is int and value in (0, 1):
            return bool(value)
        if type(value) is str and value in ("y", "Y", "1", "n", "N", "0"):
            return value in ("y", "Y", "1")
        raise ValueError("bad bool")
    if ptype is int:
        if type(value) is int:
            return value
        if type(value) is str:
            return int(value, 0)
        raise ValueError("not an int")
    if ptype is str:
        return value if type(value) is str else str(value)
    if ptype is float:
        if type(value) in (int, float):
            return float(value)
        if type(value) is str:
            return float(value)
        raise ValueError("not a float")
    if isinstance(value, ptype):
        return value
    return ptype(value)


def module_param(name, default, type=int, desc=""):
    """Return the value of parameter name for this load: the insmod keyword
    (converted to type: int accepts "0x10"-style strings, bool accepts y/n/1/0)
    or default.  An invalid value logs "<mod>: '<v>' invalid for parameter
    '<name>'" and makes insmod return -EINVAL (ValueError when run directly).
    Task context (module top level).
    """
    ptype = type   # the argument shadows the builtin inside this function
    if not isinstance(name, str):
        raise TypeError("module_param: name must be str, got %s" % name.__class__.__name__)
    if not callable(ptype):
        raise TypeError("module_param: type must be a type, got %r" % (ptype,))
    mod = _meta()
    if desc:
        mod.info["parm:" + name] = desc
    value = default
    if name in mod.args:
        raw = mod.args[name]
        mod.used.add(name)
        try:
            value = _convert(name, raw, ptype)
        except Exception:
            _pk.pr_err("%s: '%s' invalid for parameter '%s'", mod.name, raw, name)
            raise _ParamError("module_param: '%s' invalid for parameter '%s' (%s expected)"
                              % (raw, name, getattr(ptype, "__name__", "?")))
    mod.params[name] = value
    return value


def MODULE_PARM_DESC(name, desc):
    """Record a parameter description (modinfo); returns None."""
    _meta().info["parm:" + str(name)] = desc


def MODULE_LICENSE(s):
    """Record the module license; returns None."""
    _meta().info["license"] = s


def MODULE_AUTHOR(s):
    """Record the module author; returns None."""
    _meta().info["author"] = s


def MODULE_DESCRIPTION(s):
    """Record the module description; returns None."""
    _meta().info["description"] = s


def modinfo(name):
    """Return the recorded info dict of loaded module name (license, author,
    description, parm:<p>), or None if not loaded.  Task context.
    """
    m = _modules.get(name)
    return dict(m.info) if m is not None else None


def insmod(name, **params):
    """Load module name with parameters; returns 0 or -errno (see module doc).

    Task context only.
    """
    global _loading
    if not isinstance(name, str):
        raise TypeError("insmod: name must be str, got %s" % name.__class__.__name__)
    if name in _modules:
        _pk.pr_err("insmod: module %s already loaded", name)
        return -_EEXIST
    mod = _Mod(name)
    mod.args = params
    prev = _loading
    _loading = mod
    try:
        if name in sys.modules:
            del sys.modules[name]
        try:
            __import__(name)
        except _ParamError:
            return -_EINVAL
        except ImportError as e:
            if name in sys.modules:
                del sys.modules[name]
            _pk.pr_err("insmod: ERROR: could not insert module %s: %s", name, e)
            _pk.print_exception_to_dmesg(e, "import", "insmod")
            return -_ENOENT
    finally:
        _loading = prev
    for k in params:
        if k not in mod.used:
            _pk.pr_warn("%s: unknown parameter '%s' ignored", name, k)
    if mod.init is not None:
        ret = _init_ret(mod, _run(mod, mod.init, "init"))
        if ret < 0:
            _pk.pr_err("insmod: ERROR: could not insert module %s: init returned %d",
                       name, ret)
            if name in sys.modules:
                del sys.modules[name]
            _warn_pending(name, "after failed init")
            return ret
    _register(mod)
    return 0


def _pending_timers(name):
    try:
        from . import core
        return core.pending_timers_of(name)
    except (ImportError, AttributeError):   # core not there (yet)
        return []


def rmmod(name, force=False):
    """Unload module name: run its exit, forget it, warn about pending timers.

    Returns 0, -ENOENT (not loaded) or -EBUSY (no exit function, not forced).
    Task context only.
    """
    global _last
    if not isinstance(name, str):
        raise TypeError("rmmod: name must be str, got %s" % name.__class__.__name__)
    mod = _modules.get(name)
    if mod is None:
        _pk.pr_err("rmmod: ERROR: Module %s is not currently loaded", name)
        return -_ENOENT
    if mod.exit is None and mod.init is not None and not force:
        _pk.pr_err("rmmod: ERROR: could not remove module %s: no exit function "
                   "(use force=True)", name)
        return -_EBUSY
    try:
        if mod.exit is not None:
            _run(mod, mod.exit, "exit")
    except Exception as e:
        _pk.print_exception_to_dmesg(e, getattr(mod.exit, "__name__", "exit"), name)
    del _modules[name]
    _order.remove(name)
    if name in sys.modules:
        del sys.modules[name]
    if _last is not None and _last[0] == name:
        _last = None
    _warn_pending(name, "after exit")
    return 0


def _warn_pending(name, when):
    left = _pending_timers(name)
    if left:
        _bug.WARN(True, "rmmod: %s: %d timer(s) still pending %s", name, len(left), when)
        for kind, obj in left:
            _pk.pr_warn("rmmod: %s: pending %s %r", name, kind, obj)


def lsmod():
    """Print loaded modules (newest first, Linux order) and return them as a
    list of (name, params dict).  Task context.
    """
    out = []
    print("Module                  Params")
    for name in reversed(_order):
        m = _modules[name]
        ps = " ".join("%s=%r" % (k, m.params[k]) for k in sorted(m.params))
        print("%-23s %s" % (name, ps))
        out.append((name, dict(m.params)))
    return out
