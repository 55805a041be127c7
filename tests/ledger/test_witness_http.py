"""Witnesses over HTTP (C2SP tlog-witness): `tmec witness serve` and the ledger's client.

A real witness process (its own key file and state file) follows a real ledger; the ledger
reaches it only over HTTP. Checked: cosignatures that verify, the 409 dance when the
ledger's guess of the witness's size is wrong, the refusals (unknown log 404, wrong log key
403, rollback 400, fork 422) raised as refusals, and an unreachable witness leaving the
checkpoint without its cosignature instead of failing it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.crypto import SigningKey
from ledger.errors import InconsistentCheckpointError, SignatureError, UnknownKeyError
from ledger.merkle import MerkleTree
from ledger.note import SIG_COSIGNATURE_V1, Note, Signer, sign_note
from ledger.service import Ledger
from ledger.store import MemoryStore
from ledger.witness_http import HttpWitness, handle_add_checkpoint
from tests.api.server import free_port
from tests.conftest import ROOT
from tests.ledger.world import FRENOS, FRENOS_KEY, LOG_KEY, LOG_SIGNER, ORIGIN, issue, now

WITNESS = Signer.from_seed("cbp", bytes([77]) * 32, SIG_COSIGNATURE_V1)


@pytest.fixture
def witness_url(tmp_path: Path) -> Iterator[str]:
    key = tmp_path / "cbp.key"
    key.write_text(WITNESS.skey + "\n", encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "witness", "serve", "--key", str(key), "--state",
         str(tmp_path / "cbp.json"), "--log", LOG_SIGNER.verifier.vkey, "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).text == "cbp\n":
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, "witness exited"
        assert time.monotonic() < deadline, "witness did not start"
        time.sleep(0.1)
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def _ledger(*witnesses: HttpWitness) -> Ledger:
    ledger = Ledger(MemoryStore(), LOG_KEY, origin=ORIGIN, now=now, witnesses=witnesses,
                    witness_timeout=10)
    ledger.register_key(FRENOS_KEY, FRENOS)
    return ledger


def test_the_ledger_is_cosigned_over_http_and_recovers_from_a_wrong_size_guess(
        witness_url: str) -> None:
    ledger = _ledger(HttpWitness("cbp", witness_url))
    first = ledger.publish_checkpoint()
    issue(ledger, FRENOS_KEY, FRENOS)
    second = ledger.publish_checkpoint()
    for text in (first, second):
        opened = open_checkpoint(text, [LOG_SIGNER.verifier], [WITNESS.verifier])
        assert [c.verifier.name for c in opened.cosignatures] == ["cbp"]
    # Another process (a fresh client) guesses 0: the witness says 409 and its size, and
    # the ledger answers once more with a proof from there.
    issue(ledger, FRENOS_KEY, FRENOS)
    ledger.witnesses = [HttpWitness("cbp", witness_url)]
    third = ledger.publish_checkpoint()
    opened = open_checkpoint(third, [LOG_SIGNER.verifier], [WITNESS.verifier])
    assert len(opened.cosignatures) == 1


def test_refusals_come_back_as_refusals(witness_url: str) -> None:
    client = HttpWitness("cbp", witness_url)
    ledger = _ledger()
    ledger.publish_checkpoint()
    size = ledger.size
    signed = ledger.latest_checkpoint()[1]  # signed by the log only (no witnesses)
    text = Note.parse(signed).text
    assert client.add_checkpoint(signed, 0, [], 0).startswith("— cbp ")
    other_log = Signer(ORIGIN, SigningKey(bytes([5]) * 32))
    with pytest.raises(SignatureError):
        client.add_checkpoint(sign_note(text, [other_log]), size, [], 0)
    stranger = Signer("other.example/log", LOG_KEY)
    stranger_text = text.replace(ORIGIN, "other.example/log", 1)
    with pytest.raises(UnknownKeyError):
        client.add_checkpoint(sign_note(stranger_text, [stranger]), 0, [], 0)
    forked = MerkleTree([bytes([9]) * 32] * (size + 1))
    fork_text = Checkpoint(ORIGIN, size + 1, forked.root()).body()
    proof = forked.consistency_proof(size)
    with pytest.raises(InconsistentCheckpointError):
        client.add_checkpoint(sign_note(fork_text, [LOG_SIGNER]), size, proof, 0)


def test_an_unreachable_witness_delays_its_cosignature_only() -> None:
    ledger = _ledger(HttpWitness("cbp", f"http://127.0.0.1:{free_port()}", timeout=1))
    signed = ledger.publish_checkpoint()
    assert "— cbp" not in signed
    assert ledger.latest_checkpoint()[0] == ledger.size


def test_the_handler_answers_statuses_as_the_spec_names_them(tmp_path: Path) -> None:
    from ledger.installation import FileWitness

    key = tmp_path / "cbp.key"
    key.write_text(WITNESS.skey + "\n", encoding="utf-8")
    witness = FileWitness(key, tmp_path / "cbp.json", LOG_SIGNER.verifier)
    ledger = _ledger()
    ledger.publish_checkpoint()
    signed = ledger.latest_checkpoint()[1]  # signed by the log only (no witnesses)
    body = f"old 0\n\n{signed}".encode()
    assert handle_add_checkpoint(witness, body, 1)[0] == 200
    status, media, answer = handle_add_checkpoint(witness, body, 2)
    assert (status, media, answer) == (409, "text/x.tlog.size", f"{ledger.size}\n")
    assert handle_add_checkpoint(witness, b"old 99\n\n" + signed.encode(), 3)[0] == 400
    assert handle_add_checkpoint(witness, b"nonsense", 3)[0] == 400
    assert handle_add_checkpoint(witness, b"x" * 70_000, 3)[0] == 400
