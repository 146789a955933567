"""A small HTTP/1.1 keep-alive load generator with exact counts.

Unlike a duration-cut tool, every connection stops issuing at the deadline but waits for its
in-flight response, so "2xx responses" and "rows written" can be compared exactly.
"""

import asyncio
import multiprocessing
import time
from collections.abc import Callable


async def _connection(host, port, make, deadline, out):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < deadline:
            request = make()
            start = time.perf_counter()
            writer.write(request)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            out["latency"].append(time.perf_counter() - start)
            out["ok" if 200 <= status < 300 else "bad"] += 1
    except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
        out["errors"] += 1
    finally:
        writer.close()


def _process(host, port, connections, duration, factory, slice_, queue):
    make = factory(slice_)
    out = {"ok": 0, "bad": 0, "errors": 0, "latency": []}

    async def main():
        deadline = time.monotonic() + duration
        await asyncio.gather(
            *[_connection(host, port, make, deadline, out) for _ in range(connections)]
        )

    asyncio.run(main())
    queue.put(out)


def run(
    host: str,
    port: int,
    *,
    connections: int,
    duration: float,
    processes: int,
    factory: Callable[[int], Callable[[], bytes]],
) -> dict:
    """Drive `connections` keep-alive connections spread over `processes` for `duration` s.

    `factory(i)` is called in process i and returns a function that makes the next request.
    """
    queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(
            target=_process,
            args=(host, port, connections // processes, duration, factory, i, queue),
        )
        for i in range(processes)
    ]
    start = time.perf_counter()
    for p in procs:
        p.start()
    parts = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - start
    latency = sorted(x for part in parts for x in part["latency"])
    total = {k: sum(part[k] for part in parts) for k in ("ok", "bad", "errors")}

    def pct(q):
        return latency[min(len(latency) - 1, int(q * len(latency)))] * 1000 if latency else 0.0

    return {
        **total,
        "rps": (total["ok"] + total["bad"]) / elapsed,
        "p50": pct(0.5),
        "p99": pct(0.99),
    }
