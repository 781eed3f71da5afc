"""The emulated reference board: QEMU ``mps2-an385`` running ``build/mps2-an385/firmware.elf``.

The board's console is QEMU's first UART on a host pty (``-serial pty``); its "flash" is a
host file reached through ARM semihosting (the firmware opens the path given as
``flash=<path>`` in the semihosting command line, relative to QEMU's working directory),
its ROMFS segment another (``romfs=<path>``, see ``romfs.py``).
Control (reset, quit) goes through QMP on a unix socket in the work directory.

A small state file (``<workdir>/emulator.json``: pid, pty, qmp socket, ...) lets separate
processes (``ktimers emulator start|stop|status``) find a running instance.

    python -m ktimers_host.emulator start [--deterministic] | stop | status | reset
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(os.environ.get("KTIMERS_ROOT", Path(__file__).resolve().parents[2]))
DEFAULT_DIR = REPO_ROOT / "build" / "mps2-an385"
DEFAULT_FIRMWARE = DEFAULT_DIR / "firmware.elf"
DEFAULT_FLASH = DEFAULT_DIR / "flash.img"
STATE_NAME = "emulator.json"
FLASH_SIZE = 1024 * 1024
QEMU = os.environ.get("KTIMERS_QEMU", "qemu-system-arm")
# QEMU 7.2 spelling: virtual time follows executed instructions (1 insn = 2**0 ns), and the
# clock jumps to the next timer deadline when the guest sleeps instead of waiting in real time.
ICOUNT_ARGS = ["-icount", "shift=0,sleep=off"]

_PTY_RE = re.compile(r"char device redirected to (/dev/pts/\d+)")


class EmulatorError(RuntimeError):
    """QEMU could not be started, controlled or reached."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    except (OSError, IndexError):
        pass
    return True


