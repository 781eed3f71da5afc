"""The unix board: MicroPython's unix port run as a local process on a pty.

The stock unix port has no raw REPL (its ``main.c`` REPL knows only Ctrl-C/D/E), so the
process is started with ``-c SERVER``: a small MicroPython program that speaks the same
raw REPL / raw-paste protocol as ``shared/runtime/pyexec.c`` on stdin/stdout.  The process
holds the pty *master* (as QEMU does with ``-serial pty``) and the host opens the slave
path, so the very same transport code (and ser2net) drives it like a serial board.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tty
from pathlib import Path

from .transport import LinkError

# Device side (MicroPython).  Protocol as in pyexec.c: Ctrl-A raw mode, Ctrl-B friendly,
# Ctrl-C clear/interrupt, Ctrl-D exec (or soft reboot on an empty buffer), Ctrl-E A Ctrl-A
# raw-paste with flow control.  While code runs, a watcher thread reads stdin; a Ctrl-C
# sends SIGINT to this process, which the unix port turns into KeyboardInterrupt (from a
# background shell: system() ignores SIGINT in the caller while it waits).
SERVER = r"""
import sys, os, gc, io, select, _thread
_I = sys.stdin.buffer
_O = sys.stdout.buffer
_P = select.poll()
_P.register(0, select.POLLIN)
_B = bytearray(1)
_R = bytearray(256)
_st = [0, 0, 0, 0]
_BASE = set(sys.modules)
def _watch():
    p = select.poll()
    p.register(0, select.POLLIN)
    while _st[0]:
        if p.poll(20) and _I.readinto(_B) == 1:
            if _B[0] == 3:
                if _st[3]:
                    continue
                _st[3] = 1  # a second SIGINT before the first is handled kills the port
                os.system('(sleep 0.02; kill -INT $PPID) >/dev/null 2>&1 &')
            elif _st[2] < 256:
                _R[_st[2]] = _B[0]
                _st[2] += 1
    _st[1] = 0
def _getc():
    if _st[2]:
        c = _R[0]
        _R[:] = _R[1:] + b'\0'
        _st[2] -= 1
        return c
    try:
        while not _P.poll(10):
            pass
        b = _I.read(1)
    except KeyboardInterrupt:
        return 3
    if not b:
        raise SystemExit
    return b[0]
def _w(s):
    _O.write(s)
_g = {'__name__': '__main__'}
def _banner():
    v = sys.implementation[1][:3]
    _w(b'MicroPython v%d.%d.%d; ktimers unix board (raw REPL server)\r\n' % v)
    _w(b'Type "help()" for more information.\r\n')
def _soft_reset():
    global _g
    for n in ('ktimers.core', 'ktimers'):
        k = sys.modules.get(n)
        if k is not None and hasattr(k, 'deinit'):
            try:
                k.deinit()
            except Exception:
                pass
            break
    for m in list(sys.modules):
        if m not in _BASE:
            del sys.modules[m]
    _g = {'__name__': '__main__'}
    gc.collect()
    _w(b'MPY: soft reboot\r\n')
def _run(src):
    e = None
    _st[0] = _st[1] = 1
    _st[3] = 0
    _thread.start_new_thread(_watch, ())
    try:
        exec(compile(src, '<stdin>', 'exec'), _g)
    except SystemExit:
        pass
    except BaseException as x:
        e = x
    _st[0] = 0
    while _st[1]:
        _P.poll(1)
    _w(b'\x04')
    if e is not None:
        s = io.StringIO()
        sys.print_exception(e, s)
        for ln in s.getvalue().split('\n'):
            if ln and not ln.endswith(', in _run'):
                _w(ln.encode() + b'\n')
    _w(b'\x04')
def _paste():
    win = 256
    _w(b'R\x01' + bytes((win & 255, win >> 8)) + b'\x01')
    buf = bytearray()
    n = win
    while True:
        c = _getc()
        if c == 4:
            _w(b'\x04')
            break
        buf.append(c)
        n -= 1
        if n == 0:
            n = win
            _w(b'\x01')
    _run(bytes(buf).decode())
