"""TEST TOOL: a serial-line proxy on a pty that corrupts chosen bytes (fault injection).

    proxy = CorruptingProxy("/dev/pts/7")   # the board's port
    proxy.start()                           # proxy.path: the pty the host opens instead
    proxy.arm(b"KTF 1 ", offset=10, xor=0x20)   # flip a bit 10 bytes after the next match
    ...
    proxy.stop()

Bytes from the board to the host pass through `arm`ed rules: each rule waits for its
pattern in the board's stream (matches may straddle reads) and then replaces the byte
``offset`` bytes after the end of the match, ``times`` times.  Host-to-board bytes pass
unchanged.  ``hits`` counts corruptions done; ``on_host_write`` (if set) sees every chunk the
host sends, so a test can act at a chosen moment of a transfer.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Callable
from dataclasses import dataclass

from .pty_end import PtyEnd


@dataclass
class Rule:
    pattern: bytes
    offset: int
    byte: bytes | None
    xor: int
    times: int
    due: list[int]  # absolute stream positions still to corrupt


class CorruptingProxy(PtyEnd):
    def __init__(self, board_path: str) -> None:
        super().__init__()
        self.board_path = board_path
        self.rules: list[Rule] = []
        self.hits = 0
        self.on_host_write: Callable[[bytes], None] | None = None
        self._pos = 0  # bytes seen from the board
        self._tail = b""
        self._lock = threading.Lock()

    def arm(
        self,
        pattern: bytes,
        offset: int = 0,
        byte: bytes | None = None,
        xor: int = 0x01,
        times: int = 1,
    ) -> Rule:
        r = Rule(pattern, offset, byte, xor, times, [])
        with self._lock:
            self.rules.append(r)
        return r

    def disarm(self) -> None:
        with self._lock:
            self.rules.clear()

    def start(self) -> str:
        self._board = os.open(self.board_path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self._board)
        self._fds.append(self._board)
        return self._serve("corrupting-proxy")

    def _corrupt(self, data: bytes) -> bytes:
        with self._lock:
            start = self._pos
            window = self._tail + data
            base = start - len(self._tail)
            buf = bytearray(data)
            for r in self.rules:
                i = 0
                while r.times > 0:
                    j = window.find(r.pattern, i)
                    if j < 0:
                        break
                    end = base + j + len(r.pattern)
                    if end > start:  # a match not seen before
                        r.due.append(end + r.offset)
                        r.times -= 1
                    i = j + 1
                for pos in list(r.due):
                    if start <= pos < start + len(data):
                        k = pos - start
                        buf[k] = r.byte[0] if r.byte is not None else buf[k] ^ r.xor
                        r.due.remove(pos)
                        self.hits += 1
            self._pos += len(data)
            longest = max((len(r.pattern) for r in self.rules), default=0)
            self._tail = window[-longest:] if longest else b""
        return bytes(buf)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                r, _, _ = select.select([self._board, self._master], [], [], 0.05)
            except (OSError, ValueError):
                return
            for fd in r:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    return  # the board went away: the host sees silence, then its timeout
                if not data:
                    return
                if fd == self._board:
                    _write_all(self._master, self._corrupt(data))
                else:
                    if self.on_host_write is not None:
                        self.on_host_write(data)
                    _write_all(self._board, data)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        n = os.write(fd, data)
        data = data[n:]
