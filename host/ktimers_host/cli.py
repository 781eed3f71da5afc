"""``ktimers``: command line of the host harness (mpremote is the model).

    ktimers [OPTIONS] COMMAND [ARGS] [OPTIONS]      (options go before or after the command)

Commands: boards | emulator start|stop|status|restart | flash | run SCRIPT | exec CODE |
repl | dmesg | ls [PATH] | cp SRC.. DEST | rm PATH.. | mkdir PATH | cat PATH | install FILE.. |
mount DIR [SCRIPT] | validate | demo.  Options: --board NAME, --port URL, --transport
mpremote|ampy, --deterministic, --restart, -q, --version.

Exit status: 0 success; 1 a check failed (a tolerance broken, the board's code raised);
2 usage (bad arguments, unknown or wrong board, output path not writable); 3 the link broke
(timeout, port lost, board reset or vanished); 4 something is not built (firmware, unix
port); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from . import __version__, files, profiles
from .board import Board, ModeMismatch, WrongBoard, describe_ports
from .emulator import EmulatorError
from .files import UsageError
from .report import EXIT_FAILED, EXIT_LINK, EXIT_OK, EXIT_SETUP, EXIT_USAGE
from .transport import BoardError, LinkError

ROOT = profiles.REPO_ROOT
EXIT_INTERRUPTED = 130


def _board(args: argparse.Namespace, connect: bool = True, check: bool = True) -> Board:
    b = Board(
        args.board,
        port=args.port,
        transport=args.transport,
        deterministic=args.det,
        persistent=True,
        restart=args.restart,
    )
    # --port to an emulated board: the caller says how it was started (e.g. a test's
    # own `Emulator(..., deterministic=True)`); the profile's deterministic bounds apply
    emulated = b.kind == "emulator" or (
        args.port and b.profile["connect"].get("kind") == "emulator"
    )
    if args.det and not emulated:
        raise UsageError(
            f"--deterministic needs the emulated board; board {b.name} ({b.kind}) runs in"
            " real time" + (" (--port given: not started by ktimers)" if args.port else "")
        )
    if connect:
        try:
            b.connect()
            if b.started_emulator:
                what = "emulator" if b.kind == "emulator" else f"{b.name} board"
                print(f"ktimers: started {what} pid {_pid(b)} on {b.url}", file=sys.stderr)
            if check:
                b.check_platform()
        except BaseException:
            b.close(stop_started=True)
            raise
    return b


def _pid(b: Board) -> int | None:
    if b.emulator is not None:
        return int(b.emulator.pid)
    return b.process.pid if b.process is not None else None


def _release(b: Board, stop_emulator: bool = False) -> None:
    if b.started_emulator and not stop_emulator:
        what = "emulator" if b.kind == "emulator" else f"{b.name} board"
        print(
            f"ktimers: {what} left running (`ktimers --board {b.name} emulator stop` stops it)",
            file=sys.stderr,
        )
    b.close(stop_started=stop_emulator)


# -- commands --------------------------------------------------------------------------
def cmd_boards(args: argparse.Namespace) -> int:
    for p in profiles.list():
        kind = p["connect"].get("kind", "serial")
        usb = ",".join(p["connect"].get("usb", [])) or "-"
        print(f"{p['name']:<16} {kind:<9} {usb:<20} {p.get('description', '')}")
    rows = describe_ports()
    print("\nserial ports:" if rows else "\nserial ports: none")
    for r in rows:
        match = ", ".join(r["boards"]) or "no profile"
        print(f"  {r['device']:<16} {r['vidpid']:<10} {r['desc']} -> {match}")
    return EXIT_OK


def cmd_emulator(args: argparse.Namespace) -> int:
    """The board's emulator (QEMU) or, for the unix board, its persistent process."""
    prof = profiles.load(args.board)
    kind = prof["connect"].get("kind", "serial")
    if kind == "process":
        return _unix_server(args, prof)
    if kind != "emulator":
        raise UsageError(f"board {prof['name']} is a real board ({kind}): no emulator")
    from .emulator import Emulator

    d = ROOT / "build" / prof["name"]
    emu = Emulator.find_running(d)
    mode = "deterministic" if args.det else "real-time"
    if args.action == "status":
        if emu is None:
            print("emulator: not running")
            return EXIT_FAILED
        m = "deterministic" if emu.deterministic else "real-time"
        print(f"emulator: running, pid {emu.pid}, serial {emu.pty}, {m}")
        return EXIT_OK
    if args.action == "stop":
        if emu is None:
            print("emulator: not running")
            return EXIT_OK
        pid = emu.pid
        emu.stop()
        print(f"emulator: stopped pid {pid}")
        return EXIT_OK
    if args.action == "restart" and emu is not None:
        pid = emu.pid
        emu.stop()
        print(f"emulator: stopped pid {pid}", file=sys.stderr)
        emu = None
    if emu is not None:
        if args.det and not emu.deterministic:
            have = "deterministic" if emu.deterministic else "real-time"
            raise ModeMismatch(
                f"the emulator is running {have} (pid {emu.pid}), {mode} was asked for;"
                f" use `ktimers emulator restart{' --deterministic' if args.det else ''}`"
            )
        print(emu.pty)
        return EXIT_OK
    emu = Emulator(d / "firmware.elf", d / "flash.img", args.det, d)
    emu.start()
    print(f"emulator: started pid {emu.pid} ({mode})", file=sys.stderr)
    print(emu.pty)
    return EXIT_OK


