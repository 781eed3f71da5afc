"""Framed trace dump: round trip, garbage, truncation, bit flips, and the device dumper."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from ktimers_host import framing, scenarios
from ktimers_host.framing import TimerInfo

ROOT = Path(__file__).resolve().parents[2]
TIMERS = [TimerInfo(10, "h", 1_000_000, 0), TimerInfo(11, "H", 200_000, 500)]


def _records(n: int, seed: int = 1) -> list[tuple[int, int, int, int, int]]:
    rng = random.Random(seed)
    return [
        (
            rng.randint(1, 8),
            rng.randint(0, 65535),
            rng.randint(0, (1 << 30) - 1),
            rng.randint(-(2**31), 2**31 - 1),
            rng.randint(-(2**31), 2**31 - 1),
        )
        for _ in range(n)
    ]


def _dump(recs, alg="crc32", dump=0):
    return framing.encode_dump(
        dump, "hr-1ms-soft", 25_000_000, (1 << 30) - 1, 250, recs, 7, alg, TIMERS, {10: 3}
    )


@pytest.mark.parametrize("alg", ["crc32", "adler32"])
def test_round_trip(alg):
    recs = _records(100)
    res = framing.parse_lines(_dump(recs, alg))
    assert res.ok, res.all_errors()
    (d,) = res.dumps
    assert d.records == recs
    assert (d.cs_hz, d.cs_mask, d.hz, d.count, d.dropped) == (25_000_000, 2**30 - 1, 250, 100, 7)
    assert d.timers == {t.id: t for t in TIMERS}
    assert d.overruns == {10: 3}
    assert d.scenario == "hr-1ms-soft" and d.alg == alg and d.frames_ok == 7


def test_adler32_known_value():
    assert framing.adler32(b"Wikipedia") == 0x11E60398  # RFC 1950 example value
    assert framing.checksum("crc32", "abc") == f"{zlib.crc32(b'abc'):08x}"


def test_empty_dump_and_two_dumps():
    lines = _dump([], dump=0) + _dump(_records(5), dump=1)
    res = framing.parse_lines(lines)
    assert res.ok, res.all_errors()
    assert [len(d.records) for d in res.dumps] == [0, 5]


def test_garbage_between_and_before_lines():
    recs = _records(50)
    lines = _dump(recs)
    noisy = ["MicroPython v1.25.0 banner", "\x00\xff junk KT", ""]
    for i, line in enumerate(lines):
        noisy.append(f"garbage{i}>>> " + line if i % 2 else line)
        noisy.append("random text with KTX marker-ish noise")
    res = framing.parse_lines(noisy)
    assert res.ok, res.all_errors()
    assert res.dumps[0].records == recs
    assert res.garbage_lines >= len(lines)


def test_missing_frames_reported_by_number():
    recs = _records(100)  # 7 frames: 0..6
    lines = _dump(recs)
    del lines[3:5]  # frames 2 and 3
    res = framing.parse_lines(lines)
    assert not res.ok
    errs = res.all_errors()
    assert any("missing frames 2-3 of 7" in e for e in errs), errs
    d = res.dumps[0]
    assert d.records == recs[:32] + recs[64:]  # the rest is kept, in order


def test_truncated_dump():
    recs = _records(100)
    lines = _dump(recs)[:4]  # header + frames 0..2, no end line
    res = framing.parse_lines(lines)
    errs = res.all_errors()
    assert not res.dumps[0].complete
    assert any("end line missing" in e for e in errs), errs
    assert res.dumps[0].records == recs[:48]


def test_truncated_mid_line():
    lines = _dump(_records(40))
    lines[2] = lines[2][: len(lines[2]) // 2]
    res = framing.parse_lines(lines)
    errs = res.all_errors()
    assert any("line 3: corrupt frame" in e for e in errs), errs
    assert any("missing frames 1 of 3" in e for e in errs), errs


def test_every_single_bit_flip_is_detected():
    lines = _dump(_records(20))
    for li in range(len(lines)):
        raw = bytearray(lines[li].encode())
        for pos in range(len(raw)):
            for bit in range(7):  # stay in 7-bit ASCII, as a serial line would
                flipped = bytearray(raw)
                flipped[pos] ^= 1 << bit
                text = flipped.decode("latin-1")
                if "\n" in text or "\r" in text:
                    continue
                res = framing.parse_lines(lines[:li] + [text] + lines[li + 1 :])
                assert not res.ok, (li, pos, bit)


def test_corrupt_header_and_orphan_frames():
    lines = _dump(_records(20))
    lines[0] = lines[0].replace("cs_hz=25000000", "cs_hz=25000001")
    res = framing.parse_lines(lines)
    assert not res.ok
    assert res.errors[0] == "line 1: corrupt header (bad syntax or checksum)"
    assert any("frame outside a dump" in e for e in res.errors)
    assert res.dumps == []


def test_duplicate_frame_ignored_conflicting_reported():
    lines = _dump(_records(40))
    res = framing.parse_lines(lines[:2] + [lines[1]] + lines[2:])
    assert res.ok, res.all_errors()
    other = _dump(_records(40, seed=2))
    res = framing.parse_lines(lines[:2] + [other[1]] + lines[2:])
    assert any("frame 0 repeated with different content" in e for e in res.all_errors())


def test_never_evaluates_board_text():
    evil = "KTH v=1 dump=0 scen=__import__('os').system('false') cs_hz=1"
    res = framing.parse_lines([evil, "KTE dump=0 frames=0 records=0 00000000"])
    assert res.dumps == [] and not res.ok


def _micropython() -> str | None:
    for p in (ROOT / "build/unix/micropython",):
        if p.exists():
            return str(p)
    return shutil.which("micropython")


STUB_TRACE = """
_r = []
def enable(n=1024, events=None):
    global _r
    _r = []
