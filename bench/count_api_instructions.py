"""Instructions per HTTP request (issue 8): registrations and full-bundle verifications,
through the whole app (middleware, routing, access check, body parsing, route, answer).

    .venv/bin/python bench/count_api_instructions.py                     # this checkout
    .venv/bin/python bench/count_api_instructions.py --root ../baseline  # another one

`count_registration_instructions.py` counts the registration code the route calls; this
counts what a worker does for one request, minus the socket: the ASGI app built by
`create_app` (lifespan run, so the worker's sequencer takes the appends as it does under
``tmec serve``) is called in-process with the request's scope and body, as uvicorn would
call it. Each scenario runs N1 and N2 times in one process under ``valgrind
--tool=callgrind``; (count(N2) - count(N1)) / (N2 - N1) is one request, start-up excluded.
Scenarios: ``POST /v1/tokens`` with the brake caliper's BOM as JSON (a new shipment id each
time, as bench_api.py sends it) and ``POST /v1/verify`` with the cylinder head's full
bundle (two tokens); and, as the baseline of the latter, ``offline-verify``: the offline
`verify()` of the same bundle in the same process, no app. `--root` measures another
checkout with this venv (a baseline commit in a `git worktree`), over a copy of the same
demo ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COLLECTED = re.compile(r"Collected : (\d+)")
SCENARIOS = {"register": (10, 40), "verify": (50, 250), "offline-verify": (50, 250)}


def _scope(method: str, path: str, key: str | None, length: int) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
               (b"content-length", str(length).encode("ascii"))]
    if key is not None:
        headers.append((b"authorization", f"Bearer {key}".encode("ascii")))
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "method": method, "scheme": "http", "path": path,
            "raw_path": path.encode("ascii"), "query_string": b"", "root_path": "",
            "headers": headers, "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000), "state": {}}


async def _call(app: Any, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # pragma: no cover - a route reads its body once
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def run(scenario: str, count: int, demo: Path, root: Path) -> None:
    """`count` requests of `scenario` over a copy of `demo`, in this process."""
    sys.path.insert(0, str(root))
    from count_registration_instructions import demo_copy  # bench/, the script's folder

    from ledger.api import create_app

    out, keys, settings = demo_copy(demo)
    if scenario == "offline-verify":  # the baseline: verify() alone, no app, no HTTP
        from ledger.verify import TrustFile, verify

        trust = TrustFile.from_json((out / "trust.json").read_bytes())
        data = (out / "bundles" / "cylinder-head-us.json").read_bytes()
        moment = int(time.time())
        for _ in range(count):
            if verify(data, trust, now=moment).decision.value != "clear":
                raise SystemExit("offline verify: not clear")
        return
    app = create_app(settings)
    bom = json.loads((ROOT / "examples" / "brake-caliper-mx.json").read_text("utf-8"))
    bundle = (out / "bundles" / "cylinder-head-us.json").read_bytes()

    async def main() -> None:
        async with app.router.lifespan_context(app):
            for n in range(count):
                if scenario == "register":
                    body = json.dumps({"shipmentId": f"IC-{n}", "bom": bom}).encode("utf-8")
                    scope = _scope("POST", "/v1/tokens", keys["frenos-bajio.producer"],
                                   len(body))
                    expected = 201
                else:
                    body = bundle
                    scope = _scope("POST", "/v1/verify", None, len(body))
                    expected = 200
                status, answer = await _call(app, scope, body)
                if status != expected:
                    raise SystemExit(f"{scenario}: {status} {answer[:500]!r}")
                if scenario == "verify" and json.loads(answer)["decision"] != "clear":
                    raise SystemExit(f"verify: not clear: {answer[:500]!r}")

    asyncio.run(main())


def instructions(scenario: str, count: int, demo: Path, root: Path) -> int:
    """Callgrind's instruction count of one process making `count` requests."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               sys.executable, __file__, "--run", scenario, "--count", str(count),
               "--demo", str(demo), "--root", str(root)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run failed:\n{done.stderr[-3000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--demo", type=Path, default=HERE / "out" / "registration-demo")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--run", choices=sorted(SCENARIOS), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run is not None:
        run(args.run, args.count, args.demo, args.root.resolve())
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    if not (args.demo / "api-keys.json").exists():
        shutil.rmtree(args.demo, ignore_errors=True)
        subprocess.run([str(ROOT / ".venv" / "bin" / "tmec"), "demo", "--out", str(args.demo)],
                       check=True, capture_output=True)
    for scenario in args.scenario or sorted(SCENARIOS):
        low_n, high_n = SCENARIOS[scenario]
        low = instructions(scenario, low_n, args.demo, args.root)
        high = instructions(scenario, high_n, args.demo, args.root)
        print(f"| {args.root.resolve()} | {scenario} | {low_n}: {low:,} | {high_n}: {high:,} "
              f"| {(high - low) // (high_n - low_n):,} |", flush=True)


if __name__ == "__main__":
    main()
