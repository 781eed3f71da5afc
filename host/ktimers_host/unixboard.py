"""The unix board: MicroPython's unix port run as a local process on a pty.

The stock unix port has no raw REPL (its ``main.c`` REPL knows only Ctrl-C/D/E), so the
process runs the device file ``device/unix_repl_server.py`` (``micropython -c <it>``): a
MicroPython program that speaks the raw REPL / raw-paste protocol of
``shared/runtime/pyexec.c`` on its stdin/stdout.  The process holds the pty *master* (as
QEMU does with ``-serial pty``) and the host opens the slave path, so the very same
transport code (and ser2net) drives it like a serial board.

Two lifetimes:

* owned (``persistent=False``, tests and the pytest plugin): the process lives as long as
  the `UnixProcess` object; ``stop()`` ends it.
* persistent (the command line): a detached relay, ``python -m ktimers_host.unixboard
  serve``, owns the process and offers a pty of its own that clients open and close, as
  QEMU's ``-serial pty`` does; board output with no client attached is dropped, as QEMU
  drops it.  So ``ktimers --board unix run x.py`` and then ``ktimers --board unix dmesg``
  talk to the same MicroPython process, with its timers and its kernel log, exactly as on
  the emulated board.  A state file (``<fs>.json``) records the relay; ``ktimers --board
  unix emulator stop|status`` stops it or shows it.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import time
import tty
from pathlib import Path
from typing import Any

from .device import source
from .profiles import NotBuilt

SERVER_FILE = "unix_repl_server.py"


def server_source() -> str:
    """The raw-REPL server's MicroPython source (a device file, linted and tested as code)."""
    return source(SERVER_FILE)


