"""A transparency-log witness: cosign a checkpoint only if it extends the last one cosigned.

Implements the checks of c2sp.org/tlog-witness ``add-checkpoint`` as a pure function of
(state, request, now); the HTTP handler, the clock and the storage are the caller's. In the
product each customs authority (CBP, CBSA, ANAM) runs one, so that a log cannot show two
authorities two different histories without one of them refusing to cosign (split-view
protection, ledger design s.5).

For each log origin the witness remembers the last checkpoint it cosigned (size and root,
`WitnessState`). A request carries the size the submitter believes that is (``old``), an
RFC 9162 consistency proof from it, and the new signed checkpoint. The checks, in order,
and the error each raises (with the tlog-witness HTTP status the edge should answer):

1. request well formed (at most 63 proof hashes) - `InputError` (400);
2. origin known - else `UnknownKeyError` (404);
3. a trusted log key signed it - else `SignatureError` (403);
4. ``old`` not above the new size - else `InconsistentCheckpointError` (400: a rollback);
5. ``old`` equals the size last cosigned - else `WitnessSizeConflictError` (409; answer
   `Witness.latest_size(origin)` as ``text/x.tlog.size``);
6. the proof shows the new tree extends the cosigned one; for equal sizes the roots must
   match - else `InconsistentCheckpointError` (422, or 409 for a same-size fork).

Only then is the cosignature made (``cosignature/v1``, timestamp ``now``) and the state
replaced. `add_checkpoint` computes the new state completely before swapping it in, and
the state is an immutable value, so a store can persist it with compare-and-swap on the
previous value: tlog-witness requires check-and-persist to be atomic.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ledger.checkpoint import Checkpoint, cosign, is_hash, is_integer, open_checkpoint
from ledger.errors import (
    EncodingError,
    InconsistentCheckpointError,
    InputError,
    ProofError,
    SignatureError,
    UnknownKeyError,
    WitnessSizeConflictError,
)
from ledger.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from ledger.note import SIG_COSIGNATURE_V1, SIG_ED25519, Note, Signer, Verifier, decode_base64

__all__ = [
    "MAX_PROOF_HASHES",
    "AddCheckpointRequest",
    "CosignedCheckpoint",
    "Witness",
    "WitnessState",
]

MAX_PROOF_HASHES = 63
"""tlog-witness: a client MUST NOT send more than 63 consistency proof lines."""


@dataclass(frozen=True)
class CosignedCheckpoint:
    """What a witness remembers per log: the size and root it last cosigned, and when."""

    size: int
    root_hash: bytes
    timestamp: int

    def __post_init__(self) -> None:
        if not is_integer(self.size) or self.size < 0:
            raise InputError(f"a tree size is a non-negative integer, got {self.size!r}")
        if not is_hash(self.root_hash):
            raise InputError(f"a root hash has {HASH_SIZE} bytes")
        if not is_integer(self.timestamp):
            raise InputError(f"a timestamp is an integer, got {self.timestamp!r}")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (root in base64)."""
        return {"size": self.size, "root": base64.b64encode(self.root_hash).decode("ascii"),
                "timestamp": self.timestamp}

    @classmethod
    def from_json(cls, data: Any) -> CosignedCheckpoint:
        """Inverse of `to_json`, strict about keys and types."""
        if not isinstance(data, dict) or set(data) != {"size", "root", "timestamp"}:
            raise EncodingError("a cosigned checkpoint is {size, root, timestamp}")
        if not isinstance(data["root"], str):
            raise EncodingError("root must be a base64 string")
        try:
            return cls(data["size"], decode_base64(data["root"], "root"), data["timestamp"])
        except InputError as exc:
            raise EncodingError(exc.message) from exc


