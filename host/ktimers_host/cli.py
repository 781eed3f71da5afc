"""``ktimers``: command line of the host harness.

ktimers [--board NAME] [--port URL] [--transport mpremote|ampy] COMMAND
boards | emulator start|stop|status | flash | run SCRIPT | repl | dmesg | validate | demo
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from . import profiles
from .board import Board, describe_ports
from .flash import flash
from .transport import BoardError, LinkError

ROOT = profiles.REPO_ROOT


def _board(args: argparse.Namespace, connect: bool = True) -> Board:
    b = Board(args.board, port=args.port, transport=args.transport, deterministic=args.det)
    if connect:
        b.connect()
        if b.started_emulator and b.emulator is not None:
            print(f"ktimers: started emulator pid {b.emulator.pid} on {b.url}", file=sys.stderr)
    return b


def _release(b: Board, stop_emulator: bool = False) -> None:
    if b.started_emulator and not stop_emulator:
        print("ktimers: emulator left running (`ktimers emulator stop` stops it)", file=sys.stderr)
    b.close(stop_started=stop_emulator)


def cmd_boards(args: argparse.Namespace) -> int:
    for p in profiles.list():
        kind = p["connect"].get("kind", "serial")
        print(f"{p['name']:<14} {kind:<9} {p.get('description', '')}")
    rows = describe_ports()
    print("\nserial ports:" if rows else "\nserial ports: none")
    for r in rows:
        match = ", ".join(r["boards"]) or "no profile"
        print(f"  {r['device']:<16} {r['vidpid']:<10} {r['desc']} -> {match}")
    return 0


def cmd_emulator(args: argparse.Namespace) -> int:
    from .emulator import Emulator

    emu = Emulator.find_running()
    if args.action == "status":
        if emu is None:
            print("emulator: not running")
            return 1
        print(f"emulator: running, pid {emu.pid}, serial {emu.pty}")
        return 0
    if args.action == "stop":
        if emu is None:
            print("emulator: not running")
            return 0
        emu.stop()
        print(f"emulator: stopped pid {emu.pid}")
        return 0
    if emu is None:
        d = ROOT / "build" / "mps2-an385"
        emu = Emulator(d / "firmware.elf", d / "flash.img", args.det)
        emu.start()
    print(emu.pty)
    return 0


def cmd_flash(args: argparse.Namespace) -> int:
    b = _board(args)
    try:
        rep = flash(b, progress=not args.quiet, clean=not args.no_clean)
        print(rep.summary())
        for f in rep.files:
            print(f"  sent {f}")
    finally:
        _release(b)
    return 0


def _stream_run(b: Board, code_or_path: str | Path, timeout: float | None) -> int:
    try:
        if isinstance(code_or_path, Path):
            b.run_script(code_or_path, stream=True, timeout=timeout)
        else:
            for line in b.exec_stream(code_or_path, timeout):
                print(line, flush=True)
    except BoardError as e:
        sys.stderr.write(e.traceback)
        return 1
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    script = Path(args.script)
    if not script.is_file():
        print(f"ktimers run: no such file {script}", file=sys.stderr)
        return 2
    b = _board(args)
    try:
        if not args.no_flash:
            rep = flash(b, progress=not args.quiet)
            if rep.transferred:
                print(rep.summary(), file=sys.stderr)
        return _stream_run(b, script, args.timeout)
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
        (p.fs_dir / p.lib_dir).mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, MICROPYPATH=f"{(p.fs_dir / p.lib_dir).resolve()}:.frozen")
        return subprocess.call([str(p.binary.resolve())], cwd=p.fs_dir, env=env)
    url = b._bring_up()
    print(f"ktimers: repl on {url} (Ctrl-] or Ctrl-x to leave)", file=sys.stderr)
    cmd = [sys.executable, "-m", "mpremote", "connect", url, "resume", "repl"]
    try:
        return subprocess.call(cmd)
    finally:
        _release(b)


def _validate_args(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(
        json=args.json,
        junit=args.junit,
        plot=args.plot,
        scenario=args.scenario,
        samples=args.samples,
    )


def cmd_validate(args: argparse.Namespace) -> int:
    from . import validate

    b = _board(args)
    try:
        if not args.no_flash:
            flash(b, progress=not args.quiet)
        return int(validate.main(_validate_args(args), b))
    except LinkError as e:
        print(f"ktimers validate: link error: {e}", file=sys.stderr)
        return 2
    finally:
        _release(b)


def cmd_demo(args: argparse.Namespace) -> int:
    from . import validate

    b = _board(args)
    try:
        print(f"== board {b.name} on {b.url}", flush=True)
        print(flash(b, progress=not args.quiet).summary(), flush=True)
        print("== examples/hires_timer.py", flush=True)
        rc = _stream_run(b, ROOT / "examples" / "hires_timer.py", 60)
        if rc:
            return rc
        print("== validate", flush=True)
        return int(validate.main(_validate_args(args), b))
    except LinkError as e:
        print(f"ktimers demo: link error: {e}", file=sys.stderr)
        if e.output:
            print(e.output, file=sys.stderr)
        return 2
    finally:
        _release(b, stop_emulator=not args.keep)


def cmd_probe(args: argparse.Namespace) -> int:
    """What the board gives a timer subsystem; writes a board profile (probe.py)."""
    from . import probe

    b = _board(args)
    try:
        return probe.main(b, args.json, args.name)
    except probe.ProbeError as e:
        print(f"ktimers probe: {e}", file=sys.stderr)
        return 2
    finally:
        _release(b)


def _validate_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", metavar="FILE", help="write the report as JSON")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    p.add_argument("--plot", metavar="FILE", help="write a latency plot (PNG)")
    p.add_argument("--scenario", action="append", metavar="NAME", help="run only NAME (repeat)")
    p.add_argument("--samples", type=int, metavar="N", help="samples per scenario")
    p.add_argument("--no-flash", action="store_true", help="do not update the library first")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ktimers", description=__doc__.split("\n")[1].strip())
    ap.add_argument("--board", default="mps2-an385", help="board profile (boards/NAME.json)")
    ap.add_argument("--port", help="serial device or pyserial URL (rfc2217://, socket://)")
    ap.add_argument("--transport", choices=["mpremote", "ampy"], default="mpremote")
    ap.add_argument(
        "--deterministic",
        dest="det",
        action="store_true",
        help="start the emulator with -icount (repeatable timing)",
    )
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("boards", help="list board profiles and serial ports").set_defaults(
        fn=cmd_boards
    )
    e = sub.add_parser("emulator", help="start/stop/status of the emulated board")
    e.add_argument("action", choices=["start", "stop", "status"])
    e.set_defaults(fn=cmd_emulator)
    f = sub.add_parser("flash", help="update the library on the board")
    f.add_argument("--no-clean", action="store_true", help="keep stale files")
    f.set_defaults(fn=cmd_flash)
    r = sub.add_parser("run", help="run a script on the board, output streamed")
    r.add_argument("script")
    r.add_argument("--timeout", type=float, default=None, help="seconds (default: none)")
    r.add_argument("--no-flash", action="store_true")
    r.set_defaults(fn=cmd_run)
    sub.add_parser("repl", help="interactive REPL").set_defaults(fn=cmd_repl)
    sub.add_parser("dmesg", help="print the board's kernel log").set_defaults(fn=cmd_dmesg)
    v = sub.add_parser("validate", help="timing validation scenarios")
    _validate_opts(v)
    v.set_defaults(fn=cmd_validate)
    pr = sub.add_parser("probe", help="report a board's timer APIs and write a profile")
    pr.add_argument("--json", metavar="FILE", help="write the board profile (boards/*.json schema)")
    pr.add_argument("--name", help="profile name (default: the file's stem)")
    pr.set_defaults(fn=cmd_probe)
    d = sub.add_parser("demo", help="emulated board: flash, hires_timer example, validate")
    _validate_opts(d)
    d.add_argument("--keep", action="store_true", help="leave a started emulator running")
    d.set_defaults(fn=cmd_demo)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    fn: Callable[[argparse.Namespace], int] = args.fn
    try:
        return fn(args)
    except LinkError as e:
        print(f"ktimers: {type(e).__name__}: {e}", file=sys.stderr)
        if e.output:
            print(f"-- output so far --\n{e.output}", file=sys.stderr)
        return 2
    except KeyError as e:
        print(f"ktimers: {e.args[0]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
