# ktest: assertion helpers shared by the MicroPython scripts in tests/device/
# (MicroPython module: on unix it is found via MICROPYPATH=lib:tests/device,
# on the emulated board tests/test_device_scripts.py copies it to the lib dir).


def eq(got, want, what):
    assert got == want, "%s: got %r, want %r" % (what, got, want)


def raises(exc, fn, args, text=None):
    try:
        fn(*args)
    except exc as e:
        if text is not None:
            assert text in str(e), "%s%r: message %r lacks %r" % (fn.__name__, args, str(e), text)
        return
    raise AssertionError("%s%r did not raise %s" % (fn.__name__, args, exc.__name__))
