"""TEST TOOL: a fake adversarial board on a pty (a stand-in for a broken or hostile board).

It speaks just enough of MicroPython's raw REPL (Ctrl-A banner, raw paste with flow
control, ``\\x04`` end marks, Ctrl-C) for the host's transport, then misbehaves according
to the code it is sent:

- code containing ``ENDLESS_LINES``: prints numbered lines for ever, as fast as the pty takes;
- code containing ``ENDLESS_LINE``: prints ``x`` for ever, never a newline;
- code asking for ``sys.platform``: answers ``"qemu"`` (the default profile's platform);
- anything else: prints ``ok`` and ends normally.

Ctrl-C stops the output (as a real board's KeyboardInterrupt would) and the fake returns
to its raw prompt.  ``sent`` counts the bytes it wrote.
"""

from __future__ import annotations

import contextlib
import os
import select

from .pty_end import PtyEnd

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
WINDOW = 256


class FakeBoard(PtyEnd):
    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    def start(self) -> str:
        return self._serve("fake-board", nonblocking=True)

    # -- I/O ----------------------------------------------------------------------------
    def _read(self, timeout: float = 0.05) -> bytes:
        """Host bytes: what `_write` already took in first, else wait up to ``timeout``."""
        if self._inbuf:
            data, self._inbuf = self._inbuf, b""
            return data
        r, _, _ = select.select([self._master], [], [], timeout)
        if not r:
            return b""
        try:
            return os.read(self._master, 4096)
        except (BlockingIOError, OSError):
            return b""

    def _write(self, data: bytes) -> bool:
        """Write all of ``data``; False (the rest dropped) once the host sends Ctrl-C."""
        while data and not self._stop.is_set():
            _, w, _ = select.select([], [self._master], [], 0.05)
            if w:
                try:
                    n = os.write(self._master, data)
                except BlockingIOError:
                    n = 0
                self.sent += n
                data = data[n:]
            if self._take_input():
                return False
        return True

    def _take_input(self) -> bool:
        """Keep what the host sent meanwhile; True if it holds a Ctrl-C (what follows the
        last Ctrl-C is kept for the protocol loop)."""
        r, _, _ = select.select([self._master], [], [], 0)
        if not r:
            return False
        with contextlib.suppress(BlockingIOError, OSError):
            got = os.read(self._master, 4096)
            if b"\x03" in got:
                self._inbuf = got[got.rindex(b"\x03") + 1 :]
                return True
            self._inbuf += got
        return False

    # -- protocol -------------------------------------------------------------------------
    def _run(self) -> None:
        self._inbuf = b""
        buf = b""
        while not self._stop.is_set():
            data = self._read()
            if not data:
                continue
            buf += data
            while buf:
                if buf[:1] == b"\x01":  # Ctrl-A: (re)enter raw REPL
                    self._write(b"\r\n" + RAW_BANNER)
                    buf = buf[1:]
                elif buf[:3] == b"\x05A\x01":  # raw paste
                    buf = self._paste(buf[3:])
                elif len(buf) < 3 and buf[:1] == b"\x05":
                    break  # wait for the rest of the raw-paste request
                else:
                    buf = buf[1:]  # \r, Ctrl-C, Ctrl-B ...: nothing to do

    def _paste(self, rest: bytes) -> bytes:
        self._write(b"R\x01" + WINDOW.to_bytes(2, "little"))
        code = b""
        got = 0
        while not self._stop.is_set():
            if not rest:
                rest = self._read()
                continue
            c, rest = rest[:1], rest[1:]
            if c == b"\x04":
                break
            code += c
            got += 1
            if got % WINDOW == 0:
                self._write(b"\x01")
        self._write(b"\x04")
        if b"ENDLESS_LINES" in code:
            n = 0
            while self._write(b"".join(b"line %d\r\n" % (n + i) for i in range(1000))):
                n += 1000
            return self._after_ctrl_c()
        if b"ENDLESS_LINE" in code:
            while self._write(b"x" * 65536):
                pass
            return self._after_ctrl_c()
        if b"platform" in code:  # the host checks the board is the profile's first
            self._write(b'"qemu"\r\n\x04\x04>')
            return rest
        self._write(b"ok\r\n\x04\x04>")
        return rest

    def _after_ctrl_c(self) -> bytes:
        self._write(b"\r\nTraceback (most recent call last):\r\nKeyboardInterrupt: \r\n\x04\x04>")
        rest, self._inbuf = self._inbuf, b""
        return rest