def _unix_server(args: argparse.Namespace, prof: profiles.Profile) -> int:
    from .unixboard import UnixProcess

    conn = prof["connect"]
    up = UnixProcess(
        ROOT / conn.get("binary", "build/unix/micropython"),
        ROOT / conn.get("fs", "build/unix-fs"),
        prof["flash"].get("lib_dir", "lib"),
        persistent=True,
    )
    st = up.find_running()
    if args.det:
        raise UsageError(f"--deterministic needs the emulated board; {prof['name']} is real time")
    if args.action == "status":
        if st is None:
            print(f"{prof['name']} board: not running")
            return EXIT_FAILED
        print(f"{prof['name']} board: running, pid {st['pid']}, serial {st['pty']}")
        return EXIT_OK
    if args.action in ("stop", "restart"):
        if st is None:
            if args.action == "stop":
                print(f"{prof['name']} board: not running")
                return EXIT_OK
        else:
            up.relay_pid = int(st["pid"])
            up.stop()
            print(f"{prof['name']} board: stopped pid {st['pid']}")
        if args.action == "stop":
            return EXIT_OK
    print(up.start())
    return EXIT_OK


def _install(
    b: Board, args: argparse.Namespace, romfs_mode: bool | None = None
) -> tuple[str, bool]:
    from .romfs import install

    return install(b, romfs_mode, not args.quiet, not getattr(args, "no_clean", False))


def cmd_flash(args: argparse.Namespace) -> int:
    b = _board(args)
    try:
        print(_install(b, args, args.romfs)[0])
    finally:
        _release(b)
    return EXIT_OK


def _print_line(line: str) -> None:
    print(line, flush=True)


RUN_IDLE_TIMEOUT_S = 60.0  # `run`/`exec`: a board silent this long (no new line) is given up on