@dataclass(frozen=True)
class WitnessState:
    """The witness's only state: the last cosigned checkpoint per log origin."""

    logs: Mapping[str, CosignedCheckpoint] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "logs", MappingProxyType(dict(self.logs)))

    def latest(self, origin: str) -> CosignedCheckpoint | None:
        """The last checkpoint cosigned for `origin`, or None if never."""
        return self.logs.get(origin)

    def with_checkpoint(self, origin: str, cosigned: CosignedCheckpoint) -> WitnessState:
        """A new state with `origin` moved to `cosigned`."""
        return WitnessState({**self.logs, origin: cosigned})

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"logs": {origin: {size, root, timestamp}}}``."""
        return {"logs": {origin: item.to_json() for origin, item in sorted(self.logs.items())}}

    @classmethod
    def from_json(cls, data: Any) -> WitnessState:
        """Inverse of `to_json`."""
        if not isinstance(data, dict) or set(data) != {"logs"} or not isinstance(
                data["logs"], dict):
            raise EncodingError('a witness state is {"logs": {origin: checkpoint}}')
        return cls({origin: CosignedCheckpoint.from_json(item)
                    for origin, item in data["logs"].items()})


@dataclass(frozen=True)
class AddCheckpointRequest:
    """The body of a tlog-witness ``add-checkpoint`` request."""

    old_size: int
    proof: tuple[bytes, ...]
    signed_checkpoint: str

    @classmethod
    def parse(cls, body: str) -> AddCheckpointRequest:
        """Parse ``old <size>``, proof lines, an empty line, then the signed checkpoint."""
        head, blank, signed = body.partition("\n\n")
        if not blank:
            raise InputError("an add-checkpoint body has an empty line before the checkpoint")
        lines = head.split("\n")
        old_line = lines[0]
        digits = old_line.removeprefix("old ")
        if digits == old_line or not digits.isascii() or not digits.isdigit() or (
                len(digits) > 1 and digits[0] == "0"):
            raise InputError(f"the first line is 'old <size>', got {old_line[:40]!r}")
        proof = []
        for number, line in enumerate(lines[1:], start=2):
            try:
                proof.append(decode_base64(line, f"proof line {number}"))
            except EncodingError as exc:
                raise InputError(exc.message) from exc
        return cls(int(digits), tuple(proof), signed)

    def format(self) -> str:
        """The request body."""
        lines = [f"old {self.old_size}"]
        lines += [base64.b64encode(item).decode("ascii") for item in self.proof]
        return "\n".join(lines) + "\n\n" + self.signed_checkpoint


class Witness:
    """A cosigner that refuses rollbacks and forks of the logs it follows."""

    def __init__(self, signer: Signer,
                 logs: Iterable[Verifier] | Mapping[str, Iterable[Verifier]],
                 state: WitnessState | None = None) -> None:
        """Create a witness.

        Args:
            signer: the witness's cosigning key, type 0x04 (`Signer.as_cosigner`).
            logs: trusted log keys, keyed by origin; a plain list uses each key's name as
                its origin (tlog-policy: the log's key name is its origin).
            state: the persisted state, empty for a new witness.
        """
        if signer.sig_type != SIG_COSIGNATURE_V1:
            raise InputError("a witness cosigns with a cosignature/v1 (0x04) key")
        self._signer = signer
        trusted: dict[str, list[Verifier]] = {}
        if isinstance(logs, Mapping):
            for origin, keys in logs.items():
                trusted.setdefault(origin, []).extend(keys)
        else:
            for key in logs:
                trusted.setdefault(key.name, []).append(key)
        for origin, keys in trusted.items():
            if not keys or any(key.sig_type != SIG_ED25519 for key in keys):
                raise InputError(f"log {origin}: trusted log keys are Ed25519 (0x01) keys")
        self._logs = {origin: tuple(keys) for origin, keys in trusted.items()}
        self._state = state if state is not None else WitnessState()

    @property
    def verifier(self) -> Verifier:
        """The witness's public cosignature/v1 key (publish its vkey in trust policies)."""
        return self._signer.verifier

    @property
    def state(self) -> WitnessState:
        """The current state (an immutable value; persist it after each cosignature)."""
        return self._state

    def latest_size(self, origin: str) -> int:
        """The size last cosigned for `origin` (0 if never): the body of a 409 answer."""
        latest = self._state.latest(origin)
        return latest.size if latest is not None else 0

    def add_checkpoint(self, signed_checkpoint: str | bytes, old_size: int,
                       consistency_proof: Sequence[bytes], now: int) -> str:
        """Check a new checkpoint against the last one cosigned; cosign it at `now`.

        Args:
            signed_checkpoint: the checkpoint as a signed note (it may carry other
                signatures; unknown ones are ignored).
            old_size: the size the submitter believes this witness last cosigned.
            consistency_proof: RFC 9162 proof from `old_size` to the checkpoint's size.
            now: the current time, POSIX seconds (the cosignature's timestamp).

        Returns:
            The cosignature line, ``— <witness name> <base64>`` and a newline.

        Raises:
            InputError, UnknownKeyError, SignatureError, ConflictError,
            InconsistentCheckpointError: see the module docstring; the state is unchanged.
        """
        if not is_integer(old_size) or old_size < 0:
            raise InputError(f"old size must be a non-negative integer, got {old_size!r}")
        proof = list(consistency_proof)
        if len(proof) > MAX_PROOF_HASHES:
            raise InputError(f"a consistency proof has at most {MAX_PROOF_HASHES} hashes")
        note = Note.parse(signed_checkpoint)
        origin = Checkpoint.parse(note.text).origin
        keys = self._logs.get(origin)
        if keys is None:
            raise UnknownKeyError(f"this witness does not follow log {origin!r}",
                                  key_id=origin)
        try:
            checkpoint = open_checkpoint(note, keys, origin=origin).checkpoint
        except UnknownKeyError as exc:
            raise SignatureError(f"checkpoint for {origin!r} is not signed by a trusted log "
                                 f"key: {exc.message}") from exc
        latest = self._state.latest(origin) or CosignedCheckpoint(0, EMPTY_ROOT, 0)
        if old_size > checkpoint.size:
            raise InconsistentCheckpointError(
                f"log {origin}: checkpoint size {checkpoint.size} is below old size "
                f"{old_size} (rollback)")
        if old_size != latest.size:
            raise WitnessSizeConflictError(
                f"log {origin}: old size {old_size} does not match the size last cosigned, "
                f"{latest.size}", latest_size=latest.size)
        try:
            verify_consistency(latest.size, checkpoint.size, proof, latest.root_hash,
                               checkpoint.root_hash)
        except ProofError as exc:
            raise InconsistentCheckpointError(
                f"log {origin}: checkpoint of size {checkpoint.size} is not consistent with "
                f"the cosigned size {latest.size} ({exc.message})") from exc
        signature = cosign(checkpoint, self._signer, now)
        self._state = self._state.with_checkpoint(
            origin, CosignedCheckpoint(checkpoint.size, checkpoint.root_hash, now))
        return signature.line()
