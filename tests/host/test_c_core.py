"""The C core's jiffies twins (firmware/cmodules/ktimers/jiffies.c) against their
reference, lib/ktimers/jiffies.py run by CPython: every function, at nine HZ values (1 to
10,000), on edge values around the 30-, 31-, 32- and 64-bit boundaries, negatives, long
ints and wrong types.  The board side (tests/device/c_core_cases.py) runs on the emulated
firmware, where the names are the C functions; results and error messages must be the
same, case by case."""

from __future__ import annotations

import importlib.util
import random
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


def _reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kt_jiffies_ref", ROOT / "lib/ktimers/jiffies.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
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
    sys.modules.pop("kt_jiffies_ref", None)

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
