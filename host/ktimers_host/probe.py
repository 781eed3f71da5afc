"""``ktimers probe``: the first five minutes with a new board.

Runs ``scenarios/probe.py`` on the board (any MicroPython port), reads back its one
``KPROBE {json}`` line (JSON only, every field checked before use, output bounded by the
board's exec timeout), prints what the board gives a timer subsystem, and builds a board
profile in the ``boards/*.json`` schema from what it measured:

- backend: ``unix`` (linux/darwin), ``mps2`` (the emulated board's firmware), ``rp2``,
  ``esp32``, ``pyb`` (pyboard), ``machine`` (the generic soft ``machine.Timer``), else none
  (e.g. nrf's own ``machine.Timer``: the profile says why);
- ``HARD_IRQ``: true only where a hard callback was seen to run with the heap locked;
- tolerances from the raw timer callback's measured lateness at 1 ms (p99 and max, in
  us): bound = max(floor, 5 x measured) plus the clock event's granularity (2 ms for ms
  soft timers); HARD bounds equal the soft ones when hard IRQs are not honoured; the
  ``_load`` variants are 3 x those.  Floors: 2 ms p99 / 20 ms max soft, 200 us / 2 ms hard.

    ktimers [--board B] [--port P] probe [--json FILE] [--name NAME]
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

PROBE_TIMEOUT_S = 120.0
MARK = "KPROBE "
_MAX_LINE = 64 * 1024


class ProbeError(RuntimeError):
    """The board's probe output is missing or malformed."""


def device_source() -> str:
    return (
        resources.files("ktimers_host.scenarios").joinpath("probe.py").read_text(encoding="utf-8")
    )


def _int(v: Any, what: str, lo: int = 0, hi: int = 1 << 40, none: bool = True) -> int | None:
    if v is None and none:
        return None
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ProbeError(f"probe: {what} = {v!r} is not an int in {lo}..{hi}")
    return v


def _str(v: Any, what: str, n: int = 200) -> str:
    if not isinstance(v, str) or len(v) > n:
        raise ProbeError(f"probe: {what} = {v!r} is not a string of at most {n} chars")
    return v


def _lat(d: Any, what: str) -> dict[str, int] | None:
    if d is None:
        return None
    if not isinstance(d, dict):
        raise ProbeError(f"probe: {what} is not an object")
    out = {
        k: _int(d.get(k), f"{what}.{k}", -(10**7), 10**8, none=False)
        for k in ("min", "p50", "p99", "max")
    }
    out["n"] = _int(d.get("n"), f"{what}.n", 1, 10**6, none=False)  # type: ignore[assignment]
    return out  # type: ignore[return-value]


def _timer(d: Any, what: str) -> dict[str, Any] | None:
    if d is None:
        return None
    if not isinstance(d, dict):
        raise ProbeError(f"probe: {what} is not an object")
    out: dict[str, Any] = {}
    for k in ("ONE_SHOT", "ONESHOT", "init"):
        if k in d:
            if not isinstance(d[k], bool):
                raise ProbeError(f"probe: {what}.{k} is not a bool")
            out[k] = d[k]
    if "ids" in d:
        ids = d["ids"]
        if not isinstance(ids, list) or len(ids) > 16:
            raise ProbeError(f"probe: {what}.ids is not a short list")
        out["ids"] = [_int(i, f"{what}.ids[]", -1, 64, none=False) for i in ids]
    if "probe_id" in d:
        out["probe_id"] = _int(d["probe_id"], f"{what}.probe_id", -1, 64)
    if "hard" in d:
        out["hard"] = _str(d["hard"], f"{what}.hard")
    if "counter_hz" in d:
        out["counter_hz"] = _int(d["counter_hz"], f"{what}.counter_hz", 1, 10**10)
    if "lateness_context" in d:
        out["lateness_context"] = _str(d["lateness_context"], f"{what}.lateness_context", 20)
    out["lateness_us"] = _lat(d.get("lateness_us"), f"{what}.lateness_us")
    return out


