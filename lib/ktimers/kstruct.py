"""ktimers.kstruct -- container_of() for Python objects (Linux container_of, from_timer).

C finds the structure around an embedded member by pointer arithmetic.
Python has none, so an embeddable object (timer_list, hrtimer, anything with
a ``_container`` attribute) keeps a back-reference to the struct holding it,
and the struct sets it when the member is assigned.  Derive your struct
from ``kstruct``::

    from ktimers import kstruct, container_of

    class hires_timer_data(kstruct):
        def __init__(self):
            self.timer = hrtimer()
            self.data = 0

    def hires_timer_handler(ptr):
        info = container_of(ptr, hires_timer_data, "timer")
        info.data += 1
        ...

How the back-reference is set: on ports with
MICROPY_PY_DELATTR_SETATTR (unix standard, qemu/mps2, rp2, esp32, stm32 --
every "extra features" port) kstruct.__setattr__ links every assignment.
Without it (minimal ports; HAVE_SETATTR is False) link explicitly: call
``kstruct.__init__(self)`` / ``super().__init__()`` AFTER setting the fields
(it scans them), pass them as keywords (``hires_timer_data(timer=hrtimer(),
data=0)``), or use ``self.embed("timer", hrtimer())``.

__setattr__ costs a Python call per attribute store on a kstruct; it is
allocation-free for existing attributes, so hard-IRQ callbacks may update
their struct's fields.
"""

_MISSING = object()
HAVE_SETATTR = False


def _link(container, value):
    if type(value) is not int and getattr(value, "_container", _MISSING) is not _MISSING:
        value._container = container


class kstruct:
    """Base class for structs that embed timers (see module doc)."""

    def __init__(self, **fields):
        """Set the keyword fields, then link every embeddable attribute."""
        for k in fields:
            setattr(self, k, fields[k])
        self.link()

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if type(value) is not int and getattr(value, "_container", _MISSING) is not _MISSING:
            value._container = self

    def link(self):
        """Point every embeddable attribute's ``_container`` at self; returns self.

        Needed only on ports without __setattr__ support.  Task/softirq.
        """
        d = getattr(self, "__dict__", None)
        if d is not None:
            for k in d:
                _link(self, d[k])
        return self

    def embed(self, name, obj):
        """Set attribute name to obj and link obj to self; returns obj."""
        if type(name) is not str:
            raise TypeError("embed: name must be str, got %s" % _tname(type(name)))
        setattr(self, name, obj)
        _link(self, obj)
        return obj


def _probe():
    class _P:
        hit = False

        def __setattr__(self, n, v):
            _P.hit = True
            object.__setattr__(self, n, v)
    try:
        _P().x = 1
    except Exception:
        return False
    return _P.hit


HAVE_SETATTR = _probe()


def _tname(t):
    return getattr(t, "__name__", "?")


def container_of(ptr, type_, member):
    """Return the struct of class type_ whose attribute member is ptr.

    Raises TypeError if ptr is not embedded in such a struct (derive the
    struct from ktimers.kstruct) or member does not hold ptr.  Any context
    (allocation-free on success).
    """
    c = getattr(ptr, "_container", None)
    if c is None:
        raise TypeError("container_of: %s object is not embedded in a %s: derive %s from "
                        "ktimers.kstruct (or call kstruct.link()/embed() on ports without "
                        "__setattr__), or use timer_container_of"
                        % (_tname(type(ptr)), _tname(type_), _tname(type_)))
    if type_ is not None and not isinstance(c, type_):
        raise TypeError("container_of: %s object is embedded in a %s, not a %s"
                        % (_tname(type(ptr)), _tname(type(c)), _tname(type_)))
    if type(member) is not str:
        raise TypeError("container_of: member must be str, got %s" % _tname(type(member)))
    if getattr(c, member, None) is not ptr:
        raise TypeError("container_of: %s.%s is not this %s object (it was moved or "
                        "replaced; derive the struct from ktimers.kstruct)"
                        % (_tname(type(c)), member, _tname(type(ptr))))
    return c


def timer_container_of(var, timer, field):
    """Linux timer_container_of(var, timer, field) (from_timer before 6.16).

    var names the struct type: the class itself, an instance of it, or None
    (no type check).  Returns the struct whose attribute field is timer.
    Any context.
    """
    if var is None:
        t = None
    elif isinstance(var, type):
        t = var
    else:
        t = type(var)
    return container_of(timer, t, field)


from_timer = timer_container_of
