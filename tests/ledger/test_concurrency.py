"""Many threads and processes on one ledger: no spurious error, one linear log.

Eight reader threads ask token status, proofs and bundles-to-be (status reads) in a loop
while four writer processes (`tests.ledger.concurrent_writer`), each with its own sequencer,
append to the same database. Afterwards: every acknowledged entry is in the log exactly
once at the index it was acknowledged with, indices are dense, and the audit (a replay
from scratch compared with the stored derived rows and tiles) is clean. Then a writer is
killed with SIGKILL in the middle of its batches: nothing it acknowledged is lost, another
process appends after it, and the audit is still clean.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ledger import merkle
from ledger.service import Ledger
from ledger.store.sql import SqlStore
from tests.ledger.world import LOG_KEY, ORIGIN, now

ROOT = Path(__file__).resolve().parents[2]


def writer(url: str, seed: int, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.ledger.concurrent_writer", url, str(seed), str(count)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})


def acknowledged(output: str) -> dict[int, str]:
    acks: dict[int, str] = {}
    for line in output.splitlines():
        if line.startswith("ack "):
            _, index, digest = line.split()
            assert int(index) not in acks, f"index {index} acknowledged twice"
            acks[int(index)] = digest
    return acks


def check_log(ledger: Ledger, acks: dict[int, str]) -> None:
    size = ledger.size
    entries = ledger.store.entries(0, size)
    assert [e.index for e in entries] == list(range(size))  # one dense, linear log
    for index, digest in acks.items():
        assert entries[index].token_digest == digest, index
    digests = [e.token_digest for e in entries if e.kind == "token"]
    assert len(digests) == len(set(digests))  # each entry once
    report = ledger.audit()
    assert report.ok, report.problems[:5]


class Readers:
    """Reader threads over one shared `Ledger`, recording any error they meet."""

    def __init__(self, ledger: Ledger, count: int = 8) -> None:
        self.ledger = ledger
        self.errors: list[BaseException] = []
        self.reads = 0
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(count)]

    def run(self, seed: int) -> None:
        rng = random.Random(seed)
        ledger = self.ledger
        while not self.stop.is_set():
            try:
                latest = ledger.store.latest_checkpoint()
                size = ledger.size
                if size:
                    entry = ledger.entry(rng.randrange(size))
                    if entry.kind == "token" and entry.token_digest:
                        ledger.token_status(entry.token_digest)
                if latest is not None and latest[0]:
                    tree_size = latest[0]
                    index = rng.randrange(tree_size)
                    root = ledger.root(tree_size)
                    proof = ledger.inclusion_proof(index, tree_size)
                    (leaf,) = ledger.store.leaf_hashes(index, index + 1)
                    merkle.verify_inclusion(leaf, index, tree_size, proof, root)
                    ledger.keys().keys  # noqa: B018 - a listing, as tmec keys list does
                self.reads += 1
            except BaseException as exc:  # recorded for the test thread
                self.errors.append(exc)
                return

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


@pytest.mark.parametrize("sql_url", ["postgresql", "sqlite"], indirect=True)
def test_readers_and_writer_processes_share_one_ledger(sql_url: str) -> None:
    SqlStore.open(sql_url).close()  # the schema, once
    with SqlStore(sql_url) as store:
        ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        with Readers(ledger) as readers:
            processes = [writer(sql_url, seed, 150) for seed in (21, 22, 23, 24)]
            outputs = [p.communicate(timeout=600) for p in processes]
        for process, (_, err) in zip(processes, outputs, strict=True):
            assert process.returncode == 0, err[-2000:]
        assert readers.errors == [], readers.errors[:3]
        assert readers.reads > 0
        acks: dict[int, str] = {}
        for out, _ in outputs:
            mine = acknowledged(out)
            assert len(mine) == 150
            assert not set(mine) & set(acks)  # two processes never got the same index
            acks.update(mine)
        assert ledger.size == 4 + 600  # four keys and every token
        check_log(ledger, acks)


@pytest.mark.parametrize("sql_url", ["postgresql", "sqlite"], indirect=True)
def test_a_killed_sequencer_loses_nothing_acknowledged_and_another_takes_over(
        sql_url: str) -> None:
    SqlStore.open(sql_url).close()
    victim = writer(sql_url, 31, 5_000)
    assert victim.stdout is not None
    acks: dict[int, str] = {}
    deadline = time.monotonic() + 120
    lines: list[str] = []
    while len(lines) < 200 and time.monotonic() < deadline:  # mid-stream: batches in flight
        line = victim.stdout.readline()
        if not line:
            break
        lines.append(line)
    victim.send_signal(signal.SIGKILL)
    rest, _ = victim.communicate(timeout=60)
    acks.update(acknowledged("".join(lines) + rest))
    assert len(acks) >= 200
    survivor = writer(sql_url, 32, 100)
    out, err = survivor.communicate(timeout=600)
    assert survivor.returncode == 0, err[-2000:]
    taken_over = acknowledged(out)
    assert len(taken_over) == 100
    assert min(taken_over) > max(acks)  # appended after everything the victim acknowledged
    acks.update(taken_over)
    with SqlStore(sql_url) as store:
        check_log(Ledger(store, LOG_KEY, origin=ORIGIN, now=now), acks)
