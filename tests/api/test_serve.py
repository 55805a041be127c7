"""`tmec serve` for real: the demo ledger behind uvicorn with two worker processes.

What `make run` does, on a free port: `tmec demo` builds the ledger and the API keys,
`tmec serve --workers 2` serves it; requests go over TCP with keep-alive. Both workers
share the SQLite ledger: a key revoked through one is refused by the other.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.api.server import demo_key
from tests.conftest import ROOT, run_tmec


def test_make_run_s_server_verifies_and_prechecks(served: tuple[str, Path]) -> None:
    url, out = served
    with httpx.Client(base_url=url, timeout=30) as client:  # one keep-alive connection
        for name in ("brake-caliper-mx", "cylinder-head-us", "steel-wheel-ca"):
            data = (out / "bundles" / f"{name}.json").read_bytes()
            result = client.post("/v1/verify", content=data,
                                 headers={"content-type": "application/json"}).json()
            assert result["decision"] == "clear", name
            again = client.get(f"/v1/verify/{result['tokenDigest']}").json()
            assert again["decision"] == "clear", name
        digest = result["tokenDigest"]
        broker = {"Authorization": f"Bearer {demo_key(out, 'laredo-brokers.broker')}"}
        answer = client.post("/v1/precheck", headers=broker,
                             json={"shipments": [{"token": digest}]}).json()
        assert answer["go"] == 1
        assert client.get("/checkpoint").status_code == 200
        docs = client.get("/v1/openapi.json").json()
        assert "/v1/verify/{digest}" in docs["paths"]


def test_a_key_revoked_through_one_worker_is_refused_by_all(served: tuple[str, Path]) -> None:
    url, out = served
    auth = {"Authorization": f"Bearer {demo_key(out, 'huron-powertrain.producer')}"}
    fresh = httpx.post(f"{url}/v1/accounts/huron-powertrain.producer/keys", headers=auth,
                       json={"label": "temp"}).json()
    temp = {"Authorization": f"Bearer {fresh['apiKey']}"}
    assert httpx.get(f"{url}/v1/me", headers=temp).status_code == 200
    assert httpx.post(f"{url}/v1/keys/{fresh['keyId']}/revoke", headers=auth,
                      json={"reason": "done"}).status_code == 200
    # New connections land on either worker: every one refuses the key.
    for _ in range(8):
        assert httpx.get(f"{url}/v1/me", headers=temp).status_code == 401


def test_serve_without_a_workspace_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_tmec("serve", "--home", str(tmp_path / "nowhere"), "--port", "1")
    assert result.exit_code == 6
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_an_sme_uploads_the_excel_bom_and_customs_clears_its_token(served: tuple[str, Path]
                                                                   ) -> None:
    url, out = served
    auth = {"Authorization": f"Bearer {demo_key(out, 'frenos-bajio.producer')}"}
    workbook = (ROOT / "examples" / "tables" / "brake-caliper-mx.xlsx").read_bytes()
    with httpx.Client(base_url=url, timeout=30) as client:
        qualified = client.post("/v1/determinations", headers=auth, files={
            "bom": ("caliper.xlsx", workbook)}).json()
        assert qualified["originating"] is True
        issued = client.post("/v1/tokens", headers=auth, files={
            "bom": ("caliper.xlsx", workbook),
            "issue": (None, json.dumps({"shipmentId": "FBA-SERVE-1"}))})
        assert issued.status_code == 201, issued.text
        digest = issued.json()["tokenDigest"]
        assert client.get(f"/v1/verify/{digest}").json()["decision"] == "clear"
        bundle = client.get(f"/v1/tokens/{digest}/bundle", headers=auth)
        path = out / "served-bundle.json"
        path.write_bytes(bundle.content)
        assert run_tmec("verify", str(path), "--trust", str(out / "trust.json")).exit_code == 0


def _supervisor_and_workers(url: str) -> tuple[int, list[int]]:
    """The `tmec serve` process listening at `url`, and its worker processes."""
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv and b"--port" in argv and argv[argv.index(b"--port") + 1] == \
                port.encode():
            pid = int(proc.name)
            children = (proc / "task" / proc.name / "children").read_text().split()
            return pid, [int(c) for c in children if _is_worker(int(c))]
    raise AssertionError(f"no tmec serve process for port {port}")


def _is_worker(pid: int) -> bool:
    """A worker process, not the server's sequencer nor multiprocessing's resource tracker."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes()
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return False
    return b"spawn_main" in argv and b"resource_tracker" not in argv and \
        comm != "tmec-sequencer"


