"""Raw-REPL server for MicroPython's unix port (runs ON the board: ``micropython -c <this>``).

The stock unix port's REPL (``ports/unix/main.c``) knows only Ctrl-C/D/E, so the host's
transport cannot drive it. This program speaks the same protocol as
``shared/runtime/pyexec.c`` on stdin/stdout, so mpremote, ampy and ktimers' own transport
treat the unix port like any serial board:

    byte     friendly REPL          raw REPL
    Ctrl-A   enter raw REPL         restart raw REPL
    Ctrl-B   banner                 leave raw REPL
    Ctrl-C   clear the line         clear the buffer; while code runs: KeyboardInterrupt
    Ctrl-D   soft reset             run the buffer ("OK", output, 0x04, error, 0x04);
                                    an empty buffer: soft reset
    Ctrl-E   -                      "A" Ctrl-A after it: raw-paste mode, window 256 bytes,
                                    Ctrl-A from the board grants one more window

While code runs a watcher thread reads stdin: a Ctrl-C makes a background shell send
SIGINT to this process, which the unix port turns into KeyboardInterrupt (``os.system``
ignores SIGINT in its caller while it waits, so the background job first waits for
``system()`` to be done; should a SIGINT be lost all the same, the next Ctrl-C a second
later sends another). Bytes other than
Ctrl-C typed while code runs are kept (up to 256) for the next command.

A soft reset deinitialises ktimers (stops its tick thread), forgets every module imported
since start and gives ``__main__`` fresh globals, like a board's soft reboot.

Usage (the host does this, see ``ktimers_host/unixboard.py``)::

    MICROPYPATH=<fs>/lib micropython -c "$(cat unix_repl_server.py)"
"""

import _thread
import gc
import io
import os
import select
import sys
import time

_I = sys.stdin.buffer
_O = sys.stdout.buffer
_P = select.poll()
_P.register(0, select.POLLIN)
_B = bytearray(1)
_R = bytearray(256)  # bytes typed while code ran (watcher -> next command)
# _st: [code running, watcher alive, bytes in _R, SIGINT sent, ticks_ms when sent]
_st = [0, 0, 0, 0, 0]
_RESEND_MS = 1000
# system() ignores SIGINT in this process until it has reaped its shell: the background
# job waits for that shell ($$) to be gone (reaped), then a little more, then signals
# this process ($PPID of that shell)
_KILL = (
    "(while kill -0 $$ 2>/dev/null; do sleep 0.01; done; sleep 0.05; kill -INT $PPID)"
    " >/dev/null 2>&1 &"
)
_BASE = set(sys.modules)
_WINDOW = 256
_g = {"__name__": "__main__"}


def _watch():
    p = select.poll()
    p.register(0, select.POLLIN)
    while _st[0]:
        if p.poll(20) and _I.readinto(_B) == 1:
            if _B[0] == 3:
                # A second SIGINT while the first is still pending kills the port, so one
                # is sent per Ctrl-C burst (_KILL waits until system() has returned). A
                # Ctrl-C arriving when the last SIGINT is over a second old and the code
                # still runs sends another, in case one was lost all the same.
                now = time.ticks_ms()
                if _st[3] and time.ticks_diff(now, _st[4]) < _RESEND_MS:
                    continue
                _st[3], _st[4] = 1, now
                os.system(_KILL)
            elif _st[2] < 256:
                _R[_st[2]] = _B[0]
                _st[2] += 1
    _st[1] = 0


def _getc():
    if _st[2]:
        c = _R[0]
        _R[:] = _R[1:] + b"\0"
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


def _banner():
    v = sys.implementation[1][:3]
    _w(b"MicroPython v%d.%d.%d; ktimers unix board (raw REPL server)\r\n" % v)
    _w(b'Type "help()" for more information.\r\n')


def _soft_reset():
    global _g
    for n in ("ktimers.core", "ktimers"):
        k = sys.modules.get(n)
        if k is not None and hasattr(k, "deinit"):
            try:
                k.deinit()
            except Exception:  # noqa: BLE001 - a broken library must not stop the reset
                pass
            break
    for m in list(sys.modules):
        if m not in _BASE:
            del sys.modules[m]
    _g = {"__name__": "__main__"}
    gc.collect()
    _w(b"MPY: soft reboot\r\n")


def _run(src):
    e = None
    _st[0] = _st[1] = 1
    _st[3] = 0
    _thread.start_new_thread(_watch, ())
    try:
        exec(compile(src, "<stdin>", "exec"), _g)
    except SystemExit:
        pass
    except BaseException as x:  # noqa: BLE001 - reported to the host like pyexec does
        e = x
    _st[0] = 0
    while _st[1]:
        _P.poll(1)
    _w(b"\x04")
    if e is not None:
        s = io.StringIO()
        sys.print_exception(e, s)
        for ln in s.getvalue().split("\n"):
            if ln and not ln.endswith(", in _run"):
                _w(ln.encode() + b"\n")
    _w(b"\x04")


def _paste():
    _w(b"R\x01" + bytes((_WINDOW & 255, _WINDOW >> 8)) + b"\x01")
    buf = bytearray()
    n = _WINDOW
    while True:
        c = _getc()
        if c == 4:
            _w(b"\x04")
            break
        buf.append(c)
        n -= 1
        if n == 0:
            n = _WINDOW
            _w(b"\x01")
    _run(bytes(buf).decode())


def _raw():
    _w(b"raw REPL; CTRL-B to exit\r\n")
    while True:
        _w(b">")
        buf = bytearray()
        while True:
            c = _getc()
            if c == 1:
                _w(b"\r\nraw REPL; CTRL-B to exit\r\n>")
                buf = bytearray()
            elif c == 2:
                _w(b"\r\n")
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
        _w(b"OK")
        if not buf:
            _w(b"\r\n")
            _soft_reset()
            _w(b"raw REPL; CTRL-B to exit\r\n")
            continue
        _run(bytes(buf).decode())


def _friendly_line(s):
    try:
        try:
            r = eval(s, _g)
            if r is not None:
                print(repr(r))
        except SyntaxError:
            exec(s, _g)
    except BaseException as x:  # noqa: BLE001 - printed like the REPL does
        sys.print_exception(x)


def _friendly():
    _banner()
    line = bytearray()
    _w(b">>> ")
    while True:
        c = _getc()
        if c == 1:
            _w(b"\r\n")
            _raw()
            _banner()
            _w(b">>> ")
        elif c == 2:
            _w(b"\r\n")
            _banner()
            _w(b">>> ")
        elif c == 3:
            line = bytearray()
            _w(b"\r\n>>> ")
        elif c == 4:
            _w(b"\r\n")
            _soft_reset()
            _banner()
            _w(b">>> ")
        elif c == 13 or c == 10:
            _w(b"\r\n")
            s = bytes(line).decode()
            line = bytearray()
            if s.strip():
                _friendly_line(s)
            _w(b">>> ")
        elif c == 8 or c == 127:
            if line:
                line = line[:-1]
                _w(b"\x08 \x08")
        else:
            line.append(c)
            _w(bytes((c,)))


def main():
    try:
        _friendly()
    except SystemExit:
        pass


if __name__ == "__main__":
    main()
