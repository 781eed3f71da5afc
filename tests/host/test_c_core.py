"""The C core (firmware/cmodules/ktimers) against its reference, the Python modules of
lib/ktimers run by CPython.  The board side (tests/device/c_core_cases.py) runs on the
emulated firmware, where the names are the C functions; results and error messages must be
the same, case by case:

- the jiffies twins (jiffies.c): every function, at nine HZ values (1 to 10,000), on edge
  values around the 30-, 31-, 32- and 64-bit boundaries, negatives, long ints and wrong
  types;
- ktimers.ktime's arithmetic (ktime.c) on the same values, and the constants of the ROM
  modules ktime, defs, completion, jiffies and printk.  (The behaviour of completion.c,
  delay.c and printk.c is tests/device/test_completion.py, test_timing.py and
  test_printk.py, which run on the unix port's Python and on this firmware's C alike.)"""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from ktimers_host.board import Board
from ktimers_host.emulator import Emulator
from ktimers_host.flash import flash

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "build" / "mps2-an385" / "firmware.elf"
CASES = ROOT / "tests" / "device" / "c_core_cases.py"
HZS = [250, 100, 1000, 300, 24, 1, 10000, 1024, 7]
_EDGES = [0, 1, 2, 3, 7, 999, 1000, 1001, 65535, 2**30 - 1, 2**30, 2**31 - 1, 2**31, 2**32 - 1,
          2**32, 2**32 + 5, 4294892296, 0x3FFFFFFE, 10**9, 10**9 + 1, 2**63 - 1, 2**63, 2**64 - 1,
          2**64, 2**64 + 7, 2**70 + 3, 10**30]  # fmt: skip
_rnd = random.Random(8)
INTS = (
    _EDGES
    + [-v for v in _EDGES[1:]]
    + [_rnd.getrandbits(_rnd.choice((16, 31, 33, 64, 80))) for _ in range(12)]
)
BAD = [True, 1.5, "7", None]
VALS = INTS + BAD
PAIRS = (
    [(a, b) for a in INTS[::3] for b in INTS[1::4]] + [(1, x) for x in BAD] + [(x, 1) for x in BAD]
)
TRIPLES = [
    (INTS[i], INTS[(i * 7 + 3) % len(INTS)], INTS[(i * 11 + 5) % len(INTS)])
    for i in range(len(INTS))
]
TRIPLES += [(5, 10, "x"), (12, 10, "x"), ("a", 1, 2), (1, None, 2)]

# the functions, by their number of arguments
ONE = [
    "jiffies_to_msecs", "jiffies_to_usecs", "jiffies_to_nsecs", "jiffies64_to_nsecs",
    "jiffies64_to_msecs", "msecs_to_jiffies", "usecs_to_jiffies", "nsecs_to_jiffies64",
    "nsecs_to_jiffies", "secs_to_jiffies", "jiffies_to_clock_t", "round_jiffies",
    "round_jiffies_up", "round_jiffies_relative", "round_jiffies_up_relative",
    "time_is_before_jiffies", "time_is_after_jiffies", "time_is_before_eq_jiffies",
    "time_is_after_eq_jiffies", "time_is_before_jiffies64", "time_is_after_jiffies64",
    "time_is_before_eq_jiffies64", "time_is_after_eq_jiffies64",
]  # fmt: skip
TWO = ["time_after", "time_before", "time_after_eq", "time_before_eq", "time_after64",
       "time_before64", "time_after_eq64", "time_before_eq64"]  # fmt: skip
THREE = ["time_in_range", "time_in_range_open", "time_in_range64"]


def _reference(name: str = "jiffies") -> ModuleType:
    # lib/ktimers/<name>.py as module ktref.<name> of a stand-in package whose core has the
    # default clock offsets (ktime.py reads them from ktimers.core); micropython.const is
    # the identity, as under CPython
    pkg = ModuleType("ktref")
    pkg.__path__ = []
    core = ModuleType("ktref.core")
    core._offs = [0, 0, 37 * 10**9]  # type: ignore[attr-defined]  # boot, real, tai
    core.ktime_get = lambda: 0  # type: ignore[attr-defined]  # (bound by ktime.py, not called)
    mp = ModuleType("micropython")
    mp.const = lambda x: x  # type: ignore[attr-defined]
    saved = {k: sys.modules.get(k) for k in ("ktref", "ktref.core", "micropython")}
    sys.modules.update({"ktref": pkg, "ktref.core": core, "micropython": mp})
    try:
        for n in ("_printk", name) if name == "printk" else (name,):  # printk.py imports it
            spec = importlib.util.spec_from_file_location(
                f"ktref.{n}", ROOT / f"lib/ktimers/{n}.py"
            )
            assert spec is not None and spec.loader is not None
            mod = importlib.util.module_from_spec(spec)
            sys.modules[f"ktref.{n}"] = mod
            saved.setdefault(f"ktref.{n}", None)
            spec.loader.exec_module(mod)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    return mod


