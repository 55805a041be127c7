"""One ledger installation on disk: settings and files in, `Ledger` out.

The one way to open a ledger from settings (`Workspace.open_ledger`: the store named by
the database URL, the log key, the witnesses), used by the CLI, the tests and the HTTP API
alike; `cli/` keeps only argument parsing and printing.

Layout of ``$TMEC_HOME`` (created by ``tmec init`` and only by it; private keys mode
0600). Every other command needs an existing workspace: a mistyped ``--home`` or
``TMEC_HOME`` is "not found", never a new, empty ledger with a new log key.

```
ledger.db                 SQLite ledger (unless TMEC_DATABASE_URL names another database);
                          it also keeps each token's disclosure records (salts, line records)
log.key                   the log's note key (PRIVATE+KEY+<origin>+...): checkpoints, registrar
witnesses/<name>.key      each customs authority's cosignature/v1 key (cbp, cbsa, anam)
witnesses/<name>.json     what that witness last cosigned (its own state)
trust.json                the trust file verifiers use: log key, witnesses, quorum, max age
keys/<party>.json         a party's Ed25519 key and Annex 5-A contact details
tokens/<digest>.json      a copy of each issued token (public; the ledger has the original)
```

In production the witnesses run at CBP, CBSA and ANAM and the parties keep their own keys;
keeping them side by side here is what makes a one-machine demo and tests possible.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ledger.bounded import read_capped
from ledger.canonical import parse_json
from ledger.config import Settings
from ledger.crypto import SigningKey
from ledger.errors import InputError, LedgerError, LimitExceededError, NotFoundError
from ledger.multikey import decode_secret_key, encode_secret_key, verification_method_id
from ledger.note import SIG_COSIGNATURE_V1, Signer, Verifier
from ledger.policy import Policy
from ledger.service import Ledger, utc_now
from ledger.token import (
    BlanketPeriod,
    Certification,
    Certifier,
    CertifierRole,
    Party,
    check_party_profile,
)
from ledger.verify import TrustFile, VerifyOptions
from ledger.witness import Witness, WitnessState
from ledger.witness_http import HttpWitness

__all__ = ["DEFAULT_WITNESSES", "FileWitness", "PartyKey", "Workspace",
           "certification_from_profile", "max_bundle_bytes", "read_small_file"]

DEFAULT_WITNESSES = ("cbp", "cbsa", "anam")
DEFAULT_MAX_AGE = 24 * 3600


def _write_atomic(path: Path, text: str, *, mode: int = 0o644, exclusive: bool = False) -> None:
    """Write a file durably and atomically, with permissions `mode`.

    The text goes to a temporary file of its own in the same directory (created 0600), is
    synced, then takes `path`'s name: a reader sees the old file or the new one, never a
    half-written one, and two writers never share a temporary file. With `exclusive`
    (every key), an existing file is never replaced: two processes creating the same key
    file cannot overwrite each other's key (`FileExistsError` for the second).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        if exclusive:
            os.link(tmp, path)
        else:
            tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_private(path: Path, text: str, *, exclusive: bool = False) -> None:
    """`_write_atomic` for secrets: mode 0600."""
    _write_atomic(path, text, mode=0o600, exclusive=exclusive)


