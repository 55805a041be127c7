"""The derived state and tiles the store keeps equal a replay of the log, whatever happened.

Random histories of key, token, revoke, supersede and status statements, appended in random
batches, refused ones included (a refused batch is retried one statement at a time, as the
sequencer does). Afterwards:

* every token's standing and key state, read from the store, equal a model written here
  from the rules' text (ledger design s.5-6), not from the ledger's code;
* the audit, which replays the log from scratch and compares every derived row and tile
  with the stored ones, finds nothing;
* every root and inclusion / consistency proof read from the stored tiles is the
  reference one of `ledger.merkle` over the entries' leaf hashes, and verifies.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.crypto import SigningKey, sha256
from ledger.errors import LedgerError
from ledger.multikey import did_key
from ledger.service import Ledger
from ledger.statements import sign_statement
from ledger.store import LogStore, MemoryStore
from ledger.store.sql import SqlStore
from ledger.token import shipment_digest
from tests.ledger.world import LOG_KEY, ORIGIN, key, key_statement, kid_of, now, rotation

PARTIES = [{"id": f"party-{n}", "name": f"Party {n}", "country": "MX"} for n in range(3)]
TIME = "2026-11-22T12:00:00Z"


@dataclass
class Model:
    """What the rules say the state is, kept by the test."""

    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # kid -> life
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)  # digest -> facts

    def key_state(self, kid: str, index: int) -> str:
        life = self.keys[kid]
        if index <= life["added"]:
            return "unknown"
        if life["since"] is not None and index >= life["since"]:
            return "compromised"
        if life["retired"] is not None and index > life["retired"]:
            return "revoked"
        return "valid"

    def token_state(self, digest: str) -> str:
        """What the registrar's status says of the token itself (its own events)."""
        token = self.tokens[digest]
        if token["revoked"] is not None:
            return "revoked"
        return "superseded" if token["superseded"] is not None else "active"

    def evidence(self, digest: str) -> str:
        """The worst standing among every token it rests on, transitively."""
        order = ["active", "superseded", "revoked"]
        worst, stack, seen = "active", list(self.tokens[digest]["parents"]), set()
        while stack:
            parent = stack.pop()
            if parent not in seen:
                seen.add(parent)
                worst = max(worst, self.standing(parent), key=order.index)
                stack.extend(self.tokens[parent]["parents"])
        return worst

    def standing(self, digest: str) -> str:
        token = self.tokens[digest]
        if token["revoked"] is not None or self.key_state(token["kid"], token["index"]) != (
                "valid"):
            return "revoked"
        return "superseded" if token["superseded"] is not None else "active"