def _spawn(binary: Path, fs_dir: Path, lib_dir: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start the port on a new pty; return the process and an open, raw slave fd."""
    if not binary.exists():
        raise NotBuilt("unix port", binary, "unix")
    (fs_dir / lib_dir).mkdir(parents=True, exist_ok=True)
    master, slave = os.openpty()
    # raw at once: a cooked slave would echo the board's output back into its stdin
    tty.setraw(slave)
    env = dict(os.environ)
    env["MICROPYPATH"] = f"{(fs_dir / lib_dir).resolve()}:.frozen"
    try:
        proc = subprocess.Popen(
            [str(binary.resolve()), "-c", server_source()],
            stdin=master,
            stdout=master,
            stderr=master,
            cwd=fs_dir,
            env=env,
            close_fds=True,
            start_new_session=True,
        )
    except BaseException:
        os.close(slave)
        raise
    finally:
        os.close(master)
    return proc, slave


def state_path(fs_dir: Path) -> Path:
    fs_dir = Path(fs_dir).resolve()
    return fs_dir.with_name(fs_dir.name + ".json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class UnixProcess:
    """A unix-port MicroPython process on a pty; ``start()`` returns the slave path."""

    def __init__(
        self, binary: Path, fs_dir: Path, lib_dir: str = "lib", persistent: bool = False
    ) -> None:
        self.binary = Path(binary)
        self.fs_dir = Path(fs_dir)
        self.lib_dir = lib_dir
        self.persistent = persistent
        self.proc: subprocess.Popen[bytes] | None = None
        self.path: str | None = None
        self._hold: int | None = None
        self.relay_pid: int | None = None  # persistent: the relay process
        self.started = False  # this object started the persistent relay

    @property
    def running(self) -> bool:
        if self.relay_pid is not None:
            return _alive(self.relay_pid)
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        if self.relay_pid is not None:
            return self.relay_pid
        return self.proc.pid if self.proc else None

    # -- persistent relay ----------------------------------------------------------------
    def find_running(self) -> dict[str, Any] | None:
        """The persistent relay recorded for this board's filesystem, if alive."""
        try:
            st = json.loads(state_path(self.fs_dir).read_text())
            pid = int(st["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not _alive(pid):
            state_path(self.fs_dir).unlink(missing_ok=True)
            return None
        return st

    def _start_persistent(self, timeout: float = 15.0) -> str:
        st = self.find_running()
        if st is None:
            if not self.binary.exists():
                raise NotBuilt("unix port", self.binary, "unix")
            sf = state_path(self.fs_dir)
            sf.unlink(missing_ok=True)
            cmd = [sys.executable, "-m", "ktimers_host.unixboard", "serve"]
            cmd += ["--binary", str(self.binary.resolve()), "--fs", str(self.fs_dir.resolve())]
            cmd += ["--lib", self.lib_dir]
            env = dict(os.environ)
            host_dir = str(Path(__file__).resolve().parents[1])
            env["PYTHONPATH"] = host_dir + os.pathsep + env.get("PYTHONPATH", "")
            log_path = sf.with_suffix(".log")
            with open(log_path, "wb") as log:
                relay = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env=env,
                )
            deadline = time.monotonic() + timeout
            while st is None:
                if relay.poll() is not None:
                    err = log_path.read_text(errors="replace").strip()[-500:]
                    raise RuntimeError(f"unix board relay exited: {err}")
                if time.monotonic() > deadline:
                    relay.kill()
                    raise RuntimeError("unix board relay did not start")
                time.sleep(0.02)
                st = self.find_running()
            self.started = True
        self.relay_pid = int(st["pid"])
        self.path = str(st["pty"])
        return self.path

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> str:
        if self.persistent:
            return self._start_persistent()
        if self.running:
            assert self.path is not None
            return self.path
        self.proc, slave = _spawn(self.binary, self.fs_dir, self.lib_dir)
        self.path = os.ttyname(slave)
        # Keep one slave fd open without reading it, so the master never sees a hangup
        # between host connections (the port stays usable, as QEMU's does).
        self._hold = slave
        return self.path

    def interrupt(self) -> None:
        if self.proc is not None and self.running:
            self.proc.send_signal(signal.SIGINT)

    def stop(self, timeout: float = 3.0) -> None:
        if self.relay_pid is not None:
            self._stop_relay(timeout)
            return
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout)
            self.proc = None
        if self._hold is not None:
            os.close(self._hold)
            self._hold = None

    def _stop_relay(self, timeout: float) -> None:
        pid = self.relay_pid
        assert pid is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        state_path(self.fs_dir).unlink(missing_ok=True)
        self.relay_pid = None

    def detach(self) -> None:
        """Forget a persistent relay without stopping it (it keeps running)."""
        self.relay_pid = None

    def kill(self) -> None:
        """Kill -9 (tests: the board vanishes)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def restart(self) -> str:
        self.stop()
        return self.start()


# -- the relay (runs detached: python -m ktimers_host.unixboard serve ...) ----------------
def serve(binary: Path, fs_dir: Path, lib_dir: str) -> int:
    """Run the port and relay its pty to a pty of our own until the port exits.

    Clients come and go on our pty; while none is attached (the master reports POLLHUP),
    board output is read and dropped, so the board never blocks on a full pty buffer.
    """
    proc, board = _spawn(binary, fs_dir, lib_dir)
    cm, cs = os.openpty()
    tty.setraw(cs)
    pty_path = os.ttyname(cs)
    os.close(cs)  # no client yet: the master reports POLLHUP until one opens the slave
    fcntl.fcntl(cm, fcntl.F_SETFL, fcntl.fcntl(cm, fcntl.F_GETFL) | os.O_NONBLOCK)
    sf = state_path(fs_dir)
    stopping = []

    def on_term(signum: int, frame: Any) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    tmp = sf.with_suffix(".tmp")
    state = {"pid": os.getpid(), "board_pid": proc.pid, "pty": pty_path, "fs": str(fs_dir)}
    tmp.write_text(json.dumps(state) + "\n")
    tmp.replace(sf)
    p = select.poll()
    p.register(board, select.POLLIN)
    p.register(cm, select.POLLIN)
    watching = True  # cm is polled: a client is attached, or its last bytes are unread
    try:
        while not stopping and proc.poll() is None:
            try:
                events = p.poll(50)
            except InterruptedError:
                continue
            for fd, ev in events:
                if fd == board:
                    try:
                        data = os.read(board, 4096)
                    except OSError:
                        data = b""
                    if not data:
                        return 0
                    if not _hup(cm):
                        with contextlib.suppress(BlockingIOError, OSError):
                            os.write(cm, data)
                elif fd == cm:
                    # read even after the client hung up: what it wrote just before
                    # closing (a Ctrl-C, say) is still in the buffer and must arrive
                    try:
                        data = os.read(cm, 4096)
                    except OSError as e:
                        if e.errno not in (errno.EIO, errno.EAGAIN):
                            raise
                        data = b""
                    if data:
                        os.write(board, data)
                    elif ev & select.POLLHUP:
                        # drained and no client: POLLHUP is reported however it is
                        # asked for, so stop polling cm until a client attaches
                        p.unregister(cm)
                        watching = False
            if not watching and not _hup(cm):
                p.register(cm, select.POLLIN)
                watching = True
        return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(3)
        with contextlib.suppress(OSError):
            st = json.loads(sf.read_text())
            if st.get("pid") == os.getpid():
                sf.unlink()
        os.close(board)
        os.close(cm)


def _hup(fd: int) -> bool:
    """True while no client holds the slave side of our pty."""
    q = select.poll()
    q.register(fd, select.POLLIN)
    return any(ev & select.POLLHUP for _, ev in q.poll(0))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ktimers_host.unixboard")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run the unix board detached, relayed to a pty")
    s.add_argument("--binary", type=Path, required=True)
    s.add_argument("--fs", type=Path, required=True)
    s.add_argument("--lib", default="lib")
    args = ap.parse_args(argv)
    return serve(args.binary, args.fs, args.lib)


if __name__ == "__main__":
    sys.exit(main())
