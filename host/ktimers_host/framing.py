"""Host parser for the framed trace-ring dump printed by the device (scenarios/common.py).

Wire format (ASCII lines; anything else on the line before a marker is ignored as garbage)::

    KTH v=1 dump=D scen=NAME cs_hz=N cs_mask=N hz=N count=N dropped=N rec=<BHiii ck=ALG
        ids=ID:KIND:IV_NS:SLACK_NS[,...] ovr=ID:N[,...] CK
    KTF SEQ N B64 CK            (SEQ = 0,1,2... ; N records, 1..64; B64 = base64 of N*15 bytes)
    KTE dump=D frames=F records=R CK

All on one line each (the header is shown wrapped here). Each record is 15 bytes little-endian
``struct '<BHiii'``: code (u8, 1..8: any other code makes the dump corrupt), trace id (u16; ids
outside 0..65534 are sent as 65535), ts, a, b (i32) as in docs/DESIGN.md. ``CK`` is 8 lowercase hex
digits: the checksum (ALG ``crc32`` = zlib CRC-32, or ``adler32`` = Adler-32, chosen by the device)
of the line's ASCII text from the marker up to, not including, the single space before ``CK``.
``ids`` and ``ovr`` may be ``-`` when empty. KIND is ``h`` (soft hrtimer), ``H`` (hard hrtimer) or
``t`` (timer_list). ``ovr`` is the device's sum of (hrtimer_forward return - 1) per timer id.
Nothing from the board is ever evaluated: each field is matched by a strict regex.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

REC_FMT = "<BHiii"
REC_SIZE = struct.calcsize(REC_FMT)
MAX_FRAME_RECORDS = 64
MAX_EVENT_CODE = 8  # trace codes 1..8 (lib/ktimers/trace.py)
# Plausible board figures; anything outside is refused before use (a hostile or broken
# board must not make the host divide by zero or enumerate millions of frames).
MAX_DUMP_RECORDS = 1 << 20  # records in one dump (device rings hold thousands)
CS_HZ_RANGE = (1_000, 10_000_000_000)  # clocksource: 1 kHz .. 10 GHz
HZ_RANGE = (1, 100_000)

Record = tuple[int, int, int, int, int]

_MARK = re.compile(r"KT[HFE] ")
_CK = r"(?P<ck>[0-9a-f]{8})"
_TIMER = r"\d{1,5}:[hHt]:\d{1,12}:\d{1,12}"
_OVR = r"\d{1,5}:\d{1,10}"
_HDR = re.compile(
    r"KTH v=1 dump=(?P<dump>\d{1,6}) scen=(?P<scen>[A-Za-z0-9_.-]{1,40})"
    r" cs_hz=(?P<cs_hz>\d{1,12}) cs_mask=(?P<cs_mask>\d{1,12}) hz=(?P<hz>\d{1,6})"
    r" count=(?P<count>\d{1,9}) dropped=(?P<dropped>\d{1,9}) rec=(?P<rec><BHiii)"
    r" ck=(?P<alg>crc32|adler32)"
    rf" ids=(?P<ids>-|{_TIMER}(?:,{_TIMER}){{0,63}}) ovr=(?P<ovr>-|{_OVR}(?:,{_OVR}){{0,63}})"
    rf" {_CK}"
)
_FRM = re.compile(
    rf"KTF (?P<seq>\d{{1,7}}) (?P<n>\d{{1,2}}) (?P<b64>[A-Za-z0-9+/=]{{4,1280}}) {_CK}"
)
_END = re.compile(
    rf"KTE dump=(?P<dump>\d{{1,6}}) frames=(?P<frames>\d{{1,7}})"
    rf" records=(?P<records>\d{{1,9}}) {_CK}"
)


def adler32(data: bytes) -> int:
    """Adler-32 (RFC 1950), written out so the device fallback can be checked against it."""
    a, b = 1, 0
    for c in data:
        a = (a + c) % 65521
        b = (b + a) % 65521
    return (b << 16) | a


def checksum(alg: str, text: str) -> str:
    data = text.encode("ascii")
    value = zlib.crc32(data) if alg == "crc32" else adler32(data)
    return f"{value & 0xFFFFFFFF:08x}"


@dataclass
class TimerInfo:
    id: int
    kind: str  # "h" soft hrtimer, "H" hard hrtimer, "t" timer_list
    interval_ns: int
    slack_ns: int


@dataclass
class Dump:
    """One framed dump (one chunk of one scenario) as received."""

    dump: int
    scenario: str
    cs_hz: int
    cs_mask: int
    hz: int
    count: int
    dropped: int
    alg: str
    timers: dict[int, TimerInfo]
    overruns: dict[int, int]
    records: list[Record] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    frames_ok: int = 0
    complete: bool = False
    # indices into ``records`` where frames are missing before that record: records on
    # either side of a gap are not neighbours and must never be paired (stats.py)
    gaps: list[int] = field(default_factory=list)
    lost_frames: int = 0

    @property
    def lost_records(self) -> int:
        """Records the header announced that did not arrive intact."""
        return max(0, self.count - len(self.records))


@dataclass
class ParseResult:
    dumps: list[Dump] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    garbage_lines: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and all(not d.errors and d.complete for d in self.dumps)

    def all_errors(self) -> list[str]:
        out = list(self.errors)
        for d in self.dumps:
            out += [f"dump {d.dump} ({d.scenario}): {e}" for e in d.errors]
        return out


def _split_ck(line: str) -> tuple[str, str]:
    body, _, ck = line.rpartition(" ")
    return body, ck


def _parse_header(line: str) -> Dump | str | None:
    """The header's dump; None if corrupt; a reason if its figures are implausible."""
    m = _HDR.fullmatch(line)
    if not m:
        return None
    body, ck = _split_ck(line)
    if checksum(m["alg"], body) != ck:
        return None
    timers: dict[int, TimerInfo] = {}
    if m["ids"] != "-":
        for item in m["ids"].split(","):
            tid, kind, iv, slack = item.split(":")
            timers[int(tid)] = TimerInfo(int(tid), kind, int(iv), int(slack))
    overruns: dict[int, int] = {}
    if m["ovr"] != "-":
        for item in m["ovr"].split(","):
            tid, n = item.split(":")
            overruns[int(tid)] = int(n)
    cs_mask = int(m["cs_mask"])
    if cs_mask <= 0 or cs_mask & (cs_mask + 1):
        return None  # the mask must be 2**k - 1
    for key, (lo, hi) in (
        ("cs_hz", CS_HZ_RANGE),
        ("hz", HZ_RANGE),
        ("count", (0, MAX_DUMP_RECORDS)),
    ):
        if not lo <= int(m[key]) <= hi:
            return f"{key}={m[key]} outside {lo}..{hi}"
    return Dump(
        dump=int(m["dump"]),
        scenario=m["scen"],
        cs_hz=int(m["cs_hz"]),
        cs_mask=cs_mask,
        hz=int(m["hz"]),
        count=int(m["count"]),
        dropped=int(m["dropped"]),
        alg=m["alg"],
        timers=timers,
        overruns=overruns,
    )


