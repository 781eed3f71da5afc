"""`ktimers --deterministic validate` on the emulated board under QEMU -icount: timing that
does not depend on the host's load, the profile's tight deterministic tolerances, and the
wrap soak (>= 3 clocksource wraps and the jiffies wrap; nothing early, lost or stopped)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ktimers_host.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "build" / "mps2-an385" / "firmware.elf"
FIRMWARE_NOCORE = ROOT / "build" / "mps2-an385" / "firmware-nocore.elf"
KTIMERS = Path(sys.executable).parent / "ktimers"
SCEN = ["hr-1ms-hard", "hr-1ms-soft", "wheel", "soak"]


def _validate(tmp_path: Path, firmware: Path, scen: list[str], *extra: str):
    """`ktimers --deterministic validate` of `scen` on a private QEMU -icount running
    `firmware`, the library flashed first: (the process, its JSON report)."""
    if not firmware.exists():
        pytest.fail(f"{firmware} is missing: run `make setup`")
    emu = Emulator(firmware, tmp_path / "flash.img", deterministic=True, workdir=tmp_path)
    emu.start()
    out = tmp_path / "det.json"
    kt = [str(KTIMERS), "--board", "mps2-an385", "--port", str(emu.pty), "--deterministic"]
    try:
        subprocess.run([*kt, "-q", "flash"], check=True, timeout=600, capture_output=True)
        args = [a for s in scen for a in ("--scenario", s)]
        proc = subprocess.run(
            [*kt, "validate", *args, *extra, "--json", str(out)],
            capture_output=True,
            text=True,
            timeout=1500,
        )
    finally:
        emu.stop()
    print(proc.stdout)
    return proc, json.loads(out.read_text())


def _check_soak(r: dict) -> None:
    # >= 3 clocksource wraps and the jiffies wrap in 1 s of board time (the soak shortens
    # the counter and starts jiffies near the wrap); every HARD period served, nothing
    # overdue, ktime never backwards, the subsystem alive at the end
    soak = r["soak"]
    assert soak["cs_wraps"] >= 3 and soak["jiffies_wraps"] >= 1, soak
    assert soak["hard_irq"] == 1 and soak["hard_periods"] == soak["hard_calls"], soak
    assert soak["alive"] == 1 and soak["overdue"] == 0 and soak["ktime_back"] == 0, soak
    assert r["wheel"]["samples"] > 20 and r["hr_samples"] > 500
    assert r["early"] == 0


def test_deterministic_validate_with_soak(tmp_path: Path) -> None:
    proc, doc = _validate(tmp_path, FIRMWARE, SCEN, "--samples", "1000")
    res = {r["name"]: r for r in doc["scenarios"]}
    assert doc["tolerances"].get("deterministic") is True, doc["tolerances"]
    assert doc["passed"], [(r["name"], r["failures"]) for r in doc["scenarios"]]
    assert proc.returncode == 0, proc.stderr
    tol = doc["tolerances"]
    # every scenario judged on the clocksource; nothing early
    for r in doc["scenarios"]:
        assert r["early"] == 0, r["name"]
    assert res["wheel"]["unit"] == "us" and res["wheel"]["late_excess_max_us"] is not None
    # the bounds are tight: doubling today's figure would fail (a 2x regression)
    hard = res["hr-1ms-hard"]
    assert 2 * hard["beyond_hard_p99_us"] > tol["hrtimer_hard_p99_late_us"], hard["p99"]
    # (the max bound is not held to 2x: a HARD expiry that meets the tick's interrupt waits
    # for it, 2.5 us where a run's periods meet the tick and 0.64 us where they do not --
    # which of the two a run sees moves with the code's layout)
    assert hard["beyond_hard_max_us"] <= tol["hrtimer_hard_max_late_us"], hard["max"]
    _check_soak(res["soak"])
    assert "(us, clocksource)" in proc.stdout


def test_deterministic_soak_without_the_c_core(tmp_path: Path) -> None:
    """The same soak on firmware-nocore.elf: the Python core, hrtimer queue and the native
    clock event handlers across the counter and jiffies wraps, on 32-bit small ints (that
    firmware has no _ktimers: tests/device/test_lazy_core.py checks it there)."""
    proc, doc = _validate(tmp_path, FIRMWARE_NOCORE, ["soak"])
    (r,) = doc["scenarios"]
    assert doc["passed"], r["failures"]
    assert proc.returncode == 0, proc.stderr
    _check_soak(r)
