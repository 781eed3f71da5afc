"""REPL experiments: on every board, ktimers timers keep firing (and printing)
while the REPL prompt waits for input, and Ctrl-C stops a runaway script.

The unix board is the unix port's own interactive REPL on a pty; the emulated
board is its friendly REPL on the QEMU serial pty, with the library flashed.
Nothing is typed while waiting for the timer lines: only reads, with time-outs.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from ktimers_host.board import Board
from ktimers_host.emulator import Emulator
from ktimers_host.flash import flash

ROOT = Path(__file__).resolve().parents[2]
UNIX = ROOT / "build" / "unix" / "micropython"
FIRMWARE = ROOT / "build" / "mps2-an385" / "firmware.elf"

# typed at the prompt, one line at a time (the friendly REPL's own input path)
SETUP = [
    "from ktimers import *",
    "n = [0]",
    # one line, so the REPL's auto-indent has nothing to add
    "exec('def tick(t):\\n n[0] += 1\\n pr_info(\\'repl-timer %d\\', n[0])\\n"
    " hrtimer_forward_now(t, ms_to_ktime(200))\\n"
    " return HRTIMER_RESTART if n[0] < 5 else HRTIMER_NORESTART')",
    "t = hrtimer(); hrtimer_setup(t, tick, CLOCK_MONOTONIC, HRTIMER_MODE_REL)",
    "hrtimer_start(t, ms_to_ktime(200), HRTIMER_MODE_REL)",
]


class Console:
    """Raw bytes over a pty or serial port, with `expect` on what arrives."""

    def __init__(self, read, write) -> None:
        self._read, self._write, self.buf = read, write, b""

    def send(self, text: str | bytes) -> None:
        for ch in text.encode() if isinstance(text, str) else text:
            self._write(bytes((ch,)))
            time.sleep(0.002)  # a typist's pace: the REPL echoes each key

    def line(self, text: str) -> None:
        self.send(text + "\r")
        self.expect(rb">>> ", 10)

    def expect(self, pattern: bytes, timeout: float) -> re.Match[bytes]:
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end() :]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} not seen in {timeout} s; got {self.buf!r}")
            self.buf += self._read(left)


def _pty_console(proc_fd: int) -> Console:
    def read(left: float) -> bytes:
        r, _, _ = select.select([proc_fd], [], [], min(left, 0.2))
        return os.read(proc_fd, 4096) if r else b""

    return Console(read, lambda b: os.write(proc_fd, b))


@pytest.fixture
def unix_console() -> Iterator[Console]:
    if not UNIX.exists():
        pytest.fail(f"{UNIX} is missing: run `make setup`")
    master, slave = os.openpty()
    env = dict(os.environ, MICROPYPATH=str(ROOT / "lib"))
    # its own session with the pty as controlling terminal, as a shell would give
    # it: Ctrl-C typed on the pty then reaches it as SIGINT
    proc = subprocess.Popen(
        [str(UNIX)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)
    con = _pty_console(master)
    con.expect(rb">>> $", 10)
    yield con
    proc.kill()
    proc.wait(5)
    os.close(master)


@pytest.fixture
def mps2_console(tmp_path: Path) -> Iterator[Console]:
    if not FIRMWARE.exists():
        pytest.fail(f"{FIRMWARE} is missing: run `make firmware`")
    emu = Emulator(FIRMWARE, tmp_path / "flash.img", workdir=tmp_path)
    emu.start()
    try:
        b = Board("mps2-an385", port=str(emu.pty), root=ROOT).connect()
        flash(b, progress=False)
        b.close()
        port = serial.Serial(str(emu.pty), 115200, timeout=0)

        def read(left: float) -> bytes:
            port.timeout = min(left, 0.2)
            return port.read(4096)

        con = Console(read, port.write)
        con.send(b"\x02\r")  # friendly REPL
        con.expect(rb">>> $", 10)
        yield con
        port.close()
    finally:
        emu.stop()


@pytest.mark.parametrize("which", ["unix", "mps2"])
def test_timers_print_while_prompt_waits_and_ctrl_c_stops(
    which: str, request: pytest.FixtureRequest
) -> None:
    con: Console = request.getfixturevalue(f"{which}_console")
    for ln in SETUP:
        con.line(ln)
    # the prompt is waiting now; nothing more is typed until all five arrive
    stamps = []
    for k in range(1, 6):
        m = con.expect(rb"\[\s*(\d+)\.(\d{6})\] repl-timer %d\r\n" % k, 10)
        stamps.append(int(m.group(1)) * 1_000_000 + int(m.group(2)))
    # by the board's own printk clock: the period is kept (forward_now is
    # phase-locked, so a late expiry shortens the next step, not the span)
    span = stamps[-1] - stamps[0]
    assert 4 * 200_000 - 50_000 <= span <= 4 * 200_000 + 500_000, stamps
    # a runaway script stops on Ctrl-C, and the REPL (and ktimers) carry on
    con.send("while True: pass\r")
    con.expect(rb"\.\.\. ", 5)
    con.send("\r")  # the blank line that runs it
    con.expect(rb"\r\n", 5)
    con.send(b"\x03")
    con.expect(rb"KeyboardInterrupt", 10)
    con.expect(rb">>> $", 10)
    con.send("print('alive', jiffies() > 0, hrtimer_active(t))\r")
    con.expect(rb"alive True False", 5)


def test_ctrl_c_in_ktimers_unix_repl_keeps_the_session() -> None:
    """`ktimers --board unix repl` from a terminal: Ctrl-C interrupts the running code and
    the REPL carries on (the terminal sends SIGINT to the whole foreground group, so the
    harness must leave it to the REPL)."""
    if not UNIX.exists():
        pytest.fail(f"{UNIX} is missing: run `make setup`")
    import sys

    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ktimers_host.cli", "--board", "unix", "repl"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)
    con = _pty_console(master)
    try:
        con.expect(rb">>> $", 20)
        con.send("n = 0\r")
        con.expect(rb">>> $", 5)
        con.send("while True: n += 1\r")
        con.expect(rb"\.\.\. ", 5)
        con.send("\r")
        con.expect(rb"\r\n", 5)
        con.send(b"\x03")
        con.expect(rb"KeyboardInterrupt", 10)
        con.expect(rb">>> $", 10)
        assert proc.poll() is None, "the session ended on Ctrl-C"
        con.send("print('alive', n > 0)\r")
        con.expect(rb"alive True", 5)
        con.send(b"\x04")  # Ctrl-D leaves the REPL
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        os.close(master)
