"""`ledger.verify.verify`: every check it can emit, with its passing and its failing (or
warn / skip) outcome, and the decision that follows (ledger design s.8): a failed check
rejects, a warning asks for review, anything else is clear.

The bundles come from a real `Ledger` (in memory, fixed clock, fixed keys, in-process
witnesses for CBP, CBSA and ANAM). Failures are produced the way they happen: a token is
revoked or superseded, a key is compromised, a party logs a token under the wrong key, an
issuer forges its determination, a log operator forks the log, a bundle is edited.

Then the exhaustive part: every single value of a clear bundle (full disclosure and a
nested supplier bundle) is changed, every key removed, an unknown key added to every
object, and the bundle must be rejected each time; and `verify` never raises on garbage.
"""

from __future__ import annotations

import base64
import copy
import functools
import importlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.canonical import canonicalize
from ledger.crypto import SigningKey
from ledger.multikey import did_key, verification_method_id
from ledger.note import SIG_COSIGNATURE_V1, Signer
from ledger.policy import Policy
from ledger.service import IssueResult, Ledger
from ledger.statements import sign_statement
from ledger.store import MemoryStore
from ledger.token import (
    BlanketPeriod,
    Certification,
    Certifier,
    CertifierRole,
    Party,
    build_origin_token,
    line_records,
    shipment_digest,
    supplier_token_digests,
    token_digest,
)
from ledger.verify import (
    Check,
    Decision,
    Outcome,
    TrustFile,
    Verification,
    VerifyOptions,
    verify,
)
from ledger.witness import Witness
from origin_rules import BillOfMaterials, bom_from_dict, determine_origin

# `ledger.verify` the module (the package re-exports the function under the same name).
verify_module = importlib.import_module("ledger.verify")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
AT = int(NOW.timestamp())
DAY = 24 * 3600
ORIGIN = "tmec.example/ledger"
WITNESSES = ("cbp", "cbsa", "anam")
#: The customs authorities' cosigning keys: the same in every log of this module, so a
#: forked log can be cosigned by witnesses that verifiers trust.
COSIGNERS = {name: Signer.from_seed(name, bytes([100 + n]) * 32, SIG_COSIGNATURE_V1)
             for n, name in enumerate(WITNESSES)}

SUPPLIER = {"id": "lakeshore-valvetrain", "name": "Lakeshore Valvetrain Inc.", "country": "US"}
MAKER = {"id": "huron-powertrain", "name": "Huron Powertrain Components LLC", "country": "US"}
BRAKES = {"id": "frenos-bajio", "name": "Frenos del Bajío S.A. de C.V.", "country": "MX"}


def key(seed: int) -> SigningKey:
    return SigningKey(bytes([seed]) * 32)


SUPPLIER_KEY, MAKER_KEY, BRAKES_KEY, OTHER_KEY = key(11), key(12), key(13), key(14)


# ---------------------------------------------------------------------------------------
# Building ledgers, tokens and trust files


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))


def lash_bom(cites: str | None = None) -> BillOfMaterials:
    """The supplier's lash adjusters; `cites` backs the steel wire with a token.

    A supplier token backs a material of its own subheading (`ledger.evidence`): the cited
    token is another lash-adjuster token, so the wire is booked under 8409.91 as well.
    """
    document = example("lash-adjusters-us")
    if cites is not None:
        for item in document["items"]:
            if item["id"] == "wire-52100":
                item["evidence"] = {"token": cites}
                item["hs"] = "8409.91"
    return bom_from_dict(document)


def head_bom(supplier_digest: str) -> BillOfMaterials:
    """The cylinder head, citing the supplier's token for its lash adjusters."""
    document = example("cylinder-head-us")
    for item in document["items"]:
        if item["id"] == "hydraulic-lash":
            item["evidence"] = {"token": supplier_digest}
    return bom_from_dict(document)


def caliper_document() -> dict[str, Any]:
    return example("brake-caliper-mx")


def caliper_bom(document: dict[str, Any] | None = None) -> BillOfMaterials:
    return bom_from_dict(document or caliper_document())


def salts(bom: BillOfMaterials, seed: int) -> list[bytes]:
    return [bytes([seed, n]) + bytes(14) for n in range(len(line_records(bom)))]


def certification(party: dict[str, str], blanket: BlanketPeriod | None = None
                  ) -> Certification:
    me = Party(name=party["name"], address="1 Industrial Way", country=party["country"])
    return Certification(
        role=CertifierRole.PRODUCER,
        certifier=Certifier(name="Dana Whitfield", title="Trade Compliance Manager",
                            address="1 Industrial Way", country=party["country"],
                            phone="+1 810 555 0117", email="origin@example.com"),
        producer=None, exporter=me, signature_date=NOW.date(), blanket_period=blanket)


class World:
    """One log (MemoryStore, fixed clock) cosigned by in-process witnesses."""

    def __init__(self, *, log_seed: int = 1, origin: str = ORIGIN,
                 witnesses: Sequence[str] = WITNESSES) -> None:
        self.log_key = key(log_seed)
        self.signer = Signer(origin, self.log_key)
        self.clock = NOW
        self.witnesses = [Witness(COSIGNERS[name], [self.signer.verifier]) for name in witnesses]
        self.ledger = Ledger(MemoryStore(), self.log_key, origin=origin, now=lambda: self.clock,
                             witnesses=self.witnesses)

    def register(self, signing_key: SigningKey, party: dict[str, str]) -> tuple[str, int]:
        return self.ledger.register_key(signing_key, party)

    def issue(self, bom: BillOfMaterials, party: dict[str, str], signing_key: SigningKey, *,
              shipment: str, seed: int, blanket: BlanketPeriod | None = None) -> IssueResult:
        return self.ledger.issue_token(bom, certification(party, blanket),
                                       shipment_id=shipment, key=signing_key,
                                       salts=salts(bom, seed))

    def log_foreign_token(self, token: dict[str, Any], digest: str,
                          signing_key: SigningKey, *, parents: list[str] | None = None) -> int:
        """Log a token statement signed by `signing_key` for a token built elsewhere."""
        statement = {"v": 1, "type": "token", "time": "2026-11-22T12:00:00Z",
                     "tokenDigest": digest, "issuer": did_key(signing_key.public_key),
                     "parents": sorted(supplier_token_digests(token)) if parents is None
                     else parents,
                     "blanket": "validUntil" in token,
                     "shipment": shipment_digest(token["credentialSubject"]["shipmentId"])}
        self.ledger.store.put_blob(digest, canonicalize(token))
        (index,) = self.ledger.append([sign_statement(
            statement, signing_key, verification_method_id(signing_key.public_key))])
        return index

    def proven(self, index: int, size: int) -> dict[str, Any]:
        """A log entry with its inclusion proof in the tree of `size`, as bundles carry it."""
        return {"index": index, "statement": json.loads(self.ledger.entry(index).body),
                "proof": [base64.b64encode(h).decode("ascii")
                          for h in self.ledger.inclusion_proof(index, size)]}


