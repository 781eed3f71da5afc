"""Board file commands on mpremote's own implementation (``ls``, ``cp``, ``rm``, ``mkdir``,
``cat``, ``install``, ``mount``): an mpremote ``State`` is built around the
``SerialTransport`` of the link the harness already opened, and mpremote's
``do_filesystem`` / ``do_mount`` / ``_do_execbuffer`` / ``do_repl`` do the work.

    with mpremote_state(board) as st:
        do_filesystem(st, args)
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .board import Board
from .report import EXIT_FAILED, EXIT_OK
from .transport import LinkTimeout


class UsageError(Exception):
    """Bad arguments found after parsing (the command line exits 2)."""


@contextlib.contextmanager
def sigint_to_child() -> Iterator[None]:
    """Ctrl-C at the terminal goes to the child REPL alone (as in a shell running it)."""
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


MPREMOTE_READ_TIMEOUT = 10.0  # s per read while mpremote's code drives the link


@contextlib.contextmanager
def mpremote_state(b: Board) -> Iterator[Any]:
    """An mpremote ``State`` on the board's open link (raw REPL entered, no soft reset).

    mpremote's code expects reads that wait (it opens ports with no timeout); ours poll
    every 50 ms, so the shared serial object gets a 10 s read timeout meanwhile."""
    from mpremote.main import State

    t = b.transport
    mp = getattr(t, "_mp", None)
    if mp is None:
        raise UsageError("file commands use mpremote's implementation: drop --transport ampy")
    ser = mp.serial
    old = ser.timeout
    ser.timeout = MPREMOTE_READ_TIMEOUT
    # enter the raw REPL through mpremote itself: our engine may hold the next prompt
    # byte in its read-ahead, where mpremote would never see it
    t._pending = b""
    try:
        try:
            mp.enter_raw_repl(soft_reset=False)
        except Exception as e:  # mpremote's TransportError
            raise LinkTimeout(f"could not enter raw REPL on {b.url}: {e}") from e
        t.in_raw, t._resync = True, False
        st = State()
        st.transport = mp
        st._auto_soft_reset = False
        yield st
    finally:
        ser.timeout = old


def fs(
    b: Board,
    command: str,
    paths: list[str],
    recursive: bool = False,
    verbose: bool | None = None,
) -> int:
    """mpremote's ``fs COMMAND PATHS``; 1 with mpremote's message when it fails."""
    from mpremote.commands import CommandError, do_filesystem

    ns = argparse.Namespace(
        command=[command], path=paths, recursive=recursive, force=False, verbose=verbose
    )
    try:
        with mpremote_state(b) as st:
            do_filesystem(st, ns)
    except CommandError as e:
        print(f"ktimers {command}: {e}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def install(b: Board, files: list[Path], quiet: bool = False) -> int:
    """Copy modules into the board's lib dir, where ``import`` and ``insmod`` find them."""
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise UsageError(f"install: no such file {', '.join(missing)}")
    b.transport.makedirs(b.lib_dir)
    dest = ":" + b.lib_dir.rstrip("/") + "/"
    return fs(b, "cp", [str(f) for f in files] + [dest], False, False if quiet else None)


def mount(b: Board, local: Path, script: str | None = None, code: str | None = None) -> int:
    """Mount ``local`` at /remote (mpremote's mount), then run ``script`` (a file in it),
    ``code``, or mpremote's REPL. The run is mpremote's: no ktimers deadline applies."""
    from mpremote.commands import CommandError, _do_execbuffer, do_mount

    if not local.is_dir():
        raise UsageError(f"mount: no such folder {local}")
    if b.kind == "process" and not b.port:
        raise UsageError(
            "mount needs a board whose console is a UART: the unix board's REPL server"
            " watches stdin for Ctrl-C while code runs, which would eat mpremote's"
            " mount protocol (use the emulated board, or `ktimers cp` the files)"
        )
    with mpremote_state(b) as st:
        do_mount(st, argparse.Namespace(path=[str(local)], unsafe_links=False))
        try:
            if code is not None:
                _do_execbuffer(st, code, True)
            elif script:
                _do_execbuffer(st, (local / script).read_bytes(), True)
            else:
                from mpremote.repl import do_repl

                rargs = argparse.Namespace(
                    escape_non_printable=False, capture=None, inject_code=None, inject_file=None
                )
                with sigint_to_child():
                    do_repl(st, rargs)
        except CommandError as e:
            print(f"ktimers mount: {e}", file=sys.stderr)
            return EXIT_FAILED
        except SystemExit as e:  # mpremote exits 1 when the code raised
            return EXIT_FAILED if e.code else EXIT_OK
        finally:
            with contextlib.suppress(Exception):
                st.transport.umount_local()
            b.transport._resync = True
    return EXIT_OK
