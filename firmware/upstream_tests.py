#!/usr/bin/env python3
"""MicroPython's own test-suite on the emulated MPS2-AN385 firmware: `make upstream-tests`.

Starts a private QEMU (own work dir and a blank flash image under build/upstream-tests/),
runs the source package's tests/run-tests.py against the board's serial pty, stops QEMU,
and exits with run-tests.py's status (non-zero on any failure).  Extra arguments go to
run-tests.py (e.g. `-i asyncio` or test file names).

    python firmware/upstream_tests.py [--firmware ELF] [--deterministic] [run-tests args...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))

from ktimers_host.emulator import Emulator, EmulatorError  # noqa: E402

MICROPY_DIR = Path(os.environ.get("MICROPY_DIR", ROOT / "build" / "src" / "micropython-1.25.0"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--firmware", type=Path, default=ROOT / "build" / "mps2-an385" / "firmware.elf")
    ap.add_argument("--workdir", type=Path, default=ROOT / "build" / "upstream-tests")
    ap.add_argument("--deterministic", action="store_true", help="-icount shift=0,sleep=off")
    args, rest = ap.parse_known_args(argv)
    tests = MICROPY_DIR / "tests"
    if not (tests / "run-tests.py").is_file():
        print(f"upstream-tests: {tests}/run-tests.py missing (run `make src`)", file=sys.stderr)
        return 2
    # expected outputs the host's CPython cannot be trusted to give under load (see
    # firmware/upstream_exp/README.md): run-tests.py uses a .exp beside a test when there is one
    exp = ROOT / "firmware" / "upstream_exp"
    for f in exp.rglob("*.exp"):
        shutil.copyfile(f, tests / f.relative_to(exp))
    work = args.workdir.resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    emu = Emulator(
        args.firmware, work / "flash.img", deterministic=args.deterministic, workdir=work
    )
    try:
        pty = emu.start()
    except EmulatorError as e:
        print(f"upstream-tests: {e}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    try:
        cmd = [
            sys.executable,
            "run-tests.py",
            "-t",
            f"port:{pty}",
            "-r",
            str(work / "results"),
            *rest,
        ]
        print("upstream-tests:", " ".join(cmd), flush=True)
        rc = subprocess.call(cmd, cwd=tests)
    finally:
        emu.stop()
    print(f"upstream-tests: run-tests.py exit {rc} after {time.monotonic() - t0:.0f} s", flush=True)
    if rc != 0:
        subprocess.call(
            [sys.executable, "run-tests.py", "-r", str(work / "results"), "--print-failures"],
            cwd=tests,
        )
    return rc


if __name__ == "__main__":
    sys.exit(main())