def trust_file(world: World, *, witnesses: Sequence[str] = WITNESSES,
               group: str = "2 cbp cbsa anam", max_age: int | None = DAY,
               require_disclosure: bool = False, require_supplier_bundles: bool = False,
               margin_tolerance: str | None = None) -> TrustFile:
    """A trust file written as a c2sp tlog-policy, like a customs authority would."""
    lines = [f"log {world.signer.verifier.vkey}"]
    lines += [f"witness {name} {COSIGNERS[name].verifier.vkey}" for name in witnesses]
    lines += [f"group customs {group}", "quorum customs"]
    if max_age is not None:
        lines.append(f"# tmec: max-age-seconds {max_age}")
    options = VerifyOptions(
        require_disclosure=require_disclosure,
        require_supplier_bundles=require_supplier_bundles,
        margin_tolerance=None if margin_tolerance is None else Decimal(margin_tolerance))
    return TrustFile(Policy.parse("\n".join(lines) + "\n"), options)


def checkpoint_size(bundle: dict[str, Any]) -> int:
    return int(bundle["log"]["checkpoint"].split("\n")[1])


# ---------------------------------------------------------------------------------------
# Reading results


def outcome(result: Verification, name: str) -> Outcome:
    found = [c for c in result.checks if c.name == name]
    assert len(found) == 1, f"{name}: {[c.name for c in result.checks]}"
    return found[0].outcome


def detail(result: Verification, name: str) -> str:
    (check,) = [c for c in result.checks if c.name == name]
    return check.detail


def supplier_checks(result: Verification) -> list[Check]:
    return [c for c in result.checks if c.name.startswith("supplier.")]


def not_passed(result: Verification) -> dict[str, Outcome]:
    return {c.name: c.outcome for c in result.checks if c.outcome is not Outcome.PASS}


def check_names(result: Verification) -> list[str]:
    return [c.name for c in result.checks]


# ---------------------------------------------------------------------------------------
# The shared scenario


@dataclass
class Scenario:
    """Parties, a supplier token, a token citing it, and the trust file that clears them."""

    world: World
    supplier_kid: str
    maker_kid: str
    supplier: IssueResult
    head: IssueResult
    trust: TrustFile

    @property
    def ledger(self) -> Ledger:
        return self.world.ledger

    def plain(self) -> dict[str, Any]:
        return self.ledger.fresh_bundle(self.head.digest)

    def supplier_bundle(self, *, disclose: bool = False) -> dict[str, Any]:
        result = self.supplier
        return self.ledger.fresh_bundle(
            result.digest, commitment=result.commitment if disclose else None,
            disclose_lines=range(result.commitment.count) if disclose else None)

    def disclosed(self, lines: Sequence[int] | None = None) -> dict[str, Any]:
        commitment = self.head.commitment
        return self.ledger.fresh_bundle(self.head.digest, commitment=commitment,
                                  disclose_lines=range(commitment.count) if lines is None
                                  else lines)

    def nested(self, *, disclose: bool = False) -> dict[str, Any]:
        supplier = self.supplier_bundle(disclose=disclose)
        commitment = self.head.commitment
        return self.ledger.fresh_bundle(
            self.head.digest, suppliers={self.supplier.digest: supplier},
            commitment=commitment if disclose else None,
            disclose_lines=range(commitment.count) if disclose else None)


def build_scenario() -> Scenario:
    world = World()
    supplier_kid, _ = world.register(SUPPLIER_KEY, SUPPLIER)
    maker_kid, _ = world.register(MAKER_KEY, MAKER)
    supplier = world.issue(lash_bom(), SUPPLIER, SUPPLIER_KEY, shipment="LSV-0311", seed=1)
    head = world.issue(head_bom(supplier.digest), MAKER, MAKER_KEY, shipment="HPC-1145",
                       seed=2)
    return Scenario(world, supplier_kid, maker_kid, supplier, head, trust_file(world))


@pytest.fixture
def scenario() -> Scenario:
    return build_scenario()


def run(bundle: Any, trust: TrustFile, *, at: int | None = AT) -> Verification:
    return verify(bundle, trust, now=at)


# ---------------------------------------------------------------------------------------
# The clear case: every check, in order


def test_a_fresh_nested_bundle_with_full_disclosure_is_clear_and_lists_every_check(
        scenario: Scenario) -> None:
    result = run(scenario.nested(disclose=True), scenario.trust)

    assert result.decision is Decision.CLEAR
    assert result.token_digest == scenario.head.digest
    assert result.shipment_id == "HPC-1145"
    assert check_names(result) == [
        "bundle.format", "checkpoint.signatures", "checkpoint.freshness",
        "log.token.inclusion", "log.key.inclusion", "log.status.inclusion",
        "log.token.statement", "log.key.statement", "log.status.statement",
        "token.digest", "key.statement", "token.statement.signer", "token.signature",
        "status.statement", "status.token", "status.key", "status.evidence", "token.validity",
        "token.parents", "disclosure.lines", "determination.recompute",
        f"supplier.{scenario.supplier.digest[:16]}", "suppliers", "determination.margin",
    ]
    assert not_passed(result) == {"determination.margin": Outcome.SKIP}
    as_json = result.to_dict()
    assert as_json["decision"] == "clear"
    assert {c["name"]: c["outcome"] for c in as_json["checks"]}["token.signature"] == "pass"
    json.dumps(as_json)  # plain JSON


def test_a_plain_bundle_is_clear_and_skips_what_it_does_not_carry(scenario: Scenario) -> None:
    result = run(scenario.plain(), scenario.trust)

    assert result.decision is Decision.CLEAR
    assert not_passed(result) == {"disclosure.lines": Outcome.SKIP, "suppliers": Outcome.SKIP,
                                  "determination.margin": Outcome.SKIP}
    assert "determination.recompute" not in check_names(result)
    assert "checkpoint.unknown_signatures" not in check_names(result)


def test_the_bundle_verifies_from_its_json_text_and_bytes(scenario: Scenario) -> None:
    text = json.dumps(scenario.nested(disclose=True), indent=1, ensure_ascii=False)
    assert run(text, scenario.trust).decision is Decision.CLEAR
    assert run(text.encode("utf-8"), scenario.trust).decision is Decision.CLEAR


# ---------------------------------------------------------------------------------------
# bundle.format


def test_bundle_format_fails_for_another_format(scenario: Scenario) -> None:
    bundle = scenario.plain()
    bundle["format"] = "tmec-bundle/2"
    result = run(bundle, scenario.trust)
    assert result.decision is Decision.REJECT
    assert check_names(result) == ["bundle.format"]
    assert outcome(result, "bundle.format") is Outcome.FAIL


@pytest.mark.parametrize("garbage", [
    b"", b"\xff\xfe\x00", b"not json", b"[]", b"null", b"{}", b'{"format": "tmec-bundle/1"}',
    b'{"a": 1.5}', b'{"a": NaN}', b'{"a": 1, "a": 2}', b"[" * 100_000,
])
def test_bundle_format_fails_for_garbage(scenario: Scenario, garbage: bytes) -> None:
    result = run(garbage, scenario.trust)
    assert result.decision is Decision.REJECT
    assert outcome(result, "bundle.format") is Outcome.FAIL


def test_bundle_format_fails_for_a_huge_integer_literal(scenario: Scenario) -> None:
    # Python refuses int() of more than 4300 digits with ValueError; a bundle file holding
    # such a number must be a reject, not an exception (and `tmec verify` a traceback).
    result = run(b"1" * 5000, scenario.trust)
    assert result.decision is Decision.REJECT
    assert outcome(result, "bundle.format") is Outcome.FAIL


