"""Board control: one object per board, a thin pytest-embedded-like API over a transport.

Kinds (profile ``connect.kind``): ``process`` (unix port on a pty, see unixboard.py),
``emulator`` (QEMU mps2-an385, started through emulator.Emulator when none is running) and
``serial`` (a real board on ``--port``; any pyserial URL works for every kind via ``port``).
"""

from __future__ import annotations

import collections
import contextlib
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from . import profiles
from .ports import describe_ports, explain_open_error, find_port
from .transport import BoardError, LinkError, LinkLost, LinkTimeout, Transport, open_transport
from .unixboard import UnixProcess

__all__ = ["Board", "ModeMismatch", "WrongBoard", "describe_ports"]

LOG_LINES = 20_000  # board output kept for failure reports (older lines are dropped)
Pattern = str | re.Pattern[str]


class WrongBoard(RuntimeError):
    """The board on the link is not the one the profile describes (nothing was written)."""


class ModeMismatch(RuntimeError):
    """The running emulator is not in the timing mode asked for."""


REPO_ROOT = profiles.REPO_ROOT


class Board:
    def __init__(
        self,
        profile: str | profiles.Profile = profiles.DEFAULT_BOARD,
        port: str | None = None,
        transport: str = "mpremote",
        root: Path = REPO_ROOT,
        binary: Path | None = None,
        deterministic: bool = False,
        persistent: bool = False,
        workdir: Path | None = None,
        restart: bool = False,
    ) -> None:
        """``persistent``: a unix board outlives this object (command line use), as the
        emulator does. ``workdir``: the emulator instance's own folder (several emulated
        boards side by side). ``restart``: restart a running emulator whose timing mode
        differs from ``deterministic`` instead of refusing."""
        self.profile: profiles.Profile = (
            profiles.load(profile) if isinstance(profile, str) else profile
        )
        self.name: str = self.profile["name"]
        self.root = Path(root)
        conn = self.profile["connect"]
        self.kind: str = "serial" if port else conn.get("kind", "serial")
        if port is None and self.kind == "serial":
            port = find_port(self.profile) or conn.get("port")
        self.port = port
        self.transport_kind = transport
        self.baud = int(self.profile["connect"].get("baud", 115200))
        self.lib_dir: str = self.profile["flash"].get("lib_dir", "/lib")
        self.deterministic = deterministic
        self.restart = restart
        self.workdir = Path(workdir) if workdir is not None else None
        self.log: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self.log_sink: Callable[[str], Any] | None = None
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
            fs = self.workdir or self.root / conn.get("fs", "build/unix-fs")
            self.process = UnixProcess(exe, fs, self.lib_dir, persistent=persistent)

    # -- lifecycle ----------------------------------------------------------------------
    def _bring_up(self) -> str:
        if self.port:
            return self.port
        if self.kind == "process":
            assert self.process is not None
            url = self.process.start()
            self.started_emulator = self.process.started
            return url
        if self.kind == "emulator":
            from .emulator import Emulator

            # connect.emulator_dir: profiles sharing one emulated board (and its image)
            build = self.root / self.profile["connect"].get("emulator_dir", f"build/{self.name}")
            wd = self.workdir or build
            emu = Emulator.find_running(wd)
            # --deterministic is never ignored: a real-time emulator is refused (or, with
            # restart, restarted); without it whatever runs is used (restart: real-time)
            if emu is not None and (
                (self.deterministic and not emu.deterministic)
                or (self.restart and emu.deterministic != self.deterministic)
            ):
                want = "deterministic" if self.deterministic else "real-time"
                have = "deterministic" if emu.deterministic else "real-time"
                if not self.restart:
                    flag = " --deterministic" if self.deterministic else ""
                    raise ModeMismatch(
                        f"the running emulator (pid {emu.pid}) is {have}, {want} was asked for;"
                        f" restart it with `ktimers emulator restart{flag}` (or add --restart)"
                    )
                emu.stop()
                emu = None
            if emu is None:
                emu = Emulator(build / "firmware.elf", wd / "flash.img", self.deterministic, wd)
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
        try:
            self.t = open_transport(self.url, self.transport_kind, self.baud)
        except LinkLost as e:
            if not str(e).startswith("cannot open"):
                raise
            raise LinkLost(f"cannot open {self.url}: {explain_open_error(self.url)}") from e
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
            if self.process.persistent and not (stop_started and self.process.started):
                self.process.detach()
            else:
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
    def _record(self, line: str) -> None:
        self.log.append(line)
        if self.log_sink is not None:
            self.log_sink(line)

    def _recorded(self, lines: Iterator[str]) -> Iterator[str]:
        try:
            for line in lines:
                self._record(line)
                yield line
        except BoardError as e:
            for ln in e.traceback.splitlines():
                self._record(ln)
            raise
        except LinkError as e:
            self._record(f"[ktimers: {type(e).__name__}: {e}]")
            raise

    def output_log(self) -> str:
        """Board output kept so far (the last `LOG_LINES` lines of every exec)."""
        return "\n".join(self.log)

    def exec(self, code: str, timeout: float | None = 30.0) -> str:
        self._busy_check()
        lines = list(self._recorded(self.transport.exec_stream(code, timeout)))
        return "\n".join(lines) + ("\n" if lines else "")

    def exec_stream(
        self, code: str, timeout: float | None = 30.0, idle_timeout: float | None = None
    ) -> Iterator[str]:
        self._busy_check()
        return self._recorded(self.transport.exec_stream(code, timeout, idle_timeout))

    def eval(self, expr: str, timeout: float | None = 30.0) -> Any:
        self._busy_check()
        return self.transport.eval(expr, timeout)

    def check_platform(self) -> str:
        """Raise `WrongBoard` unless the board's ``sys.platform`` is the profile's.

        Called before anything is written to a board (``ktimers flash`` would otherwise
        put another board's ``ktimers_board.py`` on it)."""
        want = profiles.platform(self.profile)
        got = self.transport.eval("__import__('sys').platform", 10)
        if want is not None and got != want:
            known = [p["name"] for p in profiles.list() if profiles.platform(p) == got]
            hint = f" (profiles for {got!r}: {', '.join(known)})" if known else ""
            raise WrongBoard(
                f"board on {self.url} reports sys.platform {got!r}, profile {self.name} expects"
                f" {want!r}; nothing was written{hint}"
            )
        return str(got)

    def start(self, code: str, timeout: float | None = 60.0) -> None:
        """Begin running ``code``; read its output with `expect` and finish with `wait`.

        A thread pumps the output lines into a queue, so `expect` keeps its own deadline
        even when the board is silent.
        """
        self._busy_check()
        self._seen = []
        q: queue.Queue[tuple[str, Any]] = queue.Queue()
        stream = self.exec_stream(code, timeout)

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

    def expect(
        self,
        pattern: Pattern | Iterable[Pattern],
        timeout: float = 10.0,
        not_matching: Pattern | Iterable[Pattern] | None = None,
    ) -> re.Match[str]:
        """Next output line matching ``pattern`` (a regex, or a list: any of them) of the
        code begun with `start`; ``match.re`` tells which pattern matched.

        ``not_matching``: patterns that must not show up before the match (a line matching
        one raises `AssertionError`). Raises `LinkTimeout` after ``timeout`` s without a
        match (the code keeps running: call `expect` again, `wait` or `interrupt`), or
        when the code ends first. Like pytest-embedded's ``dut.expect``.
        """
        return self._expect(_compile(pattern), timeout, _compile(not_matching or []))

    def expect_exact(
        self,
        text: str | Iterable[str],
        timeout: float = 10.0,
        not_matching: Pattern | Iterable[Pattern] | None = None,
    ) -> re.Match[str]:
        """As `expect`, for literal text (a string, or a list: any of them)."""
        texts = [text] if isinstance(text, str) else list(text)
        return self._expect(
            [re.compile(re.escape(t)) for t in texts], timeout, _compile(not_matching or [])
        )

    def _expect(
        self, rxs: list[re.Pattern[str]], timeout: float, bad: list[re.Pattern[str]]
    ) -> re.Match[str]:
        if self._queue is None:
            raise RuntimeError("expect() needs code started with start()")
        if not rxs:
            raise ValueError("expect: no pattern given")
        what = " or ".join(repr(rx.pattern) for rx in rxs)
        deadline = time.monotonic() + timeout
        while True:
            kind, val = self._next(deadline)
            if kind == "line":
                self._seen.append(val)
                for rx in bad:
                    if rx.search(val):
                        raise AssertionError(
                            f"{rx.pattern!r} (not_matching) seen before {what}: {val!r}"
                        )
                for rx in rxs:
                    m = rx.search(val)
                    if m:
                        return m
                continue
            seen = "\n".join(self._seen)
            if kind == "timeout":
                raise LinkTimeout(f"{what} not seen within {timeout} s", seen)
            self._queue = None
            if kind == "end":
                raise LinkTimeout(f"{what} not seen; the code ended", seen)
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
        from .transport import OUTPUT_CAP

        out: list[str] = []
        size = dropped = 0  # memory stays bounded: past OUTPUT_CAP lines are only streamed
        for line in self.exec_stream(code, timeout, idle_timeout):
            size += len(line) + 1
            if size <= OUTPUT_CAP:
                out.append(line)
            else:
                dropped += 1
            if sink:
                sink(line)
        if dropped:
            out.append(f"[... {dropped} more lines not kept; {self.transport.last_spill}]")
        return "\n".join(out) + ("\n" if out else "")

    def __repr__(self) -> str:
        return f"<Board {self.name} {self.kind} {self.url or '-'} via {self.transport_kind}>"


def _compile(p: Pattern | Iterable[Pattern]) -> list[re.Pattern[str]]:
    items = [p] if isinstance(p, str | re.Pattern) else list(p)
    return [re.compile(x) if isinstance(x, str) else x for x in items]


def warn(msg: str) -> None:
    print(msg, file=sys.stderr)