def _expect(f: object, args: tuple) -> str:
    try:
        r = f(*args)  # type: ignore[operator]
    except Exception as e:  # noqa: BLE001 - the message is compared
        return f"E {type(e).__name__} {e}"
    return f"R {r!r}"


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    if not FIRMWARE.exists():
        pytest.fail(f"{FIRMWARE} is missing: run `make firmware` first")
    work = tmp_path_factory.mktemp("ccore")
    emu = Emulator(FIRMWARE, work / "flash.img", deterministic=True, workdir=work)
    emu.start()
    b = Board("mps2-an385", port=str(emu.pty), root=ROOT).connect()
    try:
        flash(b, progress=False)
        yield b
    finally:
        b.close()
        emu.stop()


def test_c_jiffies_match_python_reference(board: Board) -> None:
    call = f"\nrun({HZS!r}, {VALS!r}, {PAIRS!r}, {TRIPLES!r}, {ONE!r}, {TWO!r}, {THREE!r})\n"
    out = board.exec(CASES.read_text() + call, timeout=600)
    lines = out.splitlines()
    assert lines and lines[-1].strip() == "C_CORE True", lines[-3:]  # the C functions ran
    ref = _reference()
    got: dict[tuple[str, int, int], str] = {}
    now: dict[int, tuple[int, int]] = {}
    for ln in lines:
        if ln.startswith("NOW "):
            _, hz, j, j64 = ln.split()
            now[int(hz)] = (int(j), int(j64))
        elif ln.startswith("K "):
            _, fn, hz, i, rest = ln.split(" ", 4)
            got[(fn, int(hz), int(i))] = rest.rstrip("\r")
    assert sorted(now) == sorted(HZS)

    want: dict[tuple[str, int, int], str] = {}
    for hz in HZS:
        ref._set_hz(hz)
        j, j64 = now[hz]
        ref._now32 = lambda j=j: j
        ref._now64 = lambda j64=j64: j64
        for fn in ONE:
            for i, v in enumerate(VALS):
                want[(fn, hz, i)] = _expect(getattr(ref, fn), (v,))
    ref._set_hz(HZS[0])
    for fn in TWO:
        for i, a in enumerate(PAIRS):
            want[(fn, HZS[0], i)] = _expect(getattr(ref, fn), a)
    for fn in THREE:
        for i, a in enumerate(TRIPLES):
            want[(fn, HZS[0], i)] = _expect(getattr(ref, fn), a)
    assert len(want) > 6000 and set(got) == set(want), (len(got), len(want))
    bad = [(k, got[k], want[k]) for k in want if got[k] != want[k]]
    assert not bad, f"{len(bad)} of {len(want)} differ, e.g. {bad[:8]}"


KT_ONE = ["ns_to_ktime", "us_to_ktime", "ms_to_ktime", "ktime_to_ns", "ktime_to_us",
          "ktime_to_ms", "clock_offset"]  # fmt: skip
KT_TWO = ["ktime_set", "ktime_add", "ktime_sub", "ktime_add_safe", "ktime_divns"]
ROM_MODS = ("ktime", "defs", "completion", "jiffies", "printk")
ATTRS = {"jiffies": ("HZ", "INITIAL_JIFFIES", "TICK_NSEC")}  # computed by the ROM module
KT_VALS = VALS + [9223372035, 9223372036, 9223372037, -(2**63), -(2**63) - 1, 11, 7, 4]


