"""The one error tree of `ledger`.

Verification *decisions* (clear / review / reject) are values returned by `verify()`;
these exceptions are for input the ledger cannot process and for failed security checks
inside the core (`verify_*` functions raise and fail closed).

```text
LedgerError                      ledger.error
├── EncodingError                ledger.encoding_invalid        not canonical JSON, floats, base64
├── InputError                   ledger.input_invalid           a request the ledger cannot act on
├── SignatureError               ledger.signature_invalid       a signature that does not verify
├── UnknownKeyError(key_id)      ledger.unknown_key             no such key registered / in policy
├── KeyRevokedError(key_id)      ledger.key_revoked             revoked or compromised at that index
├── ProofError                   ledger.proof_invalid           inclusion / consistency proof fails
├── OutOfRangeError              ledger.out_of_range            index >= size, size1 > size2
├── InconsistentCheckpointError  ledger.checkpoint_inconsistent rollback or fork detected
├── PolicyError                  ledger.policy_invalid          trust policy malformed or unmet
│   └── StaleCheckpointError     ledger.checkpoint_stale        quorum met, but not fresh
├── TokenError                   ledger.token_invalid           origin token malformed
│   └── IssuerError              ledger.token_invalid.issuer    did:web issuer not bound to its key
├── CredentialError              ledger.credential_invalid      a generic VC the issuer refuses
├── JoseError                    ledger.jose_invalid            a JWS refused before its signature
├── HypotheticalRuleSetError     ledger.hypothetical_rule_set   a what-if determination, no token
├── BundleError                  ledger.bundle_invalid          bundle malformed
├── NotFoundError                ledger.not_found
├── ConflictError                ledger.conflict                duplicate entry
├── TamperedError                ledger.tampered                stored data changed behind our back
├── StoreUnavailableError        ledger.store_unavailable       backend down or busy
└── LimitExceededError           ledger.limit_exceeded          input beyond a configured limit
```

Only `cli/errors.py` maps codes to exit codes (and, later, the HTTP API to statuses).
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "BundleError",
    "ConflictError",
    "CredentialError",
    "EncodingError",
    "HypotheticalRuleSetError",
    "InconsistentCheckpointError",
    "InputError",
    "IssuerError",
    "JoseError",
    "KeyRevokedError",
    "LedgerError",
    "LimitExceededError",
    "NotFoundError",
    "OutOfRangeError",
    "PolicyError",
    "ProofError",
    "SignatureError",
    "StoreUnavailableError",
    "TamperedError",
    "TokenError",
    "UnknownKeyError",
    "WitnessSizeConflictError",
]


class LedgerError(Exception):
    """Base class of every error raised by `ledger`."""

    code: ClassVar[str] = "ledger.error"
    title: ClassVar[str] = "Ledger error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EncodingError(LedgerError, ValueError):
    """Bytes or JSON that are not in the required encoding (canonical JSON, base64, ...)."""

    code: ClassVar[str] = "ledger.encoding_invalid"
    title: ClassVar[str] = "Invalid encoding"


class InputError(LedgerError, ValueError):
    """A request the ledger cannot act on (missing option, unknown party, bad period).

    `path` locates the offending field for machines when there is one, in the spelling of
    `origin_rules.errors.BomError.path` (``items.<id>.evidence.token``): the web pages show
    the message beside that field.
    """

    code: ClassVar[str] = "ledger.input_invalid"
    title: ClassVar[str] = "Invalid input"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class SignatureError(LedgerError):
    """A signature that does not verify under the key it claims."""

    code: ClassVar[str] = "ledger.signature_invalid"
    title: ClassVar[str] = "Signature invalid"


class UnknownKeyError(LedgerError):
    """A key id that is not registered (or not named by the trust policy)."""

    code: ClassVar[str] = "ledger.unknown_key"
    title: ClassVar[str] = "Unknown key"

    def __init__(self, message: str, *, key_id: str | None = None) -> None:
        super().__init__(message)
        self.key_id = key_id


class KeyRevokedError(LedgerError):
    """A key that was revoked, or compromised, before the log position in question."""

    code: ClassVar[str] = "ledger.key_revoked"
    title: ClassVar[str] = "Key revoked"

    def __init__(self, message: str, *, key_id: str | None = None) -> None:
        super().__init__(message)
        self.key_id = key_id


class ProofError(LedgerError):
    """An inclusion or consistency proof that does not lead to the expected root."""

    code: ClassVar[str] = "ledger.proof_invalid"
    title: ClassVar[str] = "Proof invalid"


class OutOfRangeError(LedgerError, IndexError):
    """An index or tree size outside the log (index >= size, or size1 > size2)."""

    code: ClassVar[str] = "ledger.out_of_range"
    title: ClassVar[str] = "Out of range"


class InconsistentCheckpointError(LedgerError):
    """A checkpoint that does not extend the one seen before: rollback or fork."""

    code: ClassVar[str] = "ledger.checkpoint_inconsistent"
    title: ClassVar[str] = "Inconsistent checkpoint"


class PolicyError(LedgerError):
    """A trust policy that is malformed, or whose quorum a checkpoint does not meet."""

    code: ClassVar[str] = "ledger.policy_invalid"
    title: ClassVar[str] = "Trust policy not satisfied"


class TokenError(LedgerError, ValueError):
    """An origin token that is not a well-formed UsmcaOriginToken credential."""

    code: ClassVar[str] = "ledger.token_invalid"
    title: ClassVar[str] = "Invalid origin token"


class IssuerError(TokenError):
    """An origin token whose did:web ``issuer`` does not bind to the key that signed it.

    A token may name its party's did:web identity (``did:web:<host>:parties:<party>``)
    instead of its key's did:key; it is then refused when the DID does not parse, its
    host is not the one the verifier's trust file names for the log (or the trust file
    names none), its party is not the one the log bound the signing key to, or the
    verification method's fragment is not that key (`ledger.verify`, `ledger.service`).
    """

    code: ClassVar[str] = "ledger.token_invalid.issuer"
    title: ClassVar[str] = "Issuer not bound to the signing key"


class CredentialError(LedgerError, ValueError):
    """A credential the VC-API issuer will not sign (`ledger.credentials.issue_credential`):
    not an unsecured VC 2.0, another issuer named, a proof already attached.
    """

    code: ClassVar[str] = "ledger.credential_invalid"
    title: ClassVar[str] = "Invalid credential"


class JoseError(LedgerError, ValueError):
    """A JWS (compact serialization) refused before its signature is checked: an algorithm
    other than EdDSA (``none``, HMAC, ...), a critical extension, a key carried in the
    header, a ``typ`` that is not ``vc+jwt`` (`ledger.jose`, `ledger.enveloped`).
    """

    code: ClassVar[str] = "ledger.jose_invalid"
    title: ClassVar[str] = "JWS refused"


class HypotheticalRuleSetError(LedgerError):
    """A determination made under a scenario (`origin_rules.scenarios`) given for a token:
    a what-if is never a certification of origin, so no token is built on it.
    """

    code: ClassVar[str] = "ledger.hypothetical_rule_set"
    title: ClassVar[str] = "Hypothetical rule set"


class BundleError(LedgerError, ValueError):
    """A verification bundle that is not well formed (before any check can run)."""

    code: ClassVar[str] = "ledger.bundle_invalid"
    title: ClassVar[str] = "Invalid bundle"


class NotFoundError(LedgerError, LookupError):
    """No such entry, token, party or key."""

    code: ClassVar[str] = "ledger.not_found"
    title: ClassVar[str] = "Not found"


class ConflictError(LedgerError):
    """The entry already exists (same digest) or conflicts with the log's state."""

    code: ClassVar[str] = "ledger.conflict"
    title: ClassVar[str] = "Conflict"


