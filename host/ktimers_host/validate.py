"""``ktimers validate``: run timing scenarios on a board, pull the trace ring, check bounds.

Each scenario is one ``board.exec`` of ``scenarios/common.py`` + a family file + a call; the
device prints framed dumps (see framing.py) which are parsed, analysed (stats.py) and compared
with the board profile's ``tolerances``. Every wait is bounded by the exec timeout.

Scenarios (each also as ``NAME-load``: busy loop + list churn + gc.collect() in the main
context): ``hr-{200us,1ms,10ms}-{soft,hard}`` (one periodic hrtimer, forward_now + RESTART,
``--samples`` expiries or 2.5 s), ``hr-range-soft`` (16 periodic hrtimers 10-17.5 ms with
0-3 ms slack via hrtimer_start_range_ns, 2 x samples or 3 s), ``wheel`` (48 timer_list timers
re-armed with mod_timer at 1..600 jiffies, 3 s). Tolerance keys: ``early``,
``hrtimer_{soft,hard}_{max,p99}_late_us`` (+ ``_load`` variants), ``periodic_drift_us``,
``periodic_irregular_steps`` (default 0), ``hrtimer_overrun_ratio`` (optional),
``timer_max_late_jiffies`` (beyond the wheel level's granularity), ``min_total_samples``.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import framing, report, scenarios, stats
from .transport import LinkCorrupt, LinkError, LinkOverflow

DEFAULT_SAMPLES = 2000
MAX_PULLS = 3  # pulls of a damaged last dump (the board still holds its ring)
MAX_RUNS = 2  # runs of a scenario whose reply was garbled or whose earlier dump was damaged
OUTPUT_CAP = 64 * 1024 * 1024  # bytes of scenario output the host holds
EXEC_SLACK_S = 60.0
MIN_TOTAL_SAMPLES = 10_000
_DONE = re.compile(
    r"KTV done (?P<name>[A-Za-z0-9_.-]{1,40}) samples=(?P<samples>\d{1,9})"
    r" dumps=(?P<dumps>\d{1,6}) ring=(?P<ring>\d{1,9})$"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    family: str  # periodic | hrrange | wheel
    load: bool = False
    iv_ns: int = 0
    hard: bool = False
    max_ms: int = 2500

    def call(self, samples: int) -> str:
        load = 1 if self.load else 0
        if self.family == "periodic":
            return (
                f"ktv_periodic({self.name!r}, {self.iv_ns}, {int(self.hard)}, {samples},"
                f" {self.max_ms}, {load})"
            )
        if self.family == "hrrange":
            # 16 timers: interval 10, 12.5, 15, 17.5 ms; slack 0, 1, 2, 3 ms (~1100 expiries/s)
            return (
                f"ktv_hrrange({self.name!r}, 10000000, 2500000, 1000000, {int(self.hard)},"
                f" {samples * 2}, {self.max_ms}, {load})"
            )
        return f"ktv_wheel({self.name!r}, {samples * 10}, {self.max_ms}, {load})"

    def program(self, samples: int) -> str:
        return scenarios.program(self.family, self.call(samples))

    def timeout(self) -> float:
        return self.max_ms / 1000.0 * 3 + EXEC_SLACK_S


def _base() -> list[Scenario]:
    out = []
    for hard in (False, True):
        for label, iv in (("200us", 200_000), ("1ms", 1_000_000), ("10ms", 10_000_000)):
            out.append(
                Scenario(
                    f"hr-{label}-{'hard' if hard else 'soft'}", "periodic", iv_ns=iv, hard=hard
                )
            )
    out.append(Scenario("hr-range-soft", "hrrange", max_ms=3000))
    out.append(Scenario("wheel", "wheel", max_ms=3000))
    return out


SCENARIOS: dict[str, Scenario] = {}
for _s in _base():
    SCENARIOS[_s.name] = _s
    _ld = Scenario(_s.name + "-load", _s.family, True, _s.iv_ns, _s.hard, _s.max_ms)
    SCENARIOS[_ld.name] = _ld


def _tol(tol: dict, key: str, load: bool) -> Any:
    if load and f"{key}_load" in tol:
        return tol[f"{key}_load"]
    return tol.get(key)


def check(sc: Scenario, f: dict, tol: dict) -> tuple[list[str], dict]:
    """Failures of one scenario's figures against the profile tolerances, and the bounds used."""
    fails: list[str] = []
    bounds: dict[str, Any] = {}
    if not f.get("samples"):
        fails.append("no samples")
        return fails, bounds
    early = tol.get("early", 0)
    bounds["early"] = early
    if f["early"] > early:
        fails.append(f"{f['early']} early expiries (bound {early})")
    if f["frame_errors"]:
        fails.append(f"trace dump damaged: {'; '.join(f['frame_errors'][:3])}")
    if f["kind"] == "hrtimer":
        mode = "hard" if sc.hard else "soft"
        # lateness counts from the hard expiry (soft + slack): equal to soft for slack 0
        for stat, key in (
            ("max", f"hrtimer_{mode}_max_late_us"),
            ("p99", f"hrtimer_{mode}_p99_late_us"),
        ):
            b = _tol(tol, key, sc.load)
            v = f[f"beyond_hard_{stat}_us"]
            if b is None or v is None:
                continue
            bounds[stat] = b
            if v > b:
                past = "past soft+slack " if sc.family == "hrrange" else ""
                fails.append(f"{stat} lateness {past}{v:.1f} us > {b:g} us ({key})")
        b = _tol(tol, "periodic_drift_us", sc.load)
        if b is not None:
            bounds["drift_max_us"] = b
            if f["drift_max_us"] > b:
                fails.append(f"phase drift {f['drift_max_us']:.1f} us > {b} us")
        b = _tol(tol, "periodic_irregular_steps", sc.load) or 0
        bounds["irregular_steps"] = b
        if f["irregular_steps"] > b:
            fails.append(
                f"{f['irregular_steps']} expiries repeated a soft expiry (less than one period"
                f" after the previous; bound {b})"
            )
        b = _tol(tol, "hrtimer_overrun_ratio", sc.load)
        if b is not None:
            ratio = f["missed_periods"] / max(1, f["samples"] + f["missed_periods"])
            bounds["overrun_ratio"] = b
            if ratio > b:
                fails.append(f"missed periods {ratio:.3f} of expected > {b}")
    else:
        b = _tol(tol, "timer_max_late_jiffies", sc.load)
        if b is not None and f["late_excess_max"] is not None:
            bounds["late_excess_max"] = b
            if f["late_excess_max"] > b:
                fails.append(
                    f"timer fired {f['late_excess_max']} jiffies after its wheel bucket (bound {b})"
                )
    return fails, bounds


