"""The ledger's working directory for the CLI: files in, `Ledger` out.

Layout of ``$TMEC_HOME`` (all created on first use, private keys mode 0600):

```
ledger.db                 SQLite ledger (unless TMEC_DATABASE_URL names another database)
log.key                   the log's note key (PRIVATE+KEY+<origin>+...): checkpoints, registrar
witnesses/<name>.key      each customs authority's cosignature/v1 key (cbp, cbsa, anam)
witnesses/<name>.json     what that witness last cosigned (its own state)
trust.json                the trust file verifiers use: log key, witnesses, quorum, max age
keys/<party>.json         a party's Ed25519 key and Annex 5-A contact details
tokens/<digest>.json      issued tokens; <digest>.parts.json keeps the salts and records the
                          issuer needs to disclose lines later (commercial data: keep private)
```

In production the witnesses run at CBP, CBSA and ANAM and the parties keep their own keys;
keeping them side by side here is what makes a one-machine demo and tests possible.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.canonical import parse_json
from ledger.config import Settings
from ledger.crypto import SigningKey
from ledger.errors import InputError, NotFoundError
from ledger.multikey import decode_secret_key, encode_secret_key, verification_method_id
from ledger.note import SIG_COSIGNATURE_V1, Signer, Verifier
from ledger.policy import Policy
from ledger.service import Ledger, utc_now
from ledger.token import PartsCommitment, commit_parts
from ledger.verify import TrustFile, VerifyOptions
from ledger.witness import Witness, WitnessState

__all__ = ["DEFAULT_WITNESSES", "FileWitness", "PartyKey", "Workspace"]

DEFAULT_WITNESSES = ("cbp", "cbsa", "anam")
DEFAULT_MAX_AGE = 24 * 3600


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


class FileWitness:
    """A witness whose key and state live in files (one JSON state file per witness)."""

    def __init__(self, key_path: Path, state_path: Path, log: Verifier) -> None:
        self.signer = Signer.from_skey(key_path.read_text(encoding="utf-8").strip())
        self.state_path = state_path
        self.log = log

    @property
    def name(self) -> str:
        """The witness's key name (e.g. cbp)."""
        return self.signer.verifier.name

    def _witness(self) -> Witness:
        state = None
        if self.state_path.exists():
            state = WitnessState.from_json(json.loads(self.state_path.read_text("utf-8")))
        return Witness(self.signer, [self.log], state)

    def latest_size(self, origin: str) -> int:
        """Size of the last checkpoint this witness cosigned for `origin`."""
        return self._witness().latest_size(origin)

    def add_checkpoint(self, signed_checkpoint: str | bytes, old_size: int,
                       consistency_proof: Sequence[bytes], now: int) -> str:
        """Check, cosign and persist the new state (atomically, before answering)."""
        witness = self._witness()
        line = witness.add_checkpoint(signed_checkpoint, old_size, consistency_proof, now)
        _write(self.state_path, json.dumps(witness.state.to_json(), indent=2) + "\n")
        return line


@dataclass(frozen=True)
class PartyKey:
    """A party's signing key with the contact details its certifications carry."""

    key: SigningKey
    kid: str
    party: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, path: Path) -> PartyKey:
        """Read a key file written by `Workspace.new_party_key`."""
        try:
            data = parse_json(path.read_bytes())
        except FileNotFoundError:
            raise NotFoundError(f"no key file {path}") from None
        if not isinstance(data, dict) or data.get("format") != "tmec-key/1":
            raise InputError(f"{path} is not a tmec key file")
        key = SigningKey(decode_secret_key(str(data["secretKeyMultibase"])))
        kid = verification_method_id(key.public_key)
        if data.get("kid") != kid:
            raise InputError(f"{path}: the key id does not match the secret key")
        return cls(key, kid, dict(data["party"]), path)


