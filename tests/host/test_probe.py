"""``ktimers probe`` on every board that runs here: the unix port, the emulated board
(both of its profiles), and labelled stand-ins of ports that refuse ``hard=``.  The
profile it writes is used as written: validate runs on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ktimers_host import probe, profiles
from ktimers_host.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "build" / "mps2-an385" / "firmware.elf"
UNIX = ROOT / "build" / "unix" / "micropython"
KTIMERS = Path(sys.executable).parent / "ktimers"
DEVICE = ROOT / "tests" / "device"


def _ktimers(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KTIMERS), "-q", *args], capture_output=True, text=True, timeout=timeout
    )


def test_probe_unix_board(tmp_path: Path) -> None:
    out = tmp_path / "u.json"
    proc = _ktimers("--board", "unix", "probe", "--json", str(out))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "schedule queue       4" in proc.stdout, proc.stdout
    prof = profiles.load(str(out))
    assert prof["device"] == {"BACKEND": "unix", "HZ": 250, "HARD_IRQ": False}
    assert prof["micropython"]["version"] == "1.25.0" and prof["micropython"]["platform"] == "linux"
    rec = prof["probe"]
    assert rec["machine_timer"] is None and rec["thread_schedule"]["lateness_us"]["n"] >= 100
    assert rec["ticks_us_res"] == 1 and rec["mem_free"] > 100_000
    assert rec["c_core"] is None and "ktimers C core       none" in proc.stdout, proc.stdout
    profiles.board_module(prof)  # writable as ktimers_board.py


def _det_emulator(tmp: Path) -> Emulator:
    if not FIRMWARE.exists():
        pytest.fail(f"{FIRMWARE} is missing: run `make firmware` first")
    emu = Emulator(FIRMWARE, tmp / "flash.img", deterministic=True, workdir=tmp)
    emu.start()
    return emu


def _validate(profile: Path, pty: str, tmp: Path) -> dict:
    out = tmp / f"{profile.stem}-v.json"
    proc = _ktimers(
        "--board", str(profile), "--port", pty, "validate", "--samples", "300",
        "--scenario", "hr-1ms-soft", "--scenario", "hr-1ms-hard", "--scenario", "wheel",
        "--json", str(out),
    )  # fmt: skip
    doc = json.loads(out.read_text())
    assert proc.returncode == 0 and doc["passed"], (
        doc.get("error"),
        proc.stdout[-3000:],
        proc.stderr[-2000:],
    )
    assert sum(r["early"] for r in doc["scenarios"]) == 0
    return doc


def test_probe_emulated_board_profiles(tmp_path: Path) -> None:
    """One deterministic emulator: probed through both emulated profiles.  Through
    mps2-an385 the probe picks the mps2 backend (hard callbacks seen with the heap locked);
    the machine.Timer it finds is upstream's soft timer (id -1 only, hard= not offered).
    The mps2 profile it writes passes validate as written; the generic machine one (what a
    port with only that machine.Timer would get) is the profile test_machine_board.py
    validates."""
    emu = _det_emulator(tmp_path)
    try:
        pty = str(emu.pty)
        out = tmp_path / "probed-mps2.json"
        proc = _ktimers("--board", "mps2-an385", "--port", pty, "probe", "--json", str(out))
        assert proc.returncode == 0, proc.stderr + proc.stdout
        prof = profiles.load(str(out))
        assert prof["device"]["BACKEND"] == "mps2" and prof["device"]["HARD_IRQ"] is True
        rec = prof["probe"]
        assert rec["platform"] == "qemu" and rec["sched_depth"] == 4
        assert rec["c_core"] == 160 and "_ktimers (160 ROM proxies)" in proc.stdout, proc.stdout
        assert rec["mps2_timer"]["hard"] == "honoured"
        mt = rec["machine_timer"]
        assert (
            mt["ids"] == [-1]
            and mt["ONE_SHOT"]
            and not mt["ONESHOT"]
            and mt["hard"] == "not offered"
        )
        # deterministic mode: a raw hard CMSDK callback is a few us late, a scheduled
        # soft-timer one lands on the next 1 ms SysTick
        assert rec["mps2_timer"]["lateness_us"]["max"] < 100, rec["mps2_timer"]
        assert rec["ticks_cpu_hz"] == pytest.approx(25_000_000, rel=0.01)
        assert (
            prof["tolerances"]["hrtimer_hard_p99_late_us"]
            < prof["tolerances"]["hrtimer_soft_p99_late_us"]
        )
        _validate(out, pty, tmp_path)

        out2 = tmp_path / "probed-machine.json"
        proc = _ktimers(
            "--board", "mps2-an385-machine", "--port", pty, "probe", "--json", str(out2)
        )
        assert proc.returncode == 0, proc.stderr + proc.stdout
        rec2 = profiles.load(str(out2))["probe"]
        rec2["mps2_timer"] = None  # a port whose only timer API is upstream's machine.Timer
        prof2 = probe.make_profile(rec2, "probed-machine", pty)
        assert prof2["device"] == {
            "BACKEND": "machine",
            "HZ": 250,
            "HARD_IRQ": False,
            "TICK_TIMER": -1,
            "CE_TIMER": -1,
        }
        assert (
            prof2["tolerances"]["hrtimer_hard_p99_late_us"]
            == prof2["tolerances"]["hrtimer_soft_p99_late_us"]
        )
        assert prof2["connect"] == {"kind": "serial", "baud": 115200, "port": pty}
        profiles.board_module(prof2)
    finally:
        emu.stop()


STANDIN_PROBE = """
import sys
from standins import vhw
vhw.install()
from standins import {mod}
{mod}.install({args})
"""


@pytest.mark.parametrize(
    ("mod", "args", "platform", "want"),
    [
        ("rp2_standin", "version=(1, 25, 0)", "rp2", "not offered"),
        ("rp2_standin", "version=(1, 26, 0)", "rp2", "honoured"),
        ("rp2_standin", "version=(1, 26, 0), ignores_hard=True", "rp2", "accepted, not honoured"),
        ("esp32_standin", "version=(1, 26, 0)", "esp32", "refused: hard IRQ not supported"),
        ("esp32_standin", "version=(1, 25, 0)", "esp32", "not offered"),
        ("machine_standin", "", "samd", "not offered"),
    ],
)
def test_probe_against_standins(
    mod: str, args: str, platform: str, want: str, tmp_path: Path
) -> None:
    """STAND-INS (tests/device/standins/, labelled): the probe's machine.Timer checks on
    port APIs that refuse, ignore or honour hard=, and the profile that follows."""
    if not UNIX.exists():
        pytest.fail(f"{UNIX} is missing: run `make unix`")
    script = tmp_path / "p.py"
    script.write_text(
        STANDIN_PROBE.format(mod=mod, args=args)
        + probe.device_source()
        + "\nimport json\nprint('KPT ' + json.dumps(_machine_timer({})))\n"
    )
    env = dict(os.environ, MICROPYPATH=str(DEVICE))
    proc = subprocess.run(
        [str(UNIX), str(script)], capture_output=True, text=True, timeout=60, env=env
    )
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("KPT ")]
    assert len(line) == 1, proc.stdout + proc.stderr
    mt = json.loads(line[0][4:])
    assert mt["hard"] == want, mt
    assert mt["lateness_us"]["n"] >= 100, mt
    rec = probe.parse(
        "KPROBE "
        + json.dumps(
            {"platform": platform, "version": [1, 25, 0], "machine": "stand-in", "mpy_arch": None,
             "mem_free": 100000, "mem_alloc": 1000, "sched_depth": 4, "ticks_us_res": 1,
             "ticks_cpu_res": None, "ticks_cpu_hz": None, "machine_timer": mt,
             "pyb_timer": None, "mps2_timer": None, "thread_schedule": None}
        )
    )  # fmt: skip
    prof = probe.make_profile(rec, "s")
    assert prof["device"]["HARD_IRQ"] is (want == "honoured" and platform == "rp2"), prof["device"]
    assert (
        prof["device"]["BACKEND"] == {"rp2": "rp2", "esp32": "esp32", "samd": "machine"}[platform]
    )


@pytest.mark.parametrize(
    "bad",
    [
        "no record",
        'KPROBE {"platform": "x"',
        'KPROBE {"platform": "x", "version": [1, 25]}',
        'KPROBE {"platform": "x", "version": [1, 25, 0], "sched_depth": "4"}',
        'KPROBE {"platform": "x", "version": [1, 25, 0], "mem_free": -5}',
        'KPROBE {"platform": "x", "version": [1, 25, 0], "c_core": true}',
        'KPROBE {"platform": "x", "version": [1, 25, 0], "machine_timer": {"lateness_us": {}}}',
        'KPROBE {"platform": "x", "version": [1, 25, 0]}\nKPROBE {"platform": "y"}',
    ],
)
def test_probe_record_checked(bad: str) -> None:
    with pytest.raises(probe.ProbeError):
        probe.parse(bad)