def parse(output: str) -> dict[str, Any]:
    """The checked probe record from the board's output."""
    lines = [ln for ln in output.splitlines() if ln.startswith(MARK)]
    if len(lines) != 1:
        raise ProbeError(
            f"probe: expected one {MARK.strip()} line, got {len(lines)}: {output[-500:]!r}"
        )
    text = lines[0][len(MARK) :]
    if len(text) > _MAX_LINE:
        raise ProbeError("probe: record too long")
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise ProbeError(f"probe: record is not JSON: {e}") from None
    if not isinstance(raw, dict):
        raise ProbeError("probe: record is not an object")
    ver = raw.get("version")
    if not isinstance(ver, list) or len(ver) != 3:
        raise ProbeError(f"probe: version = {ver!r}")
    info: dict[str, Any] = {
        "platform": _str(raw.get("platform"), "platform", 40),
        "version": ".".join(str(_int(v, "version[]", 0, 1000, none=False)) for v in ver),
        "machine": _str(raw.get("machine", ""), "machine"),
        "mpy_arch": None if raw.get("mpy_arch") is None else _str(raw["mpy_arch"], "mpy_arch", 20),
        "mem_free": _int(raw.get("mem_free"), "mem_free", 0, 1 << 40),
        "mem_alloc": _int(raw.get("mem_alloc"), "mem_alloc", 0, 1 << 40),
        "sched_depth": _int(raw.get("sched_depth"), "sched_depth", 1, 65),
        "ticks_us_res": _int(raw.get("ticks_us_res"), "ticks_us_res", 1, 10**7),
        "ticks_cpu_res": _int(raw.get("ticks_cpu_res"), "ticks_cpu_res", 1, 10**9),
        "ticks_cpu_hz": _int(raw.get("ticks_cpu_hz"), "ticks_cpu_hz", 1, 10**11),
        "c_core": _int(raw.get("c_core"), "c_core", 1, 10**4),  # _ktimers' ROM proxies
    }
    for k in ("machine_timer", "pyb_timer", "mps2_timer", "thread_schedule"):
        info[k] = _timer(raw.get(k), k)
    return info


def run(board: Any, timeout: float = PROBE_TIMEOUT_S) -> dict[str, Any]:
    """Run the probe on a connected board; the checked record."""
    out = board.exec(device_source() + "\nktprobe()\n", timeout=timeout)
    return parse(out)


def _backend(info: dict[str, Any]) -> tuple[str | None, str]:
    p = info["platform"]
    mt = info["machine_timer"]
    if p in ("linux", "darwin"):
        return "unix", "unix port: thread + micropython.schedule"
    if info["mps2_timer"] is not None:
        return "mps2", "mps2 module: CMSDK APB timers with hard callbacks"
    if p == "rp2":
        return "rp2", "rp2 machine.Timer(-1): us alarms"
    if p == "esp32":
        return "esp32", "esp32 machine.Timer(0..3): GPTimers, scheduled callbacks"
    if p == "pyboard" and info["pyb_timer"] is not None:
        return "pyb", "pyb.Timer hardware timers with hard callbacks"
    if mt is not None and mt.get("ONE_SHOT") and mt.get("init") and -1 in mt.get("ids", []):
        return "machine", "generic machine.Timer(-1): ms soft timers, scheduled callbacks"
    if mt is not None and mt.get("ONESHOT") and not mt.get("ONE_SHOT"):
        return (
            None,
            f"{p}: machine.Timer is nrf-style (ONESHOT, no init()): no ktimers backend drives it",
        )
    return None, f"{p}: no timer API ktimers can drive was found"


def _raw(info: dict[str, Any], backend: str | None) -> dict[str, Any] | None:
    key = {"mps2": "mps2_timer", "pyb": "pyb_timer", "unix": "thread_schedule"}.get(
        backend or "", "machine_timer"
    )
    return info.get(key)


def _hard(info: dict[str, Any], backend: str | None) -> bool:
    raw = _raw(info, backend)
    if backend == "esp32" or backend == "unix" or raw is None:
        return False
    return raw.get("hard") == "honoured"


