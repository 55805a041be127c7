"""`ledger.service.Ledger`: who may append what, on every store.

The authorisation rules of the log (ledger design s.4-6) run through `Ledger` on the
in-memory store, on SQLite (a file under tmp_path) and on a real PostgreSQL (the
`postgres_url` fixture of tests/ledger/conftest.py): keys are added self-signed and rotated
by the old key with possession of the new; a retired key signs nothing new while what it
signed before stays valid; "compromised since i" voids what was logged from i on; tokens
are revoked or superseded by their issuer's party or the registrar; supplier tokens come
first; a batch is all or nothing. Then checkpoints and witnesses, the audit of a database
edited behind the ledger's back, and two `Ledger` objects sharing one database.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from ledger.canonical import canonicalize
from ledger.checkpoint import Checkpoint
from ledger.errors import (
    ConflictError,
    InconsistentCheckpointError,
    InputError,
    KeyRevokedError,
    NotFoundError,
    SignatureError,
    TamperedError,
    UnknownKeyError,
)
from ledger.merkle import leaf_hash, verify_consistency
from ledger.multikey import did_key
from ledger.service import IssueResult, Ledger
from ledger.statements import registrar_kid, sign_statement
from ledger.store import LogStore, MemoryStore
from ledger.store.sql import SqlStore
from ledger.token import (
    shipment_digest,
)
from ledger.witness import Witness
from tests.ledger.world import (
    COSIGNERS,
    FRENOS,
    FRENOS_KEY,
    HURON,
    HURON_KEY,
    LAKESHORE,
    LAKESHORE_KEY,
    LOG_KEY,
    LOG_SIGNER,
    ORIGIN,
    issue,
    key,
    key_statement,
    kid_of,
    now,
    rotation,
    unchanged,
)

# ---------------------------------------------------------------------------------------
# Keys: add


def test_a_new_key_is_registered_self_signed(ledger: Ledger) -> None:
    kid, index = ledger.register_key(FRENOS_KEY, FRENOS)
    assert (kid, index) == (kid_of(FRENOS_KEY), 0)
    record = ledger.keys().get(kid)
    assert record.party_id == "frenos-bajio"
    assert record.status_at(1) == "valid"
    assert record.status_at(0) == "unknown"  # nothing at or before its own entry


def test_a_key_add_signed_by_another_key_is_refused(ledger: Ledger) -> None:
    # Claims to be self-signed (signature kid = the new key) but another key signed it:
    # no proof of possession.
    statement = sign_statement(key_statement(FRENOS_KEY, FRENOS), HURON_KEY,
                               kid_of(FRENOS_KEY))
    with unchanged(ledger), pytest.raises(SignatureError):
        ledger.append([statement])


def test_a_key_add_signed_as_another_key_is_refused(ledger: Ledger) -> None:
    statement = sign_statement(key_statement(FRENOS_KEY, FRENOS), HURON_KEY, kid_of(HURON_KEY))
    with unchanged(ledger), pytest.raises(InputError, match="signs its own statement"):
        ledger.append([statement])


def test_a_key_registered_twice_is_a_conflict(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    with unchanged(ledger), pytest.raises(ConflictError):
        ledger.register_key(FRENOS_KEY, FRENOS)


def test_a_token_by_an_unregistered_key_is_refused(ledger: Ledger) -> None:
    with unchanged(ledger), pytest.raises(UnknownKeyError):
        issue(ledger, FRENOS_KEY, FRENOS)


# ---------------------------------------------------------------------------------------
# Keys: rotate


def test_a_rotation_is_signed_by_the_old_key_with_possession_of_the_new(
        ledger: Ledger) -> None:
    old_kid, _ = ledger.register_key(FRENOS_KEY, FRENOS)
    new_key = key(21)
    new_kid, index = ledger.rotate_key(FRENOS_KEY, new_key)
    keys = ledger.keys()
    assert keys.get(new_kid).party_id == "frenos-bajio"
    assert keys.get(old_kid).retired_at == index
    assert keys.get(old_kid).status_at(index + 1) == "revoked"
    assert issue(ledger, new_key, FRENOS).index == index + 1


def test_a_rotation_without_possession_of_the_new_key_is_refused(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    statement = sign_statement(rotation(FRENOS_KEY, key(21), FRENOS), FRENOS_KEY,
                               kid_of(FRENOS_KEY), possession=key(22))
    with unchanged(ledger), pytest.raises(SignatureError):
        ledger.append([statement])


def test_a_rotation_not_signed_by_the_old_key_is_refused(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    new_key = key(21)
    forged = sign_statement(rotation(FRENOS_KEY, new_key, FRENOS), new_key,
                            kid_of(FRENOS_KEY), possession=new_key)
    with unchanged(ledger), pytest.raises(SignatureError):
        ledger.append([forged])
    signed_as_new = sign_statement(rotation(FRENOS_KEY, new_key, FRENOS), new_key,
                                   kid_of(new_key), possession=new_key)
    with unchanged(ledger), pytest.raises(InputError, match="signed by the key it replaces"):
        ledger.append([signed_as_new])


def test_a_key_cannot_be_rotated_to_another_party(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    statement = sign_statement(rotation(FRENOS_KEY, key(21), HURON), FRENOS_KEY,
                               kid_of(FRENOS_KEY), possession=key(21))
    with unchanged(ledger), pytest.raises(InputError, match="same party"):
        ledger.append([statement])


def test_a_rotated_key_cannot_be_rotated_again(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    ledger.rotate_key(FRENOS_KEY, key(21))
    with unchanged(ledger), pytest.raises(KeyRevokedError):
        ledger.rotate_key(FRENOS_KEY, key(22))


def test_a_rotated_key_signs_nothing_new_but_its_earlier_tokens_stay_valid(
        ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    earlier = issue(ledger, FRENOS_KEY, FRENOS)
    new_key = key(21)
    ledger.rotate_key(FRENOS_KEY, new_key)

    with unchanged(ledger), pytest.raises(KeyRevokedError):
        issue(ledger, FRENOS_KEY, FRENOS)
    with unchanged(ledger), pytest.raises(KeyRevokedError):
        ledger.revoke_token(earlier.digest, signer=FRENOS_KEY, reason="old key")
    status = ledger.token_status(earlier.digest)
    assert status == {"token": "active", "key": "valid", "kid": kid_of(FRENOS_KEY),
                      "index": earlier.index, "evidence": "active"}
    # The party's new key acts for it: it may revoke the token the old key signed.
    ledger.revoke_token(earlier.digest, signer=new_key, reason="replaced")
    assert ledger.token_status(earlier.digest)["token"] == "revoked"


# ---------------------------------------------------------------------------------------
# Keys: revoke, compromised since


def test_a_revoked_key_signs_nothing_new_but_its_earlier_tokens_stay_valid(
        ledger: Ledger) -> None:
    kid, _ = ledger.register_key(FRENOS_KEY, FRENOS)
    earlier = issue(ledger, FRENOS_KEY, FRENOS)
    ledger.revoke_key(kid, signer=FRENOS_KEY, reason="retired")
    with unchanged(ledger), pytest.raises(KeyRevokedError):
        issue(ledger, FRENOS_KEY, FRENOS)
    assert ledger.token_status(earlier.digest)["key"] == "valid"


def test_compromised_since_voids_tokens_logged_at_or_after_the_index(ledger: Ledger) -> None:
    kid, _ = ledger.register_key(FRENOS_KEY, FRENOS)
    before = issue(ledger, FRENOS_KEY, FRENOS)
    at = issue(ledger, FRENOS_KEY, FRENOS)
    after = issue(ledger, FRENOS_KEY, FRENOS)
    ledger.revoke_key(kid, signer=None, reason="stolen", compromised_since=at.index)

    assert ledger.token_status(before.digest)["key"] == "valid"
    assert ledger.token_status(at.digest)["key"] == "compromised"
    assert ledger.token_status(after.digest)["key"] == "compromised"
    with unchanged(ledger), pytest.raises(KeyRevokedError):
        issue(ledger, FRENOS_KEY, FRENOS)


def test_an_earlier_compromise_index_wins_over_a_later_one(ledger: Ledger) -> None:
    kid, _ = ledger.register_key(FRENOS_KEY, FRENOS)
    first = issue(ledger, FRENOS_KEY, FRENOS)
    second = issue(ledger, FRENOS_KEY, FRENOS)
    ledger.revoke_key(kid, signer=None, reason="stolen", compromised_since=second.index)
    ledger.revoke_key(kid, signer=None, reason="stolen earlier", compromised_since=first.index)
    assert ledger.token_status(first.digest)["key"] == "compromised"
    ledger.revoke_key(kid, signer=None, reason="late report", compromised_since=second.index)
    assert ledger.token_status(first.digest)["key"] == "compromised"


def test_compromised_since_cannot_be_after_the_revocation(ledger: Ledger) -> None:
    kid, _ = ledger.register_key(FRENOS_KEY, FRENOS)
    with unchanged(ledger), pytest.raises(InputError, match="after this revocation"):
        ledger.revoke_key(kid, signer=None, reason="x", compromised_since=ledger.size + 5)


def test_a_key_cannot_be_revoked_by_another_party(ledger: Ledger) -> None:
    kid, _ = ledger.register_key(FRENOS_KEY, FRENOS)
    ledger.register_key(HURON_KEY, HURON)
    with unchanged(ledger), pytest.raises(SignatureError, match="does not belong"):
        ledger.revoke_key(kid, signer=HURON_KEY, reason="hostile")


def test_an_unknown_key_cannot_be_revoked(ledger: Ledger) -> None:
    with unchanged(ledger), pytest.raises(UnknownKeyError):
        ledger.revoke_key(kid_of(FRENOS_KEY), signer=None, reason="x")


# ---------------------------------------------------------------------------------------
# Tokens: revoke, supersede, parents


@pytest.mark.parametrize("revoker", ["issuer", "registrar"])
def test_a_token_is_revoked_by_its_issuer_or_the_registrar(ledger: Ledger,
                                                           revoker: str) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    token = issue(ledger, FRENOS_KEY, FRENOS)
    index = ledger.revoke_token(token.digest, signer=FRENOS_KEY if revoker == "issuer"
                                else None, reason="recall")
    assert ledger.token_status(token.digest) == {
        "token": "revoked", "revocation": index, "key": "valid", "kid": kid_of(FRENOS_KEY),
        "index": token.index, "evidence": "active"}


def test_a_token_cannot_be_revoked_by_another_party(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    ledger.register_key(HURON_KEY, HURON)
    token = issue(ledger, FRENOS_KEY, FRENOS)
    with unchanged(ledger), pytest.raises(SignatureError, match="does not belong"):
        ledger.revoke_token(token.digest, signer=HURON_KEY, reason="competitor")
    assert ledger.token_status(token.digest)["token"] == "active"


def test_a_token_is_revoked_once_and_only_if_logged(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    token = issue(ledger, FRENOS_KEY, FRENOS)
    ledger.revoke_token(token.digest, signer=FRENOS_KEY, reason="recall")
    with unchanged(ledger), pytest.raises(ConflictError):
        ledger.revoke_token(token.digest, signer=None, reason="again")
    with unchanged(ledger), pytest.raises(NotFoundError):
        ledger.revoke_token("ab" * 32, signer=None, reason="unknown")


def test_a_token_is_superseded_by_its_issuer_with_a_logged_replacement(
        ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    ledger.register_key(HURON_KEY, HURON)
    old = issue(ledger, FRENOS_KEY, FRENOS)
    new = issue(ledger, FRENOS_KEY, FRENOS)

    with unchanged(ledger), pytest.raises(SignatureError):
        ledger.supersede_token(old.digest, new.digest, signer=HURON_KEY, reason="x")
    with unchanged(ledger), pytest.raises(NotFoundError, match="new token"):
        ledger.supersede_token(old.digest, "cd" * 32, signer=FRENOS_KEY, reason="x")
    with unchanged(ledger), pytest.raises(InputError, match="itself"):
        ledger.supersede_token(old.digest, old.digest, signer=FRENOS_KEY, reason="x")

    index = ledger.supersede_token(old.digest, new.digest, signer=FRENOS_KEY,
                                   reason="invoice corrected")
    status = ledger.token_status(old.digest)
    assert (status["token"], status["supersededBy"], status["revocation"]) == (
        "superseded", new.digest, index)
    with unchanged(ledger), pytest.raises(ConflictError):
        ledger.supersede_token(old.digest, new.digest, signer=FRENOS_KEY, reason="again")
    assert ledger.token_status(new.digest)["token"] == "active"


def test_the_registrar_revokes_but_cannot_supersede_a_token(ledger: Ledger) -> None:
    # A correction is the issuer's claim of origin; the registrar makes none.
    ledger.register_key(FRENOS_KEY, FRENOS)
    old, new = issue(ledger, FRENOS_KEY, FRENOS), issue(ledger, FRENOS_KEY, FRENOS)
    statement = {"v": 1, "type": "supersede", "time": "2026-11-22T12:00:00Z",
                 "tokenDigest": old.digest, "newTokenDigest": new.digest, "reason": "ruling"}
    with unchanged(ledger), pytest.raises(SignatureError, match="registrar"):
        ledger.append([sign_statement(statement, LOG_KEY, registrar_kid(ORIGIN))])
    assert ledger.token_status(old.digest)["token"] == "active"


def test_a_supplier_token_must_be_logged_before_the_token_citing_it(ledger: Ledger) -> None:
    ledger.register_key(LAKESHORE_KEY, LAKESHORE)
    ledger.register_key(HURON_KEY, HURON)
    with unchanged(ledger), pytest.raises(NotFoundError, match="supplier token"):
        issue(ledger, HURON_KEY, HURON, name="cylinder-head-us", cites="ef" * 32)

    supplier = issue(ledger, LAKESHORE_KEY, LAKESHORE, name="lash-adjusters-us")
    head = issue(ledger, HURON_KEY, HURON, name="cylinder-head-us", cites=supplier.digest)
    assert head.index > supplier.index
    statement = json.loads(ledger.entry(head.index).body)
    assert statement["parents"] == [supplier.digest]


def test_a_token_statement_is_logged_only_for_a_stored_token(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    statement = {"v": 1, "type": "token", "time": "2026-11-22T12:00:00Z",
                 "tokenDigest": "34" * 32, "issuer": did_key(FRENOS_KEY.public_key),
                 "parents": [], "shipment": shipment_digest("SHP-1")}
    with unchanged(ledger), pytest.raises(NotFoundError, match="not stored"):
        ledger.append([sign_statement(statement, FRENOS_KEY, kid_of(FRENOS_KEY))])


def test_a_token_is_logged_once(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    token = issue(ledger, FRENOS_KEY, FRENOS)
    again = json.loads(ledger.entry(token.index).body)
    with unchanged(ledger), pytest.raises(ConflictError):
        ledger.append([again])


def test_a_token_statement_must_name_its_signer_as_issuer(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    ledger.register_key(HURON_KEY, HURON)
    statement = {"v": 1, "type": "token", "time": "2026-11-22T12:00:00Z",
                 "tokenDigest": "12" * 32, "issuer": did_key(HURON_KEY.public_key),
                 "parents": [], "shipment": shipment_digest("SHP-1")}
    ledger.store.put_blob("12" * 32, b"{}")
    with unchanged(ledger), pytest.raises(InputError, match="issuer"):
        ledger.append([sign_statement(statement, FRENOS_KEY, kid_of(FRENOS_KEY))])


# ---------------------------------------------------------------------------------------
# Batches


def test_a_batch_with_one_bad_statement_writes_nothing(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    good = sign_statement(key_statement(HURON_KEY, HURON), HURON_KEY, kid_of(HURON_KEY))
    bad = sign_statement(key_statement(LAKESHORE_KEY, LAKESHORE), FRENOS_KEY,
                         kid_of(LAKESHORE_KEY))
    with unchanged(ledger), pytest.raises(SignatureError):
        ledger.append([good, bad])
    assert HURON["id"] not in {r.party_id for r in ledger.keys().keys.values()}

    # The ledger still works, and the good statement takes the index the batch would have.
    assert ledger.append([good]) == [1]
    assert issue(ledger, HURON_KEY, HURON).index == 2
    assert ledger.audit().ok


def test_a_batch_is_checked_in_order_against_its_own_earlier_statements(
        ledger: Ledger) -> None:
    # A key and a revocation of that key in one batch: the second sees the first.
    add = sign_statement(key_statement(FRENOS_KEY, FRENOS), FRENOS_KEY, kid_of(FRENOS_KEY))
    revoke = sign_statement({"v": 1, "type": "revoke", "target": "key",
                             "time": "2026-11-22T12:00:00Z", "kid": kid_of(FRENOS_KEY),
                             "reason": "test"}, FRENOS_KEY, kid_of(FRENOS_KEY))
    assert ledger.append([add, revoke]) == [0, 1]
    assert ledger.keys().get(kid_of(FRENOS_KEY)).retired_at == 1
    # And in reverse order the revocation of an unknown key spoils the whole batch.
    with unchanged(ledger), pytest.raises(UnknownKeyError):
        ledger.append([
            sign_statement({**json.loads(canonicalize(revoke)), "kid": kid_of(HURON_KEY)},
                           HURON_KEY, kid_of(HURON_KEY)),
            sign_statement(key_statement(HURON_KEY, HURON), HURON_KEY, kid_of(HURON_KEY)),
        ])


def test_a_failed_issue_leaves_the_ledger_usable(ledger: Ledger) -> None:
    ledger.register_key(HURON_KEY, HURON)
    with unchanged(ledger), pytest.raises(NotFoundError):
        issue(ledger, HURON_KEY, HURON, name="cylinder-head-us", cites="ef" * 32)
    token = issue(ledger, HURON_KEY, HURON)
    assert token.index == 1
    assert ledger.token(token.digest) == token.token


# ---------------------------------------------------------------------------------------
# Status statements


def test_a_status_statement_records_the_token_and_key_state_up_to_itself(
        ledger: Ledger) -> None:
    kid, _ = ledger.register_key(FRENOS_KEY, FRENOS)
    token = issue(ledger, FRENOS_KEY, FRENOS)
    replacement = issue(ledger, FRENOS_KEY, FRENOS)

    def status() -> dict[str, Any]:
        index = ledger.status_statement(token.digest)
        statement = json.loads(ledger.entry(index).body)
        assert statement["coversSize"] == index
        assert statement["signature"]["kid"] == registrar_kid(ORIGIN)
        return statement

    assert (status()["token"], status()["key"]) == ("active", "valid")
    ledger.supersede_token(token.digest, replacement.digest, signer=FRENOS_KEY, reason="fix")
    superseded = status()
    assert (superseded["token"], superseded["supersededBy"]) == ("superseded",
                                                                 replacement.digest)
    ledger.revoke_key(kid, signer=None, reason="stolen", compromised_since=token.index)
    assert status()["key"] == "compromised"


def test_only_the_registrar_signs_status_statements(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    token = issue(ledger, FRENOS_KEY, FRENOS)
    statement = {"v": 1, "type": "status", "time": "2026-11-22T12:00:00Z",
                 "tokenDigest": token.digest, "coversSize": ledger.size, "token": "active",
                 "key": "valid", "evidence": "active"}
    with unchanged(ledger), pytest.raises(SignatureError):
        ledger.append([sign_statement(statement, FRENOS_KEY, registrar_kid(ORIGIN))])
    with unchanged(ledger), pytest.raises(InputError, match="registrar"):
        ledger.append([sign_statement(statement, FRENOS_KEY, kid_of(FRENOS_KEY))])


# ---------------------------------------------------------------------------------------
# Checkpoints and witnesses


def witnessed(store: LogStore, witnesses: list[Witness]) -> Ledger:
    return Ledger(store, LOG_KEY, origin=ORIGIN, now=now, witnesses=witnesses)


def parse_checkpoint(signed: str) -> Checkpoint:
    return Checkpoint.parse(signed.split("\n\n", 1)[0] + "\n")


def test_checkpoints_are_consistent_across_publications(
        open_store: Callable[[], LogStore]) -> None:
    witnesses = [Witness(c, [LOG_SIGNER.verifier]) for c in COSIGNERS]
    ledger = witnessed(open_store(), witnesses)
    ledger.register_key(FRENOS_KEY, FRENOS)
    first = parse_checkpoint(ledger.publish_checkpoint())
    issue(ledger, FRENOS_KEY, FRENOS)
    issue(ledger, FRENOS_KEY, FRENOS)
    signed = ledger.publish_checkpoint()
    second = parse_checkpoint(signed)

    assert (first.size, second.size) == (1, 3)
    verify_consistency(first.size, second.size,
                       ledger.consistency_proof(first.size, second.size),
                       first.root_hash, second.root_hash)
    assert all(w.latest_size(ORIGIN) == 3 for w in witnesses)
    assert signed.count("\u2014 ") == 1 + len(COSIGNERS)  # the log and three witnesses
    assert ledger.store.latest_checkpoint() == (3, signed)
    assert ledger.latest_checkpoint() == (3, signed)


def test_witnesses_refuse_a_rolled_back_log(open_store: Callable[[], LogStore]) -> None:
    witnesses = [Witness(c, [LOG_SIGNER.verifier]) for c in COSIGNERS]
    ledger = witnessed(open_store(), witnesses)
    ledger.register_key(FRENOS_KEY, FRENOS)
    issue(ledger, FRENOS_KEY, FRENOS)
    ledger.publish_checkpoint()

    restored = witnessed(MemoryStore(), witnesses)  # an old backup: one entry
    restored.register_key(FRENOS_KEY, FRENOS)
    with pytest.raises(ConflictError, match="rolled back"):
        restored.publish_checkpoint()


def test_witnesses_refuse_a_forked_log_of_the_same_size(
        open_store: Callable[[], LogStore]) -> None:
    witnesses = [Witness(c, [LOG_SIGNER.verifier]) for c in COSIGNERS]
    ledger = witnessed(open_store(), witnesses)
    ledger.register_key(FRENOS_KEY, FRENOS)
    ledger.publish_checkpoint()

    fork = witnessed(MemoryStore(), witnesses)
    fork.register_key(HURON_KEY, HURON)  # same size, other history
    with pytest.raises(InconsistentCheckpointError):
        fork.publish_checkpoint()
    assert all(w.latest_size(ORIGIN) == 1 for w in witnesses)


class Overtaking:
    """A witness another publisher reaches first: on the first request it is given, the
    log gets one more entry and a checkpoint of it is cosigned before this one."""

    def __init__(self, inner: Witness, competitor: Callable[[], None]) -> None:
        self.inner, self.competitor, self.overtaken = inner, competitor, False

    def latest_size(self, origin: str) -> int:
        return self.inner.latest_size(origin)

    def add_checkpoint(self, signed: str, old: int, proof: list[bytes], now: int) -> str:
        if not self.overtaken:
            self.overtaken = True
            self.competitor()
        return self.inner.add_checkpoint(signed, old, proof, now)


def test_a_checkpoint_overtaken_at_a_witness_is_superseded_not_a_fork(
        open_store: Callable[[], LogStore]) -> None:
    """Two publishers (a checkpointer, another worker's on-demand status) sign in log
    order but may reach a witness out of order; the later one wins there."""
    from ledger.errors import CheckpointSupersededError

    witness = Witness(COSIGNERS[0], [LOG_SIGNER.verifier])
    ledger = witnessed(open_store(), [witness])
    ledger.register_key(FRENOS_KEY, FRENOS)
    token = issue(ledger, FRENOS_KEY, FRENOS)
    behind = ledger._sign_checkpoint(ledger.size)  # signed, then held up on the way
    ledger.register_key(HURON_KEY, HURON)
    ledger.publish_checkpoint()  # the other publisher: the witness is now one ahead
    with pytest.raises(CheckpointSupersededError, match="supersedes"):
        ledger._record_checkpoint(behind)
    assert witness.latest_size(ORIGIN) == ledger.size
    del token


def test_a_fresh_status_overtaken_at_a_witness_is_written_again(
        open_store: Callable[[], LogStore]) -> None:
    """`refresh_status` needs its status to be the last entry under its checkpoint (the
    verifier's rule): when another checkpoint gets there first, it writes a newer one."""
    witnesses = [Witness(c, [LOG_SIGNER.verifier]) for c in COSIGNERS]
    holder: list[Ledger] = []

    def competitor() -> None:  # another worker logs a key and publishes, meanwhile
        holder[0].register_key(HURON_KEY, HURON)
        holder[0].publish_checkpoint()

    overtaking = Overtaking(witnesses[0], competitor)
    ledger = witnessed(open_store(), [overtaking, *witnesses[1:]])  # type: ignore[list-item]
    holder.append(ledger)
    ledger.register_key(FRENOS_KEY, FRENOS)
    token = issue(ledger, FRENOS_KEY, FRENOS)
    index, signed = ledger.refresh_status(token.digest)
    assert overtaking.overtaken
    assert parse_checkpoint(signed).size == index + 1
    assert index == ledger.size - 1  # the newer status, after the competitor's entries
    bundle = ledger.bundle(token.digest)
    assert bundle["log"]["status"]["index"] == index
    assert signed.count("\u2014 ") == 1 + len(COSIGNERS)


# ---------------------------------------------------------------------------------------
# Audit


def populated(ledger: Ledger) -> dict[str, IssueResult]:
    """Keys, a supplier token, a token citing it, a revocation, a checkpoint."""
    ledger.register_key(LAKESHORE_KEY, LAKESHORE)              # 0
    ledger.register_key(HURON_KEY, HURON)                      # 1
    supplier = issue(ledger, LAKESHORE_KEY, LAKESHORE, name="lash-adjusters-us")  # 2
    head = issue(ledger, HURON_KEY, HURON, name="cylinder-head-us", cites=supplier.digest)  # 3
    ledger.revoke_token(supplier.digest, signer=LAKESHORE_KEY, reason="recall")  # 4
    ledger.publish_checkpoint()
    return {"supplier": supplier, "head": head}


def test_audit_is_clean_on_an_untouched_ledger(ledger: Ledger) -> None:
    populated(ledger)
    report = ledger.audit()
    assert report.ok
    assert (report.size, report.checkpoints, report.problems) == (5, 1, [])


def test_an_empty_ledger_audits_clean(ledger: Ledger) -> None:
    report = ledger.audit()
    assert report.ok
    assert (report.size, report.checkpoints) == (0, 0)


class RogueDba:
    """Raw SQL on the ledger's database, guards dropped first, as a rogue DBA would."""

    def __init__(self, url: str) -> None:
        self.url = sa.make_url(url)
        self.sqlite = self.url.get_backend_name() == "sqlite"

    def _run(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        if self.sqlite:
            raw = sqlite3.connect(self.url.database or "", isolation_level=None)
            try:
                for sql, params in statements:
                    raw.execute(sql, params)
            finally:
                raw.close()
        else:
            libpq = self.url.set(drivername="postgresql").render_as_string(
                hide_password=False)
            with psycopg.connect(libpq, autocommit=True) as raw:
                for sql, params in statements:
                    raw.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

    def _drop(self, table: str, event: str) -> tuple[str, tuple[Any, ...]]:
        if self.sqlite:
            return f"DROP TRIGGER IF EXISTS {table}_no_{event}", ()
        return f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}", ()

    def edit_statement(self, index: int, body: bytes, *, rehash: bool = False) -> None:
        edits = [("UPDATE log_entries SET body = ? WHERE leaf_index = ?", (body, index))]
        if rehash:
            edits.append(("UPDATE log_entries SET leaf_hash = ? WHERE leaf_index = ?",
                          (leaf_hash(body), index)))
        self._run(self._drop("log_entries", "update"), *edits)

    def delete_entry(self, index: int) -> None:
        self._run(self._drop("log_entries", "delete"),
                  ("DELETE FROM log_entries WHERE leaf_index = ?", (index,)))

    def edit_blob(self, digest: str, data: bytes) -> None:
        self._run(self._drop("log_blobs", "update"),
                  ("UPDATE log_blobs SET data = ? WHERE digest = ?", (data, digest)))


    def delete_row(self, table: str, where: str, params: tuple[Any, ...]) -> None:
        self._run(self._drop(table, "delete"), (f"DELETE FROM {table} WHERE {where}", params))

    def edit_tile(self, level: int, index: int, hashes: bytes) -> None:
        self._run(self._drop("log_tiles", "update"),
                  ("UPDATE log_tiles SET hashes = ? WHERE level = ? AND tile_index = ?",
                   (hashes, level, index)))


def test_audit_names_a_revocation_erased_from_the_derived_rows(sql_url: str) -> None:
    """A DBA deletes the revocation's derived row, so the token reads as active again:
    the log still says revoked, and the audit names the entry whose row is missing."""
    with SqlStore.open(sql_url) as store:
        ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        supplier = populated(ledger)["supplier"]
        assert ledger.token_status(supplier.digest)["token"] == "revoked"
        RogueDba(sql_url).delete_row("log_token_events", "leaf_index = ?", (4,))
        assert ledger.token_status(supplier.digest)["token"] == "active"  # the lie
        problems = Ledger(store, LOG_KEY, origin=ORIGIN, now=now).audit().problems
    assert problems == ["entry 4: the stored token event row differs from a replay of the "
                        "log"], problems


def test_audit_names_a_tile_edited_in_the_database(sql_url: str) -> None:
    with SqlStore.open(sql_url) as store:
        ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        ledger.register_key(FRENOS_KEY, FRENOS)
        for _ in range(3):
            issue(ledger, FRENOS_KEY, FRENOS)
        ledger.append([ledger._sign(ledger._status_of(d, ledger.size), None)
                       for d in [ledger.store.tokens_with_prefix("", 3)[0]] * 253])
        assert store.tile(0, 0) is not None
        RogueDba(sql_url).edit_tile(0, 0, bytes(8192))
        problems = Ledger(store, LOG_KEY, origin=ORIGIN, now=now).audit().problems
    assert problems == ["tile 0/0: stored tile differs from the entries' leaf hashes"]


def test_audit_names_a_statement_edited_in_the_database(sql_url: str) -> None:
    with SqlStore.open(sql_url) as store:
        ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        tokens = populated(ledger)
        index = tokens["head"].index
        body = ledger.entry(index).body
        # Say the maker now claims the token was issued an hour earlier.
        RogueDba(sql_url).edit_statement(index, body.replace(b"T12:00:00Z", b"T11:00:00Z"))

        problems = Ledger(store, LOG_KEY, origin=ORIGIN, now=now).audit().problems
    assert any(p.startswith(f"entry {index}:") and "leaf hash" in p for p in problems), problems


def test_audit_names_a_revocation_erased_in_the_database(sql_url: str) -> None:
    # The DBA turns the supplier's revocation into something harmless-looking and fixes up
    # the leaf hash: each row is self-consistent, the checkpoint's root is not.
    with SqlStore.open(sql_url) as store:
        ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        populated(ledger)
        body = ledger.entry(4).body
        edited = body.replace(b'"reason":"recall"', b'"reason":"typo"')
        assert edited != body
        RogueDba(sql_url).edit_statement(4, edited, rehash=True)

        problems = Ledger(store, LOG_KEY, origin=ORIGIN, now=now).audit().problems
    assert any(p.startswith("entry 4:") for p in problems), problems  # signature broken
    assert any(p.startswith("checkpoint 5:") and "root differs" in p
               for p in problems), problems


def test_audit_names_a_checkpoint_covering_a_deleted_entry(sql_url: str) -> None:
    with SqlStore.open(sql_url) as store:
        ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        populated(ledger)
        RogueDba(sql_url).delete_entry(4)
        problems = Ledger(store, LOG_KEY, origin=ORIGIN, now=now).audit().problems
    assert any(p.startswith("checkpoint 5:") and "more entries" in p for p in problems), problems


def test_audit_names_a_token_altered_in_the_database(sql_url: str) -> None:
    with SqlStore.open(sql_url) as store:
        ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        tokens = populated(ledger)
        head = tokens["head"]
        blob = store.get_blob(head.digest)
        assert blob is not None
        RogueDba(sql_url).edit_blob(head.digest, blob.replace(b"77.676950", b"87.676950"))

        problems = Ledger(store, LOG_KEY, origin=ORIGIN, now=now).audit().problems
        assert problems == [f"entry {head.index}: stored token {head.digest} was altered"]
        with pytest.raises(TamperedError):
            ledger.token(head.digest)


def test_audit_names_a_token_replaced_by_garbage_in_the_database(sql_url: str) -> None:
    with SqlStore.open(sql_url) as store:
        ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        head = populated(ledger)["head"]
        RogueDba(sql_url).edit_blob(head.digest, b"\x00 not a token")

        problems = Ledger(store, LOG_KEY, origin=ORIGIN, now=now).audit().problems
    assert any(p.startswith(f"entry {head.index}:") and head.digest in p
               for p in problems), problems


def test_audit_names_the_first_entry_replaced_by_garbage(sql_url: str) -> None:
    with SqlStore.open(sql_url) as store:
        ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        populated(ledger)
        RogueDba(sql_url).edit_statement(0, b"{}")

        problems = Ledger(store, LOG_KEY, origin=ORIGIN, now=now).audit().problems
    assert any(p.startswith("entry 0:") for p in problems), problems


def test_audit_does_not_blame_an_unparseable_entry_for_the_entry_before_it(
        sql_url: str) -> None:
    # Entry 2 is the supplier's token statement, and its token was altered; entry 3 (the
    # head's token statement) is unreadable. Each problem belongs to its own entry.
    with SqlStore.open(sql_url) as store:
        ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        supplier = populated(ledger)["supplier"]
        blob = store.get_blob(supplier.digest)
        assert blob is not None
        dba = RogueDba(sql_url)
        dba.edit_blob(supplier.digest, blob.replace(b"84.525205", b"94.525205"))
        dba.edit_statement(3, b"not json")

        problems = Ledger(store, LOG_KEY, origin=ORIGIN, now=now).audit().problems
    # entry 3: its leaf hash, its statement, and the token row derived from it, which a
    # replay of the (now unreadable) statement no longer produces.
    assert [p.split(":")[0] for p in problems] == ["entry 2"] + ["entry 3"] * 3, problems
    assert supplier.digest in problems[0]
    assert supplier.digest not in "".join(problems[1:])
    assert "token row differs from a replay" in problems[3]


@pytest.mark.parametrize("page", [1, 2, 3, 5])
def test_a_paged_pipelined_audit_names_what_a_one_page_audit_names(
        sql_url: str, page: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of a few entries, their signatures on the pool while the next page is read:
    the same problems, in the same order, as one page checked at once: a broken signature
    and an altered token in different pages. (Not an erased derived row: each page is
    replayed over the *stored* state before it, so that names the row, then whatever
    it changes for the rest of its page.)"""
    with SqlStore.open(sql_url) as store:
        ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
        tokens = populated(ledger)
        clean = ledger.audit().problems
        monkeypatch.setattr("ledger.service._AUDIT_PAGE", page)
        monkeypatch.setattr("ledger.service._PARALLEL_BATCH", 1)
        assert ledger.audit().problems == clean == []
        monkeypatch.undo()
        dba = RogueDba(sql_url)
        body = ledger.entry(4).body
        dba.edit_statement(4, body.replace(b'"reason":"recall"', b'"reason":"typo"'),
                           rehash=True)
        head = tokens["head"]
        blob = store.get_blob(head.digest)
        assert blob is not None
        dba.edit_blob(head.digest, blob.replace(b"77.676950", b"87.676950"))
        whole = Ledger(store, LOG_KEY, origin=ORIGIN, now=now).audit()
        monkeypatch.setattr("ledger.service._AUDIT_PAGE", page)
        monkeypatch.setattr("ledger.service._PARALLEL_BATCH", 1)
        paged = Ledger(store, LOG_KEY, origin=ORIGIN, now=now).audit()
    assert any(p.startswith("entry 4:") and "signature" in p for p in whole.problems), \
        whole.problems
    assert any(p.startswith(f"entry {head.index}:") for p in whole.problems)
    assert (paged.problems, paged.size) == (whole.problems, whole.size)


# ---------------------------------------------------------------------------------------
# Two ledgers, one database


def test_a_second_ledger_on_the_same_store_sees_and_extends_the_log(
        open_store: Callable[[], LogStore]) -> None:
    first = Ledger(open_store(), LOG_KEY, origin=ORIGIN, now=now)
    second = Ledger(open_store(), LOG_KEY, origin=ORIGIN, now=now)
    first.register_key(FRENOS_KEY, FRENOS)
    token = issue(first, FRENOS_KEY, FRENOS)

    # The second sees the first's key and token without being told.
    assert second.token_index(token.digest) == token.index
    assert second.keys().get(kid_of(FRENOS_KEY)).party_id == "frenos-bajio"
    # It appends after them (its append syncs first), and the first sees that in turn.
    kid, index = second.register_key(HURON_KEY, HURON)
    assert index == 2
    assert first.keys().get(kid).added_at == 2
    revocation = first.revoke_token(token.digest, signer=None, reason="x")
    assert revocation == 3
    assert second.token_status(token.digest)["token"] == "revoked"
    assert first.root() == second.root()
    assert second.audit().ok
