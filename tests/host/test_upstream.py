"""MicroPython's own test-suite (the source package's tests/run-tests.py) on the emulated
firmware, as `make upstream-tests` runs it: every test passes, and the parts this firmware
adds to a bare port are really exercised -- asyncio (select's wait-for-event with a
timeout), the frozen unittest, and the frozen test modules of upstream's qemu port."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_upstream_run_tests_on_emulated_board(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "firmware" / "upstream_tests.py"),
            "--deterministic",  # machine_soft_timer & co. count interrupts: never host load
            "--workdir",
            str(tmp_path / "up"),
        ],
        capture_output=True,
        text=True,
        timeout=1500,
    )
    out = proc.stdout
    tail = out[-3000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, tail
    m = re.search(r"^(\d+) tests passed$", out, re.M)
    assert m and int(m.group(1)) >= 780, tail
    assert not re.search(r"^FAIL ", out, re.M), tail
    assert "platform=qemu" in out, out[:500]
    for name in ("asyncio_basic", "asyncio_wait_for", "asyncio_event", "asyncio_heaplock"):
        assert re.search(rf"^pass  extmod/{name}\.py", out, re.M), name
    assert re.search(r"^pass  extmod/machine1\.py \(unittest: \d+ ran\)", out, re.M), tail
    for name in ("asm_test", "native_test", "viper_test"):  # need the frozen test modules
        assert re.search(rf"^pass  ports/qemu/{name}\.py", out, re.M), name