class Workspace:
    """Files of one ledger installation (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.home

    # paths
    @property
    def log_key_path(self) -> Path:
        """The log's private note key."""
        return self.home / "log.key"

    @property
    def trust_path(self) -> Path:
        """The trust file for verifiers."""
        return self.home / "trust.json"

    def witness_paths(self, name: str) -> tuple[Path, Path]:
        """(key file, state file) of a witness."""
        return self.home / "witnesses" / f"{name}.key", self.home / "witnesses" / f"{name}.json"

    # setup
    def initialised(self) -> bool:
        """True when the log key exists."""
        return self.log_key_path.exists()

    def init(self, *, witnesses: Sequence[str] = DEFAULT_WITNESSES, quorum: int = 2,
             max_age_seconds: int | None = DEFAULT_MAX_AGE) -> None:
        """Create the log key, one key per witness and the trust file (idempotent)."""
        self.home.mkdir(parents=True, exist_ok=True)
        if not self.log_key_path.exists():
            signer = Signer(self.settings.origin, SigningKey.generate())
            _write_private(self.log_key_path, signer.skey + "\n")
        signer = self.log_signer()
        cosigners = []
        for name in witnesses:
            key_path, _ = self.witness_paths(name)
            if not key_path.exists():
                cosigner = Signer(name, SigningKey.generate(), SIG_COSIGNATURE_V1)
                _write_private(key_path, cosigner.skey + "\n")
            cosigners.append(Signer.from_skey(key_path.read_text("utf-8").strip()))
        if not self.trust_path.exists():
            lines = [f"log {signer.verifier.vkey}"]
            lines += [f"witness {c.verifier.name} {c.verifier.vkey}" for c in cosigners]
            if cosigners:
                members = " ".join(c.verifier.name for c in cosigners)
                lines += [f"group customs {min(quorum, len(cosigners))} {members}",
                          "quorum customs"]
            else:
                lines.append("quorum none")
            policy = Policy.parse("\n".join(lines) + "\n")
            if max_age_seconds is not None and cosigners:
                policy = Policy(policy.logs, policy.witnesses, policy.groups, policy.quorum,
                                max_age_seconds)
            trust = TrustFile(policy, VerifyOptions())
            _write(self.trust_path, json.dumps(trust.to_json(), indent=2) + "\n")

    def log_signer(self) -> Signer:
        """The log's signer; its name must be the configured origin."""
        signer = Signer.from_skey(self.log_key_path.read_text("utf-8").strip())
        if signer.verifier.name != self.settings.origin:
            raise InputError(f"the log key in {self.log_key_path} is for origin "
                             f"{signer.verifier.name!r}, not {self.settings.origin!r}")
        return signer

    def witnesses(self) -> list[FileWitness]:
        """Every witness with a key in this workspace."""
        folder = self.home / "witnesses"
        log = self.log_signer().verifier
        return [FileWitness(path, path.with_suffix(".json"), log)
                for path in sorted(folder.glob("*.key"))] if folder.exists() else []

    def open_ledger(self, *, with_witnesses: bool = True) -> Ledger:
        """The ledger over the configured database (initialising the workspace if new)."""
        if not self.initialised():
            self.init()
        from ledger.store.sql import SqlStore

        store = SqlStore.open(self.settings.database_url)
        signer = self.log_signer()
        return Ledger(store, signer.signing_key, origin=signer.verifier.name, now=utc_now,
                      witnesses=self.witnesses() if with_witnesses else ())

    def trust(self, path: Path | None = None) -> TrustFile:
        """The trust file at `path` (default: this workspace's)."""
        target = path or self.trust_path
        try:
            return TrustFile.from_json(target.read_bytes())
        except FileNotFoundError:
            raise NotFoundError(f"no trust file {target}") from None

    # party keys
    def new_party_key(self, party: dict[str, Any], path: Path | None = None) -> PartyKey:
        """Generate and save a party key (not yet registered in the log)."""
        key = SigningKey.generate()
        kid = verification_method_id(key.public_key)
        target = path or self.home / "keys" / f"{party['id']}.json"
        if target.exists():
            raise InputError(f"{target} already exists; use 'tmec keys rotate' for a new key")
        data = {"format": "tmec-key/1", "kid": kid,
                "secretKeyMultibase": encode_secret_key(key.seed), "party": party}
        _write_private(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return PartyKey(key, kid, party, target)

    def replace_party_key(self, old: PartyKey) -> PartyKey:
        """A new key for the same party; the old file is kept as ``<name>.<n>.json``."""
        n = 1
        while (old.path.with_suffix(f".{n}.json")).exists():
            n += 1
        old.path.replace(old.path.with_suffix(f".{n}.json"))
        return self.new_party_key(old.party, old.path)

    # tokens
    def save_token(self, digest: str, token: dict[str, Any],
                   commitment: PartsCommitment) -> tuple[Path, Path]:
        """Write the token and, privately, the salts and records behind its partsRoot."""
        folder = self.home / "tokens"
        token_path = folder / f"{digest}.json"
        parts_path = folder / f"{digest}.parts.json"
        _write(token_path, json.dumps(token, indent=2, ensure_ascii=False) + "\n")
        parts = {"partsRoot": commitment.root_hex, "records": list(commitment.records),
                 "salts": [base64.urlsafe_b64encode(s).rstrip(b"=").decode("ascii")
                           for s in commitment.salts]}
        _write_private(parts_path, json.dumps(parts, indent=2, ensure_ascii=False) + "\n")
        return token_path, parts_path

    def commitment(self, digest: str) -> PartsCommitment:
        """The parts commitment kept when the token was issued."""
        path = self.home / "tokens" / f"{digest}.parts.json"
        try:
            data = parse_json(path.read_bytes())
        except FileNotFoundError:
            raise NotFoundError(f"no disclosure data for token {digest} in {path.parent}: "
                                "only the issuer's workspace can disclose lines") from None
        salts = [base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)) for s in data["salts"]]
        commitment = commit_parts(data["records"], salts)
        if commitment.root_hex != data["partsRoot"]:
            raise InputError(f"{path} does not reproduce its partsRoot")
        return commitment