@dataclass
class History:
    """Builds signed statements from drawn choices, against what the model knows."""

    ledger: Ledger
    model: Model = field(default_factory=Model)
    party_keys: dict[str, list[SigningKey]] = field(default_factory=dict)
    seed: int = 40
    serial: int = 0

    def new_key(self) -> SigningKey:
        self.seed += 1
        return key(self.seed)

    def current(self, party: str) -> SigningKey | None:
        keys = self.party_keys.get(party, [])
        return keys[-1] if keys else None

    def statement(self, data: st.DataObject) -> dict[str, Any]:
        choice = data.draw(st.sampled_from(
            ["key", "key", "token", "token", "token", "rotate", "revoke_token",
             "revoke_key", "supersede", "status", "impostor"]), label="kind")
        party = data.draw(st.sampled_from(PARTIES), label="party")
        signer = self.current(party["id"])
        tokens = sorted(self.model.tokens)
        if choice == "key" or signer is None:
            new = self.new_key()
            self.party_keys.setdefault(party["id"], []).append(new)  # may be refused
            return sign_statement(key_statement(new, party), new, kid_of(new))
        if choice == "rotate":
            new = self.new_key()
            self.party_keys[party["id"]].append(new)
            return sign_statement(rotation(signer, new, party), signer, kid_of(signer),
                                  possession=new)
        if choice == "token":
            self.serial += 1
            blob = b'{"serial":%d}' % self.serial  # the audit checks blob against digest
            digest = sha256(blob).hex()
            parents = data.draw(st.lists(st.sampled_from(tokens), max_size=2, unique=True)
                                if tokens else st.just([]), label="parents")
            shipment = data.draw(st.sampled_from(["A", "B", f"S{self.serial}"]),
                                 label="shipment")
            body: dict[str, Any] = {
                "v": 1, "type": "token", "time": TIME, "tokenDigest": digest,
                "issuer": did_key(signer.public_key), "parents": sorted(parents),
                "blanket": False, "shipment": shipment_digest(shipment)}
            if tokens and data.draw(st.booleans(), label="supersedes"):
                body["supersedes"] = data.draw(st.sampled_from(tokens))
            self.ledger.store.put_blob(digest, blob)
            return sign_statement(body, signer, kid_of(signer))
        if choice == "revoke_key":
            known = sorted(kid_of(k) for keys in self.party_keys.values() for k in keys)
            target = data.draw(st.sampled_from(known), label="target")
            body = {"v": 1, "type": "revoke", "target": "key", "time": TIME, "kid": target,
                    "reason": "test"}
            if data.draw(st.booleans(), label="compromised"):
                body["compromisedSince"] = data.draw(st.integers(0, self.ledger.size))
            return self.signed_by_party_or_registrar(body, signer, data)
        if not tokens:
            return self.statement(data)
        digest = data.draw(st.sampled_from(tokens), label="token")
        if choice == "revoke_token":
            body = {"v": 1, "type": "revoke", "target": "token", "time": TIME,
                    "tokenDigest": digest, "reason": "test"}
            return self.signed_by_party_or_registrar(body, signer, data)
        if choice == "supersede":
            body = {"v": 1, "type": "supersede", "time": TIME, "tokenDigest": digest,
                    "newTokenDigest": data.draw(st.sampled_from(tokens)), "reason": "test"}
            return sign_statement(body, signer, kid_of(signer))
        if choice == "status":
            return self.ledger._sign(self.ledger._status_of(digest, self.ledger.size), None)
        stranger = self.new_key()  # an impostor: a key the log never admitted
        body = {"v": 1, "type": "revoke", "target": "token", "time": TIME,
                "tokenDigest": digest, "reason": "impostor"}
        return sign_statement(body, stranger, kid_of(stranger))

    def signed_by_party_or_registrar(self, body: dict[str, Any], signer: SigningKey,
                                     data: st.DataObject) -> dict[str, Any]:
        if data.draw(st.booleans(), label="by registrar"):
            return self.ledger._sign(body, None)
        return sign_statement(body, signer, kid_of(signer))

    def learn(self, index: int, statement: dict[str, Any]) -> None:
        """Record in the model what an *accepted* statement at `index` means."""
        kind = statement["type"]
        if kind == "key":
            self.model.keys[statement["kid"]] = {"added": index, "retired": None,
                                                 "since": None}
            if statement["action"] == "rotate":
                self.retire(statement["replaces"], index, None)
        elif kind == "token":
            self.model.tokens[statement["tokenDigest"]] = {
                "index": index, "kid": statement["signer"], "parents": statement["parents"],
                "revoked": None, "superseded": None}
            replaced = statement.get("supersedes")
            if replaced is not None:
                self.model.tokens[replaced]["superseded"] = (
                    self.model.tokens[replaced]["superseded"] or index)
        elif kind == "revoke" and statement["target"] == "token":
            token = self.model.tokens[statement["tokenDigest"]]
            token["revoked"] = token["revoked"] if token["revoked"] is not None else index
        elif kind == "revoke":
            self.retire(statement["kid"], index, statement.get("compromisedSince"))
        elif kind == "supersede":
            token = self.model.tokens[statement["tokenDigest"]]
            token["superseded"] = token["superseded"] or index

    def retire(self, kid: str, index: int, since: int | None) -> None:
        life = self.model.keys[kid]
        if life["retired"] is None:
            life["retired"] = index
        if since is not None and (life["since"] is None or since < life["since"]):
            life["since"] = since