def _stream_run(
    b: Board, source: str | Path, timeout: float | None, idle: float | None = None
) -> int:
    """Run code, its output streamed to stdout; the error (not the output again) to stderr."""
    try:
        if isinstance(source, Path):
            b.run_script(source, stream=_print_line, timeout=timeout, idle_timeout=idle)
        else:
            for line in b.exec_stream(source, timeout, idle):
                _print_line(line)
    except BoardError as e:
        sys.stderr.write(e.traceback)
        return EXIT_FAILED
    except LinkError as e:
        # the output so far was already printed as it arrived
        print(f"ktimers: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_LINK
    except BrokenPipeError:
        with contextlib.suppress(LinkError):
            b.transport.interrupt()  # the reader went away (`| head`): stop the code too
        raise
    return EXIT_OK


def _maybe_flash(b: Board, args: argparse.Namespace) -> None:
    if not args.no_flash:
        done, changed = _install(b, args)
        if changed:
            print(done, file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    script = Path(args.script)
    if not script.is_file():
        print(f"ktimers run: no such file {script}", file=sys.stderr)
        return EXIT_USAGE
    b = _board(args)
    try:
        _maybe_flash(b, args)
        return _stream_run(b, script, args.timeout, args.idle_timeout or None)
    finally:
        _release(b)


def cmd_exec(args: argparse.Namespace) -> int:
    b = _board(args)
    try:
        _maybe_flash(b, args)
        return _stream_run(b, args.code, args.timeout, args.idle_timeout or None)
    finally:
        _release(b)


def cmd_dmesg(args: argparse.Namespace) -> int:
    b = _board(args)
    try:
        return _stream_run(b, "import ktimers\nktimers.dmesg()", 60)
    finally:
        _release(b)


def cmd_repl(args: argparse.Namespace) -> int:
    b = _board(args, connect=False)
    if b.kind == "process" and b.process is not None and not args.port:
        # the unix port's own REPL, with the board's filesystem and library path
        p = b.process
        if not p.binary.exists():
            raise profiles.NotBuilt("unix port", p.binary, "unix")
        (p.fs_dir / p.lib_dir).mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, MICROPYPATH=f"{(p.fs_dir / p.lib_dir).resolve()}:.frozen")
        with files.sigint_to_child():
            return subprocess.call([str(p.binary.resolve())], cwd=p.fs_dir, env=env)
    url = b._bring_up()
    print(f"ktimers: repl on {url} (Ctrl-] or Ctrl-x to leave)", file=sys.stderr)
    cmd = [sys.executable, "-m", "mpremote", "connect", url, "resume", "repl"]
    try:
        with files.sigint_to_child():
            return subprocess.call(cmd)
    finally:
        _release(b)


# -- files: mpremote's own implementation -------------------------------------------------
def cmd_fs(args: argparse.Namespace) -> int:
    if args.cmd == "cp" and len(args.paths) < 2:
        raise UsageError("cp: give SRC... DEST (':' marks a path on the board)")
    b = _board(args)
    try:
        verbose = False if args.quiet else None
        if args.cmd == "cp":
            return files.fs(b, "cp", args.paths, args.recursive, verbose)
        if args.cmd == "ls":
            return files.fs(b, "ls", args.paths or [""], False, False)
        if args.cmd == "rm":
            return files.fs(b, "rm", args.paths, args.recursive, verbose)
        return files.fs(b, args.cmd, args.paths, False, False)
    finally:
        _release(b)


def cmd_install(args: argparse.Namespace) -> int:
    paths = [Path(f) for f in args.files]
    missing = [str(f) for f in paths if not f.is_file()]
    if missing:
        raise UsageError(f"install: no such file {', '.join(missing)}")
    b = _board(args)
    try:
        return files.install(b, paths, args.quiet)
    finally:
        _release(b)


def cmd_mount(args: argparse.Namespace) -> int:
    local = Path(args.dir)
    if not local.is_dir():
        raise UsageError(f"mount: no such folder {local}")
    b = _board(args)
    try:
        return files.mount(b, local, args.script, args.exec)
    finally:
        _release(b)


# -- validation ---------------------------------------------------------------------------
OUTPUTS = ("json", "junit", "plot", "histfile")


def check_outputs(args: argparse.Namespace) -> None:
    """Create each output file's folder and prove the file can be written, before the run."""
    for key in OUTPUTS:
        p = getattr(args, key, None)
        if not p:
            continue
        path = Path(p)
        existed = path.exists()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a"):
                pass
        except OSError as e:
            raise UsageError(f"--{key} {p}: cannot write: {e.strerror or e}") from None
        if not existed:
            path.unlink()


def _validate_args(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(
        json=args.json,
        junit=args.junit,
        plot=args.plot,
        scenario=args.scenario,
        samples=args.samples,
        histogram=args.histogram,
        histfile=args.histfile,
    )


def cmd_validate(args: argparse.Namespace) -> int:
    from . import validate

    check_outputs(args)
    b = _board(args)
    try:
        if not args.no_flash:
            _install(b, args)
        return int(validate.main(_validate_args(args), b))
    finally:
        _release(b)


def cmd_demo(args: argparse.Namespace) -> int:
    from . import validate

    check_outputs(args)
    b = _board(args)
    try:
        print(f"== board {b.name} on {b.url}", flush=True)
        print(_install(b, args)[0], flush=True)
        print("== examples/hires_timer.py", flush=True)
        rc = _stream_run(b, ROOT / "examples" / "hires_timer.py", 60)
        if rc:
            return rc
        print("== validate", flush=True)
        return int(validate.main(_validate_args(args), b))
    finally:
        _release(b, stop_emulator=not args.keep)


# -- parser -------------------------------------------------------------------------------
def _global_opts(p: argparse.ArgumentParser, suppress: bool) -> None:
    """The global options; on subcommands with SUPPRESS defaults, so they work anywhere."""

    def d(v: object) -> object:
        return argparse.SUPPRESS if suppress else v

    default_board = profiles.DEFAULT_BOARD
    p.add_argument(
        "--board", default=d(default_board), help=f"board profile (default {default_board})"
    )
    p.add_argument(
        "--port", default=d(None), help="serial device or pyserial URL (rfc2217://, socket://)"
    )
    p.add_argument("--transport", choices=["mpremote", "ampy"], default=d("mpremote"))
    p.add_argument(
        "--deterministic",
        dest="det",
        action="store_true",
        default=d(False),
        help="emulated board with -icount (repeatable timing); refused elsewhere",
    )
    p.add_argument(
        "--restart",
        action="store_true",
        default=d(False),
        help="restart a running emulator that is in the other timing mode",
    )
    p.add_argument("-q", "--quiet", action="store_true", default=d(False), help="no progress")


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def cmd_probe(args: argparse.Namespace) -> int:
    """What the board gives a timer subsystem; writes a board profile (probe.py)."""
    from . import probe

    b = _board(args)
    try:
        return probe.main(b, args.json, args.name)
    except probe.ProbeError as e:
        print(f"ktimers probe: {e}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        _release(b)


def _validate_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", metavar="FILE", help="write the report as JSON")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    p.add_argument("--plot", metavar="FILE", help="write a latency plot (PNG)")
    p.add_argument(
        "-H",
        "--histogram",
        type=_positive_int,
        metavar="US",
        help="print cyclictest's -h histogram (1 us buckets up to US) for the hrtimer scenarios",
    )
    p.add_argument("--histfile", metavar="FILE", help="write the -H histogram to FILE")
    p.add_argument("--scenario", action="append", metavar="NAME", help="run only NAME (repeat)")
    p.add_argument("--samples", type=_positive_int, metavar="N", help="samples per scenario")
    p.add_argument("--no-flash", action="store_true", help="do not update the library first")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="ktimers",
        description="host harness of ktimers: flash, run, REPL, files, timing validation",
        epilog="Exit status: 0 ok, 1 check failed, 2 usage, 3 link broke, 4 not built.",
    )
    ap.add_argument("--version", action="version", version=f"ktimers {__version__}")
    _global_opts(ap, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_opts(common, suppress=True)
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable[[argparse.Namespace], int], help: str):
        p = sub.add_parser(name, parents=[common], help=help, description=help)
        p.set_defaults(fn=fn)
        return p

    add("boards", cmd_boards, "list board profiles and serial ports (matched by USB VID:PID)")
    e = add("emulator", cmd_emulator, "start/stop/status/restart the board's emulator")
    e.add_argument("action", choices=["start", "stop", "status", "restart"])
    f = add("flash", cmd_flash, "update the library on the board")
    f.add_argument("--no-clean", action="store_true", help="keep stale files")
    f.add_argument(
        "--romfs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="put the library in the board's ROMFS segment, where it runs in place (less"
        " heap); --no-romfs: in its filesystem, erasing a ROMFS copy (default: where it is)",
    )
    r = add("run", cmd_run, "run a script on the board, output streamed")
    r.add_argument("script")
    r.add_argument("--timeout", type=float, default=None, help="seconds (default: none)")
    r.add_argument("--no-flash", action="store_true", help="do not update the library first")
    x = add("exec", cmd_exec, "run a piece of code on the board, output streamed")
    x.add_argument("code")
    x.add_argument("--timeout", type=float, default=None, help="seconds (default: none)")
    x.add_argument("--no-flash", action="store_true", help="do not update the library first")
    for p in (r, x):
        p.add_argument(
            "--idle-timeout",
            type=float,
            default=RUN_IDLE_TIMEOUT_S,
            metavar="S",
            help=f"give up after S s without a new line (default {RUN_IDLE_TIMEOUT_S:g}; 0: never)",
        )
    add("repl", cmd_repl, "interactive REPL")
    add("dmesg", cmd_dmesg, "print the board's kernel log")
    ls = add("ls", cmd_fs, "list a folder on the board (mpremote fs ls)")
    ls.add_argument("paths", nargs="*", metavar="PATH")
    cp = add("cp", cmd_fs, "copy files, ':' marks the board (mpremote fs cp)")
    cp.add_argument("paths", nargs="+", metavar="SRC.. DEST")
    cp.add_argument("-r", "--recursive", action="store_true")
    rm = add("rm", cmd_fs, "remove files on the board (mpremote fs rm)")
    rm.add_argument("paths", nargs="+", metavar="PATH")
    rm.add_argument("-r", "--recursive", action="store_true")
    for name, what in (("mkdir", "make a folder"), ("cat", "print a file")):
        p = add(name, cmd_fs, f"{what} on the board (mpremote fs {name})")
        p.add_argument("paths", nargs="+", metavar="PATH")
    i = add("install", cmd_install, "copy modules into the board's lib dir (for import/insmod)")
    i.add_argument("files", nargs="+", metavar="FILE")
    m = add("mount", cmd_mount, "mount a host folder at /remote, then run SCRIPT or a REPL")
    m.add_argument("dir", metavar="DIR")
    m.add_argument("script", nargs="?", metavar="SCRIPT", help="a file in DIR to run")
    m.add_argument("--exec", metavar="CODE", help="run CODE instead of a script")
    v = add("validate", cmd_validate, "timing validation scenarios")
    _validate_opts(v)
    pr = add("probe", cmd_probe, "report a board's timer APIs and write a profile")
    pr.add_argument("--json", metavar="FILE", help="write the board profile (boards/*.json schema)")
    pr.add_argument("--name", help="profile name (default: the file's stem)")
    d = add("demo", cmd_demo, "flash, run the hires_timer example, validate")
    _validate_opts(d)
    d.add_argument("--keep", action="store_true", help="leave a started emulator running")
    return ap


def _quiet_broken_pipe() -> None:
    """stdout's reader left (``| head``): no traceback, no second error at exit."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    fn: Callable[[argparse.Namespace], int] = args.fn
    try:
        return fn(args)
    except BrokenPipeError:
        _quiet_broken_pipe()
        return EXIT_OK
    except LinkError as e:
        print(f"ktimers: {type(e).__name__}: {e}", file=sys.stderr)
        if e.output:
            print(f"-- output so far --\n{e.output}", file=sys.stderr)
        return EXIT_LINK
    except profiles.NotBuilt as e:
        print(f"ktimers: {e}", file=sys.stderr)
        return EXIT_SETUP
    except (UsageError, WrongBoard, ModeMismatch) as e:
        print(f"ktimers {args.cmd}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except EmulatorError as e:
        print(f"ktimers: emulator: {e}", file=sys.stderr)
        return EXIT_LINK
    except KeyError as e:
        print(f"ktimers: {e.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