@pytest.mark.parametrize("where", ["top", "log", "log.token"])
def test_bundle_format_fails_for_an_unknown_field(scenario: Scenario, where: str) -> None:
    bundle = scenario.plain()
    target = {"top": bundle, "log": bundle["log"], "log.token": bundle["log"]["token"]}[where]
    target["note"] = "added in transit"
    result = run(bundle, scenario.trust)
    assert result.decision is Decision.REJECT
    assert outcome(result, "bundle.format") is Outcome.FAIL


# ---------------------------------------------------------------------------------------
# checkpoint.signatures, checkpoint.freshness, checkpoint.unknown_signatures


def test_checkpoint_signatures_pass_with_the_quorum_of_customs_witnesses(
        scenario: Scenario) -> None:
    result = run(scenario.plain(), scenario.trust)
    assert outcome(result, "checkpoint.signatures") is Outcome.PASS
    assert "cosigned by anam, cbp, cbsa" in detail(result, "checkpoint.signatures")


def test_checkpoint_signatures_fail_for_a_bundle_signed_by_another_log(
        scenario: Scenario) -> None:
    impostor = World(log_seed=2)  # same origin name, another log key
    impostor.register(MAKER_KEY, MAKER)
    token = impostor.issue(caliper_bom(), MAKER, MAKER_KEY, shipment="X", seed=3)
    result = run(impostor.ledger.fresh_bundle(token.digest), scenario.trust)

    assert result.decision is Decision.REJECT
    assert outcome(result, "checkpoint.signatures") is Outcome.FAIL
    # Nothing under an unauthenticated checkpoint is worth checking.
    assert check_names(result) == ["bundle.format", "checkpoint.signatures"]


def test_checkpoint_signatures_fail_for_a_log_with_another_origin(scenario: Scenario) -> None:
    other = World(origin="elsewhere.example/log")
    other.register(MAKER_KEY, MAKER)
    token = other.issue(caliper_bom(), MAKER, MAKER_KEY, shipment="X", seed=3)
    result = run(other.ledger.fresh_bundle(token.digest), scenario.trust)
    assert result.decision is Decision.REJECT
    assert outcome(result, "checkpoint.signatures") is Outcome.FAIL


def test_checkpoint_signatures_fail_when_the_quorum_is_not_met() -> None:
    world = World(witnesses=("cbp",))  # only CBP cosigns this log's checkpoints
    world.register(MAKER_KEY, MAKER)
    token = world.issue(caliper_bom(), MAKER, MAKER_KEY, shipment="X", seed=3)
    bundle = world.ledger.fresh_bundle(token.digest)

    result = run(bundle, trust_file(world, group="2 cbp cbsa anam"))
    assert result.decision is Decision.REJECT
    assert outcome(result, "checkpoint.signatures") is Outcome.FAIL
    # The same bundle under a policy CBP alone satisfies is clear.
    assert run(bundle, trust_file(world, group="1 cbp cbsa anam")).decision is Decision.CLEAR


def test_checkpoint_signatures_fail_when_a_required_witness_did_not_cosign() -> None:
    world = World(witnesses=("cbp", "cbsa"))
    world.register(MAKER_KEY, MAKER)
    token = world.issue(caliper_bom(), MAKER, MAKER_KEY, shipment="X", seed=3)
    result = run(world.ledger.fresh_bundle(token.digest),
                 trust_file(world, group="all cbp cbsa anam"))
    assert result.decision is Decision.REJECT
    assert outcome(result, "checkpoint.signatures") is Outcome.FAIL
    assert "anam" in detail(result, "checkpoint.signatures")


def test_checkpoint_freshness_passes_within_the_maximum_age(scenario: Scenario) -> None:
    result = run(scenario.plain(), scenario.trust, at=AT + DAY - 60)
    assert outcome(result, "checkpoint.freshness") is Outcome.PASS
    assert result.decision is Decision.CLEAR


def test_a_stale_checkpoint_is_authentic_but_needs_review(scenario: Scenario) -> None:
    result = run(scenario.plain(), scenario.trust, at=AT + 2 * DAY)
    assert outcome(result, "checkpoint.signatures") is Outcome.PASS
    assert outcome(result, "checkpoint.freshness") is Outcome.WARN
    assert result.decision is Decision.REVIEW
    assert Outcome.FAIL not in not_passed(result).values()


def test_checkpoint_freshness_is_skipped_without_a_maximum_age_or_a_time(
        scenario: Scenario) -> None:
    bundle = scenario.plain()
    no_age = run(bundle, trust_file(scenario.world, max_age=None), at=AT + 400 * DAY)
    no_time = run(bundle, scenario.trust, at=None)
    for result in (no_age, no_time):
        assert outcome(result, "checkpoint.freshness") is Outcome.SKIP
    assert no_age.decision is Decision.CLEAR
    # Without a time the validity period is not judged either.
    assert outcome(no_time, "token.validity") is Outcome.SKIP
    assert no_time.decision is Decision.CLEAR


def test_cosignatures_from_keys_the_policy_does_not_name_are_refused(
        scenario: Scenario) -> None:
    # The log is cosigned by CBP, CBSA and ANAM; this verifier only knows CBP and CBSA.
    trust = trust_file(scenario.world, witnesses=("cbp", "cbsa"), group="2 cbp cbsa")
    result = run(scenario.plain(), trust)
    assert outcome(result, "checkpoint.signatures") is Outcome.PASS
    assert outcome(result, "checkpoint.unknown_signatures") is Outcome.FAIL
    assert "anam" in detail(result, "checkpoint.unknown_signatures")
    assert result.decision is Decision.REJECT


# ---------------------------------------------------------------------------------------
# log.{token,key,status}.inclusion and log.{token,key,status}.statement


@pytest.mark.parametrize("name", ["token", "key", "status"])
def test_inclusion_passes_for_each_logged_statement(scenario: Scenario, name: str) -> None:
    bundle = scenario.plain()
    result = run(bundle, scenario.trust)
    assert outcome(result, f"log.{name}.inclusion") is Outcome.PASS
    assert detail(result, f"log.{name}.inclusion") == (
        f"entry {bundle['log'][name]['index']} of {checkpoint_size(bundle)}")


@pytest.mark.parametrize("name", ["token", "key", "status"])
def test_inclusion_fails_for_a_proof_that_does_not_lead_to_the_root(
        scenario: Scenario, name: str) -> None:
    bundle = scenario.plain()
    proof = bundle["log"][name]["proof"]
    proof[0] = base64.b64encode(bytes(32)).decode("ascii")
    result = run(bundle, scenario.trust)
    assert outcome(result, f"log.{name}.inclusion") is Outcome.FAIL
    assert result.decision is Decision.REJECT


@pytest.mark.parametrize("name", ["token", "key", "status"])
def test_inclusion_fails_for_another_index(scenario: Scenario, name: str) -> None:
    bundle = scenario.plain()
    bundle["log"][name]["index"] += 1
    result = run(bundle, scenario.trust)
    assert outcome(result, f"log.{name}.inclusion") is Outcome.FAIL
    assert result.decision is Decision.REJECT


@pytest.mark.parametrize("name", ["token", "key", "status"])
def test_statement_passes_for_the_right_kind(scenario: Scenario, name: str) -> None:
    result = run(scenario.plain(), scenario.trust)
    assert outcome(result, f"log.{name}.statement") is Outcome.PASS


@pytest.mark.parametrize(("slot", "other"), [("token", "key"), ("key", "token"),
                                             ("status", "token")])