def test_c_ktime_match_python_reference(board: Board) -> None:
    call = f"\nrun_ktime({KT_VALS!r}, {PAIRS!r}, {KT_ONE!r}, {KT_TWO!r}, {ROM_MODS!r}, {ATTRS!r})\n"
    out = board.exec(CASES.read_text() + call, timeout=600)
    got: dict[tuple[str, int], str] = {}
    consts: dict[str, dict[str, str]] = {}
    rom: dict[str, str] = {}
    for ln in out.splitlines():
        ln = ln.rstrip("\r")
        if ln.startswith("T "):
            _, fn, i, rest = ln.split(" ", 3)
            got[(fn, int(i))] = rest
        elif ln.startswith("KC "):
            _, mod, name, val = ln.split(" ", 3)
            consts.setdefault(mod, {})[name] = val
        elif ln.startswith("KT_C "):
            _, mod, flag = ln.split()
            rom[mod] = flag
    assert rom == {m: "True" for m in ROM_MODS}, rom  # the C core's modules ran

    ref = _reference("ktime")
    want: dict[tuple[str, int], str] = {}
    for fn in KT_ONE:
        for i, v in enumerate(KT_VALS):
            want[(fn, i)] = _expect(getattr(ref, fn), (v,))
    for fn in KT_TWO:
        for i, a in enumerate(PAIRS):
            want[(fn, i)] = _expect(getattr(ref, fn), a)
    assert len(want) > 2000 and set(got) == set(want), (len(got), len(want))
    bad = [(k, got[k], want[k]) for k in want if got[k] != want[k]]
    assert not bad, f"{len(bad)} of {len(want)} differ, e.g. {bad[:8]}"

    for mod in ROM_MODS:
        r = vars(_reference(mod))
        if mod == "jiffies":
            r["_set_hz"](250)
        exp = {k: repr(v) for k, v in r.items() if k[0] != "_" and type(v) in (int, str)}
        assert consts.get(mod) == exp, (mod, consts.get(mod), exp)


def test_libqstrs_lists_the_library_names() -> None:
    """firmware/cmodules/ktimers/libqstrs.c is what firmware/libqstrs.py makes of today's
    lib/ktimers: a name added to the library without `make libqstrs` fails here."""
    r = subprocess.run(
        [sys.executable, str(ROOT / "firmware" / "libqstrs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_mpy_loading_interns_no_library_name(board: Board) -> None:
    """With the library's names in the firmware's ROM qstr pool, loading ktimers and its
    hrtimer code from .mpy files interns only names that cannot be C identifiers (file and
    dotted module names): micropython.qstr_info(1) lists every qstr made on the heap since
    the soft reset."""
    board.soft_reset()  # the other tests' scripts made qstrs of their own
    out = board.exec(
        "import micropython, ktimers\n"
        "t = ktimers.hrtimer()\n"
        "print(type(ktimers._mod('hrtimer_base')._i).__name__)\n"
        "micropython.qstr_info(1)\n",
        timeout=60,
    )
    lines = out.splitlines()
    assert lines[0].strip() == "hrtimer_irq", lines[:3]  # the C core's clock event handlers
    names = [ln.strip()[2:-1] for ln in lines if ln.strip().startswith("Q(")]
    assert len(names) > 10, out[-2000:]  # the file names are there: the listing works
    idents = [n for n in names if n.isidentifier()]
    assert not idents, idents


def test_c_modules_after_soft_reset(board: Board) -> None:
    """ktimers.core and ktimers.hrtimer_base are made in C each time the package is imported,
    and their functions find them through root pointers, which a soft reset leaves stale:
    after one, the C calls are handed out only once this session's core exists, and the
    modules made again work."""
    board.exec("import ktimers\nt = ktimers.hrtimer()\n", timeout=60)
    board.soft_reset()
    out = board.exec(
        "import _ktimers\n"
        "try:\n"
        "    _ktimers.hrtimer_calls()\n"
        "    print('handed out')\n"
        "except RuntimeError as e:\n"
        "    print('RuntimeError', e)\n"
        "import ktimers\n"
        "from ktimers import *\n"
        "n = [0]\n"
        "def cb(t):\n"
        "    n[0] += 1\n"
        "    return HRTIMER_NORESTART\n"
        "t = hrtimer()\n"
        "hrtimer_setup(t, cb, CLOCK_MONOTONIC, HRTIMER_MODE_REL)\n"
        "hrtimer_start(t, 1000000, HRTIMER_MODE_REL)\n"
        "msleep(5)\n"
        "hb = ktimers._mod('hrtimer_base')\n"
        "c = _ktimers.hrtimer_calls()\n"
        "print(n[0], hasattr(hb, '__file__'), c.hrtimer_start is hrtimer_start)\n",
        timeout=60,
    )
    lines = out.strip().splitlines()
    assert lines[0] == "RuntimeError ktimers.core: not loaded", out
    assert lines[-1] == "1 False True", out  # the C queue ran it; the calls are the C ones
