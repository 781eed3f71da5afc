"""Output of ``ktimers validate``: cyclictest-style summary, histogram, JSON, JUnit, plot."""

from __future__ import annotations

import datetime as _dt
import json
import math
import xml.etree.ElementTree as ET
from typing import Any, TextIO

SCHEMA = "ktimers-validate/1"


def not_run(name: str, why: str) -> dict:
    return {"name": name, "status": "not_run", "passed": False, "failures": [why], "samples": 0}


def errored(name: str, why: str) -> dict:
    return {"name": name, "status": "error", "passed": False, "failures": [why], "samples": 0}


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
    failures = []
    if min_total is not None and total < min_total:
        failures.append(f"{total} samples in total < {min_total}")
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
        "passed": not partial and not failures and all(r["passed"] for r in results),
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
        for fmsg in r.get("failures", []):
            out.write(f"FAIL {r['name']}: {fmsg}\n")
    for fmsg in doc["failures"]:
        out.write(f"FAIL: {fmsg}\n")
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
            suite, "testcase", {"classname": f"ktimers.validate.{doc['board']}", "name": r["name"]}
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
    if doc["failures"] or doc["partial"]:
        tc = ET.SubElement(suite, "testcase", {"classname": "ktimers.validate", "name": "run"})
        msg = "; ".join(doc["failures"] + ([doc["error"]] if doc["error"] else []))
        ET.SubElement(tc, "failure", {"message": msg, "type": "run"}).text = msg
        suite.set("tests", str(len(rs) + 1))
        suite.set("failures", str(int(suite.get("failures", "0")) + 1))
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def write_plot(doc: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = [r for r in doc["scenarios"] if r.get("status") in ("passed", "failed")]
    hr = [r for r in rs if r["kind"] == "hrtimer"]
    tl = [r for r in rs if r["kind"] == "timer"]
    fig, axes = plt.subplots(3, 1, figsize=(11, 13))
    ax = axes[0]
    for r in hr:
        h = r["histogram"]
        xs = [b[0] for b in h["buckets"]]
        ys = [b[1] for b in h["buckets"]]
        if xs:
            ax.step(xs, ys, where="post", label=r["name"], linewidth=0.9)
    ax.set_yscale("log")
    ax.set_xlabel("lateness (us)")
    ax.set_ylabel("expiries")
    ax.set_title(f"hrtimer lateness histogram - {doc['board']}")
    if hr:
        ax.legend(fontsize=6, ncol=3)
    ax = axes[1]
    offset = 0.0
    for r in hr:
        ts, lat = r.get("_series", ([], []))
        if ts:
            ax.plot([offset + t - ts[0] for t in ts], lat, ".", markersize=1, label=r["name"])
            offset += ts[-1] - ts[0] + 0.2
    ax.set_xlabel("board time (s, scenarios placed one after another)")
    ax.set_ylabel("lateness (us)")
    ax.set_title("lateness over time")
    ax = axes[2]
    for r in tl:
        h = r["histogram"]
        ax.bar(
            [b[0] for b in h["buckets"]],
            [b[1] for b in h["buckets"]],
            width=0.8,
            alpha=0.6,
            label=r["name"],
        )
    ax.set_xlabel("timer_list lateness (jiffies)")
    ax.set_ylabel("expiries")
    if tl:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
