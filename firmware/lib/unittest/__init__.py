"""unittest -- a small unittest for the emulated board, written for ktimers.

Debian's MicroPython source package ships micropython-lib empty, and PyPI's
`micropython-unittest` (0.4, 2018) is an sdist pip cannot install, so the
firmware freezes this module of our own.  It covers what MicroPython's own
tests (tests/run-tests.py) and small board-side test scripts use:

    import unittest

    class T(unittest.TestCase):
        def test_x(self):
            self.assertEqual(1 + 1, 2)
            with self.assertRaises(ValueError) as cm:
                int("x")

    if __name__ == "__main__":
        unittest.main()

The summary has the layout run-tests.py reads: a line of 70 dashes,
"Ran N tests", an empty line, then "OK", "OK (skipped=N)" or
"FAILED (failures=F, errors=E)".  main() returns the TestResult.
"""

import sys


class SkipTest(Exception):
    pass


class _Raises:
    def __init__(self, exc, tc):
        self.expected = exc
        self.tc = tc
        self.exception = None

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is None:
            self.tc.fail("%r not raised" % (self.expected,))
        if not issubclass(et, self.expected):
            return False  # let it propagate: an error, not a failure
        self.exception = ev
        return True


class TestCase:
    def setUp(self):
        pass

    def tearDown(self):
        pass

    @classmethod
    def setUpClass(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        pass

    def fail(self, msg=""):
        raise AssertionError(msg)

    def skipTest(self, reason):
        raise SkipTest(reason)

    def _check(self, ok, default, msg):
        if not ok:
            raise AssertionError(msg if msg is not None else default)

    def assertEqual(self, a, b, msg=None):
        self._check(a == b, "%r vs (expected) %r" % (a, b), msg)

    def assertNotEqual(self, a, b, msg=None):
        self._check(a != b, "%r == %r" % (a, b), msg)

    def assertTrue(self, x, msg=None):
        self._check(x, "expected %r to be true" % (x,), msg)

    def assertFalse(self, x, msg=None):
        self._check(not x, "expected %r to be false" % (x,), msg)

    def assertIs(self, a, b, msg=None):
        self._check(a is b, "%r is not %r" % (a, b), msg)

    def assertIsNot(self, a, b, msg=None):
        self._check(a is not b, "%r is %r" % (a, b), msg)

    def assertIsNone(self, x, msg=None):
        self._check(x is None, "%r is not None" % (x,), msg)

    def assertIsNotNone(self, x, msg=None):
        self._check(x is not None, "unexpectedly None", msg)

    def assertIn(self, a, b, msg=None):
        self._check(a in b, "%r not in %r" % (a, b), msg)

    def assertNotIn(self, a, b, msg=None):
        self._check(a not in b, "%r unexpectedly in %r" % (a, b), msg)

    def assertIsInstance(self, x, cls, msg=None):
        self._check(isinstance(x, cls), "%r is not an instance of %r" % (x, cls), msg)

    def assertNotIsInstance(self, x, cls, msg=None):
        self._check(not isinstance(x, cls), "%r is an instance of %r" % (x, cls), msg)

    def assertLess(self, a, b, msg=None):
        self._check(a < b, "%r not less than %r" % (a, b), msg)

    def assertLessEqual(self, a, b, msg=None):
        self._check(a <= b, "%r not less than or equal to %r" % (a, b), msg)

    def assertGreater(self, a, b, msg=None):
        self._check(a > b, "%r not greater than %r" % (a, b), msg)

    def assertGreaterEqual(self, a, b, msg=None):
        self._check(a >= b, "%r not greater than or equal to %r" % (a, b), msg)

    def assertAlmostEqual(self, a, b, places=None, msg=None, delta=None):
        if a == b:
            return
        if delta is not None:
            self._check(abs(a - b) <= delta, "%r != %r within %r delta" % (a, b, delta), msg)
        else:
            p = 7 if places is None else places
            self._check(round(abs(a - b), p) == 0, "%r != %r within %r places" % (a, b, p), msg)

    def assertRaises(self, exc, func=None, *args, **kwargs):
        ctx = _Raises(exc, self)
        if func is None:
            return ctx
        with ctx:
            func(*args, **kwargs)
        return None


def skip(reason):
    def deco(f):
        def skipped(*a, **kw):
            raise SkipTest(reason)

        return skipped

    return deco


def skipIf(cond, reason):
    return skip(reason) if cond else (lambda f: f)


def skipUnless(cond, reason):
    return (lambda f: f) if cond else skip(reason)


def expectedFailure(f):
    def wrapped(*a, **kw):
        try:
            f(*a, **kw)
        except AssertionError:
            return
        raise AssertionError("unexpected success")

    return wrapped


class TestResult:
    def __init__(self):
        self.testsRun = 0
        self.failures = []
        self.errors = []
        self.skipped = []

    def wasSuccessful(self):
        return not self.failures and not self.errors


def _run_case(cls, result):
    names = sorted(n for n in dir(cls) if n.startswith("test"))
    try:
        cls.setUpClass()
    except Exception as e:
        result.errors.append((cls.__name__, e))
        sys.print_exception(e)
        return
    for name in names:
        tc = cls()
        label = "%s (%s)" % (name, cls.__name__)
        print(label, "...", end="")
        result.testsRun += 1
        try:
            tc.setUp()
            try:
                getattr(tc, name)()
            finally:
                tc.tearDown()
            print(" ok")
        except SkipTest as e:
            print(" skipped:", e.args[0] if e.args else "")
            result.skipped.append((label, e))
        except AssertionError as e:
            print(" FAIL")
            sys.print_exception(e)
            result.failures.append((label, e))
        except Exception as e:
            print(" ERROR")
            sys.print_exception(e)
            result.errors.append((label, e))
    try:
        cls.tearDownClass()
    except Exception as e:
        result.errors.append((cls.__name__, e))
        sys.print_exception(e)


def main(module="__main__"):
    """Run every TestCase subclass of `module` (a module or its name); print the summary."""
    if isinstance(module, str):
        m = sys.modules.get(module)
        module = m if m is not None else __import__(module)
    result = TestResult()
    for name in dir(module):
        obj = getattr(module, name)
        if isinstance(obj, type) and issubclass(obj, TestCase) and obj is not TestCase:
            _run_case(obj, result)
    print("-" * 70)
    print("Ran %d tests\n" % result.testsRun)
    if result.wasSuccessful():
        if result.skipped:
            print("OK (skipped=%d)" % len(result.skipped))
        else:
            print("OK")
    else:
        print("FAILED (failures=%d, errors=%d)" % (len(result.failures), len(result.errors)))
    return result