def _ranges(nums: list[int]) -> str:
    parts: list[str] = []
    start = prev = None
    for n in nums:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = n
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ",".join(parts)


class _Assembler:
    def __init__(self, dump: Dump):
        self.d = dump
        self.frames: dict[int, list[Record]] = {}
        self.bad: list[int] = []  # line numbers of corrupt frame lines

    def frame(self, line: str, lineno: int) -> None:
        d = self.d
        m = _FRM.fullmatch(line)
        body, ck = _split_ck(line)
        if not m or checksum(d.alg, body) != ck:
            self.bad.append(lineno)
            d.errors.append(f"line {lineno}: corrupt frame (bad syntax or checksum)")
            return
        seq, n = int(m["seq"]), int(m["n"])
        try:
            payload = base64.b64decode(m["b64"], validate=True)
        except (binascii.Error, ValueError):
            d.errors.append(f"line {lineno}: frame {seq}: bad base64")
            return
        if not 1 <= n <= MAX_FRAME_RECORDS or len(payload) != n * REC_SIZE:
            d.errors.append(f"line {lineno}: frame {seq}: {len(payload)} bytes for {n} records")
            return
        recs = [struct.unpack_from(REC_FMT, payload, i * REC_SIZE) for i in range(n)]
        if seq in self.frames:
            if self.frames[seq] != recs:
                d.errors.append(f"line {lineno}: frame {seq} repeated with different content")
            return
        self.frames[seq] = recs

    def finish(self, end: re.Match[str] | None, lineno: int | None) -> None:
        d = self.d
        seqs = sorted(self.frames)
        expected = int(end["frames"]) if end else (seqs[-1] + 1 if seqs else 0)
        if expected > max(d.count, len(seqs)):  # each frame holds >= 1 record
            d.errors.append(f"{expected} frames claimed for {d.count} records")
            expected = len(seqs)
        missing = [s for s in range(expected) if s not in self.frames]
        extra = [s for s in seqs if s >= expected]
        if missing:
            d.errors.append(f"missing frames {_ranges(missing)} of {expected}")
        if extra:
            d.errors.append(f"frames {_ranges(extra)} beyond the end line's total {expected}")
        d.lost_frames = len(missing)
        prev = -1
        for s in seqs:
            if s != prev + 1 and d.records:
                d.gaps.append(len(d.records))  # frames prev+1 .. s-1 lost before this one
            d.records.extend(self.frames[s])
            prev = s
        d.frames_ok = len(seqs)
        unknown = [i for i, r in enumerate(d.records) if not 1 <= r[0] <= MAX_EVENT_CODE]
        if unknown:  # an empty or torn ring slot, sent whole: not data to judge timing on
            d.errors.append(
                f"{len(unknown)} records with an unknown event code (first: record {unknown[0]})"
            )
        if end is None:
            d.errors.append("end line missing (dump truncated)")
        else:
            if int(end["dump"]) != d.dump:
                d.errors.append(f"line {lineno}: end line names dump {end['dump']}")
            if int(end["records"]) != d.count:
                d.errors.append(f"end says {end['records']} records, header {d.count}")
            if not missing and len(d.records) != d.count:
                d.errors.append(f"got {len(d.records)} records, header says {d.count}")
        d.complete = end is not None and not d.errors


