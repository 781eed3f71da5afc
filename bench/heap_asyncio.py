# Heap taken by `import asyncio`, and by one sleeping asyncio task (MicroPython, on the
# board, right after a soft reset; no ktimers).
#   BENCH asyncio import=<bytes> task=<bytes per sleeping task> | BENCH asyncio na=<why>
import gc

gc.collect()
_f0 = gc.mem_free()
try:
    import asyncio
except ImportError:
    asyncio = None
if asyncio is None:
    print("BENCH asyncio na=asyncio-not-available")
else:
    gc.collect()
    _f1 = gc.mem_free()
    _N = 100

    async def _sleeper():
        await asyncio.sleep_ms(60000)

    async def _main():
        ts = []
        gc.collect()
        a = gc.mem_free()
        for i in range(_N):
            ts.append(asyncio.create_task(_sleeper()))
        await asyncio.sleep_ms(0)  # every task started and sleeping
        gc.collect()
        b = gc.mem_free()
        for t in ts:
            t.cancel()
        return (a - b) // _N

    print("BENCH asyncio import=%d task=%d" % (_f0 - _f1, asyncio.run(_main())))