def _is_link_error(e: BaseException) -> bool:
    if LinkError is not None and isinstance(e, LinkError):
        return True
    return type(e).__name__ in {"LinkLost", "LinkTimeout", "BoardReset", "LinkError"} or isinstance(
        e, (OSError, EOFError, TimeoutError)
    )


def run_scenario(
    board: Any, sc: Scenario, samples: int, progress: Callable[[str], None] | None = None
) -> list[str]:
    """Exec one scenario; return its output lines with every trace dump intact.

    The link can damage a dump (a frame fails its check, a line is lost) or garble the
    reply itself (`LinkCorrupt`).  The board keeps the last dump's ring after the scenario,
    so a damaged last dump is pulled again (``ktv_redump()``, at most ``MAX_PULLS`` times);
    a damaged earlier dump or a garbled reply re-runs the scenario (at most ``MAX_RUNS``
    runs).  Still damaged after that: `LinkCorrupt`, the scenario fails for link reasons,
    never as a board error.  Progress shows ``r`` per re-pull, ``R`` per re-run.
    """
    code = sc.program(samples)
    stream = getattr(board, "exec_stream", None)
    if stream is None:
        return board.exec(code, sc.timeout()).splitlines()
    why = ""
    pulls = 0
    for run in range(MAX_RUNS):
        if run:
            _tick(progress, "R")
            with contextlib.suppress(Exception):  # the last run's ring: free it first
                board.exec("ktv_free()", 30.0)
        try:
            lines = _collect(stream(code, sc.timeout()), progress)
        except LinkCorrupt as e:  # the reply was garbled: its output is lost, run it again
            why = str(e)
            continue
        n, bad, why = _damage(lines, sc)
        while n is not None and bad == [n - 1] and pulls < MAX_PULLS:
            pulls += 1
            _tick(progress, "r")
            try:
                fresh = _collect(stream("ktv_redump()", 60.0), None)
            except LinkCorrupt as e:
                why = str(e)
                continue
            lines = _splice(lines, n - 1, fresh)
            n, bad, why = _damage(lines, sc)
        if n is not None and not bad:
            with contextlib.suppress(Exception):
                board.exec("ktv_free()", 30.0)
            return lines
    raise LinkCorrupt(
        f"{sc.name}: trace dump still damaged on the link after {MAX_RUNS} run(s) and"
        f" {pulls} re-pull(s): {why}"
    )


