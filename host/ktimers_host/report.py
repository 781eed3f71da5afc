"""Output of ``ktimers validate``: cyclictest-style summary, histogram, JSON, JUnit, plot."""

from __future__ import annotations

import datetime as _dt
import json
import math
import xml.etree.ElementTree as ET
from typing import Any, TextIO

SCHEMA = "ktimers-validate/1"

# exit status of the command line (and of validate.main)
EXIT_OK = 0
EXIT_FAILED = 1  # a check failed: a tolerance broken, code raised on the board
EXIT_USAGE = 2  # bad arguments, unknown or wrong board, output path not writable
EXIT_LINK = 3  # the link broke: timeout, port lost, board reset or vanished
EXIT_SETUP = 4  # something is not built (firmware, unix port)


# What the summary's and the JSON's statistics mean (one definition each, everywhere).
DEFINITIONS = {
    "lateness": "expiry time minus the soft expiry, on the board's clocksource (us); timer_list:"
    " jiffies at the callback minus expires (jiffies)",
    "min/avg/p99/max": "of lateness over every expiry of the scenario (cyclictest's Min/Avg/Max)",
    "beyond_hard_max_us/beyond_hard_p99_us": "lateness past the hard expiry (soft + slack): what"
    " the hrtimer_*_late_us tolerances bound; equal to max/p99 for timers without slack",
    "failures": "every failed check: each scenario's, prefixed with its name, then the run's",
}


def not_run(name: str, why: str) -> dict:
    return {
        "name": name,
        "status": "not_run",
        "passed": False,
        "failures": [why],
        "samples": 0,
        "elapsed_s": 0.0,
    }


def errored(name: str, why: str, elapsed_s: float = 0.0) -> dict:
    return {
        "name": name,
        "status": "error",
        "passed": False,
        "failures": [why],
        "samples": 0,
        "elapsed_s": round(elapsed_s, 3),
    }


def _dur(s: float) -> str:
    s = max(0, round(s))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def progress(i: int, names: list[str], elapsed_s: float) -> str:
    """``validate: [3/16] hr-10ms-soft (elapsed 12s, ETA 52s)``: scenario i of N, time left
    estimated from the mean time of the scenarios done so far."""
    n = len(names)
    head = f"validate: [{i + 1}/{n}] {names[i]}"
    if i == 0:
        return head
    eta = elapsed_s / i * (n - i)
    return f"{head} (elapsed {_dur(elapsed_s)}, ETA {_dur(eta)})"


def document(
    profile: dict,
    tol: dict,
    results: list[dict],
    partial: bool,
    error: str | None,
    elapsed_s: float,
    min_total: int | None = None,
) -> dict:
    for r in results:
        r.setdefault("status", "passed" if r["passed"] else "failed")
    total = sum(r.get("samples") or 0 for r in results)
    run_failures = []
    if min_total is not None and total < min_total:
        run_failures.append(f"{total} samples in total < {min_total}")
    if partial and error:
        run_failures.append(f"partial run: {error}")
    failures = [f"{r['name']}: {m}" for r in results for m in r.get("failures", [])]
    failures += run_failures
    return {
        "schema": SCHEMA,
        "board": profile.get("name", "?"),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed_s, 2),
        "partial": partial,
        "error": error,
        "tolerances": tol,
        "total_samples": total,
        "failures": failures,
        "run_failures": run_failures,
        "passed": not partial and not failures and all(r["passed"] for r in results),
        "definitions": DEFINITIONS,
        "scenarios": results,
    }


def _n(v: Any, w: int = 6) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-".rjust(w)
    return f"{round(v):{w}d}"


