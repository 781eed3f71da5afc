"""Raw-REPL transport to a MicroPython board over any pyserial URL.

`MpremoteTransport` opens the link with mpremote's ``SerialTransport`` (``/dev/tty*``,
``rfc2217://``, ``socket://``) and uses its raw-REPL entry; `AmpyTransport` opens it with
``ampy.pyboard.Pyboard`` and moves files with ``ampy.files.Files``.  Both share one exec
engine (this module) that adds what the libraries lack: an overall deadline on every read,
output streamed line by line, and typed link errors (`LinkTimeout`, `LinkLost`,
`BoardReset`) that carry the output received so far.  Board text is never evaluated:
values come back as JSON, file contents as hex, hashes as tab-separated fields, each
parsed strictly and checked.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import serial

from .errors import (  # noqa: F401 - the link's error types are part of this module's API
    MAX_LINE,
    OUTPUT_CAP,
    BoardError,
    BoardReset,
    LinkCorrupt,
    LinkError,
    LinkLost,
    LinkOverflow,
    LinkTimeout,
    _Output,
)
from .filehash import _HASH_LINE, FILE_CHUNK, FileOps, local_hash  # noqa: F401

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
# What a board prints when it restarts.  The boot banner and "MPY: soft reboot" are found
# anywhere in the bytes (a reset mid-line glues them onto the line being printed); the
# bare forms only at the start of a line.
_RESET_ANY = re.compile(
    rb"MicroPython v\d{1,3}\.\d{1,3}\.\d{1,3}[^ \r\n]{0,40} on \d{4}-\d\d-\d\d; "
    rb"|MPY: soft reboot\r?\n"
)
_RESET_LINE = re.compile(r"^soft reboot$|^raw REPL; CTRL-B to exit$")
_TRACEBACK = b"Traceback (most recent call last):"
_EXC_LINE = re.compile(rb"[A-Za-z_][\w.]{0,80}(?::[^\x00-\x08\x0b-\x1f]*)?\r?\n?")
EXEC_CAP = 16 * 1024 * 1024  # whole output `exec()` returns at most
ERR_CAP = 256 * 1024  # a traceback longer than this is not one
CLASSIFY_S = 1.0  # how long an unexpected byte may take to turn out to be a boot banner


class Transport(FileOps):
    """Common raw-REPL engine; subclasses provide `_open` and `_enter_raw`."""

    kind = "base"
    use_raw_paste = True

    def __init__(self, url: str, baudrate: int = 115200, read_timeout: float = 0.05) -> None:
        self.url = url
        self.baudrate = baudrate
        self.read_timeout = read_timeout
        self.ser: Any = None
        self.in_raw = False
        self._resync = False
        self._pending = b""  # bytes read past the end of the last reply
        self._b64: bool | None = None  # board has binascii.a2b_base64 (probed on first write)
        self.last_output = ""
        self.last_spill: str | None = None  # spill file of the last exec's output, if any
        self.output_cap = OUTPUT_CAP  # output bytes held in memory per exec (the rest spills)
        self.partial_line = b""  # the running code's line so far (no newline yet)

    # -- link -------------------------------------------------------------------------
    def _open(self) -> Any:
        raise NotImplementedError

    def _enter_raw(self, soft_reset: bool) -> None:
        raise NotImplementedError

    def connect(self, soft_reset: bool = False) -> None:
        if self.ser is None:
            try:
                self.ser = self._open()
            except (serial.SerialException, OSError, Exception) as e:
                hint = " (busy? another session may hold the port)" if "access" in str(e) else ""
                raise LinkLost(f"cannot open {self.url}: {e}{hint}") from e
            self.ser.timeout = self.read_timeout
        self.enter_raw(soft_reset)

    def enter_raw(self, soft_reset: bool = False) -> None:
        self._pending = b""  # stale prompt bytes: the libraries below flush the port
        sink = io.StringIO()
        try:
            if self.ser is not None and (self._resync or self.ser.in_waiting):
                self._drain()  # the board is printing: code still runs (a lost Ctrl-C)
            with contextlib.redirect_stdout(sink):
                self._enter_raw(soft_reset)
        except (serial.SerialException, OSError) as e:
            raise LinkLost(f"link lost entering raw REPL on {self.url}: {e}") from e
        except Exception as e:  # mpremote TransportError / ampy PyboardError
            raise LinkTimeout(
                f"could not enter raw REPL on {self.url}: {e}", sink.getvalue()
            ) from e
        self.in_raw = True
        self._resync = False

    def _drain(self, quiet: float = 0.1, limit: float = 6.0, resend: float = 1.2) -> None:
        """After an aborted command (an error mid-reply), or on connecting to a board that
        is printing: stop the board's code and let the rest of its output go by, so no
        stale byte is taken for a reply to the next one.  Ctrl-C again every ``resend`` s
        while output keeps coming (an interrupt can be lost: the unix board takes one per
        second); at most ``limit`` s, then entering the raw REPL reports what it sees."""
        self._write(b"\r\x03")
        t0 = last = sent = time.monotonic()
        while time.monotonic() - t0 < limit and time.monotonic() - last < quiet:
            if self._read_some():
                last = time.monotonic()
                if last - sent >= resend:
                    self._write(b"\x03")
                    sent = last

    def exit_raw(self) -> None:
        if self.ser is not None and self.in_raw:
            self._write(b"\r\x02")
        self.in_raw = False

    def interrupt(self) -> None:
        """Send Ctrl-C twice (stop running code); the next exec re-enters raw REPL."""
        with contextlib.suppress(LinkError):
            self._write(b"\r\x03\x03")
        self._resync = True

    def close(self) -> None:
        if self.ser is not None:
            with contextlib.suppress(Exception):
                self.exit_raw()
            with contextlib.suppress(Exception):
                self.ser.close()
        self.ser = None
        self.in_raw = False

    # -- byte I/O with deadlines --------------------------------------------------------
    def _write(self, data: bytes) -> None:
        if self.ser is None:
            raise LinkLost(f"{self.url}: not connected")
        try:
            self.ser.write(data)
        except (serial.SerialException, OSError) as e:
            raise LinkLost(f"{self.url}: write failed: {e}") from e

    def _read_some(self) -> bytes:
        """Bytes available now, or wait up to ``read_timeout`` for at least one."""
        if self.ser is None:
            raise LinkLost(f"{self.url}: not connected")
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        try:
            n = self.ser.in_waiting
            data = self.ser.read(min(n, 65536) or 1)
            if data and not n:
                n = self.ser.in_waiting
                if n:
                    data += self.ser.read(min(n, 65536))
            return data
        except (serial.SerialException, OSError) as e:
            raise LinkLost(f"{self.url}: read failed: {e}") from e

    def _read_until(self, ending: bytes, deadline: float, what: str) -> bytes:
        data = b""
        while not data.endswith(ending):
            if time.monotonic() > deadline:
                self._check_reset(data, what)
                raise LinkTimeout(f"{self.url}: timeout waiting for {what}", _txt(data))
            data += self._read_raw(1, data)  # byte by byte: nothing past `ending` is consumed
            if len(data) > MAX_LINE:
                self._resync = True
                raise LinkCorrupt(f"{self.url}: no {what} in {len(data)} bytes", _txt(data[-200:]))
            if data[-1:] == b" " or data[-1:] == b"\n":
                self._check_reset(data, what)
        return data

    def _read_exact(self, n: int, deadline: float, what: str) -> bytes:
        data = b""
        while len(data) < n:
            if time.monotonic() > deadline:
                raise LinkTimeout(f"{self.url}: timeout waiting for {what}", _txt(data))
            data += self._read_raw(n - len(data), data)
        return data

    def _read_raw(self, n: int, sofar: bytes) -> bytes:
        if self._pending:
            data, self._pending = self._pending[:n], self._pending[n:]
            return data
        try:
            return self.ser.read(n)
        except (serial.SerialException, OSError) as e:
            raise LinkLost(f"{self.url}: read failed: {e}", _txt(sofar)) from e

    def _check_reset(self, data: bytes, what: str, output: str = "") -> None:
        """Raise `BoardReset` if ``data`` holds a boot banner (anywhere, even mid-line)."""
        m = _RESET_ANY.search(data)
        if m is None:
            return
        self._resync = True
        self.in_raw = False
        before = _txt(data[: m.start()]).rstrip("\r\n")
        out = output + ("\n" if output and before else "") + before
        raise BoardReset(
            f"{self.url}: board reset while {what} ({_txt(data[m.start() : m.end()]).strip()!r})",
            out,
        )

    def _unexpected(self, got: bytes, deadline: float, what: str, output: str = "") -> LinkError:
        """A byte the protocol does not allow: a reset (banner follows) or corruption."""
        self._resync = True
        data = got
        end = min(deadline, time.monotonic() + CLASSIFY_S)
        while time.monotonic() < end and len(data) < 512:
            self._check_reset(data, what, output)
            if b"\n" in data[len(got) :] and len(data) > 80:
                break
            with contextlib.suppress(LinkError):
                data += self._read_raw(1, data)
        self._check_reset(data, what, output)
        return LinkCorrupt(f"{self.url}: unexpected {got!r} while {what} (link corrupted)", output)

    # -- exec -------------------------------------------------------------------------
    def _send(self, code: bytes, deadline: float) -> None:
        if self.ser is None:
            raise LinkLost(f"{self.url}: not connected")
        if self._resync or not self.in_raw:
            self.enter_raw(False)
        # left-overs before the prompt (a timer printing at the raw prompt) are skipped;
        # a boot banner among them is a reset
        self._read_until(b">", deadline, "waiting for the raw REPL prompt")
        if self.use_raw_paste:
            self._write(b"\x05A\x01")
            r = self._read_exact(2, deadline, "raw-paste reply")
            if r == b"R\x01":
                self._raw_paste(code, deadline)
                return
            if r == b"R\x00":  # board does not know raw-paste: it re-entered raw REPL
                self._read_until(b"w REPL; CTRL-B to exit\r\n>", deadline, "entering raw REPL")
            else:
                raise self._unexpected(r, deadline, "asking for raw paste")
            self.use_raw_paste = False
        for i in range(0, len(code), 256):
            self._write(code[i : i + 256])
            time.sleep(0.01)  # pacing for boards without flow control (not a sync)
        self._write(b"\x04")
        r = self._read_exact(2, deadline, "OK")
        if r != b"OK":
            raise self._unexpected(r, deadline, "waiting for OK")

    def _raw_paste(self, code: bytes, deadline: float) -> None:
        window = int.from_bytes(self._read_exact(2, deadline, "raw-paste window"), "little")
        if not 1 <= window <= 65535:
            raise self._unexpected(window.to_bytes(2, "little"), deadline, "raw-paste window")
        remain = window
        i = 0
        while i < len(code):
            while remain == 0 or self.ser.in_waiting:
                b = self._read_exact(1, deadline, "raw-paste flow control")
                if b == b"\x01":
                    remain += window
                elif b == b"\x04":
                    self._write(b"\x04")
                    return
                else:
                    raise self._unexpected(b, deadline, "sending code (raw paste)")
            chunk = code[i : i + remain]
            self._write(chunk)
            remain -= len(chunk)
            i += len(chunk)
        self._write(b"\x04")
        while True:  # window acks may still come before the end mark
            b = self._read_exact(1, deadline, "raw-paste end")
            if b == b"\x04":
                return
            if b != b"\x01":
                raise self._unexpected(b, deadline, "ending the raw paste")

    def exec_stream(
        self, code: str | bytes, timeout: float | None = 30.0, idle_timeout: float | None = None
    ) -> Iterator[str]:
        """Run ``code``; yield its output lines as they arrive.

        Raises `BoardError` (after the last line) if the code raised on the board;
        `LinkTimeout` past ``timeout`` seconds overall, or ``idle_timeout`` seconds without
        a complete line (both hold while data keeps arriving); `LinkLost` if the port goes
        away; `BoardReset` as soon as a boot banner shows up, even in the middle of a line;
        `LinkCorrupt` if the reply breaks the protocol (an end mark in the wrong place);
        `LinkOverflow` for a traceback beyond ``ERR_CAP``.  Every error carries the output
        so far; memory is bounded: lines longer than ``MAX_LINE`` come in pieces and output
        beyond ``OUTPUT_CAP`` is kept in a spill file (named in ``.output``).
        """
        start = time.monotonic()
        deadline = start + timeout if timeout is not None else float("inf")
        setup_deadline = min(deadline, start + 30.0)
        raw = code.encode() if isinstance(code, str) else code
        out = _Output(self.output_cap)
        self.last_output = ""
        self.last_spill = None
        try:
            self._send(raw, setup_deadline)
        except LinkError:
            self._resync = True
            raise
        buf = b""
        err: bytes | None = None
        last_line = time.monotonic()
        finished = False
        try:
            while True:
                now = time.monotonic()
                if now > deadline or (idle_timeout and now - last_line > idle_timeout):
                    self.interrupt()
                    why = "no end of output" if now > deadline else "no new line"
                    raise LinkTimeout(
                        f"{self.url}: {why} after {now - start:.1f} s", out.text(_txt(buf))
                    )
                chunk = self._read_some_ctx(out, buf)
                if not chunk:
                    continue
                if err is None:
                    buf += chunk
                    self._check_reset(buf, "running code", out.text())
                    if b"\x04" in buf:
                        head, _, rest = buf.partition(b"\x04")
                        *lines, tail = head.split(b"\n")
                        for line in lines:
                            yield from self._emit(out, line)
                        if tail.strip(b"\r"):
                            yield from self._emit(out, tail)
                        err, buf = rest, b""
                    else:
                        *lines, buf = buf.split(b"\n")
                        for line in lines:
                            yield from self._emit(out, line)
                        if lines:
                            last_line = time.monotonic()
                        while len(buf) > MAX_LINE:  # an endless line: passed on in pieces
                            cut = min(MAX_LINE, len(buf) - 256)  # keep a banner's length
                            yield from self._emit(out, buf[:cut])
                            buf = buf[cut:]
                        self.partial_line = buf
                else:
                    err += chunk
                if err is not None:
                    self._check_reset(err, "running code", out.text())
                    if err[:1] == b">":  # the end mark of the output was lost
                        raise LinkCorrupt(
                            f"{self.url}: malformed reply (end mark in the wrong place)",
                            out.text(),
                        )
                    if b"\x04" in err:
                        err, _, self._pending = err.partition(b"\x04")
                        break
                    first = err.lstrip(b"\r\n").split(b"\n", 1)
                    if len(first) > 1 and not _error_head(first[0].rstrip(b"\r")):
                        raise LinkCorrupt(  # output went on after a stray end mark
                            f"{self.url}: malformed reply (end mark in the wrong place;"
                            f" then {_txt(first[0][:60])!r})",
                            out.text(),
                        )
                    if len(err) > ERR_CAP:
                        raise LinkOverflow(
                            f"{self.url}: error text beyond {ERR_CAP} bytes", out.text()
                        )
            self._check_reply_end(err, deadline, out)
            finished = True
        finally:
            self.last_output = out.text()
            self.last_spill = out.spill_path
            out.close()
            if not finished:
                self._resync = True
        if err and err.strip():
            raise BoardError(_txt(err), self.last_output)

    def _check_reply_end(self, err: bytes, deadline: float, out: _Output) -> None:
        """After ``OK out \\x04 err \\x04`` the board prints the ``>`` prompt and nothing else;
        the error part is empty or a traceback.  Anything else means the link garbled a byte
        into an end mark: report corruption, not a board exception."""
        end = min(deadline, time.monotonic() + 2.0)
        while not self._pending and time.monotonic() < end:
            self._pending = self._read_raw(1, b"")
        if self._pending and self._pending[:1] != b">":
            got = self._pending[:40]
            self._pending = b""
            raise LinkCorrupt(
                f"{self.url}: malformed reply (end mark in the wrong place; then {got!r})",
                out.text(),
            )
        e = err.strip()
        if e and not _error_head(e.split(b"\n", 1)[0].rstrip(b"\r")):
            raise LinkCorrupt(
                f"{self.url}: malformed reply (error part is not a traceback: {_txt(e[:80])!r})",
                out.text(),
            )

    def _read_some_ctx(self, out: _Output, buf: bytes) -> bytes:
        try:
            return self._read_some()
        except LinkLost as e:
            raise LinkLost(str(e), out.text(_txt(buf))) from None

    def _emit(self, out: _Output, line: bytes) -> Iterator[str]:
        text = _txt(line).rstrip("\r")
        if _RESET_LINE.search(text):
            self._resync = True
            raise BoardReset(f"{self.url}: board reset while running ({text!r})", out.text())
        out.add(text)
        yield text

    def exec(self, code: str | bytes, timeout: float | None = 30.0) -> str:
        """Run ``code``; return its whole output (lines joined with "\\n"), at most
        ``EXEC_CAP`` bytes (`LinkOverflow` beyond, the board interrupted)."""
        lines: list[str] = []
        size = 0
        for line in self.exec_stream(code, timeout):
            size += len(line) + 1
            if size > EXEC_CAP:
                self.interrupt()
                raise LinkOverflow(f"{self.url}: reply beyond {EXEC_CAP} bytes", "\n".join(lines))
            lines.append(line)
        return "\n".join(lines) + ("\n" if lines else "")

    def eval(self, expr: str, timeout: float | None = 30.0) -> Any:
        """Value of an expression on the board, sent back as JSON (tuples arrive as lists)."""
        text = self.exec(f"import json as _j\nprint(_j.dumps({expr}))", timeout).strip()
        try:
            return json.loads(text)
        except ValueError as e:
            raise LinkError(f"board returned no JSON value: {text[:200]!r}") from e


def open_transport(url: str, kind: str = "mpremote", baudrate: int = 115200) -> Transport:
    try:
        cls = TRANSPORTS[kind]
    except KeyError:
        raise ValueError(f"unknown transport {kind!r} (choose from {sorted(TRANSPORTS)})") from None
    t = cls(url, baudrate)
    t.connect()
    return t


def normalize_url(url: str) -> str:
    """ser2net answers RFC2217 SET_CONTROL oddly for ptys (pyserial then times out waiting
    for option 'control'); a console needs no modem lines, so ignore those answers."""
    if url.startswith("rfc2217://") and "ign_set_control" not in url:
        url += ("&" if "?" in url else "?") + "ign_set_control"
    return url


def _txt(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def _error_head(line: bytes) -> bool:
    """Can ``line`` start the error part of a raw-REPL reply (a traceback or an
    exception line)?"""
    return line == _TRACEBACK or _EXC_LINE.fullmatch(line) is not None


# the link openers (mpremote, ampy) live in transports.py; re-exported here
from .transports import TRANSPORTS, AmpyTransport, MpremoteTransport  # noqa: E402,F401
