"""C2SP checkpoints (c2sp.org/tlog-checkpoint) and their cosignatures (c2sp.org/tlog-cosignature).

A checkpoint is the note text of a signed note: the log's origin line, the tree size in
decimal, the base64 RFC 6962 root hash, then optional extension lines, each ending in a
newline (tlog-checkpoint "Note text"). The log signs it with its Ed25519 (0x01) key, whose
key name should be the origin; witnesses add timestamped ``cosignature/v1`` (0x04) lines
over the same text (tlog-cosignature "Ed25519 signed message"). Our ledger writes no
extension lines (ledger design s.5); they are parsed and signed over, never interpreted.

Parsing is strict and names the offending line: a decimal size with a leading zero, a
non-canonical or wrong-length root, an empty extension line, a missing final newline are
all `EncodingError`. Verification raises and returns data only on success; it checks the
log signature first, so cosignatures never stand in for the log's own signature.

What this module does not do: decide whether a set of cosignatures is enough (that is the
trust policy, `ledger.policy`) or whether a checkpoint extends an earlier one (that is the
witness, `ledger.witness`, with `ledger.merkle.verify_consistency`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.errors import EncodingError, InputError, UnknownKeyError
from ledger.merkle import HASH_SIZE
from ledger.note import (
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Note,
    OpenedNote,
    Signature,
    Signer,
    VerifiedSignature,
    Verifier,
    decode_base64,
    open_note,
)

__all__ = [
    "MAX_TREE_SIZE",
    "Checkpoint",
    "OpenedCheckpoint",
    "add_cosignatures",
    "cosign",
    "is_hash",
    "is_integer",
    "open_checkpoint",
    "sign_checkpoint",
    "verify_cosignature",
]

MAX_TREE_SIZE = 2**64 - 1
"""Tree sizes are uint64 in every tlog spec (tlog-witness, tlog-tiles)."""

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_LINE_NAMES = {1: "origin", 2: "tree size", 3: "root hash"}


def _line_error(number: int, problem: str) -> EncodingError:
    label = _LINE_NAMES.get(number, "extension")
    return EncodingError(f"checkpoint line {number} ({label}): {problem}")


def _check_line(number: int, line: str) -> None:
    if not line:
        raise _line_error(number, "is empty")
    for char in line:
        if ord(char) < 0x20:
            raise _line_error(number, f"control character {char!r} is not allowed")


def is_integer(value: object) -> bool:
    """An int that is not a bool (JSON and callers may pass True for 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_hash(value: object) -> bool:
    """A SHA-256 hash as bytes (the size of a log root)."""
    return isinstance(value, bytes) and len(value) == HASH_SIZE


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed tree head: origin, tree size, root hash (and opaque extensions)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(1, self.origin)
        if not is_integer(self.size):
            raise _line_error(2, f"must be an integer, got {self.size!r}")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise _line_error(2, f"{self.size} is outside 0..2^64-1")
        if not is_hash(self.root_hash):
            raise _line_error(3, f"must be {HASH_SIZE} bytes")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for number, line in enumerate(self.extensions, start=4):
            _check_line(number, line)

    def body(self) -> str:
        """The note text: each line newline-terminated (tlog-checkpoint "Note text")."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a checkpoint note text strictly.

        Raises:
            EncodingError: naming the first malformed line.
        """
        if not body.endswith("\n"):
            raise EncodingError("a checkpoint body must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise EncodingError(f"a checkpoint has at least 3 lines, this one {len(lines)}")
        for number, line in enumerate(lines, start=1):
            _check_line(number, line)
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text):
            raise _line_error(2, f"{size_text[:30]!r} is not a decimal without leading zeros")
        size = int(size_text)
        if size > MAX_TREE_SIZE:
            raise _line_error(2, f"{size} is outside 0..2^64-1")
        try:
            root = decode_base64(root_text, "the root hash")
        except EncodingError as exc:
            raise _line_error(3, exc.message) from exc
        if len(root) != HASH_SIZE:
            raise _line_error(3, f"decodes to {len(root)} bytes, expected {HASH_SIZE}")
        return cls(origin, size, root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The log's signed note over `checkpoint` (tlog-checkpoint "Signatures")."""
    if signer.sig_type != SIG_ED25519:
        raise InputError("a log signs checkpoints with an Ed25519 (0x01) key")
    text = checkpoint.body()
    return Note(text, (signer.sign(text),)).format()


def cosign(checkpoint: Checkpoint, cosigner: Signer, timestamp: int) -> Signature:
    """A witness's cosignature/v1 over `checkpoint` at `timestamp` (POSIX seconds).

    Signing it asserts (tlog-cosignature "Ed25519 signed message") that, as of `timestamp`,
    this is the largest consistent tree the cosigner has seen for the origin; only call it
    after checking consistency (see `ledger.witness.Witness`).
    """
    if cosigner.sig_type != SIG_COSIGNATURE_V1:
        raise InputError("a cosignature needs a cosignature/v1 (0x04) signer")
    return cosigner.sign(checkpoint.body(), timestamp=timestamp)


def verify_cosignature(checkpoint: Checkpoint, signature: Signature | str,
                       cosigner: Verifier) -> int:
    """Verify one cosignature (a `Signature` or its line) and return its timestamp.

    This is how a log checks a witness's tlog-witness response before publishing it.

    Raises:
        EncodingError: the line is malformed.
        SignatureError: it is not `cosigner`'s or does not verify.
    """
    if cosigner.sig_type != SIG_COSIGNATURE_V1:
        raise InputError("cosignatures are verified with cosignature/v1 (0x04) keys")
    if isinstance(signature, str):
        signature = Signature.parse_line(signature)
    timestamp = cosigner.verify(checkpoint.body(), signature)
    if timestamp is None:  # pragma: no cover - a 0x04 verifier always returns one
        raise InputError("not a cosignature")
    return timestamp


def add_cosignatures(signed_note: str, signatures: Iterable[Signature | str]) -> str:
    """Append cosignature lines to a signed checkpoint, replacing older lines by the same key.

    Nothing is verified here; verify each line with `verify_cosignature` first (the witness
    response contract of tlog-witness), or verify the result with `open_checkpoint`.
    """
    parsed = Note.parse(signed_note)
    new = [Signature.parse_line(sig) if isinstance(sig, str) else sig for sig in signatures]
    return parsed.with_signatures(new).format()


@dataclass(frozen=True)
class OpenedCheckpoint:
    """A checkpoint whose log signature verified, with the cosignatures that verified."""

    checkpoint: Checkpoint
    note: OpenedNote
    log_signature: VerifiedSignature
    cosignatures: tuple[VerifiedSignature, ...]

    def cosignature_timestamps(self) -> dict[str, int]:
        """Verified cosignature timestamps by cosigner key name."""
        result: dict[str, int] = {}
        for item in self.cosignatures:
            if item.timestamp is not None:
                result[item.verifier.name] = item.timestamp
        return result

    @property
    def unknown_signatures(self) -> tuple[Signature, ...]:
        """Signature lines from keys the caller did not name (ignored, per signed-note)."""
        return self.note.unverified


def open_checkpoint(signed_note: str | bytes | Note, log_verifiers: Verifier | Iterable[Verifier],
                    cosigners: Iterable[Verifier] = (), *,
                    origin: str | None = None) -> OpenedCheckpoint:
    """Verify a signed checkpoint: log signature, body syntax, origin, then cosignatures.

    `origin` defaults to the key name of the log key that verified, as tlog-checkpoint
    recommends and tlog-policy requires; pass it for logs whose origin differs (e.g. the
    Go checksum database). Cosignatures from keys in `cosigners` must verify; others are
    ignored.

    Raises:
        EncodingError: the note or the checkpoint body is malformed.
        SignatureError: a known key's signature does not verify, or no log key signed.
        UnknownKeyError: no known key signed, or the origin is not the log's.
    """
    logs = [log_verifiers] if isinstance(log_verifiers, Verifier) else list(log_verifiers)
    witnesses = list(cosigners)
    if not logs:
        raise InputError("open_checkpoint needs at least one log key")
    if any(log.sig_type != SIG_ED25519 for log in logs):
        raise InputError("log keys are Ed25519 (0x01) note keys")
    if any(cosigner.sig_type != SIG_COSIGNATURE_V1 for cosigner in witnesses):
        raise InputError("cosigner keys are cosignature/v1 (0x04) keys")
    opened = open_note(signed_note, [*logs, *witnesses])
    log_signatures = [item for item in opened.verified if item.verifier in logs]
    if not log_signatures:
        names = ", ".join(f"{log.name}+{log.key_id.hex()}" for log in logs)
        raise UnknownKeyError(f"the checkpoint is not signed by the log key ({names})",
                              key_id=f"{logs[0].name}+{logs[0].key_id.hex()}")
    checkpoint = Checkpoint.parse(opened.text)
    log_signature = log_signatures[0]
    expected = origin if origin is not None else log_signature.verifier.name
    if checkpoint.origin != expected:
        raise UnknownKeyError(f"checkpoint origin {checkpoint.origin!r} is not the log's "
                              f"origin {expected!r}", key_id=checkpoint.origin)
    cosignatures = tuple(item for item in opened.verified if item.verifier in witnesses)
    return OpenedCheckpoint(checkpoint, opened, log_signature, cosignatures)
