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

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
_RESET_LINE = re.compile(
    r"^(?:MPY: )?soft reboot$|^raw REPL; CTRL-B to exit$"
    r"|^MicroPython v\d+\.\d+\.\d+\S* on \d{4}-\d\d-\d\d; "
)
FILE_CHUNK = 4096  # bytes of file data per exec when writing


class LinkError(Exception):
    """The link to the board failed; ``output`` holds what arrived before the failure."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class LinkTimeout(LinkError):
    """The board did not answer in time."""


class LinkLost(LinkError):
    """The port closed or vanished (process killed, cable pulled, socket dropped)."""


class BoardReset(LinkError):
    """The board rebooted while a command ran (banner seen, raw REPL lost)."""


class BoardError(Exception):
    """Code run on the board raised; ``traceback`` is the board's text."""

    def __init__(self, traceback: str, output: str = "") -> None:
        last = traceback.strip().splitlines()[-1] if traceback.strip() else "error"
        super().__init__(last)
        self.traceback = traceback
        self.output = output


class Transport:
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
            data = self.ser.read(n or 1)
            if data and not n:
                n = self.ser.in_waiting
                if n:
                    data += self.ser.read(n)
            return data
        except (serial.SerialException, OSError) as e:
            raise LinkLost(f"{self.url}: read failed: {e}") from e

    def _read_until(self, ending: bytes, deadline: float, what: str) -> bytes:
        data = b""
        while not data.endswith(ending):
            if time.monotonic() > deadline:
                raise LinkTimeout(f"{self.url}: timeout waiting for {what}", _txt(data))
            data += self._read_raw(1, data)  # byte by byte: nothing past `ending` is consumed
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

    # -- exec -------------------------------------------------------------------------
    def _send(self, code: bytes, deadline: float) -> None:
        if self.ser is None:
            raise LinkLost(f"{self.url}: not connected")
        if self._resync or not self.in_raw:
            self.enter_raw(False)
        self._read_until(b">", deadline, "raw REPL prompt")
        if self.use_raw_paste:
            self._write(b"\x05A\x01")
            r = self._read_exact(2, deadline, "raw-paste reply")
            if r == b"R\x01":
                self._raw_paste(code, deadline)
                return
            if r != b"R\x00":  # board does not know raw-paste: it re-entered raw REPL
                self._read_until(b"w REPL; CTRL-B to exit\r\n>", deadline, "raw REPL")
            self.use_raw_paste = False
        for i in range(0, len(code), 256):
            self._write(code[i : i + 256])
            time.sleep(0.01)  # pacing for boards without flow control (not a sync)
        self._write(b"\x04")
        r = self._read_exact(2, deadline, "OK")
        if r != b"OK":
            self._resync = True
            raise LinkError(f"{self.url}: could not exec (reply {r!r})")

    def _raw_paste(self, code: bytes, deadline: float) -> None:
        window = int.from_bytes(self._read_exact(2, deadline, "raw-paste window"), "little")
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
                    self._resync = True
                    raise LinkError(f"{self.url}: unexpected {b!r} during raw paste")
            chunk = code[i : i + remain]
            self._write(chunk)
            remain -= len(chunk)
            i += len(chunk)
        self._write(b"\x04")
        self._read_until(b"\x04", deadline, "raw-paste end")

    def exec_stream(
        self, code: str | bytes, timeout: float | None = 30.0, idle_timeout: float | None = None
    ) -> Iterator[str]:
        """Run ``code``; yield its output lines as they arrive.

        Raises `BoardError` (after the last line) if the code raised on the board,
        `LinkTimeout` past ``timeout`` seconds overall (or ``idle_timeout`` without output),
        `LinkLost` if the port goes away, `BoardReset` if a boot banner shows up.
        """
        start = time.monotonic()
        deadline = start + timeout if timeout is not None else float("inf")
        setup_deadline = min(deadline, start + 30.0)
        raw = code.encode() if isinstance(code, str) else code
        out: list[str] = []
        self.last_output = ""
        self._send(raw, setup_deadline)
        buf = b""
        err: bytes | None = None
        last_rx = time.monotonic()
        finished = False
        try:
            while True:
                chunk = self._read_some_ctx(out, buf)
                now = time.monotonic()
                if chunk:
                    last_rx = now
                    if err is None:
                        buf += chunk
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
                    else:
                        err += chunk
                    if err is not None and b"\x04" in err:
                        err, _, self._pending = err.partition(b"\x04")
                        break
                elif now > deadline or (idle_timeout and now - last_rx > idle_timeout):
                    self.interrupt()
                    raise LinkTimeout(
                        f"{self.url}: no end of output after {now - start:.1f} s",
                        "\n".join(out) + ("\n" + _txt(buf) if buf else ""),
                    )
            finished = True
        finally:
            self.last_output = "\n".join(out)
            if not finished:
                self._resync = True
        if err and err.strip():
            raise BoardError(_txt(err), self.last_output)

    def _read_some_ctx(self, out: list[str], buf: bytes) -> bytes:
        try:
            return self._read_some()
        except LinkLost as e:
            partial = "\n".join(out) + ("\n" + _txt(buf) if buf else "")
            raise LinkLost(str(e), partial) from None

    def _emit(self, out: list[str], line: bytes) -> Iterator[str]:
        text = _txt(line).rstrip("\r")
        if _RESET_LINE.search(text):
            self._resync = True
            raise BoardReset(f"{self.url}: board reset while running ({text!r})", "\n".join(out))
        out.append(text)
        yield text

    def exec(self, code: str | bytes, timeout: float | None = 30.0) -> str:
        """Run ``code``; return its whole output (lines joined with "\\n")."""
        lines = list(self.exec_stream(code, timeout))
        return "\n".join(lines) + ("\n" if lines else "")

    def eval(self, expr: str, timeout: float | None = 30.0) -> Any:
        """Value of an expression on the board, sent back as JSON (tuples arrive as lists)."""
        text = self.exec(f"import json as _j\nprint(_j.dumps({expr}))", timeout).strip()
        try:
            return json.loads(text)
        except ValueError as e:
            raise LinkError(f"board returned no JSON value: {text[:200]!r}") from e

    # -- files --------------------------------------------------------------------------
    def write_file(self, path: str, data: bytes, timeout: float = 60.0) -> None:
        """Write ``data`` to ``path`` on the board (base64 when the board can decode it:
        half the source text of ``repr(bytes)`` for the board's parser)."""
        import base64

        if self._b64 is None:
            probe = (
                "try:\n from binascii import a2b_base64\n print(1)\nexcept ImportError:\n print(0)"
            )
            self._b64 = self.exec(probe).strip() == "1"
        for i in range(0, max(len(data), 1), FILE_CHUNK):
            mode = "wb" if i == 0 else "ab"
            part = data[i : i + FILE_CHUNK]
            lines = [f"_f=open({path!r},{mode!r})", "_w=_f.write"]
            if self._b64:
                lines[0] = "from binascii import a2b_base64 as _a\n" + lines[0]
                enc = [
                    base64.b64encode(part[j : j + 512]).decode() for j in range(0, len(part), 512)
                ]
                lines += [f"_w(_a({e!r}))" for e in enc]
            else:
                lines += [f"_w({part[j : j + 128]!r})" for j in range(0, len(part), 128)]
            lines += ["_f.close()", "del _f,_w"]
            self.exec("\n".join(lines), timeout)

    def read_file(self, path: str, timeout: float = 60.0) -> bytes:
        code = (
            f"_f=open({path!r},'rb')\nwhile 1:\n b=_f.read(128)\n if not b:break\n"
            " print(''.join('%02x' % x for x in b))\n_f.close()"
        )
        out = self.exec(code, timeout)
        try:
            return b"".join(bytes.fromhex(x) for x in out.splitlines() if x)
        except ValueError as e:
            raise LinkError(f"bad hex from board reading {path}: {out[:200]!r}") from e

    def hash_files(self, paths: list[str], timeout: float = 120.0) -> dict[str, str | None]:
        code = _HASH_FN + "for _p in %r:\n print('%%s\\t%%s' %% (_p, _kt_hash(_p)))\n" % (
            list(paths),
        )
        res: dict[str, str | None] = {}
        for line in self.exec(code, timeout).splitlines():
            m = _HASH_LINE.fullmatch(line)
            if not m or m[1] not in paths:
                raise LinkError(f"bad hash line from board: {line[:200]!r}")
            res[m[1]] = None if m[2] == "None" else m[2]
        return res

    def rename(self, src: str, dst: str) -> None:
        self.exec(f"import os\nos.rename({src!r},{dst!r})")

    def remove(self, path: str) -> None:
        self.exec(f"import os\ntry:\n os.remove({path!r})\nexcept OSError:\n pass")

    def makedirs(self, path: str) -> None:
        code = (
            f"import os\n_p=''\nfor _s in {path!r}.split('/'):\n"
            " if not _s:\n  _p='/' if not _p else _p\n  continue\n"
            " _p=(_p.rstrip('/')+'/'+_s) if _p else _s\n"
            " try:\n  os.mkdir(_p)\n except OSError:\n  pass\n"
        )
        self.exec(code)

    def listdir(self, path: str) -> list[str]:
        return list(self.eval(f"__import__('os').listdir({path!r})"))


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


# the link openers (mpremote, ampy) live in transports.py; re-exported here
from .filehash import _HASH_FN, _HASH_LINE, local_hash  # noqa: E402,F401
from .transports import TRANSPORTS, AmpyTransport, MpremoteTransport  # noqa: E402,F401