def _sequencer_of(supervisor: int) -> int | None:
    """The server's sequencer process (it names itself ``tmec-sequencer``), if running."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    for child in map(int, children):
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == "tmec-sequencer":
                return child
        except OSError:
            continue
    return None


def _wait(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _listening_sockets(port: int) -> set[str]:
    """The sockets listening on `port` (Linux /proc/net), as the `socket:[inode]` links
    their holders' file descriptors show."""
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                listening.add(f"socket:[{fields[9]}]")
    return listening


def _held_listening_sockets(pid: int, port: int) -> set[str]:
    """The sockets listening on `port` that process `pid` holds: a worker that is still
    importing has none yet, and killing the other one then leaves nobody."""
    try:
        held = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    except OSError:
        return set()
    return _listening_sockets(port) & held


def test_each_worker_listens_for_itself_and_a_dead_one_is_replaced(
        served: tuple[str, Path]) -> None:
    """Two workers, each with its own SO_REUSEPORT socket: new connections reach both,
    and when one is killed the server keeps answering and starts another in its place."""
    url, _ = served
    supervisor, workers = _supervisor_and_workers(url)
    assert len(workers) == 2
    port = int(url.rsplit(":", 1)[1])
    _wait(lambda: all(_held_listening_sockets(pid, port) for pid in workers),
          "both workers to listen")
    killed = workers[0]
    its_sockets = _held_listening_sockets(killed, port)
    os.kill(killed, signal.SIGKILL)
    # Once the kernel has closed the dead worker's socket, the survivor answers every new
    # connection. (A killed process shows as a zombie while its other threads still exit,
    # and its files close only with the last of them: "Z" alone is too early; a connection
    # that meets the socket while it closes is refused.)
    _wait(lambda: not its_sockets & _listening_sockets(port), "the dead worker's socket to close")
    for _ in range(10):
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    _wait(lambda: len([w for w in _supervisor_and_workers(url)[1] if w != killed]) == 2,
          "a replacement worker")
    assert _supervisor_and_workers(url)[0] == supervisor
    _wait(lambda: all(httpx.get(f"{url}/readyz", timeout=10).status_code == 200
                      for _ in range(10)), "every worker to be ready")


def test_serve_on_a_taken_port_is_a_one_line_error(served: tuple[str, Path]) -> None:
    url, out = served
    port = url.rsplit(":", 1)[1]
    with socket.socket() as taken:  # a listener that did not ask to share the port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = str(taken.getsockname()[1])
        result = run_tmec("serve", "--home", str(out / "ledger"), "--port", busy,
                          "--workers", "2")
    assert result.exit_code == 4, result.stderr
    assert result.stderr.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{busy}" in result.stderr
    assert port != busy


def test_a_killed_sequencer_loses_no_registration_and_is_replaced(
        served: tuple[str, Path]) -> None:
    """Registrations go on while the server's one sequencer process is killed (-9): every
    request either gets its token, durable in the log, or an error, never an index that
    is not there; the supervisor starts another sequencer, and the log audits clean."""
    url, out = served
    supervisor, _ = _supervisor_and_workers(url)
    sequencer = _sequencer_of(supervisor)
    assert sequencer is not None
    auth = {"Authorization": f"Bearer {demo_key(out, 'frenos-bajio.producer')}"}
    caliper = json.loads((ROOT / "examples" / "brake-caliper-mx.json").read_text("utf-8"))
    issued: dict[str, int] = {}
    failures: list[str] = []
    under_way = threading.Event()  # the first registrations are in: kill the sequencer

    def register(worker: int) -> None:
        with httpx.Client(base_url=url, timeout=60, headers=auth) as client:
            for n in range(12):
                answer = client.post("/v1/tokens", json={
                    "shipmentId": f"KILL-{worker}-{n}", "bom": caliper})
                if answer.status_code == 201:
                    body = answer.json()
                    issued[body["tokenDigest"]] = body["index"]
                else:
                    failures.append(answer.text)
                if len(issued) >= 6:
                    under_way.set()

    threads = [threading.Thread(target=register, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    assert under_way.wait(60), failures
    os.kill(sequencer, signal.SIGKILL)
    at_the_kill = len(issued)
    for thread in threads:
        thread.join()
    assert failures == []  # the workers looked each in-flight token up, or sent it again
    assert at_the_kill < 48
    assert len(issued) == 48
    assert len(set(issued.values())) == 48
    _wait(lambda: _sequencer_of(supervisor) not in (None, sequencer), "a new sequencer")
    with httpx.Client(base_url=url, timeout=30, headers=auth) as client:
        for digest, index in issued.items():
            status = client.get(f"/v1/tokens/{digest}/status")
            assert status.status_code == 200, status.text
            assert status.json()["index"] == index
    audit = run_tmec("log", "audit", "--home", str(out / "ledger"))
    assert audit.exit_code == 0, audit.stdout + audit.stderr
