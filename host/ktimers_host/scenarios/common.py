# ruff: noqa
# Device side (MicroPython): the framed trace dumper and the chunk runner shared by every
# scenario. The host sends this file, one scenario file and one call to ktv_run(...) in one exec.
# Format: see host/ktimers_host/framing.py (KTH header, KTF frames, KTE end line).
import gc
import struct
from array import array

import ktimers.trace as trace
from ktimers import *

try:
    import binascii
except ImportError:
    import ubinascii as binascii


def _ck_alg():
    try:
        "%08x" % binascii.crc32(b"x")  # 0x8cdc1683: needs long ints on 32-bit ports
        return "crc32"
    except Exception:
        return "adler32"


KTV_ALG = _ck_alg()


def _ck(s):
    if KTV_ALG == "crc32":
        return "%08x" % binascii.crc32(s)
    a = 1
    b = 0
    for c in s.encode():
        a = (a + c) % 65521
        b = (b + a) % 65521
    return "%04x%04x" % (b, a)


def _emit(s):
    print(s, _ck(s))


def ktv_dump(dump, scen, ids, ovr, per=16):
    # ids: list of (id, kind, interval_ns, slack_ns); ovr: list of (id, overruns)
    global KTV_LAST
    KTV_LAST = (dump, scen, ids, ovr, per)  # ktv_redump() sends it again
    cs_hz, cs_mask, hz, count, dropped = trace.meta()
    ids_s = ",".join("%d:%s:%d:%d" % x for x in ids) or "-"
    ovr_s = ",".join("%d:%d" % x for x in ovr) or "-"
    _emit(
        "KTH v=1 dump=%d scen=%s cs_hz=%d cs_mask=%d hz=%d count=%d dropped=%d rec=<BHiii"
        " ck=%s ids=%s ovr=%s"
        % (dump, scen, cs_hz, cs_mask, hz, count, dropped, KTV_ALG, ids_s, ovr_s)
    )
    buf = bytearray(15 * per)
    mv = memoryview(buf)
    n = 0
    seq = 0
    total = 0
    for r in trace.records():
        if total + n >= count:
            break
        tid = r[1]
        if tid < 0 or tid > 0xFFFE:
            tid = 0xFFFF  # outside the u16 field (the library's hrtimer ids start at 0x10000)
        struct.pack_into("<BHiii", buf, 15 * n, r[0], tid, r[2], r[3], r[4])
        n += 1
        if n == per:
            _emit("KTF %d %d %s" % (seq, n, binascii.b2a_base64(mv[: 15 * n])[:-1].decode()))
            seq += 1
            total += n
            n = 0
    if n:
        _emit("KTF %d %d %s" % (seq, n, binascii.b2a_base64(mv[: 15 * n])[:-1].decode()))
        seq += 1
        total += n
    _emit("KTE dump=%d frames=%d records=%d" % (dump, seq, total))


def ktv_redump():
    # the host pulls the last dump again (frames damaged on the link): the ring still holds it
    ktv_dump(*KTV_LAST)


def ktv_free():
    trace.enable(1)  # free the ring kept for ktv_redump()
    trace.disable()
    gc.collect()


def _jdiff(a, b):
    # signed a - b for 30-bit jiffies (wrap-safe, plain ints)
    return ((a - b + 0x20000000) & 0x3FFFFFFF) - 0x20000000


def ktv_ring(rmax):
    gc.collect()
    try:
        free = gc.mem_free()
    except Exception:
        free = 100000
    # trace.enable(n) briefly holds 2 * 20 * n bytes (bytearray + array copy)
    return max(256, min(rmax, (free - 40000) // 44))


def ktv_load(dl, cnt, quota):
    # main-context load: busy loop, heap churn (lists), explicit gc.collect()
    k = 0
    keep = [None] * 8
    while cnt[0] < quota and _jdiff(jiffies(), dl) < 0:
        keep[k & 7] = [k, k + 1, [k] * 6, "x" * (k & 31)]
        k += 1
        if k % 400 == 0:
            gc.collect()
    return k


# KTV_CNT: [samples, quota, overruns, spare...]; scenario callbacks update it
KTV_CNT = array("i", [0] * 8)


def ktv_run(scen, arm, disarm, ids, ovr_fn, target, max_ms, load, events, rps=2, rmax=16384):
    # Runs `scen` in chunks that fit the trace ring; each chunk ends with one framed dump.
    cnt = KTV_CNT
    ktv_free()  # a ring kept by the previous scenario
    ring = ktv_ring(rmax)
    per_chunk = max(16, (ring - 320) // rps)
    got = 0
    dump = 0
    t_end = jiffies() + max_ms * HZ // 1000 + 1
    while got < target and _jdiff(jiffies(), t_end) < 0:
        try:
            trace.enable(ring, events)  # the same size again: the ring is reused
        except MemoryError:  # mem_free() is not one block: try a ring half the size
            if ring <= 256:
                raise
            ring //= 2
            per_chunk = max(16, (ring - 320) // rps)
            continue
        for i in range(8):
            cnt[i] = 0
        q = min(per_chunk, target - got)
        cnt[1] = q
        arm()
        if load:
            ktv_load(t_end, cnt, q)
        while cnt[0] < q and _jdiff(jiffies(), t_end) < 0:
            msleep(50)
        disarm()
        trace.disable()
        n = cnt[0]
        ktv_dump(dump, scen, ids, ovr_fn())
        got += n
        dump += 1
        if n == 0:
            break
    gc.collect()  # the ring is kept until ktv_free(): the host may pull the last dump again
    print("KTV done %s samples=%d dumps=%d ring=%d" % (scen, got, dump, ring))
