"""Load from `wrk` (Debian's package), when it is installed: a C client on one thread.

`bench/load.py` is Python: on the same two cores as the server it takes a share of the
CPU it is measuring (it tops out near the framework's own rate). wrk does the same closed
loop (keep-alive connections, each sends a request as soon as the last answer is read)
for a small fraction of the CPU. Requests come from a Lua script: a fixed request, or a
body with a counter spliced in where every request must differ (a registration needs a
new shipment id each time). wrk reports latency percentiles (``--latency``) and counts
answers that are not 2xx/3xx without saying which status they had; `LoadResult.statuses`
keeps that count under the key 0.

    apt-get install wrk    # the bench uses it when `wrk` is on PATH, else bench/load.py
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from load import LoadResult

__all__ = ["available", "run_wrk"]

#: Each wrk run's counter starts at its own multiple of 10**9: repeated runs of one
#: scenario never send a shipment id twice.
_RUNS = itertools.count(1)

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def available() -> bool:
    """True when wrk is installed."""
    return shutil.which("wrk") is not None


def _lua_string(data: bytes) -> str:
    text = data.decode("utf-8")
    level = 1
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def _script(method: str, path: str, headers: dict[str, str], body: bytes,
            counter_marker: bytes | None, start: int) -> str:
    lines = [f"wrk.method = {_lua_string(method.encode())}",
             f"wrk.path = {_lua_string(path.encode())}"]
    for name, value in headers.items():
        lines.append(f"wrk.headers[ {_lua_string(name.encode())} ] = "
                     f"{_lua_string(value.encode())}")
    if counter_marker is None:
        lines.append(f"wrk.body = {_lua_string(body)}")
        return "\n".join(lines) + "\n"
    before, _, after = body.partition(counter_marker)
    lines += [f"local before = {_lua_string(before)}",
              f"local after = {_lua_string(after)}",
              f"local n = {start}",
              "request = function()",
              "  n = n + 1",
              "  return wrk.format(nil, nil, nil, before .. n .. after)",
              "end"]
    return "\n".join(lines) + "\n"


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"wrk printed a latency of {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def _parse(output: str, seconds: float) -> LoadResult:
    requests = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if requests is None:
        raise ValueError(f"no request count in wrk's output:\n{output}")
    elapsed = float(requests[2]) * _UNITS[requests[3]] / 1000.0
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                       r"timeout (\d+)", output)
    total = int(requests[1])
    statuses = {200: total - (int(bad[1]) if bad else 0)}
    if bad:
        statuses[0] = int(bad[1])
    if errors and any(int(errors[k]) for k in range(1, 5)):
        statuses[-1] = sum(int(errors[k]) for k in range(1, 5))
    del seconds
    return LoadResult(total, elapsed or 1e-9, statuses,
                      _milliseconds(p50[1]) if p50 else 0.0,
                      _milliseconds(p99[1]) if p99 else 0.0)


def run_wrk(port: int, method: str, path: str, *, headers: dict[str, str] | None = None,
            body: bytes = b"", counter_marker: bytes | None = None, connections: int = 16,
            seconds: float = 10.0, warmup: float = 2.0) -> LoadResult:
    """Drive 127.0.0.1:`port` with one wrk thread and `connections` connections.

    `counter_marker`: a byte string in `body` replaced by a request counter (each wrk run,
    warm-up included, counts from its own multiple of 10**9).
    """
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "request.lua"
        url = f"http://127.0.0.1:{port}"

        def run(duration: float, start: int) -> str:
            script.write_text(_script(method, path, headers or {}, body, counter_marker,
                                      start), encoding="utf-8")
            done = subprocess.run(
                ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s",
                 "--latency", "--timeout", "10s", "-s", str(script), url],
                capture_output=True, text=True, check=True)
            if done.stderr.strip() or ".lua:" in done.stdout:  # wrk runs on after a script error
                raise RuntimeError(f"wrk: {done.stderr.strip() or done.stdout.strip()}")
            return done.stdout

        if warmup:
            run(warmup, next(_RUNS) * 10**9)
        return _parse(run(seconds, next(_RUNS) * 10**9), seconds)
