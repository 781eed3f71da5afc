"""``python -m ktimers_host.bench``: the benchmark behind ``make bench``.

One deterministic run on the emulated board (QEMU ``-icount``: 1 guest instruction = 1 ns,
figures repeat to the tick), its import heap and SOFT row again with the library in the
board's ROMFS segment (``ktimers flash --romfs``), the frozen firmware's import heap and SOFT
row, the same on the firmware built without the C core (what a stock MicroPython gets), then a
shorter run on the unix board; printed side by side with the issue-8 goals, each marked
met / not met. The device code is the MicroPython files in ``bench/``; each part runs after a
reset, so one part's heap does not leak into the next. Every figure a device prints is a
``BENCH`` line of ``key=value`` pairs, parsed and checked here (no text from a board is
evaluated). Benchmarks print figures: nothing here passes or fails on speed. The table and
the goals are rendered by benchreport.py.

    python -m ktimers_host.bench [--only mps2|nocore|unix] [--samples N] [--json FILE]
                                 [--parts heap_import,alloc,lat:kt_soft,romfs,frozen,...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from . import profiles, romfs
from .benchreport import ROWS, Figures, report
from .board import Board
from .flash import flash

ROOT = profiles.REPO_ROOT
BENCH_DIR = ROOT / "bench"
_LINE = re.compile(
    r"^BENCH ([a-z_]{1,20})((?: [a-z_]{1,20}){0,2})((?: [a-z_0-9]{1,24}=[^ ]{0,800})*)$"
)
_INT = re.compile(r"^-?\d{1,15}(?:\.\d{1,3})?$")


def parse(lines: Iterable[str]) -> Figures:
    """``BENCH kind [row [tag]] k=v ...`` lines -> {"kind row tag": {k: int|float|str}}."""
    out: Figures = {}
    for raw in lines:
        line = raw.strip()
        if not line.startswith("BENCH "):
            continue
        m = _LINE.match(line)
        if not m:
            raise ValueError(f"malformed BENCH line: {line[:200]!r}")
        key = (m.group(1) + m.group(2)).strip()
        vals: dict[str, Any] = {}
        for pair in m.group(3).split():
            k, _, v = pair.partition("=")
            if _INT.match(v):
                vals[k] = float(v) if "." in v else int(v)
            else:
                vals[k] = v
        out.setdefault(key, {}).update(vals)
    return out


# Runs pooled for each lateness row under load (bench/lat.py lat_row: each starts the
# load's collections at another offset); the row's p99 is over all of their samples.
PHASES = 5
_TOP = re.compile(r"^-?\d{1,9}(?:,-?\d{1,9}){0,199}$")


def pool_lat(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One lateness row from the phases of a pooled row: n, early and missed summed; max and
    p99 over all samples (exact: each run prints its worst values, as many as the pooled
    p99 needs); p50 and cnt_p50 the median of the runs' (the median run's median)."""
    for d in runs:
        if "na" in d:
            return d
    n = sum(int(d["n"]) for d in runs)
    idx = min(n - 1, (n * 99 + 99) // 100 - 1)  # as bench/lat.py _report, over all samples
    worst: list[int] = []
    for d in runs:
        top = str(d.get("top", ""))
        if not _TOP.match(top):
            raise ValueError(f"pooled lateness row: bad top= {top[:80]!r}")
        worst += [int(v) for v in top.split(",")]
    worst.sort(reverse=True)
    if len(worst) < n - idx:
        raise ValueError(f"pooled lateness row: {len(worst)} worst values, need {n - idx}")
    out = {k: v for k, v in runs[0].items() if k not in ("top", "phase")}
    mid = sorted(runs, key=lambda d: d["p50"])[len(runs) // 2]
    out.update(
        n=n,
        p50=mid["p50"],
        p99=worst[n - idx - 1],
        max=max(d["max"] for d in runs),
        early=sum(d["early"] for d in runs),
        missed=sum(d["missed"] for d in runs),
        phases=len(runs),
    )
    if "cnt_p50" in out:
        out["cnt_p50"] = sorted(d["cnt_p50"] for d in runs)[len(runs) // 2]
    return out


def program(name: str, call: str = "") -> str:
    return (BENCH_DIR / f"{name}.py").read_text() + ("\n" + call + "\n" if call else "")


class Runner:
    """Runs bench parts on one board, each after a reset."""

    def __init__(self, board: Board, reset: Callable[[], None], log: Callable[[str], None]):
        self.board = board
        self.reset = reset
        self.log = log
        self.figures: Figures = {}

    def part(self, name: str, call: str = "", timeout: float = 300.0) -> Figures:
        self.reset()
        t0 = time.monotonic()
        out = self.board.exec(program(name, call), timeout=timeout)
        got = parse(out.splitlines())
        if not got:
            raise RuntimeError(f"bench part {name} {call!r} printed no BENCH line:\n{out[-2000:]}")
        self.log(f"  {name} {call} ({time.monotonic() - t0:.1f} s): " + "; ".join(got))
        self.figures.update(got)
        return got


def lat_part(r: Runner, row: str, samples: int, load: int) -> None:
    """One lateness row: one run idle, PHASES pooled runs under load (pool_lat)."""
    if not load:
        r.part("lat", f"lat_row({row!r}, {samples}, 0)")
        return
    key = f"lat {row} load"
    runs = [
        r.part("lat", f"lat_row({row!r}, {samples}, 1, {p}, {PHASES})")[key] for p in range(PHASES)
    ]
    r.figures[key] = pool_lat(runs)


def _want(parts: set[str] | None, name: str) -> bool:
    return parts is None or name in parts or name.split(":")[0] in parts


def run_board(
    r: Runner,
    samples: int,
    n_big: int,
    hr_big: int,
    tick: int = 1,
    parts: set[str] | None = None,
    bytecode_rows: bool = False,
    floor_row: bool = False,
) -> Figures:
    """Every part, or only those named in `parts` ("alloc", "lat" or "lat:kt_soft").
    ``bytecode_rows``: also the *_bc and *_nm rows (the IRQ handlers forced to bytecode, and
    to mpy-cross's native module), for a board that runs native code; one that runs bytecode
    anyway (unix) skips them. ``floor_row``: also raw_soft_res (needs mps2.Timer)."""
    for name in ("heap_import", "heap_asyncio", "heap_objects", "alloc"):
        if _want(parts, name):
            r.part(name)
    if _want(parts, "scale"):
        r.part("scale", f"scale({n_big}, {hr_big}, {tick})", timeout=600)
    for row in ROWS:
        if (row.endswith(("_bc", "_nm")) and not bytecode_rows) or not _want(parts, "lat:" + row):
            continue
        for load in (0, 1):
            lat_part(r, row, samples, load)
    if floor_row and _want(parts, "lat:raw_soft_res"):
        lat_part(r, "raw_soft_res", samples, 1)  # the floor for kt_soft under load
    return r.figures


# The parts run on the firmware without the C core (`make firmware-nocore`): what a stock
# MicroPython build gets, side by side with the raw peripheral on the same firmware.
NOCORE_PARTS = frozenset(
    (
        "heap_import",
        "heap_objects",
        "alloc",
        "lat:raw_hard",
        "lat:raw_soft",
        "lat:kt_hard",
        "lat:kt_soft",
        "lat:raw_soft_res",
        "romfs",
        "frozen",
    )
)


def bench_mps2(
    samples: int, log: Callable[[str], None], parts: set[str] | None = None, nocore: bool = False
) -> tuple[Figures, Figures]:
    """The emulated board's figures and its frozen firmware's. ``nocore``: on the firmwares
    built without the C core (firmware-nocore.elf, firmware-nocore-frozen.elf), the parts of
    NOCORE_PARTS that `parts` selects."""
    from .emulator import Emulator

    d = ROOT / "build" / "mps2-an385"
    suffix = "-nocore" if nocore else ""
    if nocore:
        parts = {p for p in NOCORE_PARTS if _want(parts, p)}
    out: Figures = {}
    frozen: Figures = {}
    fw = d / f"firmware{suffix}.elf"
    if not fw.is_file():
        log(f"  {fw} missing: no figures from it (make setup)")
        return out, frozen
    with tempfile.TemporaryDirectory(prefix="ktimers-bench-") as tmp:
        work = Path(tmp)
        emu = Emulator(fw, work / "flash.img", deterministic=True, workdir=work)
        emu.start()
        try:
            b = Board("mps2-an385", port=emu.pty)
            b.connect()
            try:
                log(flash(b, progress=False).summary())
                r = Runner(b, b.soft_reset, log)
                out = run_board(
                    r, samples, 10000, 1000, parts=parts, bytecode_rows=not nocore, floor_row=True
                )
                if _want(parts, "romfs"):
                    # the same .mpy files in the board's ROMFS segment, run in place
                    log(romfs.deploy(b).summary())
                    rr = Runner(b, b.soft_reset, log)
                    rr.part("heap_import")
                    for load in (0, 1):
                        lat_part(rr, "kt_soft", samples, load)
                    lat_part(rr, "raw_soft_res", samples, 1)
                    out.update({"romfs " + k: v for k, v in rr.figures.items()})
            finally:
                b.close()
        finally:
            emu.stop()
        fw = d / f"firmware-frozen{suffix}.elf"
        if not _want(parts, "heap_import") and not _want(parts, "frozen"):
            pass
        elif fw.is_file():
            fdir = work / "frozen"
            fdir.mkdir()
            emu = Emulator(fw, fdir / "blank.img", deterministic=True, workdir=fdir)
            emu.start()
            try:
                b = Board("mps2-an385", port=emu.pty)
                b.connect()
                try:
                    fr = Runner(b, b.soft_reset, log)
                    if _want(parts, "heap_import"):
                        fr.part("heap_import")
                    if _want(parts, "frozen"):  # the SOFT row with the library in ROM
                        for load in (0, 1):
                            lat_part(fr, "kt_soft", samples, load)
                        lat_part(fr, "raw_soft_res", samples, 1)
                    frozen = fr.figures
                finally:
                    b.close()
            finally:
                emu.stop()
        else:
            log(f"  {fw} missing: no frozen figure (make firmware-frozen{suffix})")
    return out, frozen


def bench_unix(samples: int, log: Callable[[str], None], parts: set[str] | None = None) -> Figures:
    b = Board("unix")
    b.connect()
    try:
        log(flash(b, progress=False).summary())
        return run_board(Runner(b, b.reset, log), samples, 2000, 500, tick=0, parts=parts)
    finally:
        b.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m ktimers_host.bench", description=__doc__.split("\n")[0]
    )
    ap.add_argument(
        "--only",
        choices=("mps2", "nocore", "unix"),
        help="run one board only (nocore: the emulated board without the C core)",
    )
    ap.add_argument(
        "--samples", type=int, default=1000, help="1 ms periods per lateness row (mps2)"
    )
    ap.add_argument("--unix-samples", type=int, default=300, help="periods per lateness row (unix)")
    ap.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    ap.add_argument(
        "--parts",
        metavar="LIST",
        help="comma-separated parts to run (heap_import, heap_asyncio, heap_objects, alloc,"
        " scale, lat or lat:<row>, romfs, frozen); default: all",
    )
    args = ap.parse_args(argv)

    def log(s: str) -> None:
        print(s, file=sys.stderr, flush=True)

    parts = set(args.parts.split(",")) if args.parts else None
    m: Figures = {}
    fz: Figures = {}
    u: Figures = {}
    n: Figures = {}
    nfz: Figures = {}
    if args.only in (None, "mps2"):
        log("== mps2-an385, deterministic (-icount: 1 instruction = 1 ns)")
        m, fz = bench_mps2(args.samples, log, parts)
    if args.only in (None, "nocore"):
        log("== mps2-an385 without the C core, deterministic")
        n, nfz = bench_mps2(args.samples, log, parts, nocore=True)
    if args.only in (None, "unix"):
        log("== unix port")
        u = bench_unix(args.unix_samples, log, parts)
    print(report(m, fz, u, n, nfz))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        figs = {
            "mps2": m,
            "mps2_frozen": fz,
            "unix": u,
            "mps2_nocore": n,
            "mps2_nocore_frozen": nfz,
        }
        Path(args.json).write_text(json.dumps(figs, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