def _is_qemu(pid: int) -> bool:
    try:
        return b"qemu-system-arm" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class Emulator:
    """One QEMU instance of the emulated board."""

    def __init__(
        self,
        firmware: Path = DEFAULT_FIRMWARE,
        flash: Path = DEFAULT_FLASH,
        deterministic: bool = False,
        workdir: Path | None = None,
    ) -> None:
        self.firmware = Path(firmware).resolve()
        self.flash = Path(flash).resolve()
        self.deterministic = deterministic
        self.workdir = Path(workdir).resolve() if workdir is not None else self.flash.parent
        self._proc: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None
        self._pty: str | None = None

    # ------------------------------------------------------------------ paths
    @property
    def state_file(self) -> Path:
        return self.workdir / STATE_NAME

    @property
    def qmp_path(self) -> Path:
        return self.workdir / "qemu-qmp.sock"

    @property
    def log_path(self) -> Path:
        return self.workdir / "qemu.log"

    @property
    def pid(self) -> int | None:
        return self._pid

    @property
    def pty(self) -> str | None:
        return self._pty

    @property
    def running(self) -> bool:
        if self._pid is None:
            return False
        if self._proc is not None:
            return self._proc.poll() is None
        return _pid_alive(self._pid) and _is_qemu(self._pid)

    # ------------------------------------------------------------------ command
    @property
    def romfs(self) -> Path:
        """The ROMFS segment's host file: beside the flash file (``flash.img`` ->
        ``flash.romfs``), so each flash file is one board with its own segment."""
        return self.flash.with_suffix(".romfs")

    def _flash_arg(self, path: Path | None = None) -> str:
        try:
            rel = os.path.relpath(path or self.flash, self.workdir)
        except ValueError:
            rel = str(self.flash)
        if any(c in rel for c in " ,"):
            raise EmulatorError(f"flash path must not contain spaces or commas: {rel!r}")
        return rel

    def command(self) -> list[str]:
        cmd = [
            QEMU,
            "-machine",
            "mps2-an385",
            "-nographic",
            "-monitor",
            "none",
            "-serial",
            "pty",
            "-qmp",
            f"unix:{self.qmp_path},server=on,wait=off",
            "-semihosting-config",
            f"enable=on,target=native,arg=firmware,arg=flash={self._flash_arg()}"
            + f",arg=romfs={self._flash_arg(self.romfs)}"
            + (",arg=idle=spin" if self.deterministic else ""),
            "-kernel",
            str(self.firmware),
        ]
        if self.deterministic:
            cmd += ICOUNT_ARGS
        return cmd

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 20.0, wait_ready: bool = True) -> str:
        """Launch QEMU; return the pty path once the board answers on it."""
        if self.running:
            assert self._pty is not None
            return self._pty
        if not self.firmware.is_file():
            from .profiles import NotBuilt

            raise NotBuilt("emulated board firmware", self.firmware, "firmware")
        other = Emulator.find_running(self.workdir)
        if other is not None:
            raise EmulatorError(
                f"an emulator is already running from {self.workdir} (pid {other.pid}, "
                f"pty {other.pty}); stop it first"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.flash.exists():
            self.flash.parent.mkdir(parents=True, exist_ok=True)
            with open(self.flash, "wb") as f:
                f.truncate(FLASH_SIZE)  # blank: the firmware formats it on first boot
        self.qmp_path.unlink(missing_ok=True)
        log = open(self.log_path, "wb")
        try:
            self._proc = subprocess.Popen(
                self.command(),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        self._pid = self._proc.pid
        deadline = time.monotonic() + timeout
        while self._pty is None:
            text = self.log_path.read_text(errors="replace")
            m = _PTY_RE.search(text)
            if m:
                self._pty = m.group(1)
                break
            if self._proc.poll() is not None:
                raise EmulatorError(f"qemu exited ({self._proc.returncode}): {text.strip()}")
            if time.monotonic() > deadline:
                self.stop()
                raise EmulatorError("qemu did not report its pty")
            time.sleep(0.02)
        self._write_state()
        if wait_ready:
            try:
                self.wait_ready(max(1.0, deadline - time.monotonic()))
            except EmulatorError:
                self.stop()
                raise
        return self._pty

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Wait until the REPL answers on the pty (sends CR, expects a prompt)."""
        if self._pty is None:
            raise EmulatorError("not started")
        fd = os.open(self._pty, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            import termios
            import tty

            tty.setraw(fd, termios.TCSANOW)
            buf = b""
            deadline = time.monotonic() + timeout
            next_poke = 0.0
            while True:
                now = time.monotonic()
                if now > deadline:
                    raise EmulatorError(f"board did not answer on {self._pty}: {buf[-200:]!r}")
                if now >= next_poke:
                    os.write(fd, b"\r")
                    next_poke = now + 0.5
                r, _, _ = select.select([fd], [], [], 0.05)
                if r:
                    try:
                        buf += os.read(fd, 4096)
                    except BlockingIOError:
                        pass
                    if b">>> " in buf or b"raw REPL" in buf:
                        break
            # drain what is left so the next user starts clean
            end = time.monotonic() + 0.1
            while time.monotonic() < end:
                r, _, _ = select.select([fd], [], [], 0.02)
                if r:
                    try:
                        os.read(fd, 4096)
                    except BlockingIOError:
                        pass
        finally:
            os.close(fd)

    def stop(self, timeout: float = 5.0) -> None:
        """Quit QEMU (QMP ``quit``, then SIGTERM, then SIGKILL)."""
        pid = self._pid
        if pid is not None and self.running:
            try:
                self.qmp("quit")
            except (OSError, EmulatorError):
                pass
            if not self._wait_exit(timeout / 2):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                if not self._wait_exit(timeout / 2):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self._wait_exit(timeout)
        if self._proc is not None:
            try:
                self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        self._clear_state()
        self._proc = None
        self._pid = None
        self._pty = None

    def _wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None:
                if self._proc.poll() is not None:
                    return True
            elif self._pid is None or not _pid_alive(self._pid):
                return True
            time.sleep(0.02)
        return False

    def reset(self, wait_ready: bool = True, timeout: float = 15.0) -> None:
        """Hardware reset (QMP ``system_reset``): the firmware reboots, the pty stays."""
        self.qmp("system_reset")
        if wait_ready:
            self.wait_ready(timeout)

    # ------------------------------------------------------------------ QMP
    def qmp(self, command: str, **arguments: Any) -> Any:
        """Run one QMP command and return its ``return`` value."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5.0)
            s.connect(str(self.qmp_path))
            f = s.makefile("rwb")

            def recv() -> dict[str, Any]:
                while True:
                    line = f.readline()
                    if not line:
                        raise EmulatorError("QMP connection closed")
                    msg: dict[str, Any] = json.loads(line)
                    if "event" not in msg:
                        return msg

            def send(cmd: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
                req: dict[str, Any] = {"execute": cmd}
                if args:
                    req["arguments"] = args
                f.write(json.dumps(req).encode() + b"\r\n")
                f.flush()
                return recv()

            recv()  # greeting
            send("qmp_capabilities")
            try:
                reply = send(command, arguments or None)
            except EmulatorError:
                if command == "quit":
                    return None
                raise
            if "error" in reply:
                raise EmulatorError(f"QMP {command}: {reply['error']}")
            return reply.get("return")

    # ------------------------------------------------------------------ state file
    def _state(self) -> dict[str, Any]:
        return {
            "pid": self._pid,
            "pty": self._pty,
            "qmp": str(self.qmp_path),
            "firmware": str(self.firmware),
            "flash": str(self.flash),
            "workdir": str(self.workdir),
            "deterministic": self.deterministic,
            "started": time.time(),
        }

    def _write_state(self) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._state(), indent=2) + "\n")
        tmp.replace(self.state_file)

    def _clear_state(self) -> None:
        try:
            data = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return
        if data.get("pid") in (self._pid, None) or not _pid_alive(int(data["pid"])):
            self.state_file.unlink(missing_ok=True)

    @classmethod
    def find_running(cls, workdir: Path | None = None) -> Emulator | None:
        """The instance recorded in ``<workdir>/emulator.json`` if its QEMU is alive."""
        state_file = Path(workdir or DEFAULT_DIR) / STATE_NAME
        try:
            data = json.loads(state_file.read_text())
            pid = int(data["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not (_pid_alive(pid) and _is_qemu(pid)):
            state_file.unlink(missing_ok=True)
            return None
        emu = cls(
            Path(data["firmware"]),
            Path(data["flash"]),
            bool(data.get("deterministic", False)),
            Path(data["workdir"]),
        )
        emu._pid = pid
        emu._pty = data.get("pty")
        return emu

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        mode = "deterministic" if self.deterministic else "real-time"
        return f"Emulator(pid={self._pid}, pty={self._pty}, {mode}, flash={self.flash})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ktimers_host.emulator", description=__doc__)
    ap.add_argument("action", choices=["start", "stop", "status", "reset"])
    ap.add_argument("--firmware", type=Path, default=DEFAULT_FIRMWARE)
    ap.add_argument("--flash", type=Path, default=DEFAULT_FLASH)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--deterministic", action="store_true", help="-icount shift=0,sleep=off")
    args = ap.parse_args(argv)
    workdir = args.workdir or args.flash.resolve().parent
    running = Emulator.find_running(workdir)
    if args.action == "start":
        if running is not None:
            print(f"already running: pid {running.pid} pty {running.pty}")
            return 0
        emu = Emulator(args.firmware, args.flash, args.deterministic, workdir)
        try:
            pty = emu.start()
        except EmulatorError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print(f"started: pid {emu.pid} pty {pty}")
        return 0
    if running is None:
        print("not running")
        return 0 if args.action in ("stop", "status") else 1
    if args.action == "stop":
        pid = running.pid
        running.stop()
        print(f"stopped pid {pid}")
    elif args.action == "status":
        mode = "deterministic" if running.deterministic else "real-time"
        print(f"running: pid {running.pid} pty {running.pty} ({mode}) flash {running.flash}")
    elif args.action == "reset":
        running.reset()
        print("reset")
    return 0


if __name__ == "__main__":
    sys.exit(main())
