"""`ktimers validate` on the emulated reference board, end to end through the
real command over the board's serial pty: the figures, and a board that dies
mid-run (QEMU killed) giving a clear error within 10 s and a partial report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ktimers_host.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "build" / "mps2-an385" / "firmware.elf"
KTIMERS = Path(sys.executable).parent / "ktimers"


def _emulator(tmp_path: Path) -> Emulator:
    if not FIRMWARE.exists():
        pytest.fail(f"{FIRMWARE} is missing: run `make firmware`")
    emu = Emulator(FIRMWARE, tmp_path / "flash.img", workdir=tmp_path)
    emu.start()
    return emu


def _cmd(emu: Emulator, *args: str) -> list[str]:
    return [str(KTIMERS), "--board", "mps2-an385", "--port", str(emu.pty), *args]


def test_validate_emulated_board(tmp_path: Path) -> None:
    emu = _emulator(tmp_path)
    try:
        out = tmp_path / "out.json"
        proc = subprocess.run(
            _cmd(emu, "validate", "--json", str(out), "--junit", str(tmp_path / "v.xml")),
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        emu.stop()
    doc = json.loads(out.read_text())
    assert not doc["partial"], (doc["error"], proc.stderr)
    assert doc["total_samples"] >= 10_000, doc["total_samples"]
    assert sum(r["early"] for r in doc["scenarios"]) == 0
    for r in doc["scenarios"]:
        for k in ("samples", "min", "avg", "p50", "p99", "max", "stddev", "early", "histogram"):
            assert k in r, (r["name"], k)
        if r["kind"] == "hrtimer":
            for k in ("overruns", "drift_max_us"):
                assert k in r, (r["name"], k)
            assert r["drift_max_us"] == 0, r["name"]  # forward_now keeps the phase exactly
    assert "T: 0 (" in proc.stdout and "Min:" in proc.stdout and "# Histogram" in proc.stdout
    assert proc.returncode == (0 if doc["passed"] else 1), proc.stderr


def test_validate_board_killed_midway(tmp_path: Path) -> None:
    emu = _emulator(tmp_path)
    out = tmp_path / "partial.json"
    proc = subprocess.Popen(
        _cmd(emu, "validate", "--json", str(out)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # wait for the first scenario to complete (read the command's own output)
        assert proc.stdout is not None
        seen = ""
        deadline = time.monotonic() + 300
        while "samples ok" not in seen and "samples FAIL" not in seen:
            line = proc.stdout.readline()
            assert line and time.monotonic() < deadline, seen
            seen += line
        pid = emu.pid
        assert pid
        os.kill(pid, signal.SIGKILL)  # the board vanishes mid-run
        killed = time.monotonic()
        rest_out, rest_err = proc.communicate(timeout=30)
        took = time.monotonic() - killed
    finally:
        if proc.poll() is None:
            proc.kill()
        emu.stop()
    assert took < 10, f"validate took {took:.1f} s to notice"
    assert proc.returncode != 0
    assert "LINK FAILED" in rest_out, rest_out
    assert "validate: ERROR link failed" in rest_err, rest_err
    doc = json.loads(out.read_text())
    assert doc["partial"] is True
    done = [r for r in doc["scenarios"] if r["status"] in ("passed", "failed")]
    assert len(done) >= 1 and done[0]["samples"] > 0
    assert any(r["status"] == "error" for r in doc["scenarios"])
