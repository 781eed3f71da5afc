"""The link openers: mpremote's SerialTransport (default) or adafruit-ampy's
Pyboard. Both hand their pyserial object to the engine in transport.py, which
adds deadlines, streaming and typed link errors; only entering the raw REPL and
(for ampy) file transfer use the library's own code."""

from __future__ import annotations

import contextlib
import io
import time
from typing import Any

import serial

from .transport import RAW_BANNER, LinkError, LinkLost, LinkTimeout, Transport, normalize_url


class MpremoteTransport(Transport):
    """Link opened by mpremote's SerialTransport (any pyserial URL)."""

    kind = "mpremote"

    def _open(self) -> Any:
        from mpremote.transport_serial import SerialTransport

        self._mp = SerialTransport(
            normalize_url(self.url), baudrate=self.baudrate, timeout=self.read_timeout
        )
        return self._mp.serial

    def _enter_raw(self, soft_reset: bool) -> None:
        self._mp.enter_raw_repl(soft_reset=soft_reset, timeout_overall=10)


class AmpyTransport(Transport):
    """Link opened by adafruit-ampy's Pyboard; files moved with ampy.files.Files."""

    kind = "ampy"
    use_raw_paste = False  # ampy speaks plain raw REPL only

    def _open(self) -> Any:
        from ampy import pyboard
        from ampy.pyboard import Pyboard

        if "://" in self.url:  # ampy opens plain device paths only; give it a URL port
            pyboard._rawdelay = 0  # normally set by Pyboard.__init__
            pyb = Pyboard.__new__(Pyboard)
            pyb.serial = serial.serial_for_url(
                normalize_url(self.url), baudrate=self.baudrate, timeout=0.05
            )
        else:
            pyb = Pyboard(self.url, baudrate=self.baudrate)
        self._pyb = pyb
        return pyb.serial

    def _enter_raw(self, soft_reset: bool) -> None:
        if soft_reset:
            self._pyb.enter_raw_repl()  # ampy always soft-resets
            return
        self._write(b"\r\x03\x03")
        deadline = time.monotonic() + 10
        while self._read_some():
            if time.monotonic() > deadline:
                raise LinkTimeout(f"{self.url}: board keeps talking")
        self._write(b"\r\x01")
        self._read_until(RAW_BANNER, deadline, "raw REPL banner")

    def write_file(self, path: str, data: bytes, timeout: float = 60.0) -> None:
        from ampy.files import Files

        self._ampy_call(lambda: Files(self._pyb).put(path, data))

    def read_file(self, path: str, timeout: float = 60.0) -> bytes:
        from ampy.files import Files

        return self._ampy_call(lambda: Files(self._pyb).get(path))

    def _ampy_call(self, fn: Any) -> Any:
        self._pending = b""
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                return fn()
        except (serial.SerialException, OSError) as e:
            raise LinkLost(f"{self.url}: {e}") from e
        except Exception as e:  # PyboardError (a BaseException subclass) is caught below
            raise LinkError(f"{self.url}: ampy: {e}") from e
        except BaseException as e:
            if type(e).__name__ == "PyboardError":
                raise LinkError(f"{self.url}: ampy: {e}") from e
            raise
        finally:
            self.in_raw = False  # ampy leaves the raw REPL after each file op


TRANSPORTS: dict[str, type[Transport]] = {"mpremote": MpremoteTransport, "ampy": AmpyTransport}
