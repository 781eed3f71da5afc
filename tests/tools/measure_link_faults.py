"""TEST TOOL: measure how fast the host reports link faults on the emulated board.

    .venv/bin/python tests/tools/measure_link_faults.py [ROUNDS]

Prints, per fault, the time from the fault to the typed error (median and max over ROUNDS):
QEMU killed mid-output (LinkLost), QMP system_reset mid-line and while code is being sent
(BoardReset), an end mark injected into the output and a byte flipped during raw paste by
the corrupting proxy (LinkCorrupt); then the time of a full and of a one-module flash.
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
ROOT = HERE.parents[1]

from ktimers_host import flash as flash_mod  # noqa: E402
from ktimers_host.board import Board  # noqa: E402
from ktimers_host.emulator import Emulator  # noqa: E402
from ktimers_host.transport import BoardReset, LinkCorrupt, LinkLost  # noqa: E402
from tools.corrupting_proxy import CorruptingProxy  # noqa: E402

FW = ROOT / "build" / "mps2-an385" / "firmware.elf"
SPIN = "print('ready')\nprint('half a line', end='')\nwhile True:\n    pass\n"
LINES = "i = 0\nwhile True:\n    print('line', i)\n    i += 1\n"


def emulator(d: Path) -> Emulator:
    e = Emulator(FW, d / "flash.img", workdir=d)
    e.start()
    return e


def wait_partial(b: Board) -> None:
    end = time.monotonic() + 20
    while not b.transport.partial_line.startswith(b"half"):
        if time.monotonic() > end:
            raise RuntimeError("no partial line")
        time.sleep(0.002)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    res: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        emu = emulator(d)
        b = Board("mps2-an385", port=str(emu.pty), root=ROOT).connect()
        for _ in range(rounds):
            b.start(SPIN, timeout=60)
            b.expect("ready", 20)
            wait_partial(b)
            t0 = time.monotonic()
            emu.qmp("system_reset")
            try:
                b.wait(10)
            except BoardReset:
                res.setdefault("QMP reset mid-line -> BoardReset", []).append(time.monotonic() - t0)
            b.exec("pass", 20)
        for _ in range(rounds):
            t = b.transport
            real = t._write
            mark = [0.0]

            def w(data: bytes, real=real, mark=mark) -> None:
                real(data)
                if len(data) > 16 and not mark[0]:
                    mark[0] = time.monotonic()
                    emu.qmp("system_reset")

            t._write = w  # type: ignore[method-assign]
            try:
                b.exec("y = 2\n" * 3000, 30)
            except BoardReset:
                res.setdefault("QMP reset mid-paste -> BoardReset", []).append(
                    time.monotonic() - mark[0]
                )
            t._write = real  # type: ignore[method-assign]
            b.exec("pass", 20)
        files = flash_mod.build_files(b.profile)
        t0 = time.monotonic()
        flash_mod.flash(b, files, progress=False)
        res.setdefault("flash, every file", []).append(time.monotonic() - t0)
        files["ktimers/trace.mpy"] += b"\0"  # a changed module (never imported here)
        t0 = time.monotonic()
        flash_mod.flash(b, files, progress=False)
        res.setdefault("flash, one module changed", []).append(time.monotonic() - t0)
        b.close()
        proxy = CorruptingProxy(str(emu.pty))
        proxy.start()
        b = Board("mps2-an385", port=proxy.path, root=ROOT).connect()
        for _ in range(rounds):
            proxy.arm(b"KTMARK", offset=2, byte=b"\x04")
            t0 = time.monotonic()
            try:
                b.exec("print('KTMARK' + 'x' * 60)\nprint('more')", 20)
            except LinkCorrupt:
                res.setdefault("end mark in output -> LinkCorrupt", []).append(
                    time.monotonic() - t0
                )
            proxy.arm(b"R\x01", offset=2, byte=b"Z")
            t0 = time.monotonic()
            try:
                b.exec("x = 1\n" * 200, 20)
            except LinkCorrupt:
                res.setdefault("byte flipped in raw paste -> LinkCorrupt", []).append(
                    time.monotonic() - t0
                )
            b.exec("pass", 20)
        b.close()
        proxy.stop()
        for _ in range(rounds):
            b = Board("mps2-an385", port=str(emu.pty), root=ROOT).connect()
            t0 = 0.0
            try:
                for line in b.exec_stream(LINES, 60):
                    if line == "line 50":
                        t0 = time.monotonic()
                        os.kill(emu.pid, signal.SIGKILL)  # type: ignore[arg-type]
            except LinkLost:
                res.setdefault("QEMU killed mid-output -> LinkLost", []).append(
                    time.monotonic() - t0
                )
            b.close()
            emu.stop()
            emu = emulator(d)
        emu.stop()
    for k, v in res.items():
        print(f"{k:<44} n={len(v)}  median {statistics.median(v):.3f} s  max {max(v):.3f} s")


if __name__ == "__main__":
    main()