class WitnessSizeConflictError(ConflictError):
    """A witness last cosigned another size than the submitter assumed (tlog-witness 409).

    ``latest_size`` is the size the witness answered: the submitter retries with a
    consistency proof from there.
    """

    def __init__(self, message: str, *, latest_size: int) -> None:
        super().__init__(message)
        self.latest_size = latest_size


class CheckpointSupersededError(ConflictError):
    """A witness has already cosigned a later checkpoint of this same log.

    Checkpoints are signed in log order but cosigned outside the writer section, so two
    publishers (a worker's checkpointer, another's on-demand status) can reach a witness
    out of order; the witness then holds the later one and cannot cosign the earlier
    (tlog-witness: sizes only grow). Not a fork: the later size is one the log has. The
    publisher of the earlier checkpoint writes a newer one instead (`refresh_status`)
    or leaves it (the scheduled checkpoint).
    """

    code: ClassVar[str] = "ledger.conflict.checkpoint_superseded"


class TamperedError(LedgerError):
    """Stored data that no longer matches what the log committed to."""

    code: ClassVar[str] = "ledger.tampered"
    title: ClassVar[str] = "Tampered data"


class StoreUnavailableError(LedgerError):
    """The storage backend is down or overloaded; retry later."""

    code: ClassVar[str] = "ledger.store_unavailable"
    title: ClassVar[str] = "Store unavailable"


class LimitExceededError(LedgerError):
    """An input (a bundle, a trust file) larger than a configured limit; nothing was read.

    ``limit`` names the setting, ``maximum`` its value, so the message can say how to
    raise it.
    """

    code: ClassVar[str] = "ledger.limit_exceeded"
    title: ClassVar[str] = "Limit exceeded"

    def __init__(self, message: str, *, limit: str, maximum: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.maximum = maximum