def disable():
    pass
def record(*r):
    _r.append(r)
def meta():
    return (25000000, (1 << 30) - 1, 250, len(_r), 3)
def records():
    for r in _r:
        yield r
"""


@pytest.mark.parametrize("alg", ["crc32", "adler32"])
def test_device_dumper_round_trip(tmp_path, alg):
    """scenarios/common.py's ktv_dump on the unix port, against a stub ktimers package."""
    mp = _micropython()
    if mp is None:
        pytest.fail("no unix micropython binary: run `make unix`")
    pkg = tmp_path / "ktimers"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("HZ = 250\ndef jiffies():\n    return 0\n")
    (pkg / "trace.py").write_text(STUB_TRACE)
    recs = _records(37, seed=5)
    body = "\n".join(f"trace.record{r!r}" for r in recs)
    prog = (
        scenarios.source("common")
        + f"\nKTV_ALG = {alg!r}\ntrace.enable(64)\n{body}\n"
        + "ktv_dump(4, 'wheel', [(40, 't', 0, 0), (41, 't', 0, 0)], [(40, 9)])\n"
    )
    script = tmp_path / "prog.py"
    script.write_text(prog)
    env = dict(os.environ, MICROPYPATH=str(tmp_path))
    out = subprocess.run(
        [mp, str(script)], capture_output=True, text=True, timeout=60, env=env, check=True
    ).stdout
    res = framing.parse_lines(out.splitlines())
    assert res.ok, res.all_errors()
    (d,) = res.dumps
    assert d.alg == alg and d.dump == 4 and d.scenario == "wheel"
    assert [tuple(r[:1]) + (r[1] & 0xFFFF,) + tuple(r[2:]) for r in recs] == d.records
    assert d.dropped == 3 and d.overruns == {40: 9} and sorted(d.timers) == [40, 41]


def test_unknown_event_code_is_corrupt():
    """A record whose code is not a trace event (an empty or torn ring slot) makes the dump
    incomplete, so the validator pulls it again instead of judging timing on it."""
    recs = _records(20)
    recs[7] = (0, 0, 0, 0, 0)
    recs[12] = (9,) + recs[12][1:]
    res = framing.parse_lines(_dump(recs))
    (d,) = res.dumps
    assert not d.complete
    assert "2 records with an unknown event code (first: record 7)" in d.errors
