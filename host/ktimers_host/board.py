"""Board control: one object per board, a thin pytest-embedded-like API over a transport.

Kinds (profile ``connect.kind``): ``process`` (unix port on a pty, see unixboard.py),
``emulator`` (QEMU mps2-an385, started through emulator.Emulator when none is running) and
``serial`` (a real board on ``--port``; any pyserial URL works for every kind via ``port``).
"""

from __future__ import annotations

import contextlib
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import profiles
from .transport import BoardError, LinkError, LinkLost, LinkTimeout, Transport, open_transport
from .unixboard import UnixProcess

REPO_ROOT = profiles.REPO_ROOT


class Board:
    def __init__(
        self,
        profile: str | profiles.Profile = "mps2-an385",
        port: str | None = None,
        transport: str = "mpremote",
        root: Path = REPO_ROOT,
        binary: Path | None = None,
        deterministic: bool = False,
    ) -> None:
        self.profile: profiles.Profile = (
            profiles.load(profile) if isinstance(profile, str) else profile
        )
        self.name: str = self.profile["name"]
        self.root = Path(root)
        self.port = port
        self.transport_kind = transport
        self.kind: str = "serial" if port else self.profile["connect"].get("kind", "serial")
        self.baud = int(self.profile["connect"].get("baud", 115200))
        self.lib_dir: str = self.profile["flash"].get("lib_dir", "/lib")
        self.deterministic = deterministic
        self.t: Transport | None = None
        self.url: str | None = port
        self.process: UnixProcess | None = None
        self.emulator: Any = None
        self.started_emulator = False
        self._queue: queue.Queue[tuple[str, Any]] | None = None
        self._pump: threading.Thread | None = None
        self._seen: list[str] = []
        if self.kind == "process":
            conn = self.profile["connect"]
            exe = binary or self.root / conn.get("binary", "build/unix/micropython")
            self.process = UnixProcess(
                exe, self.root / conn.get("fs", "build/unix-fs"), self.lib_dir
            )

    # -- lifecycle ----------------------------------------------------------------------
    def _bring_up(self) -> str:
        if self.port:
            return self.port
        if self.kind == "process":
            assert self.process is not None
            return self.process.start()
        if self.kind == "emulator":
            from .emulator import Emulator

            emu = Emulator.find_running()
            if emu is None:
                # connect.emulator_dir: profiles sharing one emulated board (and its image)
                d = self.root / self.profile["connect"].get("emulator_dir", f"build/{self.name}")
                emu = Emulator(d / "firmware.elf", d / "flash.img", self.deterministic)
                emu.start()
                self.started_emulator = True
            self.emulator = emu
            if not emu.pty:
                raise LinkError(f"emulator for {self.name} has no serial pty")
            return str(emu.pty)
        raise LinkError(f"board {self.name}: kind {self.kind!r} needs --port")

    def connect(self, soft_reset: bool = False) -> Board:
        """(Re)connect: brings the board up if needed and enters its raw REPL."""
        if self.t is not None:
            self.t.close()
            self.t = None
        self.url = self._bring_up()
        self.t = open_transport(self.url, self.transport_kind, self.baud)
        if soft_reset:
            self.t.enter_raw(soft_reset=True)
        return self

    def __enter__(self) -> Board:
        return self.connect() if self.t is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self, stop_started: bool = True) -> None:
        if self._pump is not None and self._pump.is_alive() and self.t is not None:
            self.interrupt()
        if self.t is not None:
            self.t.close()
            self.t = None
        if self.process is not None:
            self.process.stop()
        if stop_started and self.started_emulator and self.emulator is not None:
            with contextlib.suppress(Exception):
                self.emulator.stop()
            self.started_emulator = False

    @property
    def transport(self) -> Transport:
        if self.t is None:
            raise LinkLost(f"board {self.name} is not connected")
        return self.t

    def soft_reset(self) -> None:
        self.transport.enter_raw(soft_reset=True)

    def reset(self) -> None:
        """Hard reset: restart the process / QEMU system reset / machine.reset()."""
        if self.t is not None:
            self.t.close()
            self.t = None
        if self.kind == "process" and self.process is not None:
            self.process.restart()
        elif self.kind == "emulator" and self.emulator is not None:
            self.emulator.reset()
        else:
            with contextlib.suppress(LinkError):
                t = open_transport(self.url or "", self.transport_kind, self.baud)
                with contextlib.suppress(LinkError, BoardError):
                    t.exec("import machine\nmachine.reset()", timeout=3)
                t.close()
        self.connect()

    def interrupt(self) -> None:
        """Ctrl-C the running code (and end a `start` pump)."""
        self.transport.interrupt()
        if self._pump is not None:
            self._pump.join(10)
        self._queue = None

    # -- code ---------------------------------------------------------------------------
    def exec(self, code: str, timeout: float | None = 30.0) -> str:
        self._busy_check()
        return self.transport.exec(code, timeout)

    def exec_stream(
        self, code: str, timeout: float | None = 30.0, idle_timeout: float | None = None
    ) -> Iterator[str]:
        self._busy_check()
        return self.transport.exec_stream(code, timeout, idle_timeout)

    def eval(self, expr: str, timeout: float | None = 30.0) -> Any:
        self._busy_check()
        return self.transport.eval(expr, timeout)

    def start(self, code: str, timeout: float | None = 60.0) -> None:
        """Begin running ``code``; read its output with `expect` and finish with `wait`.

        A thread pumps the output lines into a queue, so `expect` keeps its own deadline
        even when the board is silent.
        """
        self._busy_check()
        self._seen = []
        q: queue.Queue[tuple[str, Any]] = queue.Queue()
        stream = self.transport.exec_stream(code, timeout)

        def pump() -> None:
            try:
                for line in stream:
                    q.put(("line", line))
                q.put(("end", None))
            except BaseException as e:  # handed to the reader
                q.put(("error", e))

        self._queue = q
        self._pump = threading.Thread(target=pump, name=f"ktimers-{self.name}", daemon=True)
        self._pump.start()

    def _next(self, deadline: float | None) -> tuple[str, Any]:
        assert self._queue is not None
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return ("timeout", None)
            try:
                return self._queue.get(timeout=left)
            except queue.Empty:
                continue

    def expect(self, pattern: str | re.Pattern[str], timeout: float = 10.0) -> re.Match[str]:
        """Next output line matching ``pattern`` of the code begun with `start`.

        Raises `LinkTimeout` after ``timeout`` s without a match (the code keeps running:
        call `expect` again, `wait` or `interrupt`), or when the code ends first.
        """
        if self._queue is None:
            raise RuntimeError("expect() needs code started with start()")
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            kind, val = self._next(deadline)
            if kind == "line":
                self._seen.append(val)
                m = rx.search(val)
                if m:
                    return m
                continue
            seen = "\n".join(self._seen)
            if kind == "timeout":
                raise LinkTimeout(f"{rx.pattern!r} not seen within {timeout} s", seen)
            self._queue = None
            if kind == "end":
                raise LinkTimeout(f"{rx.pattern!r} not seen; the code ended", seen)
            raise val

    def wait(self, timeout: float | None = None) -> str:
        """Drain the code begun with `start`; return all its output (raises its error)."""
        if self._queue is not None:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                kind, val = self._next(deadline)
                if kind == "line":
                    self._seen.append(val)
                    continue
                if kind == "timeout":
                    raise LinkTimeout("code still running", "\n".join(self._seen))
                self._queue = None
                if kind == "error":
                    raise val
                break
        return "\n".join(self._seen)

    def _busy_check(self) -> None:
        if self._pump is not None and self._pump.is_alive():
            raise RuntimeError("code begun with start() still runs: wait() or interrupt() first")

    def run_script(
        self,
        path: str | Path,
        stream: bool | Callable[[str], Any] = False,
        timeout: float | None = 120.0,
        idle_timeout: float | None = None,
    ) -> str:
        """Run a host file on the board (the flashed library importable); its output.

        ``stream``: True prints lines as they arrive, a callable receives them.
        Raises `BoardError` (with ``.output``) if the script raised on the board.
        """
        code = Path(path).read_text()
        sink: Callable[[str], Any] | None
        if stream is True:
            sink = lambda line: print(line, flush=True)  # noqa: E731
        else:
            sink = stream or None
        out: list[str] = []
        for line in self.exec_stream(code, timeout, idle_timeout):
            out.append(line)
            if sink:
                sink(line)
        return "\n".join(out) + ("\n" if out else "")

    def __repr__(self) -> str:
        return f"<Board {self.name} {self.kind} {self.url or '-'} via {self.transport_kind}>"


def describe_ports() -> list[dict[str, Any]]:
    """Serial ports on this host, each matched to the profiles that list its VID:PID."""
    from serial.tools import list_ports

    profs = profiles.list()
    rows = []
    for p in list_ports.comports():
        match = [
            pr["name"]
            for pr in profs
            if p.vid is not None and (p.vid, p.pid) in profiles.usb_ids(pr)
        ]
        vidpid = f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None else "-"
        rows.append({"device": p.device, "vidpid": vidpid, "desc": p.description, "boards": match})
    return rows


def warn(msg: str) -> None:
    print(msg, file=sys.stderr)
