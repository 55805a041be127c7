"""A long log's audit, one range per process (`Ledger.audit`, issue 7: ≥ 20,000 entries/s).

An audit's work is Ed25519 verification and replaying each statement's checks, both
CPU-bound; in one process the replay holds the interpreter while the signatures run on
threads, so two cores give ~1.2 cores of audit. Here the log is cut into ranges on tile
boundaries (`audit_ranges`); this process audits the first while one child per other range
audits its own (``python -m ledger.audit_worker``), each serially over its own connection
to the same database, and the results are joined in log order.

A child is a fresh interpreter started from `sys.executable`, not a fork (a service
process has threads and open connections) and not `multiprocessing` (which re-imports the
caller's ``__main__``). It reads one JSON request on stdin (the store's URL and the log key
travel there, never on the command line other users can list) and prints one JSON result.
A child that fails to start or to finish has its range audited here instead, so the report
is complete whatever happened to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ledger.crypto import SigningKey
from ledger.service import Ledger, RangeAudit

#: The package root a child imports `ledger` from (this process's, whatever its sys.path).
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


def audit_in_processes(ledger: Ledger, url: str,
                       ranges: list[tuple[int, int]]) -> list[RangeAudit]:
    """`ranges` audited in parallel: the first here, each other in a child process."""
    children = [(span, _start_child(ledger, url, span)) for span in ranges[1:]]
    try:
        results = [ledger.audit_range(*ranges[0])]
        for span, child in children:
            results.append(_collect(ledger, span, child))
    finally:
        for _, child in children:
            if child is not None:
                if child.poll() is None:
                    child.kill()
                    child.wait()
                _close_pipes(child)
    return results


def _start_child(ledger: Ledger, url: str,
                 span: tuple[int, int]) -> subprocess.Popen[bytes] | None:
    request = json.dumps({"url": url, "origin": ledger.origin,
                          "seed": ledger.log_key.seed.hex(),
                          "start": span[0], "end": span[1]}).encode()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [_PACKAGE_ROOT, *filter(None, [env.get("PYTHONPATH")])])
    try:
        child = subprocess.Popen([sys.executable, "-m", "ledger.audit_worker"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, env=env)
    except OSError:
        return None
    assert child.stdin is not None
    try:
        child.stdin.write(request)
        child.stdin.close()
    except OSError:  # it exited before reading (a broken pipe): its range is done here
        child.kill()
        child.wait()
        _close_pipes(child)
        return None
    return child


def _close_pipes(child: subprocess.Popen[bytes]) -> None:
    for pipe in (child.stdin, child.stdout):
        if pipe is not None and not pipe.closed:
            with contextlib.suppress(OSError):  # a broken pipe's buffered write
                pipe.close()


def _collect(ledger: Ledger, span: tuple[int, int],
             child: subprocess.Popen[bytes] | None) -> RangeAudit:
    """The child's result, or the range audited here when the child gave none."""
    if child is not None:
        assert child.stdout is not None
        output = child.stdout.read()
        child.stdout.close()
        if child.wait() == 0:
            try:
                found: dict[str, Any] = json.loads(output)
                return RangeAudit(span[0], span[1], [str(p) for p in found["problems"]],
                                  int(found["seen"]),
                                  None if found["missing"] is None else int(found["missing"]))
            except (ValueError, KeyError, TypeError):
                pass
    return ledger.audit_range(*span)


def main() -> int:
    """Audit the range the request on stdin names; print the result as JSON."""
    from ledger.store.sql import SqlStore  # the child's edge: core modules load no SQL

    request = json.loads(sys.stdin.buffer.read())
    store = SqlStore(request["url"])
    try:
        ledger = Ledger(store, SigningKey(bytes.fromhex(request["seed"])),
                        origin=request["origin"])
        done = ledger.audit_range(int(request["start"]), int(request["end"]))
    finally:
        store.close()
    sys.stdout.write(json.dumps({"problems": done.problems, "seen": done.seen,
                                 "missing": done.missing}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
