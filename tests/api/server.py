"""A real `tmec serve` over a fresh `tmec demo`, for the tests that need a served API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import ROOT, run_tmec


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_demo(out: Path, *, workers: int = 2) -> Iterator[tuple[str, Path]]:
    """`tmec demo --out OUT`, then `tmec serve` on a free port; yields (url, OUT)."""
    assert run_tmec("demo", "--out", str(out)).exit_code == 0
    port = free_port()
    log = (out / "serve.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--home", str(out / "ledger"), "--port",
         str(port), "--workers", str(workers)], cwd=ROOT, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "TMEC_CHECKPOINT_EVERY": "0.5", "TMEC_WEB_EXAMPLES": "1",
             "TMEC_PUBLIC_URL": f"http://127.0.0.1:{port}",  # what the QR codes open
             "TMEC_KEY_ENCRYPTION_KEY_FILE": str(out / "key-encryption.key")})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("tmec serve did not start: "
                                     + (out / "serve.log").read_text("utf-8"))
            time.sleep(0.2)
        yield url, out
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def demo_key(out: Path, account: str) -> str:
    """The API key `tmec demo` wrote for `account` (e.g. ``frenos-bajio.producer``)."""
    import json

    keys = json.loads((out / "api-keys.json").read_text("utf-8"))["keys"]
    return next(k["apiKey"] for k in keys if k["account"] == account)
