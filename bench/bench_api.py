"""HTTP API benchmark (issue 8): the verification routes, pre-check and registrations.

    python bench/bench_api.py [--tokens 1000000] [--seconds 10] [--repeat 3] [--write]

Builds the demo ledger (`tmec demo`: four real tokens, one API key per role), fills it with
`--tokens` more token entries (synthetic token documents, real signed statements, real
derived rows and tiles), serves it with ``tmec serve --workers 2`` (uvicorn, uvloop,
httptools) on loopback, and drives it with `bench/load.py` (16 keep-alive connections,
closed loop, on the same two cores as the server). Per scenario, the median of
`--repeat` runs of `--seconds` (after 2 s of warm-up): requests/s, p50 and p99 latency.

Scenarios, as issue 8 names them:

* ``POST /v1/verify`` with a full bundle (the cylinder head's, with its supplier's bundle
  nested: two tokens, six inclusion proofs, two checkpoints);
* ``GET /v1/verify/{digest}`` of that token (the service builds and verifies the bundle;
  reused while the log's standing watermark holds);
* ``POST /v1/precheck`` of 50 shipments (50 real brake-caliper tokens given to the broker);
* registrations: ``POST /v1/tokens`` with the brake caliper's BOM as JSON, a new shipment
  id each time (determination, signing, three writes, one log append).

Baseline, measured in the same run: the offline ``verify()`` of the same full bundle, in
one process on one core, and ``GET /healthz`` (the framework alone). Targets (issue 8, 2
workers): POST verify >= 1,500/s with p99 <= 50 ms, GET verify >= 4,000/s, registrations
>= 300/s. The ledger is built once per size under bench/out/ and reused.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import wrk  # noqa: E402
from bench_engine import machine  # noqa: E402
from load import LoadResult, request_bytes, run_load  # noqa: E402
from wrk import run_wrk  # noqa: E402

OUT = ROOT / "bench" / "out"
BATCH = 256
PRECHECK = 50


def build(tokens: int) -> Path:
    """The demo ledger plus `tokens` entries, built once per size (bench/out/api-N)."""
    target = OUT / f"api-{tokens}"
    if (target / "done").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "cli", "demo", "--out", str(target)], cwd=ROOT,
                   check=True, capture_output=True)
    from ledger.config import DEFAULT_ORIGIN, Settings
    from ledger.crypto import SigningKey, sha256
    from ledger.installation import Workspace
    from ledger.multikey import did_key, verification_method_id
    from ledger.statements import sign_statement
    from ledger.token import shipment_digest

    home = target / "ledger"
    ledger = Workspace(Settings(home, f"sqlite:///{home / 'ledger.db'}", DEFAULT_ORIGIN)
                       ).open_ledger(with_witnesses=False)
    party = SigningKey(bytes([9]) * 32)
    kid = verification_method_id(party.public_key)
    ledger.register_key(party, {"id": "bench-filler", "name": "Filler", "country": "MX"})
    issuer = did_key(party.public_key)
    started = time.perf_counter()
    for first in range(0, tokens, BATCH):
        made = []
        for n in range(first, min(first + BATCH, tokens)):
            blob = b'{"filler":%d}' % n
            digest = sha256(blob).hex()
            made.append(((digest, blob), sign_statement({
                "v": 1, "type": "token", "time": "2026-12-01T12:00:00Z",
                "tokenDigest": digest, "issuer": issuer, "parents": [], "blanket": False,
                "shipment": shipment_digest(f"filler-{n}")}, party, kid)))
        ledger.store.put_blobs([blob for blob, _ in made])
        ledger.append([statement for _, statement in made])
        if first % (BATCH * 400) == 0:
            print(f"  built {first + len(made):,} of {tokens:,} "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
    ledger.store.close()  # type: ignore[attr-defined]
    (target / "done").write_text(f"{tokens}\n", encoding="utf-8")
    return target


def add_precheck_tokens(target: Path) -> None:
    """50 real tokens of one SME, given to the broker: what a pre-check of 50 reads."""
    if (target / "precheck-done").exists():
        return
    from cli.demo import _certification
    from ledger.api.accounts import AccountStore
    from ledger.config import DEFAULT_ORIGIN, Settings
    from ledger.installation import PartyKey, Workspace
    from origin_rules import parse_bom_json

    home = target / "ledger"
    ledger = Workspace(Settings(home, f"sqlite:///{home / 'ledger.db'}", DEFAULT_ORIGIN)
                       ).open_ledger(with_witnesses=False)
    frenos = PartyKey.load(home / "keys" / "frenos-bajio.json")
    caliper = parse_bom_json((ROOT / "examples" / "brake-caliper-mx.json").read_bytes())
    accounts = AccountStore(ledger.store.engine)  # type: ignore[attr-defined]
    for n in range(PRECHECK):
        issued = ledger.issue_token(caliper, _certification(frenos.party, caliper, None),
                                    shipment_id=f"FBA-PRECHECK-{n}", key=frenos.key)
        accounts.grant(issued.digest, "laredo-brokers", "registrar.registrar")
    ledger.publish_checkpoint()
    ledger.store.close()  # type: ignore[attr-defined]
    (target / "precheck-done").write_text(f"{PRECHECK}\n", encoding="utf-8")


def offline_rate(bundle: bytes, trust_path: Path, seconds: float) -> float:
    """verify() calls per second on one core (the same bundle, parsed each time)."""
    from ledger.verify import TrustFile, verify

    trust = TrustFile.from_json(trust_path.read_bytes())
    now = int(time.time())
    assert verify(bundle, trust, now=now).decision.value == "clear"
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        verify(bundle, trust, now=now)
        count += 1
    return count / (time.perf_counter() - started)


def serve(target: Path, port: int) -> subprocess.Popen[bytes]:
    """`tmec serve --workers 2` on `port`, ready."""
    import httpx

    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--home", str(target / "ledger"), "--port",
         str(port), "--workers", "2"], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "TMEC_KEY_ENCRYPTION_KEY_FILE": str(target / "key-encryption.key")})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit("tmec serve did not start")


def _for_wrk(make: Any, registration: Any) -> tuple[str, str, dict[str, str], bytes,
                                                   bytes | None]:
    """A scenario's request as wrk takes it; registrations get a counter in the id."""
    marker = b"@@N@@" if make is registration else None
    raw = make(0)
    if marker is not None:  # rebuild the body with the marker where the counter goes
        head, _, body = raw.partition(b"\r\n\r\n")
        document = json.loads(body)
        document["shipmentId"] = f"WRK-{time.time_ns()}-@@N@@"
        raw = head + b"\r\n\r\n" + json.dumps(document).encode()
    head, _, body = raw.partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(": ")
        if name.lower() not in ("host", "connection", "content-length"):
            headers[name] = value
    return method, path, headers, body, marker