def test_statement_fails_for_a_logged_entry_of_another_kind(
        scenario: Scenario, slot: str, other: str) -> None:
    # A real entry, really included under the checkpoint, but not the kind the slot needs.
    bundle = scenario.plain()
    bundle["log"][slot] = copy.deepcopy(bundle["log"][other])
    result = run(bundle, scenario.trust)
    assert outcome(result, f"log.{slot}.inclusion") is Outcome.PASS
    assert outcome(result, f"log.{slot}.statement") is Outcome.FAIL
    assert f"not a {slot} statement" in detail(result, f"log.{slot}.statement")
    assert result.decision is Decision.REJECT


# ---------------------------------------------------------------------------------------
# token.digest, key.statement, token.statement.signer, token.signature


def test_token_digest_passes_when_the_logged_statement_names_this_token(
        scenario: Scenario) -> None:
    result = run(scenario.plain(), scenario.trust)
    assert outcome(result, "token.digest") is Outcome.PASS
    assert detail(result, "token.digest") == scenario.head.digest


def test_token_digest_fails_for_another_token_than_the_logged_one(scenario: Scenario) -> None:
    bundle = scenario.plain()
    bundle["token"] = scenario.supplier.token  # authentic, logged, but not this entry's
    result = run(bundle, scenario.trust)
    assert outcome(result, "token.digest") is Outcome.FAIL
    assert result.decision is Decision.REJECT


def test_token_digest_fails_for_a_token_without_proof(scenario: Scenario) -> None:
    bundle = scenario.plain()
    del bundle["token"]["proof"]
    result = run(bundle, scenario.trust)
    assert outcome(result, "token.digest") is Outcome.FAIL
    assert result.decision is Decision.REJECT


def test_key_statement_passes_for_the_issuer_key_logged_before_the_token(
        scenario: Scenario) -> None:
    result = run(scenario.plain(), scenario.trust)
    assert outcome(result, "key.statement") is Outcome.PASS
    assert scenario.maker_kid in detail(result, "key.statement")
    assert "Huron Powertrain Components LLC (US)" in detail(result, "key.statement")


def test_key_statement_passes_for_a_rotated_in_key(scenario: Scenario) -> None:
    new_key = key(21)
    scenario.ledger.rotate_key(MAKER_KEY, new_key)
    token = scenario.world.issue(caliper_bom(), MAKER, new_key, shipment="ROT", seed=4)
    bundle = scenario.ledger.fresh_bundle(token.digest)
    assert bundle["log"]["key"]["statement"]["action"] == "rotate"
    result = run(bundle, scenario.trust)
    assert outcome(result, "key.statement") is Outcome.PASS
    assert result.decision is Decision.CLEAR


def test_key_statement_fails_for_a_key_logged_after_the_token(scenario: Scenario) -> None:
    _, late_index = scenario.world.register(OTHER_KEY, BRAKES)
    bundle = scenario.plain()
    bundle["log"]["key"] = scenario.world.proven(late_index, checkpoint_size(bundle))
    result = run(bundle, scenario.trust)
    assert outcome(result, "log.key.inclusion") is Outcome.PASS
    assert outcome(result, "key.statement") is Outcome.FAIL
    assert "not before the token" in detail(result, "key.statement")
    assert result.decision is Decision.REJECT


def test_token_statement_signer_fails_when_the_bundle_names_another_party_key(
        scenario: Scenario) -> None:
    # The supplier's key statement, logged before the token, swapped in for the maker's.
    bundle = scenario.plain()
    supplier_key_index = scenario.ledger.keys().get(scenario.supplier_kid).added_at
    bundle["log"]["key"] = scenario.world.proven(supplier_key_index, checkpoint_size(bundle))
    result = run(bundle, scenario.trust)
    assert outcome(result, "key.statement") is Outcome.PASS
    assert outcome(result, "token.statement.signer") is Outcome.FAIL
    assert outcome(result, "token.signature") is Outcome.FAIL
    assert result.decision is Decision.REJECT


def test_token_signature_fails_for_a_token_logged_under_someone_elses_key(
        scenario: Scenario) -> None:
    # The maker logs, under its own registered key, a token the supplier signed: the log
    # accepts the statement (it does not read tokens), the bundle verifier does not.
    world = scenario.world
    copied = build_origin_token(lash_bom(), determine_origin(lash_bom()),
                                certification(SUPPLIER), shipment_id="LSV-COPY",
                                key=SUPPLIER_KEY, created="2026-11-22T12:00:00Z",
                                salts=salts(lash_bom(), 10))
    world.log_foreign_token(copied.token, copied.digest, MAKER_KEY)
    result = run(scenario.ledger.fresh_bundle(copied.digest), scenario.trust)

    assert outcome(result, "key.statement") is Outcome.PASS
    assert outcome(result, "token.statement.signer") is Outcome.PASS
    assert outcome(result, "token.signature") is Outcome.FAIL
    assert result.decision is Decision.REJECT


def test_token_signature_fails_for_a_logged_token_whose_proof_was_altered(
        scenario: Scenario) -> None:
    built = build_origin_token(lash_bom(), determine_origin(lash_bom()),
                               certification(SUPPLIER), shipment_id="LSV-BAD",
                               key=SUPPLIER_KEY, created="2026-11-22T12:00:00Z",
                               salts=salts(lash_bom(), 11))
    token = copy.deepcopy(built.token)
    value = token["proof"]["proofValue"]
    token["proof"]["proofValue"] = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
    digest = token_digest(token)
    scenario.world.log_foreign_token(token, digest, SUPPLIER_KEY)
    result = run(scenario.ledger.fresh_bundle(digest), scenario.trust)
    assert outcome(result, "token.digest") is Outcome.PASS
    assert outcome(result, "token.statement.signer") is Outcome.PASS
    assert outcome(result, "token.signature") is Outcome.FAIL
    assert result.decision is Decision.REJECT


# ---------------------------------------------------------------------------------------
# status.statement, status.token, status.key


def test_status_statement_passes_for_the_registrars_fresh_status(scenario: Scenario) -> None:
    result = run(scenario.plain(), scenario.trust)
    assert outcome(result, "status.statement") is Outcome.PASS
    assert outcome(result, "status.token") is Outcome.PASS
    assert outcome(result, "status.key") is Outcome.PASS


def test_status_statement_fails_for_the_status_of_another_token(scenario: Scenario) -> None:
    supplier_bundle = scenario.supplier_bundle()
    other_status = supplier_bundle["log"]["status"]["index"]
    bundle = scenario.plain()
    bundle["log"]["status"] = scenario.world.proven(other_status, checkpoint_size(bundle))
    result = run(bundle, scenario.trust)
    assert outcome(result, "log.status.inclusion") is Outcome.PASS
    assert outcome(result, "status.statement") is Outcome.FAIL
    assert "another token" in detail(result, "status.statement")
    assert result.decision is Decision.REJECT


def test_status_statement_fails_for_an_old_status_replayed_after_a_revocation(
        scenario: Scenario) -> None:
    # The holder kept the "active" status from before the revocation; the log is public,
    # so anyone can prove that old entry under today's checkpoint. A status must cover the
    # log up to the checkpoint (design s.7: "not revoked as of the checkpoint").
    before = scenario.plain()
    scenario.ledger.revoke_token(scenario.head.digest, signer=MAKER_KEY, reason="recall")
    after = scenario.plain()
    assert run(after, scenario.trust).decision is Decision.REJECT

    replayed = copy.deepcopy(after)
    replayed["log"]["status"] = scenario.world.proven(before["log"]["status"]["index"],
                                                      checkpoint_size(after))
    result = run(replayed, scenario.trust)
    assert outcome(result, "log.status.inclusion") is Outcome.PASS
    assert result.decision is Decision.REJECT, not_passed(result)
    assert outcome(result, "status.statement") is Outcome.FAIL


