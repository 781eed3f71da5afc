"""Run the MicroPython test scripts of tests/device/ on real MicroPython.

Each script asserts what it checks and prints ``KTEST PASS`` last; anything
else (a traceback, a missing line, a time-out) fails with the board's output.
The unix board runs them as a local process of the unix port built from
Debian's micropython source (build/unix/micropython); the emulated board
(mps2-an385) runs them over its serial pty through the harness.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ktimers_host.board import Board
from ktimers_host.emulator import Emulator
from ktimers_host.flash import flash
from ktimers_host.pytest_plugin import check_device_output
from ktimers_host.transport import BoardError, LinkError

ROOT = Path(__file__).resolve().parent.parent
DEVICE = ROOT / "tests" / "device"
SCRIPTS = sorted(p.name for p in DEVICE.glob("test_*.py"))
UNIX = ROOT / "build" / "unix" / "micropython"
FIRMWARE = ROOT / "build" / "mps2-an385" / "firmware.elf"
# the same board without ktimers' C core (`make firmware-nocore`), as a stock MicroPython build
# would be: there the library's Python core, hrtimer queue and calls run, on 32-bit small ints
FIRMWARE_NOCORE = ROOT / "build" / "mps2-an385" / "firmware-nocore.elf"
# the emulated board runs these from its flash; the unix-only stand-ins stay on unix
MPS2_SKIP = {"test_backend_standins.py"}
# assertions that count interrupts against board time: on QEMU -icount (deterministic), where
# a busy host cannot hold the guest back for a hundred periods (a real-time run under a CPU
# burner once saw 2 HARD callbacks in a 693-period window)
# test_trace_race sizes its ring for the HARD timer's expiries during N task records: in real
# time a busy host slows the guest's loop, not its clock, and 1887 records overflowed the ring.
MPS2_DETERMINISTIC = {"test_heaplock.py", "test_trace_race.py"}
EXAMPLES = ROOT / "examples"


def run_unix(script: Path, timeout: float = 120.0, extra_path: str = "") -> str:
    if not UNIX.exists():
        pytest.fail(f"{UNIX} is missing: run `make setup` first")
    env = dict(os.environ, MICROPYPATH=f"{ROOT / 'lib'}:{DEVICE}{extra_path}")
    proc = subprocess.run(
        [str(UNIX), str(script)],
        cwd=script.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc.stdout + proc.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_device_script_unix(script: str) -> None:
    out = run_unix(DEVICE / script)
    assert out.rstrip().endswith("KTEST PASS"), out


def _timestamps(out: str, needle: str) -> list[float]:
    got = []
    for line in out.splitlines():
        if needle in line and line.startswith("["):
            got.append(float(line[1 : line.index("]")]))
    return got


def test_example_timer_test_unix() -> None:
    """Seed 003: timers 1 and 2 fire 5 s and 10 s after init with their data,
    by the board's own printk timestamps (clocksource)."""
    out = run_unix(EXAMPLES / "timer_test.py", timeout=60)
    init = _timestamps(out, "timer_test: timer module init")
    d1 = _timestamps(out, "here i am with my data '1234'!")
    d2 = _timestamps(out, "here i am with my data '9876'!")
    assert len(init) == len(d1) == len(d2) == 1, out
    assert "timer_test: arming timer 1 to fire 5 seconds from now" in out
    assert "timer_test: arming timer 2 to fire 10 seconds from now" in out
    # 1250 and 2500 jiffies at HZ=250 sit on wheel level 2: granularity 64 jiffies
    # (256 ms), rounded up, never early; plus softirq latency on the host
    slack = 64 / 250 + 0.1
    assert 5.0 <= d1[0] - init[0] <= 5.0 + slack, out
    assert 10.0 <= d2[0] - init[0] <= 10.0 + slack, out