def _write(path: Path, text: str) -> None:
    _write_atomic(path, text)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on `lock_path` across processes (a no-op without fcntl)."""
    if sys.platform == "win32":  # pragma: no cover - no flock
        yield
        return
    import fcntl

    with lock_path.open("ab") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


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
        """Check, cosign and persist the new state (atomically, before answering).

        Read, check and write happen under a lock on the state file, so two processes
        publishing at once cannot make the witness forget the larger size it cosigned
        (which would let it cosign a fork later).
        """
        with _exclusive(self.state_path.with_suffix(".lock")):
            witness = self._witness()
            line = witness.add_checkpoint(signed_checkpoint, old_size, consistency_proof, now)
            _write(self.state_path, json.dumps(witness.state.to_json(), indent=2) + "\n")
        return line


#: Largest key file read (a key file is well under 2 KB).
MAX_KEY_FILE_BYTES = 64 * 1024
#: Largest trust file read (a policy with a hundred witnesses is ~20 KB).
MAX_TRUST_FILE_BYTES = 1024 * 1024
#: Default largest bundle read, and its environment variable: a bundle with every line of
#: a 10,000-line BOM disclosed and nested supplier bundles is a few megabytes.
DEFAULT_MAX_BUNDLE_BYTES = 64 * 1024 * 1024
BUNDLE_LIMIT_ENV = "TMEC_MAX_BUNDLE_BYTES"


def read_small_file(path: Path, maximum: int, what: str, limit: str) -> bytes:
    """A key, trust or bundle file, refused beyond `maximum` bytes (`LimitExceededError`)."""

    def too_large(message: str) -> Exception:
        return LimitExceededError(message, limit=limit, maximum=maximum)

    try:
        return read_capped(path, maximum, what, too_large, limit=limit)
    except FileNotFoundError:
        raise NotFoundError(f"no {what.split(' ', 1)[-1]} {path}") from None


def max_bundle_bytes(env: Mapping[str, str] | None = None) -> int:
    """The bundle size limit: ``TMEC_MAX_BUNDLE_BYTES`` or `DEFAULT_MAX_BUNDLE_BYTES`."""
    text = (os.environ if env is None else env).get(BUNDLE_LIMIT_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BUNDLE_BYTES
    if not text.isascii() or not text.isdigit() or int(text) == 0:
        raise InputError(f"environment variable {BUNDLE_LIMIT_ENV} must be a positive "
                         f"integer (bytes), got {text[:40]!r}")
    return int(text)


def certification_from_profile(party: Mapping[str, Any], role: CertifierRole,
                               bom_producer: Any = None, *,
                               blanket: BlanketPeriod | None = None, invoice: str | None = None,
                               importer: Party | None = None, signed_on: date) -> Certification:
    """The Annex 5-A certification a party signs, from its profile (key file or service).

    The certifier (element 2) is the profile's contact, else the party; as producer or
    exporter the party is the exporter (element 3); an exporter certifying another's good
    names the BOM's producer (element 4: "Available upon request" for its address, as
    Annex 5-A allows when the producer wishes its details confidential).
    """
    certifier = Certifier(name=str(party.get("contact") or party["name"]),
                          title=str(party.get("title") or "Authorized signatory"),
                          address=str(party["address"]), country=str(party["country"]),
                          phone=str(party["phone"]), email=str(party["email"]))
    me = Party(name=str(party["name"]), address=str(party["address"]),
               country=str(party["country"]), email=str(party["email"]),
               phone=str(party["phone"]), tax_id=party.get("tax_id"))
    producer: Party | None = None
    exporter: Party | None = None
    if role is CertifierRole.PRODUCER:
        exporter = me
    elif role is CertifierRole.EXPORTER:
        exporter = me
        if bom_producer is not None:
            producer = Party(name=bom_producer.name, address="Available upon request",
                             country=bom_producer.country, tax_id=bom_producer.tax_id)
    return Certification(role=role, certifier=certifier, producer=producer,
                         signature_date=signed_on, exporter=exporter, importer=importer,
                         blanket_period=blanket, invoice_number=invoice)


@dataclass(frozen=True)
class PartyKey:
    """A party's signing key with the profile its certifications carry (Annex 5-A)."""

    key: SigningKey
    kid: str
    party: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, path: Path) -> PartyKey:
        """Read a key file written by `Workspace.new_party_key` (checked, bounded)."""
        data = read_small_file(path, MAX_KEY_FILE_BYTES, "the key file", "max_key_file_bytes")
        try:
            parsed = parse_json(data)
        except LedgerError:
            raise InputError(f"{path} is not a tmec key file (not JSON)") from None
        if not isinstance(parsed, dict) or parsed.get("format") != "tmec-key/1":
            raise InputError(f"{path} is not a tmec key file")
        secret, party = parsed.get("secretKeyMultibase"), parsed.get("party")
        if not isinstance(secret, str) or not isinstance(party, dict):
            raise InputError(f"{path}: a key file has secretKeyMultibase and party")
        try:
            key = SigningKey(decode_secret_key(secret))
        except LedgerError as exc:
            raise InputError(f"{path}: {exc}") from None
        kid = verification_method_id(key.public_key)
        if parsed.get("kid") != kid:
            raise InputError(f"{path}: the key id does not match the secret key")
        check_party_profile(party)
        return cls(key, kid, dict(party), path)

    def certification(self, role: CertifierRole, bom_producer: Any = None, *,
                      blanket: BlanketPeriod | None = None, invoice: str | None = None,
                      importer: Party | None = None, signed_on: date) -> Certification:
        """The Annex 5-A certification this party signs (`certification_from_profile`)."""
        return certification_from_profile(self.party, role, bom_producer, blanket=blanket,
                                          invoice=invoice, importer=importer,
                                          signed_on=signed_on)

    def discard(self) -> None:
        """Remove the key file (a key the log refused to register)."""
        self.path.unlink(missing_ok=True)


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

    def require(self) -> None:
        """Raise `NotFoundError` unless `tmec init` made a workspace here."""
        if not self.initialised():
            raise NotFoundError(f"no ledger workspace at {self.home} (no log.key): run "
                                f"'tmec init --home {self.home}' to create one, or check "
                                "--home / TMEC_HOME")

    def init(self, *, witnesses: Sequence[str] = DEFAULT_WITNESSES, quorum: int = 2,
             max_age_seconds: int | None = DEFAULT_MAX_AGE,
             did_web_host: str | None = None) -> None:
        """Create the log key, one key per witness, the trust file and the database.

        Idempotent: what exists is kept. `did_web_host` (`ledger.did_web.did_web_host` of
        the service's public URL) goes into a new trust file: the host under which this
        log's parties may issue as did:web; without it they issue as did:key only.
        """
        for name in witnesses:
            if not name or not name.isascii() or not name.replace("-", "").isalnum():
                raise InputError(f"witness name {name[:40]!r} must be letters, digits and "
                                 "dashes")
        if witnesses and not 1 <= quorum <= len(witnesses):
            raise InputError(f"--quorum must be between 1 and the number of witnesses "
                             f"({len(witnesses)}), got {quorum}")
        if max_age_seconds is not None and max_age_seconds <= 0:
            raise InputError(f"--max-age must be a positive number of seconds, got "
                             f"{max_age_seconds}")
        self.home.mkdir(parents=True, exist_ok=True)
        if not self.log_key_path.exists():
            signer = Signer(self.settings.origin, SigningKey.generate())
            with contextlib.suppress(FileExistsError):  # another init made it meanwhile
                _write_private(self.log_key_path, signer.skey + "\n", exclusive=True)
        signer = self.log_signer()
        cosigners = []
        for name in witnesses:
            key_path, _ = self.witness_paths(name)
            if not key_path.exists():
                cosigner = Signer(name, SigningKey.generate(), SIG_COSIGNATURE_V1)
                with contextlib.suppress(FileExistsError):
                    _write_private(key_path, cosigner.skey + "\n", exclusive=True)
            cosigners.append(Signer.from_skey(key_path.read_text("utf-8").strip()))
        if not self.trust_path.exists():
            lines = [f"log {signer.verifier.vkey}"]
            lines += [f"witness {c.verifier.name} {c.verifier.vkey}" for c in cosigners]
            if cosigners:
                members = " ".join(c.verifier.name for c in cosigners)
                lines += [f"group customs {quorum} {members}", "quorum customs"]
            else:
                lines.append("quorum none")
            policy = Policy.parse("\n".join(lines) + "\n")
            if max_age_seconds is not None and cosigners:
                policy = Policy(policy.logs, policy.witnesses, policy.groups, policy.quorum,
                                max_age_seconds)
            trust = TrustFile(policy, VerifyOptions(), did_web_host=did_web_host)
            _write(self.trust_path, json.dumps(trust.to_json(), indent=2) + "\n")
        from ledger.store.sql import SqlStore

        SqlStore.open(self.settings.database_url).close()  # the schema, now

    def log_signer(self) -> Signer:
        """The log's signer; its name must be the configured origin."""
        signer = Signer.from_skey(self.log_key_path.read_text("utf-8").strip())
        if signer.verifier.name != self.settings.origin:
            raise InputError(f"the log key in {self.log_key_path} is for origin "
                             f"{signer.verifier.name!r}, not {self.settings.origin!r}")
        return signer

    def witnesses(self) -> list[FileWitness | HttpWitness]:
        """Every witness: over HTTP when ``TMEC_WITNESS_URLS`` names it, else from files."""
        folder = self.home / "witnesses"
        log = self.log_signer().verifier
        remote = dict(self.settings.witness_urls)
        found: list[FileWitness | HttpWitness] = []
        names: set[str] = set()
        if folder.exists():
            for path in sorted(folder.glob("*.key")):
                names.add(path.stem)
                if path.stem in remote:
                    found.append(HttpWitness(path.stem, remote[path.stem]))
                else:
                    found.append(FileWitness(path, path.with_suffix(".json"), log))
        found += [HttpWitness(name, url) for name, url in remote.items() if name not in names]
        return found

    def open_ledger(self, *, with_witnesses: bool = True) -> Ledger:
        """The ledger over the configured database; the workspace and database must exist."""
        self.require()
        from ledger.store.sql import SqlStore

        signer = self.log_signer()
        witnesses = self.witnesses() if with_witnesses else []
        store = SqlStore.open(self.settings.database_url, create=False)
        # The trust file names the host this log's parties have did:web identities at
        # (None: did:key only); the HTTP service sets its own from TMEC_PUBLIC_URL.
        host = self.trust().did_web_host if self.trust_path.exists() else None
        return Ledger(store, signer.signing_key, origin=signer.verifier.name, now=utc_now,
                      witnesses=witnesses, token_context=self.settings.token_context,
                      did_web_host=host)

    def trust(self, path: Path | None = None) -> TrustFile:
        """The trust file at `path` (default: this workspace's)."""
        target = path or self.trust_path
        return TrustFile.from_json(read_small_file(target, MAX_TRUST_FILE_BYTES,
                                                   "the trust file", "max_trust_file_bytes"))

    # party keys
    def new_party_key(self, party: dict[str, Any], path: Path | None = None) -> PartyKey:
        """Generate and save a party key (not yet registered in the log).

        The profile is checked first (`check_party_profile`), so the party id that names
        the default file ``keys/<id>.json`` is a safe slug: nothing is written elsewhere.
        """
        check_party_profile(party)
        key = SigningKey.generate()
        kid = verification_method_id(key.public_key)
        target = path or self.home / "keys" / f"{party['id']}.json"
        data = {"format": "tmec-key/1", "kid": kid,
                "secretKeyMultibase": encode_secret_key(key.seed), "party": party}
        try:
            _write_private(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                           exclusive=True)
        except FileExistsError:
            raise InputError(f"{target} already exists; use 'tmec keys rotate' for a new "
                             "key") from None
        return PartyKey(key, kid, party, target)

    def replace_party_key(self, old: PartyKey) -> PartyKey:
        """A new key for the same party; the old file is kept as ``<name>.<n>.json``."""
        self.archive_key_file(old.path)
        return self.new_party_key(old.party, old.path)

    @staticmethod
    def archive_key_file(path: Path) -> None:
        """Move a key file aside as ``<name>.<n>.json`` (the first free n), if it exists."""
        if not path.exists():
            return
        n = 1
        while (path.with_suffix(f".{n}.json")).exists():
            n += 1
        path.replace(path.with_suffix(f".{n}.json"))

    # tokens
    def save_token(self, digest: str, token: dict[str, Any]) -> Path:
        """Write a copy of an issued token (the ledger keeps the original and its records)."""
        token_path = self.home / "tokens" / f"{digest}.json"
        _write(token_path, json.dumps(token, indent=2, ensure_ascii=False) + "\n")
        return token_path