def summary_line(i: int, r: dict) -> str:
    """``T: 0 ( hr-1ms-soft) I:1000 C:  2000 Min:    12 Act:    30 Avg:    25 Max:   300``."""
    if r.get("status") in ("not_run", "error"):
        return f"T:{i:2d} ({r['name']:>18}) {r['status'].upper()}: {r['failures'][0]}"
    iv = r.get("interval_us") or [0]
    iv_s = f"{iv[0]:g}" if len(iv) == 1 else f"{iv[0]:g}-{iv[-1]:g}"
    line = (
        f"T:{i:2d} ({r['name']:>18}) I:{iv_s:>5} C:{r['samples']:6d}"
        f" Min:{_n(r['min'])} Act:{_n(r['act'])} Avg:{_n(r['avg'])} Max:{_n(r['max'])}"
    )
    if r["kind"] == "timer":
        line += " (us, clocksource)" if r.get("unit") == "us" else " (jiffies)"
    else:
        line += f" P99:{_n(r['p99'])} Ovr:{r['missed_periods']:5d} Drift:{_n(r['drift_max_us'])}"
    line += f" Early:{r['early']} {'ok' if r['passed'] else 'FAIL'}"
    return line


def _edges(bucket: float, top: float) -> list[float]:
    """0, then 1-2-5 steps from ``bucket`` up past ``top``."""
    edges = [0.0, bucket]
    k = 0
    while edges[-1] <= top:
        k += 1
        edges.append(bucket * (2, 5, 10)[(k - 1) % 3] * 10 ** ((k - 1) // 3))
    return edges


def histogram_lines(r: dict, width: int = 40) -> list[str]:
    """The scenario's histogram regrouped into 1-2-5 rows (cyclictest -h keeps the detail)."""
    h = r.get("histogram")
    if not h or not h["buckets"]:
        return []
    unit = "us" if r["kind"] == "hrtimer" else r.get("unit", "jiffies")
    edges = _edges(h["bucket"], h["buckets"][-1][0])
    rows = [0] * (len(edges) - 1)
    for start, count in h["buckets"]:
        k = next(i for i in range(len(rows)) if start < edges[i + 1])
        rows[k] += count
    top = max(rows)
    out = [f"# Histogram {r['name']} ({unit})"]
    for k, c in enumerate(rows):
        bar = "#" * (0 if not c else max(1, round(width * c / top)))
        out.append(f"  {edges[k]:>7g} - {edges[k + 1]:<7g} {c:7d} {bar}")
    if h["underflow"]:
        out.append(f"# Early (<0): {h['underflow']}")
    out.append(f"# Overflow (>= {h['bucket'] * h['nbuckets']:g}): {h['overflow']}")
    return out


def print_summary(doc: dict, out: TextIO) -> None:
    out.write(f"\n# ktimers validate on {doc['board']} ({doc['elapsed_s']} s)\n")
    for i, r in enumerate(doc["scenarios"]):
        out.write(summary_line(i, r) + "\n")
    for r in doc["scenarios"]:
        if r.get("status") in ("passed", "failed"):
            out.write("\n".join(histogram_lines(r)) + "\n")
    for fmsg in doc["failures"]:
        out.write(f"FAIL {fmsg}\n")
    verdict = "PASS" if doc["passed"] else "FAIL"
    extra = " (partial run: " + str(doc["error"]) + ")" if doc["partial"] else ""
    out.write(
        f"# {verdict}: {doc['total_samples']} samples in {len(doc['scenarios'])} scenarios{extra}\n"
    )


def _public(doc: dict) -> dict:
    return {
        **doc,
        "scenarios": [
            {k: v for k, v in r.items() if not k.startswith("_")} for r in doc["scenarios"]
        ],
    }


def write_json(doc: dict, path: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(_public(doc), fh, indent=1, allow_nan=False, default=str)
        fh.write("\n")


def write_junit(doc: dict, path: str) -> None:
    rs = doc["scenarios"]
    suite = ET.Element(
        "testsuite",
        {
            "name": "ktimers.validate",
            "tests": str(len(rs)),
            "failures": str(sum(r.get("status") == "failed" for r in rs)),
            "errors": str(sum(r.get("status") == "error" for r in rs)),
            "skipped": str(sum(r.get("status") == "not_run" for r in rs)),
            "time": f"{doc['elapsed_s']:.2f}",
            "timestamp": doc["date"],
        },
    )
    props = ET.SubElement(suite, "properties")
    for k, v in (
        ("board", doc["board"]),
        ("partial", doc["partial"]),
        ("total_samples", doc["total_samples"]),
    ):
        ET.SubElement(props, "property", {"name": k, "value": str(v)})
    for r in rs:
        tc = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"ktimers.validate.{doc['board']}",
                "name": r["name"],
                "time": f"{float(r.get('elapsed_s') or 0.0):.3f}",
            },
        )
        msg = "; ".join(r.get("failures", []))
        status = r.get("status")
        if status == "failed":
            ET.SubElement(tc, "failure", {"message": msg, "type": "bound"}).text = msg
        elif status == "error":
            ET.SubElement(tc, "error", {"message": msg[:200], "type": "board"}).text = msg
        elif status == "not_run":
            ET.SubElement(tc, "skipped", {"message": msg})
        if status in ("passed", "failed"):
            ET.SubElement(tc, "system-out").text = summary_line(rs.index(r), r)
    run_failures = doc.get("run_failures", [])
    if run_failures or doc["partial"]:
        tc = ET.SubElement(
            suite, "testcase", {"classname": "ktimers.validate", "name": "run", "time": "0.000"}
        )
        msg = "; ".join(run_failures or [str(doc["error"])])
        ET.SubElement(tc, "failure", {"message": msg, "type": "run"}).text = msg
        suite.set("tests", str(len(rs) + 1))
        suite.set("failures", str(int(suite.get("failures", "0")) + 1))
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def write_cyclictest_histogram(doc: dict, max_us: int, dest: str | TextIO) -> None:
    """cyclictest's ``-h`` histogram: one row per 1 us bucket below ``max_us``, one column
    per hrtimer scenario (cyclictest's threads), then the ``# Total/Min/Avg/Max/Histogram
    Overflows`` lines, so existing cyclictest parsers read it. Early expiries (negative
    lateness, which cyclictest cannot have) are counted in bucket 0 and listed per column
    in a ``# Early`` comment line."""
    if max_us < 1:
        raise ValueError(f"histogram size must be >= 1 us, got {max_us}")
    cols = [
        r for r in doc["scenarios"] if r.get("kind") == "hrtimer" and r.get("status") != "error"
    ]
    hists, over, early, lats = [], [], [], []
    for r in cols:
        lat = list(r.get("_series", ([], []))[1])
        h = [0] * max_us
        o = e = 0
        for v in lat:
            k = max(0, math.floor(v))
            e += v < 0
            if k >= max_us:
                o += 1
            else:
                h[k] += 1
        hists.append(h)
        over.append(o)
        early.append(e)
        lats.append(lat)
    lines = ["# Histogram"]
    for i in range(max_us):
        lines.append(f"{i:06d} " + "\t".join(f"{h[i]:06d}" for h in hists))
    lines.append("# Total:" + "".join(f" {len(v):09d}" for v in lats))
    lines.append("# Min Latencies:" + "".join(f" {_us(min(v)) if v else 0:05d}" for v in lats))
    lines.append(
        "# Avg Latencies:" + "".join(f" {_us(sum(v) / len(v)) if v else 0:05d}" for v in lats)
    )
    lines.append("# Max Latencies:" + "".join(f" {_us(max(v)) if v else 0:05d}" for v in lats))
    lines.append("# Histogram Overflows:" + "".join(f" {o:05d}" for o in over))
    lines.append("# Histogram Overflow at cycle number:")
    for k in range(len(cols)):
        lines.append(f"# Thread {k}:")
    lines.append("# Early (< 0 us, counted in bucket 0):" + "".join(f" {e:05d}" for e in early))
    lines.append("# Threads: " + " ".join(f"{k}={r['name']}" for k, r in enumerate(cols)))
    text = "\n".join(lines) + "\n"
    if isinstance(dest, str):
        with open(dest, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        dest.write(text)


def _us(v: float) -> int:
    return max(0, math.floor(v))


def _clip_top(vals: list[float], bounds: list[float]) -> float:
    """Upper y limit: the 99.5th percentile or the largest bound, x1.3; larger values are
    drawn clipped at the top so one outlier does not flatten the rest."""
    if not vals:
        return max(bounds or [1.0]) * 1.3
    s = sorted(vals)
    q = s[min(len(s) - 1, int(len(s) * 0.995))]
    return max([q, *bounds, 1.0]) * 1.3


def write_plot(doc: dict, path: str) -> dict:
    """One panel per scenario: lateness over board time, the tolerance lines, the verdict
    in the title (green PASS / red FAIL), values beyond the y range clipped to its top
    edge (red triangles, counted in the legend). Returns what was drawn (for tests)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = [r for r in doc["scenarios"] if r.get("status") in ("passed", "failed")]
    skipped = [r for r in doc["scenarios"] if r.get("status") not in ("passed", "failed")]
    n = max(1, len(rs) + (1 if skipped else 0))
    ncols = 4 if n > 6 else 2 if n > 1 else 1
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows), squeeze=False)
    drawn: dict[str, Any] = {"panels": [], "size": None}
    bounds_keys = (("max", "max bound", "tab:red"), ("p99", "p99 bound", "tab:orange"))
    for k, r in enumerate(rs):
        ax = axes[k // ncols][k % ncols]
        ts, lat = r.get("_series", ([], []))
        unit = "us" if r["kind"] == "hrtimer" else r.get("unit", "jiffies")
        bounds = r.get("bounds", {})
        lines = []
        for key, label, color in bounds_keys:
            if r["kind"] == "hrtimer" and bounds.get(key) is not None:
                lines.append((float(bounds[key]), label, color))
        # wheel timers: lateness on the clocksource (us) or, from older boards, in jiffies;
        # the bound is how far past its bucket a timer may run, in the same unit
        excess_key = "late_excess_max_us" if unit == "us" else "late_excess_max"
        if r["kind"] == "timer" and bounds.get(excess_key) is not None:
            lines.append((float(bounds[excess_key]), "bound past bucket", "tab:red"))
        top = _clip_top(list(lat), [v for v, _, _ in lines])
        low = min(0.0, min(lat) if lat else 0.0)
        inside = [(t, v) for t, v in zip(ts, lat, strict=False) if v <= top]
        clipped = [t for t, v in zip(ts, lat, strict=False) if v > top]
        if inside:
            ax.plot(
                [t for t, _ in inside],
                [v for _, v in inside],
                ".",
                markersize=1.5,
                color="tab:blue",
                label=f"expiries ({len(lat)})"
                + (
                    ", from soft expiry; bounds: past soft+slack"
                    if r.get("family") == "hrrange"
                    else ""
                )
                + (", lateness; bound: past the bucket" if r["kind"] == "timer" else ""),
            )
        if clipped:
            ax.plot(
                clipped,
                [top] * len(clipped),
                "v",
                markersize=4,
                color="tab:red",
                label=f"{len(clipped)} beyond {top:.0f} {unit} (max {max(lat):.0f})",
            )
        for v, label, color in lines:
            ax.axhline(v, color=color, linestyle="--", linewidth=1, label=f"{label} {v:g}")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_ylim(low - 0.02 * (top - low), top * 1.02)
        ok = r["passed"]
        ax.set_title(
            f"{r['name']}: {'PASS' if ok else 'FAIL'}",
            color="tab:green" if ok else "tab:red",
            fontsize=9,
            fontweight="bold",
        )
        ax.set_xlabel("board time (s)", fontsize=7)
        ax.set_ylabel(f"lateness ({unit})", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=5.5, loc="upper left")
        drawn["panels"].append(
            {"name": r["name"], "passed": ok, "clipped": len(clipped), "bounds": len(lines)}
        )
    used = len(rs)
    if skipped:
        ax = axes[used // ncols][used % ncols]
        ax.axis("off")
        text = "\n".join(f"{r['name']}: {r.get('status')}" for r in skipped)
        ax.text(0, 1, "not measured:\n" + text, va="top", fontsize=7, color="tab:red")
        used += 1
    for k in range(used, nrows * ncols):
        axes[k // ncols][k % ncols].axis("off")
    verdict = "PASS" if doc["passed"] else "FAIL"
    fig.suptitle(
        f"ktimers validate on {doc['board']}: {verdict}, {doc['total_samples']} expiries"
        f" in {len(doc['scenarios'])} scenarios",
        color="tab:green" if doc["passed"] else "tab:red",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=100)
    drawn["size"] = tuple(int(x) for x in fig.get_size_inches() * 100)
    plt.close(fig)
    return drawn