def _tick(progress: Callable[[str], None] | None, s: str) -> None:
    if progress:
        progress(s)


def _collect(stream: Iterable[str], progress: Callable[[str], None] | None) -> list[str]:
    """The lines of one exec, at most ``OUTPUT_CAP`` bytes (a board that never stops
    printing costs the host no more; the exec timeout ends it)."""
    lines: list[str] = []
    size = 0
    for line in stream:
        size += len(line) + 1
        if size > OUTPUT_CAP:
            raise LinkOverflow(f"scenario output beyond {OUTPUT_CAP} bytes", "\n".join(lines[:50]))
        lines.append(line)
        if progress and line.startswith("KTH "):
            progress(".")
    return lines


def _damage(lines: list[str], sc: Scenario) -> tuple[int | None, list[int], str]:
    """(dumps the device reported or None, numbers of the dumps not intact, why)."""
    done = [m for m in map(_DONE.search, lines) if m and m["name"] == sc.name]
    if not done:
        return None, [], "the end-of-scenario line did not arrive intact"
    n = int(done[-1]["dumps"])
    parsed = framing.parse_lines(lines)
    good = {d.dump for d in parsed.dumps if d.scenario == sc.name and d.complete}
    bad = [k for k in range(n) if k not in good]
    errs = parsed.all_errors()
    return n, bad, "; ".join(errs[:3]) or (f"dumps {bad} missing" if bad else "")


def _splice(lines: list[str], k: int, fresh: list[str]) -> list[str]:
    """``lines`` with dump ``k`` (the last) replaced by ``fresh``, a new pull of it."""
    cut = None
    for i in range(len(lines) - 1, -1, -1):
        if f"KTH v=1 dump={k} " in lines[i]:
            cut = i
            break
        if k and f"KTE dump={k - 1} " in lines[i]:
            cut = i + 1
            break
    done = [ln for ln in lines if _DONE.search(ln)]
    return lines[: cut or 0] + fresh + done[-1:]


