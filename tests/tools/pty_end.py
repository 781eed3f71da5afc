"""TEST TOOL base: a raw pty whose master end a thread of the tool serves; ``path`` is the
slave end the host opens as if it were a board's serial port."""

from __future__ import annotations

import contextlib
import os
import threading
import tty


class PtyEnd:
    def __init__(self) -> None:
        self.path = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fds: list[int] = []

    def _run(self) -> None:  # the tool's loop, until self._stop is set
        raise NotImplementedError

    def _serve(self, name: str, nonblocking: bool = False) -> str:
        """Open the pty, start the tool's thread on it; return the path for the host."""
        self._master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave  # held open so the master never sees a hangup
        self._fds += [self._master, slave]
        if nonblocking:
            os.set_blocking(self._master, False)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        return self.path

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []
