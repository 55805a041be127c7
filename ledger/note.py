r"""C2SP signed notes: text signed by one or more named Ed25519 keys (c2sp.org/signed-note).

A signed note is a UTF-8 text ending in a newline, a blank line, then signature lines
``— <key name> base64(4-byte key ID || signature)``. The key ID is
``SHA-256(key name || 0x0A || signature type || public key)[:4]``. Verifier keys travel as
*vkeys*, ``<name>+<hex key ID>+base64(type || public key)``, and signer keys as
``PRIVATE+KEY+<name>+<hex key ID>+base64(type || Ed25519 seed)`` (the encodings of
golang.org/x/mod/sumdb/note, which the spec's vkey section adopts).

Two signature types are supported, and only these:

* ``0x01`` Ed25519 over the note text (signed-note "Ed25519 signatures"); the log signs its
  checkpoints with this type.
* ``0x04`` timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature, ``cosignature/v1``):
  the signature is ``u64 big-endian timestamp || Ed25519 signature`` over
  ``"cosignature/v1\ntime <timestamp>\n" || note text``. Witnesses sign with this type. It
  is a signature type like any other here, so `open_note` checks it in the same pass.

Opening a note (signed-note "Signatures"): signatures from unknown keys, i.e. whose (name,
key ID) pair matches no known verifier, are ignored; a known key whose signature does not
verify fails the whole note (`SignatureError`); a note with no verified signature fails
(`UnknownKeyError`). Parsing is strict: anything the spec forbids, and non-canonical base64
(so that no two spellings of a note verify), is an `EncodingError`.

This module knows nothing of checkpoints (see `ledger.checkpoint`); it never reads a clock
(cosignature timestamps are arguments) and signs only through `ledger.crypto`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ledger.crypto import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, SigningKey, verify_signature
from ledger.errors import EncodingError, InputError, SignatureError, UnknownKeyError

__all__ = [
    "COSIGNATURE_V1_HEADER",
    "EM_DASH",
    "MAX_SIGNATURES",
    "MAX_TIMESTAMP",
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "Note",
    "OpenedNote",
    "Signature",
    "Signer",
    "VerifiedSignature",
    "Verifier",
    "cosignature_message",
    "decode_base64",
    "key_id",
    "open_note",
    "sign_note",
]

EM_DASH = "\u2014"
SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04
COSIGNATURE_V1_HEADER = "cosignature/v1\n"
MAX_SIGNATURES = 100
"""Signature lines accepted per note; the spec requires at least 16, Go's reference 100."""
MAX_TIMESTAMP = 2**63 - 1
"""tlog-cosignature: a timestamp MUST NOT exceed 2^63 - 1."""

_KEY_ID_SIZE = 4
_TIMESTAMP_SIZE = 8
_SUPPORTED_TYPES = {SIG_ED25519: "Ed25519", SIG_COSIGNATURE_V1: "Ed25519 cosignature/v1"}
_SIG_PREFIX = EM_DASH + " "
_HEX8 = re.compile(r"[0-9a-f]{8}")


def decode_base64(text: str, what: str) -> bytes:
    """Decode standard, padded base64 (RFC 4648 s.4) and insist on its canonical spelling.

    Non-zero padding bits would let two different strings decode to the same bytes; the
    signed-note and checkpoint formats then would have several spellings of one signed
    value, and an edited character could still verify. So re-encoding must give `text`.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise EncodingError(f"{what} is not valid base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise EncodingError(f"{what} is not canonical base64")
    return raw


def _encode_base64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _check_name(name: str, what: str = "key name") -> None:
    """signed-note "Format": non-empty, no Unicode spaces, no plus sign, no control chars."""
    if not name:
        raise EncodingError(f"{what} is empty")
    for char in name:
        if char.isspace() or char == "+" or ord(char) < 0x20:
            raise EncodingError(f"{what} {name!r} contains {char!r} (spaces, '+' and "
                                "control characters are not allowed)")


def _check_type(sig_type: int) -> None:
    if sig_type not in _SUPPORTED_TYPES:
        raise EncodingError(f"signature type 0x{sig_type:02x} is not supported (only 0x01 "
                            "Ed25519 and 0x04 Ed25519 cosignature/v1)")


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """signed-note key ID: ``SHA-256(name || 0x0A || type || public key)[:4]``."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key)
    return digest.digest()[:_KEY_ID_SIZE]


def cosignature_message(text: str, timestamp: int) -> bytes:
    """tlog-cosignature "Ed25519 signed message": header, time line, then the note text."""
    _check_timestamp(timestamp)
    return f"{COSIGNATURE_V1_HEADER}time {timestamp}\n{text}".encode()


def _check_timestamp(timestamp: object) -> None:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise InputError(f"a cosignature timestamp is an integer, got {timestamp!r}")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise InputError(f"cosignature timestamp {timestamp} is outside 0..2^63-1")


def _check_text(text: str) -> None:
    """A note text is newline-terminated UTF-8 with no control characters but newline."""
    if not text.endswith("\n"):
        raise EncodingError("a note text must end with a newline")
    _check_characters(text)


_FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\ud800-\udfff]")


def _check_characters(note: str) -> None:
    found = _FORBIDDEN.search(note)
    if found is not None:
        line = note.count("\n", 0, found.start()) + 1
        raise EncodingError(f"note line {line}: control character {found.group()!r} is not "
                            "allowed")


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, 4-byte key ID, and the signature bytes after the ID."""

    name: str
    key_id: bytes
    data: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.key_id) != _KEY_ID_SIZE:
            raise EncodingError(f"a key ID has {_KEY_ID_SIZE} bytes, got {len(self.key_id)}")
        if not self.data:
            raise EncodingError("a signature has at least one byte after the key ID")

    @property
    def key_hex(self) -> str:
        """The key ID as 8 lowercase hex digits, as in vkeys and error messages."""
        return self.key_id.hex()

    def line(self) -> str:
        """The signature line, ``— <name> base64(key ID || signature)`` and a newline."""
        return f"{_SIG_PREFIX}{self.name} {_encode_base64(self.key_id + self.data)}\n"

    @classmethod
    def parse_line(cls, line: str) -> Signature:
        """Parse one signature line (with or without its final newline)."""
        if line.endswith("\n"):
            line = line[:-1]
        if not line.startswith(_SIG_PREFIX):
            raise EncodingError(f"a signature line starts with an em dash and a space: "
                                f"{line[:40]!r}")
        name, space, payload = line[len(_SIG_PREFIX):].partition(" ")
        if not space or not payload:
            raise EncodingError(f"signature line {line[:40]!r} has no signature")
        _check_name(name)
        raw = decode_base64(payload, f"the signature of {name}")
        if len(raw) <= _KEY_ID_SIZE:
            raise EncodingError(f"the signature of {name} has {len(raw)} bytes, fewer than "
                                "a key ID and a signature")
        return cls(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:])

    def timestamp(self) -> int:
        """The timestamp of a cosignature/v1 signature (tlog-cosignature, unverified)."""
        if len(self.data) != _TIMESTAMP_SIZE + SIGNATURE_SIZE:
            raise EncodingError(f"a cosignature/v1 signature has {_TIMESTAMP_SIZE} + "
                                f"{SIGNATURE_SIZE} bytes, this one by {self.name} has "
                                f"{len(self.data)}")
        return int.from_bytes(self.data[:_TIMESTAMP_SIZE], "big")


@dataclass(frozen=True)
class Verifier:
    """A public key that may verify note signatures: name, signature type and key."""

    name: str
    sig_type: int
    public_key: bytes
    key_id: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_type(self.sig_type)
        if len(self.public_key) != PUBLIC_KEY_SIZE:
            raise EncodingError(f"an Ed25519 public key has {PUBLIC_KEY_SIZE} bytes, got "
                                f"{len(self.public_key)}")
        object.__setattr__(self, "key_id", key_id(self.name, self.sig_type, self.public_key))

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse a vkey ``<name>+<hex key ID>+base64(type || public key)``.

        The key ID must be the one the name, type and key hash to (lowercase hex, as every
        implementation writes it), so a vkey cannot claim another key's ID.
        """
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise EncodingError(f"a vkey is name+keyid+key, got {vkey[:60]!r}")
        name, hex_id, material = parts
        _check_name(name, "vkey name")
        if not _HEX8.fullmatch(hex_id):
            raise EncodingError(f"vkey {name}: key ID {hex_id!r} is not 8 lowercase hex "
                                "digits")
        raw = decode_base64(material, f"vkey {name} key")
        if not raw:
            raise EncodingError(f"vkey {name} has no key")
        verifier = cls(name, raw[0], raw[1:])
        if verifier.key_id.hex() != hex_id:
            raise EncodingError(f"vkey {name}: key ID {hex_id} does not match the key "
                                f"(expected {verifier.key_id.hex()})")
        return verifier

    @property
    def vkey(self) -> str:
        """This key as a vkey string."""
        material = _encode_base64(bytes([self.sig_type]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def as_cosigner(self) -> Verifier:
        """The same name and key as a cosignature/v1 (type 0x04) verifier."""
        return Verifier(self.name, SIG_COSIGNATURE_V1, self.public_key)

    def matches(self, signature: Signature) -> bool:
        """Whether `signature` claims this key (same name and key ID)."""
        return signature.name == self.name and signature.key_id == self.key_id

    def verify(self, text: str, signature: Signature) -> int | None:
        """Verify `signature` over the note `text`; return the cosignature timestamp, if any.

        Raises:
            SignatureError: the signature is not this key's, or does not verify.
        """
        if not self.matches(signature):
            raise SignatureError(f"signature by {signature.name}+{signature.key_hex} is not "
                                 f"for key {self.name}+{self.key_id.hex()}")
        if self.sig_type == SIG_ED25519:
            self._check(text.encode("utf-8"), signature.data, signature)
            return None
        if len(signature.data) != _TIMESTAMP_SIZE + SIGNATURE_SIZE:
            raise SignatureError(f"cosignature by {self.name} has {len(signature.data)} bytes, "
                                 f"expected {_TIMESTAMP_SIZE + SIGNATURE_SIZE}")
        timestamp = int.from_bytes(signature.data[:_TIMESTAMP_SIZE], "big")
        if timestamp > MAX_TIMESTAMP:
            raise SignatureError(f"cosignature by {self.name} has timestamp {timestamp} "
                                 "beyond 2^63-1")
        message = cosignature_message(text, timestamp)
        self._check(message, signature.data[_TIMESTAMP_SIZE:], signature)
        return timestamp

    def _check(self, message: bytes, raw: bytes, signature: Signature) -> None:
        try:
            verify_signature(self.public_key, message, raw)
        except SignatureError as exc:
            raise SignatureError(f"signature by {signature.name}+{signature.key_hex} does not "
                                 "verify") from exc


class Signer:
    """A named Ed25519 private key that signs notes (type 0x01) or cosigns them (0x04)."""

    __slots__ = ("_key", "_verifier")

    def __init__(self, name: str, key: SigningKey, sig_type: int = SIG_ED25519) -> None:
        self._key = key
        self._verifier = Verifier(name, sig_type, key.public_key)

    @property
    def signing_key(self) -> SigningKey:
        """The private key (the ledger signs its statements with the same log key)."""
        return self._key

    @classmethod
    def from_seed(cls, name: str, seed: bytes, sig_type: int = SIG_ED25519) -> Signer:
        """A signer from a 32-byte Ed25519 seed."""
        return cls(name, SigningKey(seed), sig_type)

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)``.

        The key ID is checked against the public key derived from the seed.
        """
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise EncodingError("a signer key is PRIVATE+KEY+name+keyid+key")
        _, _, name, hex_id, material = parts
        _check_name(name, "signer key name")
        if not _HEX8.fullmatch(hex_id):
            raise EncodingError(f"signer key {name}: key ID is not 8 lowercase hex digits")
        raw = decode_base64(material, f"signer key {name}")
        if len(raw) != 1 + 32:
            raise EncodingError(f"signer key {name}: expected a type byte and a 32-byte seed")
        _check_type(raw[0])
        signer = cls.from_seed(name, raw[1:], raw[0])
        if signer.verifier.key_id.hex() != hex_id:
            raise EncodingError(f"signer key {name}: key ID {hex_id} does not match the key")
        return signer

    @property
    def skey(self) -> str:
        """The private key text (a secret: never log it)."""
        material = _encode_base64(bytes([self.sig_type]) + self._key.seed)
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{material}"

    @property
    def name(self) -> str:
        """The key name written on signature lines."""
        return self._verifier.name

    @property
    def sig_type(self) -> int:
        """The signature type, `SIG_ED25519` or `SIG_COSIGNATURE_V1`."""
        return self._verifier.sig_type

    @property
    def verifier(self) -> Verifier:
        """The matching public verifier."""
        return self._verifier

    def as_cosigner(self) -> Signer:
        """The same key and name as a cosignature/v1 (type 0x04) signer."""
        return Signer(self.name, self._key, SIG_COSIGNATURE_V1)

    def sign(self, text: str, *, timestamp: int | None = None) -> Signature:
        """Sign a note text; a cosigner needs the `timestamp` (POSIX seconds) it attests."""
        _check_text(text)
        if self.sig_type == SIG_ED25519:
            if timestamp is not None:
                raise InputError("an Ed25519 (0x01) note signature has no timestamp")
            data = self._key.sign(text.encode("utf-8"))
        else:
            if timestamp is None:
                raise InputError("a cosignature/v1 signature needs a timestamp")
            message = cosignature_message(text, timestamp)
            data = timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self._key.sign(message)
        return Signature(self.name, self._verifier.key_id, data)

    def __repr__(self) -> str:
        return f"Signer({self._verifier.name}+{self._verifier.key_id.hex()})"


@dataclass(frozen=True)
class Note:
    """A note text and its signature lines, verified or not."""

    text: str
    signatures: tuple[Signature, ...] = ()

    def __post_init__(self) -> None:
        _check_text(self.text)
        if len(self.signatures) > MAX_SIGNATURES:
            raise EncodingError(f"a note may carry at most {MAX_SIGNATURES} signatures")

    @classmethod
    def parse(cls, note: str | bytes) -> Note:
        """Split a signed note into its text and signature lines (signed-note "Format").

        The text is everything up to and including the newline before the *last* blank
        line; every line after it must be a signature line ending in a newline.
        """
        if isinstance(note, bytes):
            try:
                note = note.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise EncodingError(f"a signed note is UTF-8 ({exc.reason})") from exc
        _check_characters(note)
        split = note.rfind("\n\n")
        if split < 0:
            raise EncodingError("a signed note has a blank line before its signatures")
        text, block = note[:split + 1], note[split + 2:]
        if not block:
            raise EncodingError("a signed note has at least one signature line")
        if not block.endswith("\n"):
            raise EncodingError("the last signature line must end with a newline")
        lines = block[:-1].split("\n")
        if len(lines) > MAX_SIGNATURES:
            raise EncodingError(f"a note may carry at most {MAX_SIGNATURES} signatures")
        first = text.count("\n") + 2
        signatures = []
        for number, line in enumerate(lines, start=first):
            try:
                signatures.append(Signature.parse_line(line))
            except EncodingError as exc:
                raise EncodingError(f"note line {number}: {exc.message}") from exc
        return cls(text, tuple(signatures))

    def format(self) -> str:
        """The signed note: text, blank line, one line per signature."""
        if not self.signatures:
            raise EncodingError("a signed note has at least one signature")
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)

    def with_signatures(self, signatures: Iterable[Signature]) -> Note:
        """This note with `signatures` added, replacing any earlier line by the same key."""
        new = list(signatures)
        keys = {(sig.name, sig.key_id) for sig in new}
        kept = [sig for sig in self.signatures if (sig.name, sig.key_id) not in keys]
        return Note(self.text, (*kept, *new))


def sign_note(text: str, signers: Iterable[Signer], *, timestamp: int | None = None) -> str:
    """Sign `text` with each signer and return the signed note.

    `timestamp` is required when any signer is a cosigner (type 0x04) and is used for all
    of them.
    """
    signatures = []
    for signer in signers:
        stamp = timestamp if signer.sig_type == SIG_COSIGNATURE_V1 else None
        signatures.append(signer.sign(text, timestamp=stamp))
    return Note(text, tuple(signatures)).format()


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature line that a known verifier checked; `timestamp` is set for 0x04."""

    verifier: Verifier
    signature: Signature
    timestamp: int | None


@dataclass(frozen=True)
class OpenedNote:
    """A note whose text at least one known key has signed.

    `verified` holds one entry per known key: the first of repeated lines by one key, or
    for cosignatures the one with the latest timestamp (every repeated line must verify);
    `unverified` the lines from unknown keys, which carry no meaning.
    """

    note: Note
    verified: tuple[VerifiedSignature, ...]
    unverified: tuple[Signature, ...]

    @property
    def text(self) -> str:
        """The authenticated note text."""
        return self.note.text

    def by(self, verifier: Verifier) -> VerifiedSignature | None:
        """The verified signature of `verifier`, if it signed."""
        for item in self.verified:
            if item.verifier == verifier:
                return item
        return None


def open_note(note: str | bytes | Note, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Parse a signed note and check it against the known `verifiers` (signed-note s.3).

    Raises:
        EncodingError: the note is malformed.
        InputError: two different known keys share a name and key ID (ambiguous).
        SignatureError: a signature by a known key does not verify.
        UnknownKeyError: no signature is from a known key.
    """
    parsed = note if isinstance(note, Note) else Note.parse(note)
    known: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        slot = (verifier.name, verifier.key_id)
        other = known.setdefault(slot, verifier)
        if other != verifier:
            raise InputError(f"ambiguous keys: two verifiers are named "
                             f"{verifier.name}+{verifier.key_id.hex()}")
    verified: list[VerifiedSignature] = []
    unverified: list[Signature] = []
    position: dict[tuple[str, bytes], int] = {}
    for signature in parsed.signatures:
        slot = (signature.name, signature.key_id)
        match = known.get(slot)
        if match is None:
            if signature not in unverified:
                unverified.append(signature)
            continue
        timestamp = match.verify(parsed.text, signature)
        item = VerifiedSignature(match, signature, timestamp)
        if slot not in position:
            position[slot] = len(verified)
            verified.append(item)
        else:
            earlier = verified[position[slot]].timestamp
            if timestamp is not None and earlier is not None and timestamp > earlier:
                verified[position[slot]] = item  # keep a cosigner's latest statement
    if not verified:
        names = ", ".join(f"{sig.name}+{sig.key_hex}" for sig in unverified)
        first = unverified[0] if unverified else None
        raise UnknownKeyError(f"the note is not signed by any known key (signatures by: "
                              f"{names or 'nobody'})",
                              key_id=f"{first.name}+{first.key_hex}" if first else None)
    return OpenedNote(parsed, tuple(verified), tuple(unverified))
