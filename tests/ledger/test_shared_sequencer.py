"""The server's one sequencer, shared by worker processes over a Unix socket.

The protocol's guarantees, each checked against a real SQLite ledger: many submitters in
several threads get dense, distinct, durable indices; a statement the ledger refuses fails
with the ledger's own error class and code on the submitting side, and nobody else's; a
sequencer that stops with a statement in flight fails it with `StoreUnavailableError`
(never a made-up index), and the client reconnects to its replacement; a client with the
wrong key is refused.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from multiprocessing.connection import Listener
from pathlib import Path

import pytest

from ledger.crypto import SigningKey
from ledger.errors import StoreUnavailableError, UnknownKeyError
from ledger.sequencer import Sequencer
from ledger.service import Ledger
from ledger.shared_sequencer import SequencerAddress, SequencerClient, SequencerServer
from ledger.store.sql import SqlStore
from tests.ledger.test_sequencer import NOW, digest_of, token_statement

PARTY = SigningKey(bytes([5]) * 32)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    store = SqlStore.open(f"sqlite:///{tmp_path}/ledger.db")
    ledger = Ledger(store, SigningKey(bytes(32)), origin="tmec.example/ledger",
                    now=lambda: NOW)
    store.put_blobs([(digest_of(n), b"{}") for n in range(400)])
    ledger.register_key(PARTY, {"id": "p", "name": "Party", "country": "MX"})
    yield ledger
    store.close()


@pytest.fixture
def address() -> Iterator[SequencerAddress]:
    # A short path: Unix socket paths are limited to 107 bytes, pytest's tmp_path is long.
    with tempfile.TemporaryDirectory(prefix="tmec-test-") as directory:
        yield SequencerAddress(os.path.join(directory, "s"), os.urandom(32))


def serve(ledger: Ledger, address: SequencerAddress) -> SequencerServer:
    return SequencerServer(Sequencer(ledger, max_wait=0.0, checkpoint_every=None), address)


def test_submitters_in_many_threads_get_dense_durable_indices(
        ledger: Ledger, address: SequencerAddress) -> None:
    server = serve(ledger, address)
    client = SequencerClient(address)
    results: dict[int, int] = {}

    def submit(offset: int) -> None:
        futures = [(n, client.submit(token_statement(PARTY, n)))
                   for n in range(offset, offset + 40)]
        for n, future in futures:
            results[n] = future.result(timeout=30)

    threads = [threading.Thread(target=submit, args=(k * 40,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    server.close()
    assert sorted(results.values()) == list(range(1, 241))  # entry 0 is the party's key
    for n, index in results.items():
        assert ledger.entry(index).token_digest == digest_of(n)
    assert server.sequencer.batches < 240  # grouped: fewer batches than statements


def test_a_refused_statement_fails_with_the_ledgers_error_and_alone(
        ledger: Ledger, address: SequencerAddress) -> None:
    server = serve(ledger, address)
    client = SequencerClient(address)
    stranger = SigningKey(bytes([6]) * 32)  # never registered
    good = client.submit(token_statement(PARTY, 1))
    refused = client.submit(token_statement(stranger, 2))
    also_good = client.submit(token_statement(PARTY, 3))
    with pytest.raises(UnknownKeyError) as caught:
        refused.result(timeout=30)
    assert caught.value.code == "ledger.unknown_key"
    assert caught.value.key_id  # the error's own fields cross the socket too
    assert {good.result(timeout=30), also_good.result(timeout=30)} == {1, 2}
    client.close()
    server.close()
    assert ledger.size == 3


def test_a_sequencer_gone_with_a_statement_in_flight_fails_it_and_is_replaced(
        ledger: Ledger, address: SequencerAddress) -> None:
    # A stand-in that takes the statement and dies without answering, as a killed
    # sequencer process would.
    listener = Listener(address.path, family="AF_UNIX", authkey=address.authkey)
    client = SequencerClient(address, connect_timeout=10)
    taken = threading.Event()

    def take_and_die() -> None:
        connection = listener.accept()
        connection.recv()
        taken.set()
        connection.close()
        listener.close()

    thread = threading.Thread(target=take_and_die)
    thread.start()
    in_flight = client.submit(token_statement(PARTY, 1))
    with pytest.raises(StoreUnavailableError, match="may or may not have been logged"):
        in_flight.result(timeout=30)
    thread.join()
    assert taken.is_set()
    assert ledger.size == 1
    server = serve(ledger, address)  # the replacement, at the same address
    assert client.submit(token_statement(PARTY, 1)).result(timeout=30) == 1
    client.close()
    server.close()


def test_no_sequencer_is_a_clear_error_and_nothing_is_sent(address: SequencerAddress
                                                           ) -> None:
    client = SequencerClient(address, connect_timeout=0.2)
    with pytest.raises(StoreUnavailableError, match=r"does not answer.*nothing was logged"):
        client.submit(token_statement(PARTY, 1))


def test_a_client_with_the_wrong_key_is_refused(ledger: Ledger,
                                                address: SequencerAddress) -> None:
    server = serve(ledger, address)
    intruder = SequencerClient(SequencerAddress(address.path, os.urandom(32)),
                               connect_timeout=0.5)
    with pytest.raises(StoreUnavailableError, match="refused"):
        intruder.submit(token_statement(PARTY, 1))
    client = SequencerClient(address)  # the server goes on serving its own
    assert client.submit(token_statement(PARTY, 1)).result(timeout=30) == 1
    client.close()
    server.close()
    assert ledger.size == 2


def test_the_address_travels_through_the_environment(address: SequencerAddress) -> None:
    assert SequencerAddress.from_env(address.to_env()) == address
    assert SequencerAddress.from_env({}) is None
    with pytest.raises(StoreUnavailableError, match="TMEC_SEQUENCER_AUTHKEY"):
        SequencerAddress.from_env({"TMEC_SEQUENCER_SOCKET": address.path,
                                   "TMEC_SEQUENCER_AUTHKEY": "00ff"})
