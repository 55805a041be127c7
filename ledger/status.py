"""A token's standing in the log, as a typed value: `TokenStatus` and its three states.

What `Ledger.token_status` answers (and `tmec token show --json` prints under
``status``): whether the token is active, revoked or superseded (and at which entry, by
which token); the state of its issuer's key for the token's log position (ledger design
s.6: a token is judged against the key state at its position); and the standing of the
supplier tokens it rests on, directly or through theirs. The registrar's status
statement (`ledger.statements`, kind ``status``) logs the same three states for a bundle;
this type is the read side's answer, with the key id and the log positions besides.

The JSON form is the one `Ledger.token_status` returns today, key order included: fields
that do not apply are absent, not null (``revocation`` and ``supersededBy`` for an
active token, ``evidenceAffected`` while every supplier token is active).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ledger import shape
from ledger.errors import InputError

__all__ = ["EvidenceState", "KeyState", "TokenState", "TokenStatus"]


class TokenState(StrEnum):
    """Whether the token still certifies its shipment."""

    ACTIVE = "active"
    """Neither revoked nor superseded."""
    REVOKED = "revoked"
    """Withdrawn by its issuer's party or the registrar: no longer evidence of origin."""
    SUPERSEDED = "superseded"
    """Replaced by a correction of the same party (`TokenStatus.superseded_by`)."""


class KeyState(StrEnum):
    """The issuer key's state for a statement at the token's log position.

    The values of `ledger.keys.KeyRecord.status_at`.
    """

    VALID = "valid"
    """Added before the position and neither retired nor compromised at it."""
    REVOKED = "revoked"
    """Retired (rotated or revoked) before the position."""
    COMPROMISED = "compromised"
    """Declared compromised since an index at or before the position: what it signed
    from there on is void."""
    UNKNOWN = "unknown"
    """Not yet added at the position."""


class EvidenceState(StrEnum):
    """The worst standing among the supplier tokens a token rests on.

    The values of `ledger.statements.EVIDENCE_STATES`, in the same order: worst last.
    """

    ACTIVE = "active"
    """Every supplier token it rests on is active (or it cites none)."""
    SUPERSEDED = "superseded"
    """One was corrected since: the claim is to be reviewed against the correction."""
    REVOKED = "revoked"
    """One was revoked, or signed by a key compromised at the time: the evidence is void."""


_REQUIRED = frozenset({"token", "key", "kid", "index", "evidence"})
_OPTIONAL = frozenset({"revocation", "supersededBy", "evidenceAffected"})


@dataclass(frozen=True, slots=True)
class TokenStatus:
    """A token's standing, its issuer key's state and its supplier evidence.

    `revocation` is the index of the entry that revoked or superseded the token (None
    while it is active); `superseded_by` the digest of the correction (only when
    superseded); `evidence_affected` the supplier tokens, sorted, that are not active
    (empty exactly when `evidence` is active).
    """

    token: TokenState
    key: KeyState
    kid: str
    index: int
    evidence: EvidenceState
    revocation: int | None = None
    superseded_by: str | None = None
    evidence_affected: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `Ledger.token_status` returns (same keys, same order)."""
        out: dict[str, Any] = {"token": self.token.value}
        if self.superseded_by is not None:
            out["supersededBy"] = self.superseded_by
        if self.revocation is not None:
            out["revocation"] = self.revocation
        out["key"] = self.key.value
        out["kid"] = self.kid
        out["index"] = self.index
        out["evidence"] = self.evidence.value
        if self.evidence_affected:
            out["evidenceAffected"] = list(self.evidence_affected)
        return out

    @classmethod
    def from_dict(cls, data: object) -> TokenStatus:
        """Read the JSON form back, strictly (`InputError` names the field).

        Besides fields and types (`ledger.shape`), the fields must agree with each other
        as the log makes them: a revocation index exactly when the token is not active,
        after the token's own index; a ``supersededBy`` digest exactly when it is
        superseded; ``evidenceAffected`` (sorted, distinct digests) exactly when the
        evidence is not active.
        """
        where = "status"
        fields = shape.json_object(data, where, _REQUIRED, _OPTIONAL, error=InputError)
        token = shape.choice(fields, "token", where, TokenState, error=InputError)
        key = shape.choice(fields, "key", where, KeyState, error=InputError)
        kid = shape.text(fields, "kid", where, error=InputError)
        if not kid:
            raise InputError(f"{where}.kid must not be empty")
        index = shape.integer(fields, "index", where, error=InputError)
        evidence = shape.choice(fields, "evidence", where, EvidenceState, error=InputError)

        revocation = None
        if "revocation" in fields:
            revocation = shape.integer(fields, "revocation", where, error=InputError)
            if revocation <= index:
                raise InputError(f"{where}.revocation ({revocation}) must come after the "
                                 f"token's index ({index})")
        if (revocation is None) != (token is TokenState.ACTIVE):
            raise InputError(f"{where}.revocation is given exactly when the token is not "
                             f"active (it is {token.value})")
        superseded_by = None
        if "supersededBy" in fields:
            superseded_by = shape.digest(fields, "supersededBy", where, error=InputError)
        if (superseded_by is not None) != (token is TokenState.SUPERSEDED):
            raise InputError(f"{where}.supersededBy is given exactly when the token is "
                             f"superseded (it is {token.value})")

        affected: tuple[str, ...] = ()
        if "evidenceAffected" in fields:
            listed = fields["evidenceAffected"]
            if not isinstance(listed, list) or not listed:
                raise InputError(f"{where}.evidenceAffected must be a non-empty array of "
                                 "token digests")
            affected = tuple(
                shape.digest_value(d, shape.at(f"{where}.evidenceAffected", n),
                                   error=InputError)
                for n, d in enumerate(listed))
            if list(affected) != sorted(set(affected)):
                raise InputError(f"{where}.evidenceAffected must list distinct digests in "
                                 "sorted order")
        if bool(affected) != (evidence is not EvidenceState.ACTIVE):
            raise InputError(f"{where}.evidenceAffected lists the supplier tokens that are "
                             "not active, exactly when evidence is not active")
        return cls(token, key, kid, index, evidence, revocation, superseded_by, affected)