def make_profile(info: dict[str, Any], name: str, port: str | None = None) -> dict[str, Any]:
    """A boards/*.json profile from a probe record."""
    backend, why = _backend(info)
    hard = _hard(info, backend)
    raw = _raw(info, backend)
    lat = raw.get("lateness_us") if raw else None
    gran = 2000 if backend == "machine" else 0
    p99 = max(lat["p99"], 0) if lat else None
    mx = max(lat["max"], 0) if lat else None
    soft_p99 = max(2000, 5 * (p99 or 0)) + gran
    soft_max = max(20000, 5 * (mx or 0)) + gran
    hard_p99 = max(200, 5 * (p99 or 0)) if hard else soft_p99
    hard_max = max(2000, 5 * (mx or 0)) if hard else soft_max
    device: dict[str, Any] = {"BACKEND": backend, "HZ": 250, "HARD_IRQ": hard}
    if backend == "machine":
        device.update(TICK_TIMER=-1, CE_TIMER=-1)
    elif backend == "mps2":
        device.update(TICK_TIMER=0, CE_TIMER=1)
    connect: dict[str, Any]
    if backend == "unix":
        connect = {"kind": "process", "binary": "build/unix/micropython", "fs": "build/unix-fs"}
    else:
        connect = {"kind": "serial", "baud": 115200}
        if port:
            connect["port"] = port
    tol = {
        "early": 0,
        "hrtimer_soft_max_late_us": soft_max,
        "hrtimer_soft_p99_late_us": soft_p99,
        "hrtimer_hard_max_late_us": hard_max,
        "hrtimer_hard_p99_late_us": hard_p99,
        "timer_max_late_jiffies": 3,
        "periodic_drift_us": 5,
        "min_total_samples": 5000,
    }
    for k in list(tol):
        if k.startswith("hrtimer_"):
            tol[k + "_load"] = tol[k] * 3
    ctx = "hard IRQ (seen with the heap locked)" if hard else "scheduled"
    return {
        "name": name,
        "description": f"written by `ktimers probe`: {info['machine'] or info['platform']}",
        "verified": f"probed: MicroPython {info['version']} on {info['platform']}; backend: {why}",
        "micropython": {
            "version": info["version"],
            "platform": info["platform"],
            "mpy_arch": info["mpy_arch"] or "",
        },
        "contexts": {
            info["version"]: {
                "hard_irq": hard,
                "how": f"measured by ktimers probe: callbacks {ctx}",
            }
        },
        "device": device,
        "connect": connect,
        "flash": {"lib_dir": "lib" if backend == "unix" else "/lib"},
        "reset": "restart-process" if backend == "unix" else "machine.reset",
        "probe": info,
        "tolerances": tol,
    }


def _fmt_lat(raw: dict[str, Any] | None) -> str:
    if not raw or not raw.get("lateness_us"):
        return "-"
    lt = raw["lateness_us"]
    return (
        f"{raw.get('lateness_context', '?')}: p50 {lt['p50']} us, p99 {lt['p99']} us, "
        f"max {lt['max']} us ({lt['n']} periods of 1 ms)"
    )


def report(info: dict[str, Any], profile: dict[str, Any]) -> str:
    mt = info["machine_timer"]
    rows = [
        ("platform", f"{info['platform']} ({info['machine']})"),
        ("MicroPython", f"{info['version']}, mpy arch {info['mpy_arch']}"),
        ("free heap", f"{info['mem_free']} B (allocated {info['mem_alloc']} B)"),
        ("schedule queue", str(info["sched_depth"])),
        ("ticks_us resolution", f"{info['ticks_us_res']} us"),
        ("ticks_cpu", f"resolution {info['ticks_cpu_res']}, ~{info['ticks_cpu_hz']} Hz"),
        (
            "ktimers C core",
            "none (the library's Python proxies)"
            if info["c_core"] is None
            else f"_ktimers ({info['c_core']} ROM proxies)",
        ),
    ]
    if mt is None:
        rows.append(("machine.Timer", "none"))
    else:
        rows.append(
            (
                "machine.Timer",
                f"ids {mt.get('ids')}, ONE_SHOT {mt.get('ONE_SHOT')}, ONESHOT {mt.get('ONESHOT')}, "
                f"init() {mt.get('init')}, hard= {mt.get('hard', '-')}",
            )
        )
        rows.append(("  lateness", _fmt_lat(mt)))
    for k, label in (
        ("pyb_timer", "pyb.Timer"),
        ("mps2_timer", "mps2.Timer"),
        ("thread_schedule", "thread+schedule"),
    ):
        if info[k] is not None:
            rows.append((label, f"hard= {info[k].get('hard', '-')}; {_fmt_lat(info[k])}"))
    dev = profile["device"]
    rows.append(
        ("profile", f"backend {dev['BACKEND']}, HZ {dev['HZ']}, HARD_IRQ {dev['HARD_IRQ']}")
    )
    rows.append(("  why", profile["verified"]))
    w = max(len(r[0]) for r in rows)
    return "\n".join(f"{a:<{w}}  {b}" for a, b in rows)


def main(board: Any, json_path: str | None = None, name: str | None = None) -> int:
    info = run(board)
    prof = make_profile(
        info,
        name or (Path(json_path).stem if json_path else f"probed-{info['platform']}"),
        board.port,
    )
    print(report(info, prof))
    if json_path:
        p = Path(json_path)
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text(json.dumps(prof, indent=2) + "\n")
        tmp.replace(p)
        print(f"profile written: {p}")
    return 0 if prof["device"]["BACKEND"] else 1
