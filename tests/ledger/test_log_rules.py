"""The log's rules added by the hardening issue, through `Ledger` on every store.

Who may add a key for a party (ledger design s.6): the party's first key itself, a later
one only by rotation or registrar admission. Supplier evidence: active at the citing
token's position, for the material it backs, and its later revocation visible in every
dependent token's status. One active token per issuer and shipment, corrections by
`supersedes`. Supersede only within the issuer's party, active to active, forward. The
disclosure records land with the token and its statement, or not at all. The audit reads every
checkpoint. The world is tests/ledger/world.py, the store fixtures conftest.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.errors import (
    ConflictError,
    EncodingError,
    InputError,
    NotFoundError,
    SignatureError,
)
from ledger.evidence import check_evidence
from ledger.multikey import did_key
from ledger.note import Signer
from ledger.service import Ledger
from ledger.statements import parse_statement, registrar_kid, sign_statement
from ledger.store import MemoryStore
from ledger.token import Certification, CertifierRole, shipment_digest
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
    bom,
    certification,
    issue,
    key,
    key_statement,
    kid_of,
    now,
    unchanged,
)

# ---------------------------------------------------------------------------------------
# Keys: only the party itself (first key), its current key (rotation) or the registrar


def test_a_known_party_cannot_add_a_key_by_itself(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    impostor = {**FRENOS, "name": "Impostor S.A."}
    with unchanged(ledger), pytest.raises(ConflictError, match="already registered"):
        ledger.register_key(key(31), impostor)
    assert [r.kid for r in ledger.keys().party_keys("frenos-bajio")] == [kid_of(FRENOS_KEY)]


def test_the_registrar_admits_a_key_for_a_known_party_with_possession(ledger: Ledger) -> None:
    kid, _ = ledger.register_key(FRENOS_KEY, FRENOS)
    ledger.revoke_key(kid, signer=None, reason="lost")
    new_kid, index = ledger.admit_key(key(31), FRENOS)
    assert ledger.keys().get(new_kid).status_at(index + 1) == "valid"
    assert issue(ledger, key(31), FRENOS).index == index + 1
    statement = json.loads(ledger.entry(index).body)
    assert statement["signature"]["kid"] == registrar_kid(ORIGIN)


def test_an_admission_without_possession_of_the_key_is_refused(ledger: Ledger) -> None:
    forged = sign_statement(key_statement(key(31), FRENOS), LOG_KEY, registrar_kid(ORIGIN),
                            possession=key(32))
    with unchanged(ledger), pytest.raises(SignatureError):
        ledger.append([forged])
    unsigned_possession = sign_statement(key_statement(key(31), FRENOS), LOG_KEY,
                                         registrar_kid(ORIGIN))
    with unchanged(ledger), pytest.raises(InputError, match="possession"):
        ledger.append([unsigned_possession])


def test_an_admission_must_be_signed_with_the_log_key(ledger: Ledger) -> None:
    forged = sign_statement(key_statement(key(31), FRENOS), key(33), registrar_kid(ORIGIN),
                            possession=key(31))
    with unchanged(ledger), pytest.raises(SignatureError):
        ledger.append([forged])


@pytest.mark.parametrize(("party", "word"), [
    ({"id": "../../evil", "name": "E", "country": "MX"}, "party id"),
    ({"id": "Frenos", "name": "E", "country": "MX"}, "party id"),
    ({"id": "frenos", "name": "E\nDECISION: CLEAR", "country": "MX"}, "printable"),
    ({"id": "frenos", "name": " ", "country": "MX"}, "printable"),
    ({"id": "frenos", "name": "E", "country": "mx"}, "alpha-2"),
])
def test_the_log_refuses_unsafe_party_records(ledger: Ledger, party: dict[str, str],
                                              word: str) -> None:
    with unchanged(ledger), pytest.raises(InputError, match=word):
        ledger.register_key(key(31), party)


# ---------------------------------------------------------------------------------------
# Evidence


def test_a_revoked_or_superseded_supplier_token_is_no_evidence(ledger: Ledger) -> None:
    ledger.register_key(LAKESHORE_KEY, LAKESHORE)
    ledger.register_key(HURON_KEY, HURON)
    supplier = issue(ledger, LAKESHORE_KEY, LAKESHORE, name="lash-adjusters-us")
    ledger.revoke_token(supplier.digest, signer=LAKESHORE_KEY, reason="recall")
    with unchanged(ledger), pytest.raises(ConflictError, match="revoked"):
        issue(ledger, HURON_KEY, HURON, name="cylinder-head-us", cites=supplier.digest)

    corrected = issue(ledger, LAKESHORE_KEY, LAKESHORE, name="lash-adjusters-us")
    newer = issue(ledger, LAKESHORE_KEY, LAKESHORE, name="lash-adjusters-us")
    ledger.supersede_token(corrected.digest, newer.digest, signer=LAKESHORE_KEY, reason="fix")
    with unchanged(ledger), pytest.raises(ConflictError, match=newer.digest):
        issue(ledger, HURON_KEY, HURON, name="cylinder-head-us", cites=corrected.digest)
    assert issue(ledger, HURON_KEY, HURON, name="cylinder-head-us", cites=newer.digest)


def test_a_supplier_token_signed_by_a_compromised_key_is_no_evidence(ledger: Ledger) -> None:
    kid, _ = ledger.register_key(LAKESHORE_KEY, LAKESHORE)
    ledger.register_key(HURON_KEY, HURON)
    supplier = issue(ledger, LAKESHORE_KEY, LAKESHORE, name="lash-adjusters-us")
    ledger.revoke_key(kid, signer=None, reason="stolen", compromised_since=supplier.index)
    with unchanged(ledger), pytest.raises(ConflictError, match="compromised"):
        issue(ledger, HURON_KEY, HURON, name="cylinder-head-us", cites=supplier.digest)


def test_a_later_revocation_shows_in_every_dependent_tokens_status(ledger: Ledger) -> None:
    # wire -> lash adjusters -> cylinder head: revoking the wire's token shows two levels up.
    ledger.register_key(LAKESHORE_KEY, LAKESHORE)
    ledger.register_key(HURON_KEY, HURON)
    supplier = issue(ledger, LAKESHORE_KEY, LAKESHORE, name="lash-adjusters-us")
    head = issue(ledger, HURON_KEY, HURON, name="cylinder-head-us", cites=supplier.digest)
    assert ledger.token_status(head.digest)["evidence"] == "active"

    ledger.revoke_token(supplier.digest, signer=LAKESHORE_KEY, reason="recall")
    status = ledger.token_status(head.digest)
    assert (status["token"], status["evidence"], status["evidenceAffected"]) == (
        "active", "revoked", [supplier.digest])
    statement = json.loads(ledger.entry(ledger.status_statement(head.digest)).body)
    assert (statement["evidence"], statement["evidenceAffected"]) == ("revoked",
                                                                      [supplier.digest])


def test_evidence_backs_only_an_originating_material_of_its_own_subheading() -> None:
    lash = MemoryStore()
    world = Ledger(lash, LOG_KEY, origin=ORIGIN, now=now)
    world.register_key(LAKESHORE_KEY, LAKESHORE)
    supplier = issue(world, LAKESHORE_KEY, LAKESHORE, name="lash-adjusters-us")
    good = {supplier.digest: supplier.token}
    check_evidence(bom("cylinder-head-us", cites=supplier.digest), good)

    as_importer = json.loads(json.dumps(supplier.token))
    as_importer["credentialSubject"]["certifierRole"] = "importer"
    with pytest.raises(InputError, match="importer"):
        check_evidence(bom("cylinder-head-us", cites=supplier.digest),
                       {supplier.digest: as_importer})
    other_hs = json.loads(json.dumps(supplier.token))
    other_hs["credentialSubject"]["good"]["hsCode"] = "870830"
    with pytest.raises(InputError, match=r"HS 8708\.30"):
        check_evidence(bom("cylinder-head-us", cites=supplier.digest),
                       {supplier.digest: other_hs})


def test_an_importers_certification_is_refused_as_evidence_at_issuance(
        ledger: Ledger) -> None:
    ledger.register_key(LAKESHORE_KEY, LAKESHORE)
    ledger.register_key(HURON_KEY, HURON)
    lash = bom("lash-adjusters-us")
    exporter = certification(LAKESHORE).exporter
    by_importer = Certification(role=CertifierRole.IMPORTER,
                                certifier=certification(LAKESHORE).certifier, producer=None,
                                signature_date=now().date(), exporter=exporter)
    supplier = ledger.issue_token(lash, by_importer, shipment_id="IMP-1", key=LAKESHORE_KEY)
    with unchanged(ledger), pytest.raises(InputError, match="importer"):
        issue(ledger, HURON_KEY, HURON, name="cylinder-head-us", cites=supplier.digest)


# ---------------------------------------------------------------------------------------
# One active token per shipment; corrections


def test_one_active_token_per_issuer_and_shipment(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    ledger.register_key(HURON_KEY, HURON)
    caliper = bom("brake-caliper-mx")
    first = ledger.issue_token(caliper, certification(FRENOS), shipment_id="FBA-1",
                               key=FRENOS_KEY)
    with unchanged(ledger), pytest.raises(ConflictError, match=first.digest):
        ledger.issue_token(caliper, certification(FRENOS), shipment_id="FBA-1", key=FRENOS_KEY)
    # Another party may use the same reference for its own shipment.
    ledger.issue_token(caliper, certification(HURON), shipment_id="FBA-1", key=HURON_KEY)
    # A correction supersedes in the same entry; then the shipment has the new token only.
    fixed = ledger.issue_token(caliper, certification(FRENOS), shipment_id="FBA-1",
                               key=FRENOS_KEY, supersedes=first.digest)
    status = ledger.token_status(first.digest)
    assert (status["token"], status["supersededBy"], status["revocation"]) == (
        "superseded", fixed.digest, fixed.index)
    # After a revocation the shipment is free again.
    ledger.revoke_token(fixed.digest, signer=FRENOS_KEY, reason="cancelled")
    assert ledger.issue_token(caliper, certification(FRENOS), shipment_id="FBA-1",
                              key=FRENOS_KEY).index == fixed.index + 2


def test_a_correction_must_name_an_active_token_of_the_same_party(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    ledger.register_key(HURON_KEY, HURON)
    caliper = bom("brake-caliper-mx")
    theirs = ledger.issue_token(caliper, certification(HURON), shipment_id="H-1",
                                key=HURON_KEY)
    with unchanged(ledger), pytest.raises(SignatureError, match="another party"):
        ledger.issue_token(caliper, certification(FRENOS), shipment_id="F-1", key=FRENOS_KEY,
                           supersedes=theirs.digest)
    with unchanged(ledger), pytest.raises(NotFoundError):
        ledger.issue_token(caliper, certification(FRENOS), shipment_id="F-1", key=FRENOS_KEY,
                           supersedes="ab" * 32)


def test_the_token_statement_binds_the_shipment_digest(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    token = issue(ledger, FRENOS_KEY, FRENOS)
    statement = json.loads(ledger.entry(token.index).body)
    assert statement["shipment"] == shipment_digest(token.token["credentialSubject"]
                                                    ["shipmentId"])


# ---------------------------------------------------------------------------------------
# Supersede


def test_supersede_rules(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    ledger.register_key(HURON_KEY, HURON)
    x, y = issue(ledger, FRENOS_KEY, FRENOS), issue(ledger, FRENOS_KEY, FRENOS)
    theirs = issue(ledger, HURON_KEY, HURON)
    revoked = issue(ledger, FRENOS_KEY, FRENOS)
    ledger.revoke_token(revoked.digest, signer=FRENOS_KEY, reason="void")
    for old, new, signer, error, words in (
            (theirs, x, FRENOS_KEY, SignatureError, "not issued by party"),
            (x, theirs, FRENOS_KEY, SignatureError, "not issued by party"),
            (x, y, HURON_KEY, SignatureError, "not issued by party"),
            (x, revoked, FRENOS_KEY, ConflictError, "revoked"),
            (revoked, y, FRENOS_KEY, ConflictError, "revoked"),
            (y, x, FRENOS_KEY, ConflictError, "logged before")):
        with unchanged(ledger), pytest.raises(error, match=words):
            ledger.supersede_token(old.digest, new.digest, signer=signer, reason="x")
    ledger.supersede_token(x.digest, y.digest, signer=FRENOS_KEY, reason="fix")
    with unchanged(ledger), pytest.raises(ConflictError, match="superseded"):
        ledger.supersede_token(y.digest, x.digest, signer=FRENOS_KEY, reason="loop")


# ---------------------------------------------------------------------------------------
# Disclosure records: stored with the token and its statement, in one step


class CrashOnAppend(MemoryStore):
    """A store whose process 'dies' at the append of a token statement."""

    def append(self, entries: Any, **options: Any) -> int:
        if any(entry.kind == "token" for entry in entries):
            raise KeyboardInterrupt("kill -9")
        return super().append(entries, **options)


def test_a_crash_at_the_append_leaves_neither_token_nor_records() -> None:
    store = CrashOnAppend()
    ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
    ledger.register_key(FRENOS_KEY, FRENOS)
    with pytest.raises(KeyboardInterrupt):
        issue(ledger, FRENOS_KEY, FRENOS)
    assert store.size() == 1  # only the key: the token was not logged...
    assert store._disclosures == {}  # ... nor its records, nor the token itself
    assert store._blobs == {}
    retried = Ledger(MemoryStore(), LOG_KEY, origin=ORIGIN, now=now)
    retried.register_key(FRENOS_KEY, FRENOS)
    token = issue(retried, FRENOS_KEY, FRENOS)  # the same steps on a healthy store log it
    assert retried.store.get_disclosures(token.digest) is not None


def test_a_logged_token_always_has_its_records(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    token = issue(ledger, FRENOS_KEY, FRENOS)
    assert ledger.commitment(token.digest).root_hex == token.commitment.root_hex
    bundle = ledger.fresh_bundle(token.digest, disclose_lines=range(token.commitment.count))
    assert [d["line"] for d in bundle["disclosures"]] == list(range(token.commitment.count))
    with pytest.raises(InputError, match="numbered 0 to"):
        ledger.fresh_bundle(token.digest, disclose_lines=[token.commitment.count])
    assert "disclosures" not in ledger.fresh_bundle(token.digest, disclose_lines=[])


# ---------------------------------------------------------------------------------------
# Audit: every checkpoint, cosignatures


def test_the_audit_names_every_bad_checkpoint_not_only_the_latest(ledger: Ledger) -> None:
    ledger.register_key(FRENOS_KEY, FRENOS)
    issue(ledger, FRENOS_KEY, FRENOS)
    ledger.publish_checkpoint()
    issue(ledger, FRENOS_KEY, FRENOS)
    ledger.publish_checkpoint()
    assert ledger.audit().checkpoints == 2
    forger = Signer(ORIGIN, key(77))
    ledger.store.add_checkpoint(1, sign_checkpoint(Checkpoint(ORIGIN, 1, bytes(32)), forger))
    wrong_root = sign_checkpoint(Checkpoint(ORIGIN, 2, bytes(32)), LOG_SIGNER)
    ledger.store.add_checkpoint(2, wrong_root)  # signed by the log key, over a false root
    misfiled = sign_checkpoint(Checkpoint(ORIGIN, 3, ledger.root(3)), LOG_SIGNER)
    ledger.store.add_checkpoint(2, misfiled)
    problems = ledger.audit().problems
    assert [p.split(":")[0] for p in problems] == ["checkpoint 1", "checkpoint 2",
                                                   "checkpoint 2"]
    assert "root differs" in problems[1]
    assert "signed for size 3" in problems[2]


def test_the_audit_checks_witness_cosignatures(ledger: Ledger) -> None:
    witnesses = [Witness(c, [LOG_SIGNER.verifier]) for c in COSIGNERS]
    cosigned = Ledger(ledger.store, LOG_KEY, origin=ORIGIN, now=now, witnesses=witnesses)
    cosigned.register_key(FRENOS_KEY, FRENOS)
    text = cosigned.publish_checkpoint()
    verifiers = [c.verifier for c in COSIGNERS]
    assert cosigned.audit(verifiers).ok
    stranger = COSIGNERS[0].verifier.name
    assert not cosigned.audit(verifiers[1:]).ok  # a line from a key the trust file lacks
    assert any(stranger in p for p in cosigned.audit(verifiers[1:]).problems)
    assert text.count("\u2014 ") == 4


def test_the_registrar_issues_no_tokens(ledger: Ledger) -> None:
    ledger.store.put_blob("56" * 32, b"{}")
    statement = {"v": 1, "type": "token", "time": "2026-11-22T12:00:00Z",
                 "tokenDigest": "56" * 32, "issuer": did_key(LOG_KEY.public_key),
                 "parents": [], "shipment": shipment_digest("R-1")}
    with unchanged(ledger), pytest.raises(SignatureError, match="registrar issues no"):
        ledger.append([sign_statement(statement, LOG_KEY, registrar_kid(ORIGIN))])


@pytest.mark.parametrize("value", ["0", "00000", "AAAAA", "", "A=", "A" * 85])
def test_a_signature_that_is_not_base64url_is_an_encoding_error(ledger: Ledger,
                                                                  value: str) -> None:
    # Found by `make fuzz`: a one-character signature escaped as binascii.Error.
    statement = sign_statement(key_statement(FRENOS_KEY, FRENOS), FRENOS_KEY,
                               kid_of(FRENOS_KEY))
    statement["signature"]["value"] = value
    with unchanged(ledger), pytest.raises((EncodingError, InputError, SignatureError)):
        ledger.append([statement])


def test_status_statements_must_state_the_evidence() -> None:
    statement = {"v": 1, "type": "status", "time": "2026-11-22T12:00:00Z",
                 "tokenDigest": "ab" * 32, "coversSize": 3, "token": "active",
                 "key": "valid", "signature": {"kid": registrar_kid(ORIGIN), "value": "AA"}}
    with pytest.raises(InputError, match="evidence"):
        parse_statement(statement)
    with pytest.raises(InputError, match="evidenceAffected"):
        parse_statement({**statement, "evidence": "revoked"})
    with pytest.raises(InputError, match="evidenceAffected"):
        parse_statement({**statement, "evidence": "active", "evidenceAffected": ["cd" * 32]})
    parse_statement({**statement, "evidence": "revoked", "evidenceAffected": ["cd" * 32]})


def test_the_typed_status_says_what_the_dict_says(ledger: Ledger) -> None:
    from ledger.status import TokenState

    ledger.register_key(FRENOS_KEY, FRENOS)
    token = issue(ledger, FRENOS_KEY, FRENOS)
    assert ledger.status(token.digest).token is TokenState.ACTIVE
    ledger.revoke_token(token.digest, signer=FRENOS_KEY, reason="recall")
    status = ledger.status(token.digest)
    assert status.token is TokenState.REVOKED
    assert status.to_dict() == ledger.token_status(token.digest)