def test_example_hires_timer_unix() -> None:
    """Seed 000: expiries every delay_ns with data counting up, never early."""
    out = run_unix(EXAMPLES / "hires_timer.py", timeout=30)
    assert "hires_timer: delay is set to 500000000ns" in out, out
    assert "hires_timer: hires timer module loaded" in out
    ts = _timestamps(out, "kernel timer expired at")
    # 5 periods fit the script's msleep(2750); a busy host may return from it
    # late, and the timer keeps firing until rmmod: more, never fewer
    assert len(ts) >= 5, out
    for k in range(len(ts)):
        assert f"(data={k})" in out
    loaded = _timestamps(out, "hires timer module loaded")[0]
    unloaded = _timestamps(out, "hires timer module unloaded")[0]
    for k, t in enumerate(ts):
        assert t >= loaded + 0.5 * (k + 1) - 0.001, (k, t, out)  # never early
        assert t <= unloaded, (k, t, out)  # none after hrtimer_cancel
    assert "Traceback" not in out, out


@pytest.mark.parametrize("name", ["repeating_timer", "console_timer"])
def test_example_runs_unix(name: str) -> None:
    out = run_unix(EXAMPLES / f"{name}.py", timeout=30)
    assert "Traceback" not in out and f"{name}: " in out, out
    if name == "repeating_timer":
        assert "stopped after" in out and "pending=0" in out, out
    else:
        assert "console blanked after 150 jiffies" in out, out


def _mps2_board(
    tmp_path_factory: pytest.TempPathFactory, deterministic: bool, firmware: Path = FIRMWARE
) -> Iterator[Board]:
    if not firmware.exists():
        pytest.fail(f"{firmware} is missing: run `make setup` first")
    work = tmp_path_factory.mktemp("mps2")
    emu = Emulator(firmware, work / "flash.img", deterministic=deterministic, workdir=work)
    emu.start()
    b = Board("mps2-an385", port=str(emu.pty), root=ROOT).connect()
    try:
        flash(b, progress=False)
        # the device scripts import their shared helpers from ktest (only the
        # script itself is sent per test): put it next to the library
        b.transport.write_file(b.lib_dir + "/ktest.py", (DEVICE / "ktest.py").read_bytes())
        yield b
    finally:
        b.close()
        emu.stop()


@pytest.fixture(scope="module")
def mps2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    """The emulated reference board: a private QEMU (own flash image), the
    library flashed as .mpy, reached over its serial pty."""
    yield from _mps2_board(tmp_path_factory, deterministic=False)


@pytest.fixture(scope="module")
def mps2_det(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    """The same board on QEMU -icount: 1 instruction = 1 ns, the host's load cannot stall it."""
    yield from _mps2_board(tmp_path_factory, deterministic=True)


@pytest.fixture(scope="module")
def mps2_nocore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    """The emulated board on the firmware without the C core: the library all-Python."""
    yield from _mps2_board(tmp_path_factory, deterministic=False, firmware=FIRMWARE_NOCORE)


@pytest.fixture(scope="module")
def mps2_nocore_det(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    yield from _mps2_board(tmp_path_factory, deterministic=True, firmware=FIRMWARE_NOCORE)


MPS2_REALTIME = [s for s in SCRIPTS if s not in MPS2_SKIP and s not in MPS2_DETERMINISTIC]


@pytest.mark.parametrize("script", MPS2_REALTIME)
def test_device_script_mps2(mps2: Board, script: str) -> None:
    _run_mps2(mps2, script)


@pytest.mark.parametrize("script", sorted(MPS2_DETERMINISTIC))
def test_device_script_mps2_deterministic(mps2_det: Board, script: str) -> None:
    _run_mps2(mps2_det, script)


@pytest.mark.parametrize("script", MPS2_REALTIME)
def test_device_script_mps2_nocore(mps2_nocore: Board, script: str) -> None:
    _run_mps2(mps2_nocore, script)


@pytest.mark.parametrize("script", sorted(MPS2_DETERMINISTIC))
def test_device_script_mps2_nocore_deterministic(mps2_nocore_det: Board, script: str) -> None:
    """test_heaplock here runs the Python tick, clock event and HARD dispatch under heap_lock."""
    _run_mps2(mps2_nocore_det, script)


def _run_mps2(mps2: Board, script: str) -> None:
    path = DEVICE / script
    try:
        mps2.soft_reset()
        out = mps2.run_script(path, timeout=300)
    except BoardError as e:
        pytest.fail(f"{script} raised on mps2-an385:\n{e.output}\n{e.traceback}", pytrace=False)
    except LinkError as e:
        pytest.fail(f"{script}: link failure: {type(e).__name__}: {e}\n{e.output}", pytrace=False)
    check_device_output(script, mps2, out)