def signer_of(statement: dict[str, Any]) -> str:
    return str(statement["signature"]["kid"])


def run_history(store: LogStore, data: st.DataObject, steps: int) -> History:
    ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
    history = History(ledger)
    for _ in range(steps):
        size = data.draw(st.integers(1, 4), label="batch")
        batch = [history.statement(data) for _ in range(size)]
        try:
            indices = ledger.append(batch)
            accepted = list(zip(indices, batch, strict=True))
        except LedgerError:
            accepted = []
            for statement in batch:  # the sequencer isolates the refused ones
                try:
                    (index,) = ledger.append([statement])
                except LedgerError:
                    continue
                accepted.append((index, statement))
        for index, statement in accepted:
            history.learn(index, {**statement, "signer": signer_of(statement)})
    return history


def check_against_model_and_replay(history: History, data: st.DataObject) -> None:
    ledger, model = history.ledger, history.model
    for digest in model.tokens:
        status = ledger.token_status(digest)
        assert status["token"] == model.token_state(digest), (digest, status)
        assert status["evidence"] == model.evidence(digest), (digest, status)
        assert status["key"] == model.key_state(model.tokens[digest]["kid"],
                                                model.tokens[digest]["index"])
    for kid in model.keys:
        record = ledger.keys().get(kid)
        assert (record.added_at, record.retired_at, record.compromised_since) == (
            model.keys[kid]["added"], model.keys[kid]["retired"], model.keys[kid]["since"])
    report = ledger.audit()
    assert report.ok, report.problems
    size = ledger.size
    leaves = [e.leaf_hash for e in ledger.store.entries(0, size)]
    tree_size = data.draw(st.integers(1, size), label="tree size")
    root = ledger.root(tree_size)
    assert root == merkle.root(leaves[:tree_size])
    index = data.draw(st.integers(0, tree_size - 1), label="index")
    proof = ledger.inclusion_proof(index, tree_size)
    merkle.verify_inclusion(leaves[index], index, tree_size, proof, root)
    old = data.draw(st.integers(1, tree_size), label="old size")
    merkle.verify_consistency(old, tree_size, ledger.consistency_proof(old, tree_size),
                              merkle.root(leaves[:old]), root)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_memory_store_state_equals_the_rules_and_a_replay(data: st.DataObject) -> None:
    history = run_history(MemoryStore(), data, steps=data.draw(st.integers(1, 25)))
    check_against_model_and_replay(history, data)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_sqlite_store_state_equals_the_rules_and_a_replay(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp, SqlStore.open(f"sqlite:///{tmp}/l.db") as store:
        history = run_history(store, data, steps=data.draw(st.integers(1, 15)))
        check_against_model_and_replay(history, data)


def test_a_long_history_crosses_tile_boundaries() -> None:
    """600 entries: full level-0 tiles are stored and the proofs still match."""
    store = MemoryStore()
    ledger = Ledger(store, LOG_KEY, origin=ORIGIN, now=now)
    signer = key(90)
    ledger.register_key(signer, PARTIES[0])
    batch = []
    for n in range(600):
        blob = b'{"n":%d}' % n
        digest = sha256(blob).hex()
        store.put_blob(digest, blob)
        batch.append(sign_statement(
            {"v": 1, "type": "token", "time": TIME, "tokenDigest": digest,
             "issuer": did_key(signer.public_key), "parents": [], "blanket": False,
             "shipment": shipment_digest(f"S{n}")}, signer, kid_of(signer)))
    for start in (0, 100, 355, 511):
        ledger.append(batch[start:[100, 355, 511, 600][[0, 100, 355, 511].index(start)]])
    assert store.tile(0, 0) is not None
    assert store.tile(0, 1) is not None
    assert store.tile(0, 2) is None
    leaves = [e.leaf_hash for e in store.entries(0, ledger.size)]
    assert ledger.root() == merkle.root(leaves)
    assert ledger.audit().ok