def parse_lines(lines: Iterable[str]) -> ParseResult:
    """Parse device output; tolerate garbage, report corrupt/missing frames by number."""
    res = ParseResult()
    cur: _Assembler | None = None
    for lineno, raw in enumerate(lines, 1):
        raw = raw.rstrip("\r\n")
        marks = list(_MARK.finditer(raw))
        m = marks[-1] if marks else None  # the last marker wins: garbage may precede it
        if m is None:
            res.garbage_lines += 1
            continue
        line = raw[m.start() :].rstrip()
        kind = line[2]
        if kind == "H":
            hdr = _parse_header(line)
            if not isinstance(hdr, Dump):
                why = f"header refused: {hdr}" if hdr else "corrupt header (bad syntax or checksum)"
                res.errors.append(f"line {lineno}: {why}")
                if cur is not None:
                    cur.finish(None, None)
                    cur = None
                continue
            if cur is not None:
                cur.finish(None, None)
            res.dumps.append(hdr)
            cur = _Assembler(hdr)
        elif kind == "F":
            if cur is None:
                res.errors.append(f"line {lineno}: frame outside a dump (header lost?)")
            else:
                cur.frame(line, lineno)
        else:
            end = _END.fullmatch(line)
            body, ck = _split_ck(line)
            if cur is None:
                res.errors.append(f"line {lineno}: end line outside a dump")
            elif not end or checksum(cur.d.alg, body) != ck:
                cur.d.errors.append(f"line {lineno}: corrupt end line")
                cur.finish(None, None)
                cur = None
            else:
                cur.finish(end, lineno)
                cur = None
    if cur is not None:
        cur.finish(None, None)
    return res


def encode_dump(
    dump: int,
    scenario: str,
    cs_hz: int,
    cs_mask: int,
    hz: int,
    records: list[Record],
    dropped: int = 0,
    alg: str = "crc32",
    timers: list[TimerInfo] | None = None,
    overruns: dict[int, int] | None = None,
    per_frame: int = 16,
) -> list[str]:
    """Host-side encoder (same format as the device's dumper); used by tests and tools."""

    def emit(body: str) -> str:
        return f"{body} {checksum(alg, body)}"

    ids = ",".join(f"{t.id}:{t.kind}:{t.interval_ns}:{t.slack_ns}" for t in timers or []) or "-"
    ovr = ",".join(f"{k}:{v}" for k, v in (overruns or {}).items()) or "-"
    out = [
        emit(
            f"KTH v=1 dump={dump} scen={scenario} cs_hz={cs_hz} cs_mask={cs_mask} hz={hz}"
            f" count={len(records)} dropped={dropped} rec={REC_FMT} ck={alg} ids={ids} ovr={ovr}"
        )
    ]
    nframes = 0
    for i in range(0, len(records), per_frame):
        chunk = records[i : i + per_frame]
        payload = b"".join(struct.pack(REC_FMT, *r) for r in chunk)
        out.append(emit(f"KTF {nframes} {len(chunk)} {base64.b64encode(payload).decode()}"))
        nframes += 1
    out.append(emit(f"KTE dump={dump} frames={nframes} records={len(records)}"))
    return out
