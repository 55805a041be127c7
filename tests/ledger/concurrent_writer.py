"""A writer process for the concurrency tests: its own party, a sequencer, acknowledgements.

    python -m tests.ledger.concurrent_writer URL SEED COUNT

Opens the ledger at URL (already migrated), registers the key of party ``writer-SEED``
(or finds it registered by an earlier run of the same seed), then submits COUNT token
statements through a `Sequencer` from four threads and prints ``ack INDEX DIGEST`` for
each one *after* its future resolved, i.e. once it is durable. A process killed with
SIGKILL therefore never printed an entry that is not in the log.
"""

from __future__ import annotations

import contextlib
import sys
import threading

from ledger.crypto import SigningKey, sha256
from ledger.errors import ConflictError
from ledger.multikey import did_key, verification_method_id
from ledger.sequencer import Sequencer
from ledger.service import Ledger
from ledger.statements import sign_statement
from ledger.store.sql import SqlStore
from ledger.token import shipment_digest
from tests.ledger.world import LOG_KEY, ORIGIN, now


def main(url: str, seed: int, count: int) -> None:
    store = SqlStore(url)
    ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
    key = SigningKey(bytes([seed]) * 32)
    kid = verification_method_id(key.public_key)
    party = {"id": f"writer-{seed}", "name": f"Writer {seed}", "country": "MX"}
    with contextlib.suppress(ConflictError):  # a restarted writer: its key is logged
        ledger.register_key(key, party)
    lock = threading.Lock()
    start = ledger.size * 1000 + seed * 10_000_000  # fresh digests on every run

    def statement(n: int) -> dict[str, object]:
        blob = b'{"writer":%d,"n":%d}' % (seed, start + n)
        digest = sha256(blob).hex()
        store.put_blob(digest, blob)
        return sign_statement(
            {"v": 1, "type": "token", "time": "2026-11-22T12:00:00Z", "tokenDigest": digest,
             "issuer": did_key(key.public_key), "parents": [], "blanket": False,
             "shipment": shipment_digest(f"W{seed}-{start + n}")}, key, kid)

    with Sequencer(ledger, max_batch=32, max_wait=0.005, checkpoint_every=0.2) as sequencer:
        def submit(offset: int) -> None:
            for n in range(offset, count, 4):
                signed = statement(n)
                index = sequencer.submit(signed).result(timeout=120)
                with lock:
                    sys.stdout.write(f"ack {index} {signed['tokenDigest']}\n")
                    sys.stdout.flush()

        threads = [threading.Thread(target=submit, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