def test_a_revoked_token_is_rejected_on_status_token(scenario: Scenario) -> None:
    scenario.ledger.revoke_token(scenario.head.digest, signer=MAKER_KEY, reason="recall")
    result = run(scenario.plain(), scenario.trust)
    assert outcome(result, "status.statement") is Outcome.PASS
    assert outcome(result, "status.token") is Outcome.FAIL
    assert "revoked" in detail(result, "status.token")
    assert result.decision is Decision.REJECT


def test_a_token_revoked_by_the_registrar_is_rejected(scenario: Scenario) -> None:
    scenario.ledger.revoke_token(scenario.head.digest, signer=None, reason="court order")
    result = run(scenario.plain(), scenario.trust)
    assert outcome(result, "status.token") is Outcome.FAIL
    assert result.decision is Decision.REJECT


def test_a_superseded_token_is_rejected_naming_its_replacement(scenario: Scenario) -> None:
    corrected = scenario.world.issue(head_bom(scenario.supplier.digest), MAKER, MAKER_KEY,
                                     shipment="HPC-1145-R1", seed=5)
    scenario.ledger.supersede_token(scenario.head.digest, corrected.digest, signer=MAKER_KEY,
                                    reason="invoice corrected")
    result = run(scenario.plain(), scenario.trust)
    assert outcome(result, "status.token") is Outcome.FAIL
    assert f"superseded by {corrected.digest}" in detail(result, "status.token")
    assert result.decision is Decision.REJECT
    # The replacement itself is clear.
    replacement = run(scenario.ledger.fresh_bundle(corrected.digest), scenario.trust)
    assert replacement.decision is Decision.CLEAR


def test_a_compromised_key_voids_tokens_from_the_compromise_on_but_not_before() -> None:
    world = World()
    world.register(BRAKES_KEY, BRAKES)
    before = world.issue(caliper_bom(), BRAKES, BRAKES_KEY, shipment="FBA-1", seed=6)
    at_compromise = world.issue(caliper_bom(), BRAKES, BRAKES_KEY, shipment="FBA-2", seed=7)
    after = world.issue(caliper_bom(), BRAKES, BRAKES_KEY, shipment="FBA-3", seed=8)
    kid = verification_method_id(BRAKES_KEY.public_key)
    world.ledger.revoke_key(kid, signer=None, reason="key stolen",
                            compromised_since=at_compromise.index)
    trust = trust_file(world)

    for voided in (at_compromise, after):
        result = run(world.ledger.fresh_bundle(voided.digest), trust)
        assert outcome(result, "status.key") is Outcome.FAIL, voided.index
        assert "compromised" in detail(result, "status.key")
        assert result.decision is Decision.REJECT
    earlier = run(world.ledger.fresh_bundle(before.digest), trust)
    assert outcome(earlier, "status.key") is Outcome.PASS
    assert earlier.decision is Decision.CLEAR


def test_a_key_compromised_since_the_token_index_itself_voids_it(scenario: Scenario) -> None:
    scenario.ledger.revoke_key(scenario.maker_kid, signer=MAKER_KEY, reason="laptop lost",
                               compromised_since=scenario.head.index)
    result = run(scenario.plain(), scenario.trust)
    assert outcome(result, "status.key") is Outcome.FAIL
    assert result.decision is Decision.REJECT


def test_a_key_revoked_without_compromise_keeps_its_earlier_tokens_valid(
        scenario: Scenario) -> None:
    scenario.ledger.revoke_key(scenario.maker_kid, signer=MAKER_KEY, reason="retired")
    result = run(scenario.plain(), scenario.trust)
    assert outcome(result, "status.key") is Outcome.PASS
    assert result.decision is Decision.CLEAR


# ---------------------------------------------------------------------------------------
# token.validity


def test_token_validity_passes_for_a_single_shipment(scenario: Scenario) -> None:
    result = run(scenario.plain(), scenario.trust)
    assert outcome(result, "token.validity") is Outcome.PASS


def test_token_validity_passes_inside_a_blanket_period(scenario: Scenario) -> None:
    blanket = BlanketPeriod(date(2026, 1, 1), date(2026, 12, 31))
    token = scenario.world.issue(caliper_bom(), MAKER, MAKER_KEY, shipment="BL", seed=12,
                                 blanket=blanket)
    result = run(scenario.ledger.fresh_bundle(token.digest), scenario.trust)
    assert outcome(result, "token.validity") is Outcome.PASS
    assert result.decision is Decision.CLEAR


@pytest.mark.parametrize(("start", "end", "words"), [
    (date(2025, 1, 1), date(2025, 12, 31), "ended on 2025-12-31"),
    (date(2027, 1, 1), date(2027, 6, 30), "starts on 2027-01-01"),
])
def test_a_blanket_period_that_does_not_cover_now_needs_review(
        scenario: Scenario, start: date, end: date, words: str) -> None:
    token = scenario.world.issue(caliper_bom(), MAKER, MAKER_KEY, shipment="BL", seed=12,
                                 blanket=BlanketPeriod(start, end))
    result = run(scenario.ledger.fresh_bundle(token.digest), scenario.trust)
    assert outcome(result, "token.validity") is Outcome.WARN
    assert words in detail(result, "token.validity")
    assert result.decision is Decision.REVIEW


# ---------------------------------------------------------------------------------------
# token.parents


def test_token_parents_pass_when_the_log_names_the_supplier_links(scenario: Scenario) -> None:
    result = run(scenario.plain(), scenario.trust)
    assert outcome(result, "token.parents") is Outcome.PASS
    assert detail(result, "token.parents") == "1 supplier token(s)"


def test_token_parents_fail_when_the_logged_statement_hides_a_supplier(
        scenario: Scenario) -> None:
    # The issuer logs the token with no parents, so the log does not show the dependency.
    bom = head_bom(scenario.supplier.digest)
    built = build_origin_token(bom, determine_origin(bom), certification(MAKER),
                               shipment_id="HPC-HIDDEN", key=MAKER_KEY,
                               created="2026-11-22T12:00:00Z", salts=salts(bom, 13))
    scenario.world.log_foreign_token(built.token, built.digest, MAKER_KEY, parents=[])
    result = run(scenario.ledger.fresh_bundle(built.digest), scenario.trust)
    assert outcome(result, "token.signature") is Outcome.PASS
    assert outcome(result, "token.parents") is Outcome.FAIL
    assert result.decision is Decision.REJECT


# ---------------------------------------------------------------------------------------
# disclosure.lines and determination.recompute


def test_full_disclosure_matches_parts_root_and_recomputes_the_determination(
        scenario: Scenario) -> None:
    result = run(scenario.disclosed(), scenario.trust)
    count = scenario.head.commitment.count
    assert outcome(result, "disclosure.lines") is Outcome.PASS
    assert detail(result, "disclosure.lines") == f"{count} of {count} line(s) match partsRoot"
    assert outcome(result, "determination.recompute") is Outcome.PASS
    assert "77.676950" in detail(result, "determination.recompute")
    assert result.decision is Decision.CLEAR