def evaluate(sc: Scenario, lines: Iterable[str], tol: dict) -> dict:
    """Parse, analyse and check one scenario's output; the JSON-ready scenario entry."""
    lines = list(lines)
    parsed = framing.parse_lines(lines)
    done = [m for m in map(_DONE.search, lines) if m and m["name"] == sc.name]
    dumps = [d for d in parsed.dumps if d.scenario == sc.name]
    res = stats.analyze(sc.name, dumps)
    f = res.figures
    f["frame_errors"] = parsed.errors + f["frame_errors"]
    f["garbage_lines"] = parsed.garbage_lines
    f["load"] = sc.load
    f["family"] = sc.family
    f["device_samples"] = int(done[-1]["samples"]) if done else None
    f["ring_records"] = int(done[-1]["ring"]) if done else None
    fails, bounds = check(sc, f, tol)
    if not done:
        fails.append("the device did not report the end of the scenario")
    elif f["device_samples"] != f["samples"]:
        fails.append(
            f"the trace holds {f['samples']} expiries, the device counted {f['device_samples']}"
        )
    f["bounds"] = bounds
    f["failures"] = fails
    f["passed"] = not fails
    f["_series"] = (res.times, res.lateness)
    return f


def main(args: Any, board: Any) -> int:
    """Entry point used by the CLI; returns 0 when every bound holds and the run completed."""
    profile = getattr(board, "profile", None) or {}
    tol = profile.get("tolerances", {})
    names = list(getattr(args, "scenario", None) or SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(
            f"validate: unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}",
            file=sys.stderr,
        )
        return 2
    samples = getattr(args, "samples", None) or DEFAULT_SAMPLES
    out = sys.stdout
    results: list[dict] = []
    error: str | None = None
    partial = False
    t0 = time.monotonic()
    for i, name in enumerate(names):
        sc = SCENARIOS[name]
        out.write(report.progress(i, names, time.monotonic() - t0) + " ")
        out.flush()
        t_sc = time.monotonic()
        try:
            lines = run_scenario(board, sc, samples, lambda s: (out.write(s), out.flush()))
        except Exception as e:  # noqa: BLE001 - classified below
            if _is_link_error(e):
                error = f"link failed during {name}: {type(e).__name__}: {e}"
                partial = True
                out.write("LINK FAILED\n")
                print(
                    f"validate: ERROR {error}; keeping {len(results)} completed scenario(s)",
                    file=sys.stderr,
                )
                results.append(report.errored(name, error, time.monotonic() - t_sc))
                results += [report.not_run(n, "link failed before it ran") for n in names[i + 1 :]]
                break
            tb = getattr(e, "traceback", "") or str(e)
            out.write("DEVICE ERROR\n")
            print(f"validate: {name}: the board raised: {tb.strip()}", file=sys.stderr)
            results.append(
                report.errored(name, f"{type(e).__name__}: {tb.strip()}", time.monotonic() - t_sc)
            )
            continue
        try:
            f = evaluate(sc, lines, tol)
        except Exception as e:  # noqa: BLE001 - bad board data: keep the run's report
            why = f"the board's report could not be used: {type(e).__name__}: {e}"
            out.write("BAD DATA\n")
            results.append(report.errored(name, why, time.monotonic() - t_sc))
            continue
        f["elapsed_s"] = round(time.monotonic() - t_sc, 3)
        out.write(f" {f['samples']} samples {'ok' if f['passed'] else 'FAIL'}\n")
        results.append(f)
    full = set(names) == set(SCENARIOS) and samples >= DEFAULT_SAMPLES
    min_total = int(tol.get("min_total_samples", MIN_TOTAL_SAMPLES)) if full else None
    doc = report.document(profile, tol, results, partial, error, time.monotonic() - t0, min_total)
    report.print_summary(doc, out)
    if getattr(args, "json", None):
        report.write_json(doc, args.json)
    if getattr(args, "junit", None):
        report.write_junit(doc, args.junit)
    if getattr(args, "plot", None):
        try:
            report.write_plot(doc, args.plot)
        except ImportError as e:
            print(f"validate: no plot ({e})", file=sys.stderr)
    if getattr(args, "histogram", None) or getattr(args, "histfile", None):
        report.write_cyclictest_histogram(
            doc, getattr(args, "histogram", None) or 1000, getattr(args, "histfile", None) or out
        )
    if doc["passed"]:
        return report.EXIT_OK
    return report.EXIT_LINK if doc["partial"] else report.EXIT_FAILED
