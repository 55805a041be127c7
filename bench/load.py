"""A small closed-loop HTTP/1.1 load generator (keep-alive, asyncio + uvloop).

No load tool (wrk, hey, ab) is installed here, so this is ours: `connections` clients,
each on one keep-alive connection, send a request, read the whole response, record the
latency, and send the next, for `seconds`. Requests come from a function of a counter, so
bodies can differ (a registration needs a fresh shipment id each time). Responses are
parsed just enough to find their end (Content-Length; the API never chunks these).

It runs in its own process, on the same 2 cores as the server: what it measures includes
that competition, as a client on the same machine would.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LoadResult", "request_bytes", "run_load"]


@dataclass(frozen=True)
class LoadResult:
    """What one scenario measured."""

    requests: int
    seconds: float
    statuses: dict[int, int]
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds


def request_bytes(method: str, path: str, *, body: bytes = b"",
                  headers: dict[str, str] | None = None, host: str = "127.0.0.1") -> bytes:
    """One HTTP/1.1 request, keep-alive."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _client(port: int, make: Callable[[int], bytes], counter: itertools.count[int],
                  stop_at: float, latencies: list[float], statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            data = make(next(counter))
            started = time.perf_counter()
            writer.write(data)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _run(port: int, make: Callable[[int], bytes], connections: int, seconds: float,
               warmup: float) -> LoadResult:
    counter = itertools.count()
    if warmup:
        await asyncio.gather(*(_client(port, make, counter, time.perf_counter() + warmup,
                                       [], {}) for _ in range(connections)))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    await asyncio.gather(*(_client(port, make, counter, started + seconds, latencies,
                                   statuses) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    n = len(latencies)
    return LoadResult(n, elapsed, statuses, latencies[n // 2] * 1000 if n else 0.0,
                      latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0)


def run_load(port: int, make: Callable[[int], bytes], *, connections: int = 16,
             seconds: float = 10.0, warmup: float = 2.0) -> LoadResult:
    """Drive the server on `port` with requests `make(n)`; uvloop when available."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - the api extra installs it
        return asyncio.run(_run(port, make, connections, seconds, warmup))
    return uvloop.run(_run(port, make, connections, seconds, warmup))