#: The module (``ledger.verify`` the attribute is the function `verify`).
VERIFY_MODULE = importlib.import_module("ledger.verify")


def _with_a_later_rule_set(monkeypatch: pytest.MonkeyPatch) -> str:
    """The shipped rule book plus a hypothetical later text (every RVC threshold 20 points
    higher, in force from the day after the shipped one): what a rule book looks like once
    a review's new text ships. Returns the shipped set's name."""
    import dataclasses
    from datetime import timedelta

    from origin_rules.rules import RuleBook, default_rule_book

    shipped = default_rule_book()
    current = shipped.rule_sets[-1]
    later = dataclasses.replace(
        current, rule_set=f"{current.rule_set}-hypothetical",
        valid_from=current.valid_from + timedelta(days=1),
        categories=tuple(dataclasses.replace(c, thresholds=tuple(
            dataclasses.replace(t, min=t.min + 20) for t in c.thresholds))
            for c in current.categories))
    book = RuleBook((*shipped.rule_sets, later))
    monkeypatch.setattr(VERIFY_MODULE, "default_rule_book", lambda: book)
    # determine_origin's own default too: without `rules=` it would take the later text.
    monkeypatch.setattr(importlib.import_module("origin_rules.engine.core"),
                        "default_rule_book", lambda: book)
    return current.rule_set