def median(runs: list[LoadResult]) -> LoadResult:
    return sorted(runs, key=lambda r: r.per_second)[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--write", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument("--only", metavar="TEXT", default=None,
                        help="run only the scenarios whose label contains TEXT")
    parser.add_argument("--python-client", action="store_true",
                        help="drive the load with bench/load.py even when wrk is installed")
    args = parser.parse_args()

    started = time.perf_counter()
    target = build(args.tokens)
    add_precheck_tokens(target)
    built = time.perf_counter() - started
    keys = {k["account"]: k["apiKey"]
            for k in json.loads((target / "api-keys.json").read_text("utf-8"))["keys"]}
    bundle = (target / "bundles" / "cylinder-head-us.json").read_bytes()
    from ledger.token import token_digest

    head = token_digest(json.loads(bundle)["token"])
    demo = [token_digest(json.loads((target / "bundles" / f"{n}.json").read_bytes())["token"])
            for n in ("brake-caliper-mx", "steel-wheel-ca", "cylinder-head-us",
                      "lash-adjusters-us")]
    caliper = json.loads((ROOT / "examples" / "brake-caliper-mx.json").read_text("utf-8"))
    run_id = int(time.time())
    shipments = itertools.count()  # one counter across runs: every shipment id is new
    offline = offline_rate(bundle, target / "trust.json", 5.0)

    def registration(n: int) -> bytes:
        del n  # the load's counter restarts with each run
        body = json.dumps({"shipmentId": f"BENCH-{run_id}-{next(shipments)}",
                           "bom": caliper}).encode()
        return request_bytes("POST", "/v1/tokens", body=body, headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {keys['frenos-bajio.producer']}"})

    with sqlite3.connect(target / "ledger" / "ledger.db") as db:
        marks = ",".join("?" * len(demo))
        fifty = [d for (d,) in db.execute(
            f"SELECT token_digest FROM api_grants WHERE token_digest NOT IN ({marks})",
            demo)]
    assert len(fifty) == PRECHECK, len(fifty)
    precheck = request_bytes("POST", "/v1/precheck", body=json.dumps({
        "shipments": [{"token": d} for d in fifty]}).encode(), headers={
        "Content-Type": "application/json",
        "Authorization": f"Bearer {keys['laredo-brokers.broker']}"})
    scenarios: list[tuple[str, Any]] = [
        ("GET /healthz (framework only)", request_bytes("GET", "/healthz")),
        ("POST /v1/verify, full bundle (2 tokens)", request_bytes(
            "POST", "/v1/verify", body=bundle, headers={"Content-Type": "application/json"})),
        ("GET /v1/verify/{digest}", request_bytes("GET", f"/v1/verify/{head}")),
        ("POST /v1/precheck, 50 shipments", precheck),
        ("POST /v1/tokens (registration: BOM in, token out)", registration),
    ]
    if args.only:
        scenarios = [s for s in scenarios if args.only in s[0]]
    use_wrk = wrk.available() and not args.python_client
    client = ("wrk (one thread)" if use_wrk else "bench/load.py (Python, uvloop)")
    process = serve(target, args.port)
    rows = []
    try:
        for label, request in scenarios:
            make = request if callable(request) else (lambda _n, r=request: r)
            if use_wrk:
                method, path, headers, body, marker = _for_wrk(make, registration)
                runs = [run_wrk(args.port, method, path, headers=headers, body=body,
                                counter_marker=marker, connections=args.connections,
                                seconds=args.seconds) for _ in range(args.repeat)]
            else:
                runs = [run_load(args.port, make, connections=args.connections,
                                 seconds=args.seconds) for _ in range(args.repeat)]
            chosen = median(runs)
            bad = {s: c for r in runs for s, c in r.statuses.items() if s >= 300 or s <= 0}
            rows.append((label, chosen, [r.per_second for r in runs], bad))
            print(f"{label}: {chosen.per_second:,.0f}/s p50 {chosen.p50_ms:.1f} ms p99 "
                  f"{chosen.p99_ms:.1f} ms (runs {[round(r.per_second) for r in runs]}) "
                  f"{bad or ''}", flush=True)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)

    command = "python bench/bench_api.py " + " ".join(sys.argv[1:])
    lines = [f"Command: `{command}` on {time.strftime('%Y-%m-%d')}, {machine()}; ledger of "
             f"{args.tokens:,} filler tokens + the demo's 4 (built in {built:.0f} s, or "
             f"reused), SQLite, `tmec serve --workers 2`, {args.connections} keep-alive "
             f"connections from {client} on the same 2 cores.", "",
             "| scenario | requests/s (median of runs) | p50 ms | p99 ms | runs /s |",
             "|---|---|---|---|---|",
             f"| baseline: offline `verify()` of the full bundle, 1 process | "
             f"{offline:,.0f} | | | |"]
    for label, chosen, rates, bad in rows:
        note = f" (non-2xx: {bad})" if bad else ""
        lines.append(f"| {label}{note} | {chosen.per_second:,.0f} | {chosen.p50_ms:.1f} | "
                     f"{chosen.p99_ms:.1f} | {', '.join(f'{r:,.0f}' for r in rates)} |")
    text = "\n".join(lines)
    print(text)
    if args.write:
        results = ROOT / "bench" / "RESULTS.md"
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=False).stdout.strip()
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
        heading = (f"## The HTTP API (issue 8): run of {when} UTC at "
                   f"`{commit or 'unknown commit'}`")
        results.write_text(results.read_text("utf-8").rstrip() + "\n\n" + heading + "\n\n"
                           + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
