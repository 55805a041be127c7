"""The batch sequencer: group commit, durability before acknowledgement, isolation."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from ledger.crypto import SigningKey
from ledger.errors import KeyRevokedError, UnknownKeyError
from ledger.multikey import did_key, verification_method_id
from ledger.sequencer import Sequencer
from ledger.service import Ledger
from ledger.statements import sign_statement
from ledger.store import MemoryStore
from ledger.store.sql import SqlStore
from ledger.token import shipment_digest

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def digest_of(n: int) -> str:
    return (n.to_bytes(8, "big") * 4).hex()


def token_statement(key: SigningKey, n: int) -> dict:
    statement = {"v": 1, "type": "token", "time": "2026-11-22T12:00:00Z",
                 "tokenDigest": digest_of(n),
                 "issuer": did_key(key.public_key), "parents": [], "blanket": False,
                 "shipment": shipment_digest(f"SHP-{n}")}
    return sign_statement(statement, key, verification_method_id(key.public_key))


@pytest.fixture(params=["memory", "sqlite"])
def ledger(request, tmp_path):
    store = MemoryStore() if request.param == "memory" else SqlStore.open(
        f"sqlite:///{tmp_path}/ledger.db")
    ledger = Ledger(store, SigningKey(bytes(32)), origin="tmec.example/ledger",
                    now=lambda: NOW)
    # A token statement is logged only for a stored token: placeholders for every n used.
    store.put_blobs([(digest_of(n), b"{}") for n in range(4000)])
    yield ledger
    if isinstance(store, SqlStore):
        store.close()


def test_concurrent_submitters_get_dense_durable_indices_in_few_batches(ledger) -> None:
    key = SigningKey(bytes([5]) * 32)
    ledger.register_key(key, {"id": "p", "name": "Party", "country": "MX"})
    results: dict[int, int] = {}
    with Sequencer(ledger, max_batch=64, max_wait=0.05, checkpoint_every=None) as sequencer:
        def worker(offset: int) -> None:
            futures = [(n, sequencer.submit(token_statement(key, n)))
                       for n in range(offset, offset + 200)]
            for n, future in futures:
                results[n] = future.result(timeout=30)

        threads = [threading.Thread(target=worker, args=(k * 1000,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        batches = sequencer.batches
    assert sorted(results.values()) == list(range(1, 801))
    assert batches < 800 / 4  # grouped, not one commit per statement
    assert ledger.store.size() == 801
    # an acknowledged index is in the store: read every acknowledged entry back
    assert all(ledger.store.entries(i, i + 1)[0].kind == "token" for i in results.values())


def test_a_refused_statement_fails_alone(ledger) -> None:
    key = SigningKey(bytes([5]) * 32)
    stranger = SigningKey(bytes([6]) * 32)
    ledger.register_key(key, {"id": "p", "name": "Party", "country": "MX"})
    with Sequencer(ledger, max_batch=16, max_wait=0.2, checkpoint_every=None) as sequencer:
        good = [sequencer.submit(token_statement(key, n)) for n in range(5)]
        bad = sequencer.submit(token_statement(stranger, 99))
        more = [sequencer.submit(token_statement(key, n)) for n in range(5, 10)]
        with pytest.raises(UnknownKeyError):
            bad.result(timeout=30)
        indices = [f.result(timeout=30) for f in good + more]
    assert sorted(indices) == list(range(1, 11))


def test_checkpoint_published_after_batches(ledger) -> None:
    key = SigningKey(bytes([5]) * 32)
    ledger.register_key(key, {"id": "p", "name": "Party", "country": "MX"})
    with Sequencer(ledger, checkpoint_every=0.0) as sequencer:
        sequencer.submit(token_statement(key, 1)).result(timeout=30)
    latest = ledger.store.latest_checkpoint()
    assert latest is not None
    assert latest[0] == 2


def test_revoked_key_refused_through_the_sequencer(ledger) -> None:
    key = SigningKey(bytes([5]) * 32)
    kid, _ = ledger.register_key(key, {"id": "p", "name": "Party", "country": "MX"})
    ledger.revoke_key(kid, signer=None, reason="left the company")
    with Sequencer(ledger, checkpoint_every=None) as sequencer, pytest.raises(KeyRevokedError):
        sequencer.submit(token_statement(key, 1)).result(timeout=30)


class HangingWitness:
    """A witness that does not answer until released (a remote one that is down)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.asked = threading.Event()

    def latest_size(self, origin: str) -> int:
        return 0

    def add_checkpoint(self, signed_checkpoint, old_size, consistency_proof, now) -> str:
        self.asked.set()
        self.release.wait(timeout=30)
        raise TimeoutError("never answered")


def test_a_witness_that_does_not_answer_delays_no_append(ledger) -> None:
    """Entries are acknowledged while the checkpointer waits on a hanging witness; the
    checkpoint is recorded without its cosignature once the timeout passes."""
    witness = HangingWitness()
    ledger.witnesses = [witness]
    ledger.witness_timeout = 0.5
    key = SigningKey(bytes([5]) * 32)
    ledger.register_key(key, {"id": "p", "name": "Party", "country": "MX"})
    try:
        with Sequencer(ledger, max_batch=8, max_wait=0.01, checkpoint_every=0.0) as sequencer:
            first = sequencer.submit(token_statement(key, 1)).result(timeout=30)
            assert witness.asked.wait(timeout=30)  # the checkpointer is now stuck on it
            later = [sequencer.submit(token_statement(key, n)) for n in range(2, 40)]
            indices = [f.result(timeout=30) for f in later]
            assert not witness.release.is_set()  # all acknowledged while it hangs
        assert [first, *indices] == list(range(1, 40))
        latest = ledger.store.latest_checkpoint()
        assert latest is not None
        signatures = [line for line in latest[1].split("\n\n", 1)[1].splitlines() if line]
        assert len(signatures) == 1  # the log's own: the hanging witness's is missing
    finally:
        witness.release.set()


def test_tokens_and_their_disclosure_records_land_with_their_batch(ledger) -> None:
    """Registrations in flight go together (`Ledger.prepare_token` + `submit`): each
    statement is appended with its token document and disclosure records in the batch's
    one transaction, and the one the log refuses leaves neither behind."""
    key = SigningKey(bytes([5]) * 32)
    stranger = SigningKey(bytes([6]) * 32)
    ledger.register_key(key, {"id": "p", "name": "Party", "country": "MX"})
    documents = {n: b'{"token": %d}' % n for n in (7001, 7002, 7003)}  # no placeholders
    with Sequencer(ledger, max_batch=16, max_wait=0.2, checkpoint_every=None) as sequencer:
        futures = {n: sequencer.submit(
            token_statement(stranger if n == 7002 else key, n),
            blobs=[(digest_of(n), documents[n])],
            disclosures=[(digest_of(n), b"records %d" % n)]) for n in documents}
        with pytest.raises(UnknownKeyError):
            futures[7002].result(timeout=30)
        logged = {n: futures[n].result(timeout=30) for n in (7001, 7003)}
    assert sorted(logged.values()) == [1, 2]
    for n in (7001, 7003):
        assert ledger.store.get_blob(digest_of(n)) == documents[n]
        assert ledger.store.get_disclosures(digest_of(n)) == b"records %d" % n
    assert ledger.store.get_blob(digest_of(7002)) is None
    assert ledger.store.get_disclosures(digest_of(7002)) is None