def test_a_token_is_recomputed_under_the_rule_set_it_names(
        scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10: once a second rule set ships, an older token is still judged by the rules
    in force when it was issued, not by the newest rule book."""
    from ledger.token import document_from_records
    from origin_rules import bom_from_dict, determine_origin
    from origin_rules.rules import RuleBook

    named = _with_a_later_rule_set(monkeypatch)
    bundle = scenario.disclosed()
    assert bundle["token"]["credentialSubject"]["determination"]["ruleSet"] == named
    result = run(bundle, scenario.trust)
    assert outcome(result, "determination.recompute") is Outcome.PASS, detail(
        result, "determination.recompute")
    assert f"under rule set {named}" in detail(result, "determination.recompute")
    # The newest book would have judged otherwise: the check would then have failed.
    newest: RuleBook = VERIFY_MODULE.default_rule_book()
    records = [d["record"] for d in sorted(bundle["disclosures"], key=lambda d: d["line"])]
    later = determine_origin(bom_from_dict(document_from_records(records)), rules=newest)
    assert later.rule_set != named


def test_a_rule_set_the_verifier_lacks_cannot_be_recomputed(
        scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    from origin_rules.rules import RuleBook

    monkeypatch.setattr(VERIFY_MODULE, "default_rule_book", lambda: RuleBook(()))
    result = run(scenario.disclosed(), scenario.trust)
    assert outcome(result, "determination.recompute") is Outcome.WARN
    assert "does not have" in detail(result, "determination.recompute")
    assert result.decision is Decision.REVIEW


def test_a_token_that_names_a_hypothetical_rule_set_is_rejected_on_recompute(
        scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10: `build_origin_token` refuses what-if determinations, so a token naming a
    scenario's rule set was not made by this software; its recomputation fails. (The
    verifier is shown a catalogue in which the token's rule set is a scenario's.)"""
    import types

    from origin_rules.rules import RuleBook

    named = scenario.disclosed()["token"]["credentialSubject"]["determination"]["ruleSet"]
    monkeypatch.setattr(VERIFY_MODULE, "default_rule_book", lambda: RuleBook(()))
    catalogue = types.SimpleNamespace(scenarios=[types.SimpleNamespace(rule_set=named)])
    monkeypatch.setattr(VERIFY_MODULE, "default_catalogue", lambda: catalogue)
    result = run(scenario.disclosed(), scenario.trust)
    assert outcome(result, "determination.recompute") is Outcome.FAIL
    assert "hypothetical rule set" in detail(result, "determination.recompute")
    assert result.decision is Decision.REJECT


def test_no_disclosure_is_skipped_unless_the_trust_file_requires_it(
        scenario: Scenario) -> None:
    bundle = scenario.plain()
    assert outcome(run(bundle, scenario.trust), "disclosure.lines") is Outcome.SKIP
    strict = trust_file(scenario.world, require_disclosure=True)
    result = run(bundle, strict)
    assert outcome(result, "disclosure.lines") is Outcome.WARN
    assert result.decision is Decision.REVIEW


def test_partial_disclosure_cannot_recompute_and_needs_review_when_full_is_required(
        scenario: Scenario) -> None:
    bundle = scenario.disclosed([0, 3])
    relaxed = run(bundle, scenario.trust)
    assert outcome(relaxed, "disclosure.lines") is Outcome.PASS
    assert outcome(relaxed, "determination.recompute") is Outcome.SKIP
    assert relaxed.decision is Decision.CLEAR

    strict = run(bundle, trust_file(scenario.world, require_disclosure=True))
    assert outcome(strict, "determination.recompute") is Outcome.WARN
    assert strict.decision is Decision.REVIEW


def test_a_disclosure_with_a_wrong_record_is_rejected(scenario: Scenario) -> None:
    bundle = scenario.disclosed()
    priced = next(d for d in bundle["disclosures"] if "unit_value" in d["record"])
    priced["record"]["unit_value"] = "0.01"  # a cheaper non-originating part, say
    result = run(bundle, scenario.trust)
    assert outcome(result, "disclosure.lines") is Outcome.FAIL
    assert "determination.recompute" not in check_names(result)
    assert result.decision is Decision.REJECT


def test_a_disclosure_at_the_wrong_line_is_rejected(scenario: Scenario) -> None:
    bundle = scenario.disclosed([1])
    bundle["disclosures"][0]["line"] = 2
    result = run(bundle, scenario.trust)
    assert outcome(result, "disclosure.lines") is Outcome.FAIL
    assert result.decision is Decision.REJECT


def test_a_line_disclosed_twice_is_rejected(scenario: Scenario) -> None:
    bundle = scenario.disclosed([1])
    bundle["disclosures"].append(copy.deepcopy(bundle["disclosures"][0]))
    result = run(bundle, scenario.trust)
    assert outcome(result, "disclosure.lines") is Outcome.FAIL
    assert result.decision is Decision.REJECT


def test_a_disclosure_carrying_an_extra_field_is_rejected(scenario: Scenario) -> None:
    # Nothing unauthenticated may travel in a bundle (verify's module docstring).
    bundle = scenario.disclosed()
    bundle["disclosures"][0]["note"] = "price negotiable"
    result = run(bundle, scenario.trust)
    assert result.decision is Decision.REJECT, not_passed(result)
    assert outcome(result, "disclosure.lines") is Outcome.FAIL


def test_a_determination_the_disclosed_bom_does_not_support_is_rejected() -> None:
    # The issuer commits to its true BOM lines but signs the determination of a BOM with
    # a cheaper Chinese casting: every disclosed line matches partsRoot, the RVC does not.
    world = World()
    world.register(BRAKES_KEY, BRAKES)
    true_bom = caliper_bom()
    cheaper = caliper_document()
    for item in cheaper["items"]:
        if item["id"] == "housing-casting":
            item["unit_value"] = "41.60"
    forged = determine_origin(caliper_bom(cheaper))
    assert forged.to_dict()["results"] != determine_origin(true_bom).to_dict()["results"]
    built = build_origin_token(true_bom, forged, certification(BRAKES), shipment_id="FBA-F",
                               key=BRAKES_KEY, created="2026-11-22T12:00:00Z",
                               salts=salts(true_bom, 14))
    world.log_foreign_token(built.token, built.digest, BRAKES_KEY)
    bundle = world.ledger.fresh_bundle(built.digest, commitment=built.commitment,
                                 disclose_lines=range(built.commitment.count))
    result = run(bundle, trust_file(world))

    assert outcome(result, "token.signature") is Outcome.PASS
    assert outcome(result, "disclosure.lines") is Outcome.PASS
    assert outcome(result, "determination.recompute") is Outcome.FAIL
    assert result.decision is Decision.REJECT


# ---------------------------------------------------------------------------------------
# suppliers and supplier.<digest>


def test_suppliers_are_skipped_for_a_token_that_links_none(scenario: Scenario) -> None:
    result = run(scenario.supplier_bundle(), scenario.trust)
    assert outcome(result, "suppliers") is Outcome.SKIP
    assert supplier_checks(result) == []
    assert result.decision is Decision.CLEAR


def test_a_linked_supplier_without_its_bundle_is_skipped_or_reviewed_if_required(
        scenario: Scenario) -> None:
    bundle = scenario.plain()
    assert outcome(run(bundle, scenario.trust), "suppliers") is Outcome.SKIP
    result = run(bundle, trust_file(scenario.world, require_supplier_bundles=True))
    assert outcome(result, "suppliers") is Outcome.WARN
    assert result.decision is Decision.REVIEW


def test_a_nested_clear_supplier_bundle_passes(scenario: Scenario) -> None:
    result = run(scenario.nested(), trust_file(scenario.world, require_supplier_bundles=True))
    assert outcome(result, "suppliers") is Outcome.PASS
    assert outcome(result, f"supplier.{scenario.supplier.digest[:16]}") is Outcome.PASS
    assert result.decision is Decision.CLEAR


def test_a_revoked_supplier_token_rejects_the_token_that_relies_on_it(
        scenario: Scenario) -> None:
    scenario.ledger.revoke_token(scenario.supplier.digest, signer=SUPPLIER_KEY,
                                 reason="certificate withdrawn")
    result = run(scenario.nested(), scenario.trust)
    name = f"supplier.{scenario.supplier.digest[:16]}"
    assert outcome(result, name) is Outcome.FAIL
    assert "status.token" in detail(result, name)
    assert result.decision is Decision.REJECT


def test_a_supplier_bundle_in_review_puts_the_token_in_review() -> None:
    world = World()
    world.register(SUPPLIER_KEY, SUPPLIER)
    world.register(MAKER_KEY, MAKER)
    expired = world.issue(lash_bom(), SUPPLIER, SUPPLIER_KEY, shipment="LSV-2025", seed=15,
                          blanket=BlanketPeriod(date(2025, 1, 1), date(2025, 12, 31)))
    head = world.issue(head_bom(expired.digest), MAKER, MAKER_KEY, shipment="HPC", seed=16)
    bundle = world.ledger.fresh_bundle(head.digest,
                                 suppliers={expired.digest:
                                            world.ledger.fresh_bundle(expired.digest)})
    result = run(bundle, trust_file(world))
    assert outcome(result, f"supplier.{expired.digest[:16]}") is Outcome.WARN
    assert outcome(result, "suppliers") is Outcome.PASS
    assert result.decision is Decision.REVIEW


def test_a_nested_bundle_for_a_token_not_linked_is_rejected(scenario: Scenario) -> None:
    unrelated = scenario.world.issue(caliper_bom(), MAKER, MAKER_KEY, shipment="X", seed=17)
    bundle = scenario.nested()
    bundle["suppliers"].append(scenario.ledger.fresh_bundle(unrelated.digest))
    result = run(bundle, scenario.trust)
    assert outcome(result, f"supplier.{unrelated.digest[:16]}") is Outcome.FAIL
    assert result.decision is Decision.REJECT


def test_a_supplier_token_logged_after_the_token_citing_it_is_rejected(
        scenario: Scenario) -> None:
    # A forked log under the same key (its witnesses' state was lost): there the supplier
    # token sits after the head token's position in the main log.
    fork = World()
    for seed in (31, 32, 33, 34):
        fork.register(key(seed), {"id": f"pad-{seed}", "name": "Padding", "country": "US"})
    fork.register(SUPPLIER_KEY, SUPPLIER)
    forked = fork.issue(lash_bom(), SUPPLIER, SUPPLIER_KEY, shipment="LSV-0311", seed=1)
    assert forked.digest == scenario.supplier.digest
    assert forked.index > scenario.head.index

    bundle = scenario.ledger.fresh_bundle(
        scenario.head.digest, suppliers={forked.digest: fork.ledger.fresh_bundle(forked.digest)})
    result = run(bundle, scenario.trust)
    name = f"supplier.{forked.digest[:16]}"
    assert outcome(result, name) is Outcome.FAIL
    assert "logged after" in detail(result, name)
    assert result.decision is Decision.REJECT


def test_suppliers_fail_when_nested_too_deeply(scenario: Scenario,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_module, "MAX_SUPPLIER_DEPTH", 0)
    result = run(scenario.nested(), scenario.trust)
    assert outcome(result, "suppliers") is Outcome.FAIL
    assert "nested too deeply" in detail(result, "suppliers")
    assert result.decision is Decision.REJECT


def test_a_chain_of_suppliers_deeper_than_the_limit_is_rejected() -> None:
    world = World()
    world.register(SUPPLIER_KEY, SUPPLIER)
    previous: tuple[str, dict[str, Any]] | None = None
    depth = verify_module.MAX_SUPPLIER_DEPTH + 2
    for n in range(depth):
        bom = lash_bom(cites=previous[0] if previous else None)
        token = world.issue(bom, SUPPLIER, SUPPLIER_KEY, shipment=f"LSV-{n}", seed=40 + n)
        suppliers = {previous[0]: previous[1]} if previous else None
        previous = (token.digest, world.ledger.fresh_bundle(token.digest, suppliers=suppliers))
    assert previous is not None
    trust = trust_file(world)

    result = run(previous[1], trust)
    assert result.decision is Decision.REJECT
    assert [c.outcome for c in supplier_checks(result)] == [Outcome.FAIL]
    # One level less deep is within the limit.
    inner = previous[1]["suppliers"][0]
    assert run(inner["suppliers"][0], trust).decision is Decision.CLEAR


# ---------------------------------------------------------------------------------------
# determination.margin


def test_margin_is_skipped_without_a_tolerance(scenario: Scenario) -> None:
    assert outcome(run(scenario.plain(), scenario.trust), "determination.margin") is Outcome.SKIP


def test_margin_passes_above_the_tolerance(scenario: Scenario) -> None:
    # Net cost 77.676950 % against 75 %: 2.676950 points of headroom.
    result = run(scenario.plain(), trust_file(scenario.world, margin_tolerance="2.5"))
    assert outcome(result, "determination.margin") is Outcome.PASS
    assert "2.676950" in detail(result, "determination.margin")
    assert result.decision is Decision.CLEAR


def test_a_margin_under_the_tolerance_needs_review(scenario: Scenario) -> None:
    result = run(scenario.plain(), trust_file(scenario.world, margin_tolerance="3"))
    assert outcome(result, "determination.margin") is Outcome.WARN
    assert result.decision is Decision.REVIEW


# ---------------------------------------------------------------------------------------
# Exhaustive mutation of a clear bundle


@functools.cache
def _strict_case() -> tuple[str, TrustFile]:
    """A clear bundle carrying everything (full disclosure, nested fully disclosed supplier
    bundle) and a trust file requiring all of it; built once, handed out as JSON text.
    """
    scenario = build_scenario()
    bundle = scenario.nested(disclose=True)
    bundle["suppliers"] = [scenario.ledger.fresh_bundle(
        scenario.supplier.digest, commitment=scenario.supplier.commitment,
        disclose_lines=range(scenario.supplier.commitment.count))]
    trust = trust_file(scenario.world, require_disclosure=True, require_supplier_bundles=True,
                       margin_tolerance="1")
    return json.dumps(bundle), trust


def strict_case() -> tuple[dict[str, Any], TrustFile]:
    text, trust = _strict_case()
    return json.loads(text), trust


Path_ = tuple[str | int, ...]


def leaves(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield from leaves(item, (*path, name))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from leaves(item, (*path, n))
    else:
        yield path, value


def objects(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, dict[str, Any]]]:
    if isinstance(value, dict):
        yield path, value
        for name, item in value.items():
            yield from objects(item, (*path, name))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from objects(item, (*path, n))


def at(document: Any, path: Path_) -> Any:
    for step in path:
        document = document[step]
    return document


def _other_char(char: str) -> str:
    """A different character of the same kind, so the value stays well formed."""
    for alphabet in ("0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        if char in alphabet:
            return alphabet[(alphabet.index(char) + 1) % len(alphabet)]
    return "x" if char != "x" else "y"


def changed_values(value: Any) -> list[Any]:
    """string: one character altered (first, middle, last, and the middle of each line);
    int: +1; bool: flipped; null: "x".
    """
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1]
    if value is None:
        return ["x"]
    assert isinstance(value, str)
    if not value:
        return ["x"]
    positions = {0, len(value) // 2, len(value) - 1}
    start = 0
    for line in value.split("\n"):
        if line:
            positions.add(start + len(line) // 2)
        start += len(line) + 1
    return [value[:i] + _other_char(value[i]) + value[i + 1:] for i in sorted(positions)]


def test_the_mutation_base_is_clear_under_the_strict_trust_file() -> None:
    bundle, trust = strict_case()
    result = run(bundle, trust)
    assert result.decision is Decision.CLEAR, not_passed(result)
    assert len(bundle["disclosures"]) == len(line_records(head_bom("0" * 64)))
    assert bundle["suppliers"][0]["disclosures"]
    assert sum(1 for _ in leaves(bundle)) > 500


@pytest.mark.parametrize("section", ["format", "token", "log", "disclosures", "suppliers"])
def test_every_single_changed_value_is_rejected(section: str) -> None:
    bundle, trust = strict_case()
    survivors = []
    tried = 0
    for path, value in leaves(bundle[section], (section,)):
        for new in changed_values(value):
            mutated = copy.deepcopy(bundle)
            at(mutated, path[:-1])[path[-1]] = new
            tried += 1
            result = run(mutated, trust)
            if result.decision is not Decision.REJECT:
                survivors.append((path, value, new, result.decision))
    assert tried > (0 if section == "format" else 100)
    assert survivors == []


OPTIONAL_EVIDENCE = {"disclosures", "suppliers"}


def test_every_removed_key_is_rejected_except_withheld_evidence_which_needs_review() -> None:
    bundle, trust = strict_case()
    survivors = []
    for path, obj in objects(bundle):
        for name in obj:
            mutated = copy.deepcopy(bundle)
            del at(mutated, path)[name]
            result = run(mutated, trust)
            # A bundle without its disclosures or supplier bundles is a smaller, authentic
            # bundle: the strict trust file asks for review, not for a rejection.
            expected = (Decision.REVIEW if name in OPTIONAL_EVIDENCE and (
                path == () or path[-2:-1] == ("suppliers",)) else Decision.REJECT)
            if result.decision != expected:
                survivors.append((path, name, result.decision))
    assert survivors == []


def test_an_unknown_key_added_to_any_object_is_rejected() -> None:
    bundle, trust = strict_case()
    survivors = []
    for path, _ in objects(bundle):
        mutated = copy.deepcopy(bundle)
        at(mutated, path)["unknownField"] = "x"
        result = run(mutated, trust)
        if result.decision is not Decision.REJECT:
            survivors.append((path, result.decision))
    assert survivors == []


def test_withholding_a_disclosed_line_or_a_supplier_bundle_needs_review() -> None:
    bundle, trust = strict_case()
    for path in (("disclosures",), ("suppliers",), ("suppliers", 0, "disclosures")):
        mutated = copy.deepcopy(bundle)
        del at(mutated, path)[0]
        assert run(mutated, trust).decision is Decision.REVIEW, path


# ---------------------------------------------------------------------------------------
# verify never raises (fuzzing: `make fuzz` runs these with many more examples)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def assert_rejected_as_malformed(result: Verification) -> None:
    assert result.decision is Decision.REJECT
    assert result.checks[0].name == "bundle.format"
    assert result.checks[0].outcome is Outcome.FAIL


@pytest.mark.fuzz
@given(st.binary(max_size=512))
def test_random_bytes_are_rejected_on_format(data: bytes) -> None:
    _, trust = strict_case()
    assert_rejected_as_malformed(run(data, trust))


@pytest.mark.fuzz
@given(st.text(max_size=512))
def test_random_text_is_rejected_on_format(text: str) -> None:
    _, trust = strict_case()
    assert_rejected_as_malformed(run(text, trust))


@pytest.mark.fuzz
@given(json_values)
def test_json_of_the_wrong_shape_is_rejected_on_format(value: Any) -> None:
    _, trust = strict_case()
    assert_rejected_as_malformed(run(value if isinstance(value, dict) else json.dumps(value),
                                     trust))


@pytest.mark.fuzz
@given(st.dictionaries(st.sampled_from(["format", "token", "log", "disclosures",
                                        "suppliers", "x"]), json_values))
def test_bundle_shaped_objects_of_wrong_types_are_rejected_on_format(value: dict[str, Any]
                                                                     ) -> None:
    _, trust = strict_case()
    value["format"] = "tmec-bundle/1"
    assert_rejected_as_malformed(run(value, trust))


@functools.cache
def _leaf_paths() -> tuple[Path_, ...]:
    bundle, _ = strict_case()
    return tuple(path for path, _ in leaves(bundle))


@pytest.mark.fuzz
@given(st.data())
def test_any_value_replaced_by_arbitrary_json_is_rejected_without_raising(
        data: st.DataObject) -> None:
    bundle, trust = strict_case()
    path = data.draw(st.sampled_from(_leaf_paths()), label="path")
    new = data.draw(json_values, label="value")
    original = at(bundle, path)
    at(bundle, path[:-1])[path[-1]] = new
    result = run(bundle, trust)  # must not raise, whatever the value
    if new != original or type(new) is not type(original):
        assert result.decision is Decision.REJECT


@pytest.mark.fuzz
@given(st.data())
def test_any_object_replaced_by_arbitrary_json_is_rejected_without_raising(
        data: st.DataObject) -> None:
    bundle, trust = strict_case()
    paths = [path for path, _ in objects(bundle) if path]
    path = data.draw(st.sampled_from(paths), label="path")
    new = data.draw(json_values, label="value")
    at(bundle, path[:-1])[path[-1]] = new
    result = run(bundle, trust)
    assert result.decision is Decision.REJECT