def _raw():
    _w(b'raw REPL; CTRL-B to exit\r\n')
    buf = bytearray()
    while True:
        _w(b'>')
        buf = bytearray()
        while True:
            c = _getc()
            if c == 1:
                _w(b'\r\nraw REPL; CTRL-B to exit\r\n>')
                buf = bytearray()
            elif c == 2:
                _w(b'\r\n')
                return
            elif c == 3:
                buf = bytearray()
            elif c == 4:
                break
            elif c == 5 and not buf:
                c2 = _getc()
                if c2 == 65 and _getc() == 1:
                    _paste()
                    buf = None
                    break
                buf.append(5)
                buf.append(c2)
            else:
                buf.append(c)
        if buf is None:
            continue
        _w(b'OK')
        if not buf:
            _w(b'\r\n')
            _soft_reset()
            _w(b'raw REPL; CTRL-B to exit\r\n')
            continue
        _run(bytes(buf).decode())
def _friendly():
    _banner()
    line = bytearray()
    _w(b'>>> ')
    while True:
        c = _getc()
        if c == 1:
            _w(b'\r\n')
            _raw()
            _banner()
            _w(b'>>> ')
        elif c == 2:
            _w(b'\r\n')
            _banner()
            _w(b'>>> ')
        elif c == 3:
            line = bytearray()
            _w(b'\r\n>>> ')
        elif c == 4:
            _w(b'\r\n')
            _soft_reset()
            _banner()
            _w(b'>>> ')
        elif c == 13 or c == 10:
            _w(b'\r\n')
            s = bytes(line).decode()
            line = bytearray()
            if s.strip():
                try:
                    try:
                        r = eval(s, _g)
                        if r is not None:
                            print(repr(r))
                    except SyntaxError:
                        exec(s, _g)
                except BaseException as x:
                    sys.print_exception(x)
            _w(b'>>> ')
        elif c == 8 or c == 127:
            if line:
                line = line[:-1]
                _w(b'\x08 \x08')
        else:
            line.append(c)
            _w(bytes((c,)))
try:
    _friendly()
except SystemExit:
    pass
"""


class UnixProcess:
    """A unix-port MicroPython process on a pty; ``start()`` returns the slave path."""

    def __init__(self, binary: Path, fs_dir: Path, lib_dir: str = "lib") -> None:
        self.binary = Path(binary)
        self.fs_dir = Path(fs_dir)
        self.lib_dir = lib_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.path: str | None = None
        self._hold: int | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> str:
        if self.running:
            assert self.path is not None
            return self.path
        if not self.binary.exists():
            raise LinkError(f"unix port binary {self.binary} not found (run `make unix`)")
        (self.fs_dir / self.lib_dir).mkdir(parents=True, exist_ok=True)
        master, slave = os.openpty()
        # raw at once: a cooked slave would echo the board's output back into its stdin
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        env = dict(os.environ)
        env["MICROPYPATH"] = f"{(self.fs_dir / self.lib_dir).resolve()}:.frozen"
        try:
            self.proc = subprocess.Popen(
                [str(self.binary.resolve()), "-c", SERVER],
                stdin=master,
                stdout=master,
                stderr=master,
                cwd=self.fs_dir,
                env=env,
                close_fds=True,
                start_new_session=True,
            )
        finally:
            os.close(master)
        # Keep one slave fd open without reading it, so the master never sees a hangup
        # between host connections (the port stays usable, as QEMU's does).
        self._hold = slave
        return self.path

    def interrupt(self) -> None:
        if self.running and self.proc:
            self.proc.send_signal(signal.SIGINT)

    def stop(self, timeout: float = 3.0) -> None:
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

    def kill(self) -> None:
        """Kill -9 (tests: the board vanishes)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def restart(self) -> str:
        self.stop()
        return self.start()
