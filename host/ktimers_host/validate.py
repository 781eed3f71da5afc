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
``timer_max_late_us`` / ``timer_max_late_jiffies`` (beyond the wheel level's granularity),
``min_total_samples``. Every scenario is judged on the board's clocksource: hrtimers from
their expiry, timer_list timers from the arm (early = fewer than d tick periods after an arm
at jiffies + d), both in µs.
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
_KTS = re.compile(
    r"KTS (?P<name>[A-Za-z0-9_.-]{1,40})((?: [a-z_]{1,20}=\d{1,10})+) checks=(?P<checks>ok|broken)$"
)
SOAK_KEYS = (
    "cs_bits cs_wraps jiffies_wraps ktime_back elapsed_ms hard_calls hard_periods soft_calls"
    " soft_periods wheel_runs wheel_ops overdue alive irq_errors hard_irq"
).split()
_DONE = re.compile(
    r"KTV done (?P<name>[A-Za-z0-9_.-]{1,40}) samples=(?P<samples>\d{1,9})"
    r" dumps=(?P<dumps>\d{1,6}) ring=(?P<ring>\d{1,9})$"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    family: str  # periodic | hrrange | wheel | soak
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
        if self.family == "soak":
            # counter wraps every <= 170 ms (CS_BITS test option), jiffies wrap at 300 ms,
            # at least 1 s and until 3 counter wraps and the jiffies wrap
            return f"ktv_soak({self.name!r}, 170, 300, 1000, {self.max_ms})"
        return f"ktv_wheel({self.name!r}, {samples * 10}, {self.max_ms}, {load})"

    def program(self, samples: int) -> str:
        return scenarios.program(self.family, self.call(samples))

    def timeout(self) -> float:
        if self.family == "soak":  # deterministic QEMU runs ~10x slower than board time
            return self.max_ms / 1000.0 * 40 + EXEC_SLACK_S
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
# the wrap soak: HARD + SOFT periodic hrtimers and random wheel arm/mod/delete across >= 3
# clocksource wraps and the 32-bit jiffies wrap (test options on the board's own backend)
SCENARIOS["soak"] = Scenario("soak", "soak", max_ms=3000)
ON_REQUEST = {"soak"}  # in the default list only with --deterministic


def parse_soak(lines: Iterable[str], name: str) -> dict | None:
    """The device's KTS line for scenario ``name``: every value a bounded int."""
    for line in lines:
        m = _KTS.search(line.strip())
        if not m or m["name"] != name:
            continue
        vals = dict(kv.split("=") for kv in m[2].split())
        if set(vals) != set(SOAK_KEYS):
            return None
        out: dict = {k: int(v) for k, v in vals.items()}
        out["checks"] = m["checks"]
        return out
    return None


def check_soak(soak: dict | None, tol: dict, wheel_excess_us: float | None = None) -> list[str]:
    """The soak's own promises: wraps crossed, ktime monotonic, nothing lost or stopped."""
    if soak is None:
        return ["the device sent no valid KTS soak line"]
    fails = []
    if soak["cs_wraps"] < 3:
        fails.append(f"the clocksource wrapped {soak['cs_wraps']} times (needs >= 3)")
    if soak["jiffies_wraps"] < 1:
        fails.append("jiffies did not wrap")
    if soak["ktime_back"]:
        fails.append(f"ktime went back {soak['ktime_back']} times")
    if not soak["alive"]:
        fails.append("a periodic timer or the wheel stopped firing")
    if soak["overdue"]:
        fails.append(f"{soak['overdue']} wheel timers lost or overdue")
    if soak["irq_errors"]:
        fails.append(f"{soak['irq_errors']} clock event IRQ errors")
    if soak["checks"] != "ok":
        fails.append("queue_check()/wheel_check() found an inconsistent state")
    b = tol.get("timer_max_late_us")
    if b is not None and wheel_excess_us is not None and wheel_excess_us > b:
        fails.append(f"a wheel timer ran {wheel_excess_us:.1f} us after its bucket (bound {b:g})")
    lost = soak["hard_periods"] - soak["hard_calls"]
    b = tol.get("soak_hard_lost_max", 0 if soak["hard_irq"] else None)
    if b is not None and lost > b:
        fails.append(f"{lost} HARD periods lost (bound {b})")
    return fails


def tolerances(profile: dict, deterministic: bool) -> dict:
    """The profile's tolerances; on a deterministic emulator (-icount, repeatable timing) its
    ``tolerances_deterministic`` override them: bounds tight enough that a 2x regression of
    the measured figures fails."""
    tol = dict(profile.get("tolerances", {}))
    if deterministic:
        tol.update(profile.get("tolerances_deterministic", {}))
        tol["deterministic"] = True
    return tol


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
        b = _tol(tol, "timer_max_late_us", sc.load)
        if b is not None and f.get("late_excess_max_us") is not None:
            bounds["late_excess_max_us"] = b
            if f["late_excess_max_us"] > b:
                fails.append(
                    f"timer ran {f['late_excess_max_us']:.1f} us after its wheel bucket by the"
                    f" clocksource (bound {b:g} us, timer_max_late_us)"
                )
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
    if any("header refused" in e for e in parsed.errors):
        # a header that passed its checksum with implausible numbers (cs_hz=0, ...): the
        # board sent it so, pulling it again cannot help; evaluate() reports it
        return n, [], ""
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
    if sc.family == "soak":
        res = _soak_figures(sc, dumps, res, lines)
    f = res.figures
    f["frame_errors"] = parsed.errors + f["frame_errors"]
    f["garbage_lines"] = parsed.garbage_lines
    f["load"] = sc.load
    f["family"] = sc.family
    f["device_samples"] = int(done[-1]["samples"]) if done else None
    f["ring_records"] = int(done[-1]["ring"]) if done else None
    fails, bounds = check(sc, f, tol)
    if sc.family == "soak":
        fails += check_soak(f["soak"], tol, f.get("late_excess_max_us"))
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


def _soak_figures(sc: Scenario, dumps: list, res: stats.Result, lines: list[str]) -> stats.Result:
    """hrtimer figures of the soak, plus its timer_list figures (clocksource) and KTS counts."""
    hr = stats.hrtimer_stats(sc.name, dumps)
    tm = stats.timer_stats(sc.name, dumps).figures
    f = hr.figures
    f["hr_samples"] = f["samples"]
    f["samples"] = f["samples"] + tm["samples"]
    f["early"] = f["early"] + tm["early"]
    f["wheel"] = {
        k: tm[k]
        for k in ("samples", "early", "min", "p50", "p99", "max", "late_excess_max_us", "levels")
    }
    f["late_excess_max_us"] = tm["late_excess_max_us"]
    f["soak"] = parse_soak(lines, sc.name)
    return hr


def main(args: Any, board: Any) -> int:
    """Entry point used by the CLI; returns 0 when every bound holds and the run completed."""
    profile = getattr(board, "profile", None) or {}
    tol = tolerances(profile, bool(getattr(board, "deterministic", False)))
    # the soak runs by default on a deterministic emulator (its wraps come every ~170 ms of
    # board time; a real-time host that starves the board longer than half that cannot
    # order its timestamps), elsewhere on request
    det = bool(getattr(board, "deterministic", False))
    names = list(
        getattr(args, "scenario", None) or [n for n in SCENARIOS if det or n not in ON_REQUEST]
    )
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
    full = set(names) >= set(SCENARIOS) - ON_REQUEST and samples >= DEFAULT_SAMPLES
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
