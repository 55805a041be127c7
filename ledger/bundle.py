"""The offline verification bundle of one shipment, as a typed value (ledger design s.7).

A bundle is one JSON object (``tmec-bundle/1``) that customs verify offline, in one call
(`ledger.verify.verify`):

```text
{"format": "tmec-bundle/1",
 "token": {...},                        the signed origin token (W3C VC, eddsa-jcs-2022)
 "log": {"checkpoint": "...",           C2SP signed note, cosigned by the witnesses
         "token":  {"index", "statement", "proof"},   each a log entry with its RFC 9162
         "key":    {"index", "statement", "proof"},   inclusion proof under that
         "status": {"index", "statement", "proof"}},  checkpoint (base64 SHA-256 hashes)
 "disclosures": [{"line", "salt", "record", "proof"}, ...],   optional: salted lines
 "suppliers": [<bundle>, ...]}                                optional: supplier bundles
```

This module holds the one definition of that shape. `check_bundle_shape` and
`check_disclosure_shape` are the rules; `Bundle.from_dict` applies them to a whole bundle,
nested supplier bundles included, and `ledger.verify` applies them level by level (each
supplier bundle is its own ``supplier.<digest>`` check there, so a malformed one does not
hide what the rest of the bundle says). The shape is exact because nothing
unauthenticated may travel in a bundle: every value in it is covered by a signature or a
hash, and a field no one checks could carry anything (ledger design s.8, "any single
changed byte turns clear into reject").

The shape is all a `Bundle` guarantees: the token, the statements and the disclosures are
the JSON objects as read (not copied; treat them as read-only), authenticated only by
`verify`. `Bundle.to_dict` gives back exactly the JSON object `Ledger.bundle` writes, key
order included.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from ledger.errors import BundleError, EncodingError
from ledger.shape import at

__all__ = [
    "BUNDLE_FORMAT",
    "MAX_SUPPLIER_DEPTH",
    "Bundle",
    "LoggedStatement",
    "check_bundle_shape",
    "check_disclosure_shape",
    "decode_proof",
]

BUNDLE_FORMAT = "tmec-bundle/1"
#: How deep supplier bundles may nest (a supplier's supplier's ... bundle): beyond this a
#: bundle is refused, by `Bundle.from_dict` and, as a failed check, by `verify`.
MAX_SUPPLIER_DEPTH = 8
#: One RFC 9162 proof hash: 32 bytes in standard base64 with padding.
_B64 = re.compile(r"[A-Za-z0-9+/]{43}=\Z")
#: A Merkle path in a log of at most 2^64 entries has at most 64 hashes.
_MAX_PROOF_HASHES = 64
_TOP_KEYS = {"format", "token", "log"}
_OPTIONAL_KEYS = {"disclosures", "suppliers"}
_LOG_KEYS = {"checkpoint", "token", "key", "status"}
_ENTRY_KEYS = {"index", "statement", "proof"}
_DISCLOSURE_KEYS = {"line", "salt", "record", "proof"}
#: The three log entries a bundle carries, in their JSON order.
_ENTRY_NAMES = ("token", "key", "status")


def _lead(where: str) -> str:
    """The prefix that places a sentence about a nested value (nothing at the top)."""
    return f"{where}: " if where else ""


def check_bundle_shape(bundle: object, where: str = "") -> None:
    """Exact structure of one bundle level; nothing unauthenticated may travel in it.

    Checks the fields of the bundle, its ``log`` and the three log entries (`where` names
    a nested bundle in the messages, e.g. ``suppliers[0]``). ``disclosures`` and
    ``suppliers`` must be lists; their items are checked by `check_disclosure_shape` and
    as bundles of their own. Raises `BundleError` naming the field.
    """
    if not isinstance(bundle, Mapping):
        raise BundleError(f"{_lead(where)}a bundle is a JSON object")
    if bundle.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{at(where, 'format')} must be {BUNDLE_FORMAT!r}, got "
                          f"{bundle.get('format')!r}")
    keys = set(bundle)
    if not keys >= _TOP_KEYS or keys - _TOP_KEYS - _OPTIONAL_KEYS:
        raise BundleError(f"{_lead(where)}a bundle has exactly the fields {sorted(_TOP_KEYS)} "
                          f"and optionally {sorted(_OPTIONAL_KEYS)}; got {sorted(keys)}")
    if not isinstance(bundle["token"], Mapping):
        raise BundleError(f"{at(where, 'token')} must be an object")
    log = bundle["log"]
    where_log = at(where, "log")
    if not isinstance(log, Mapping) or set(log) != _LOG_KEYS:
        raise BundleError(f"{where_log} must have exactly {sorted(_LOG_KEYS)}")
    if not isinstance(log["checkpoint"], str):
        raise BundleError(f"{at(where_log, 'checkpoint')} must be the signed checkpoint text")
    for name in _ENTRY_NAMES:
        _check_entry(log[name], at(where_log, name))
    for name in ("disclosures", "suppliers"):
        if name in bundle and not isinstance(bundle[name], list):
            raise BundleError(f"{at(where, name)} must be a list")


def _check_entry(entry: object, where: str) -> None:
    """One log entry: its index, the statement object and the inclusion proof's hashes."""
    if not isinstance(entry, Mapping) or set(entry) != _ENTRY_KEYS:
        raise BundleError(f"{where} must have exactly {sorted(_ENTRY_KEYS)}")
    index = entry["index"]
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise BundleError(f"{where}.index must be a log index")
    if not isinstance(entry["statement"], Mapping):
        raise BundleError(f"{where}.statement must be an object")
    proof = entry["proof"]
    if not isinstance(proof, list) or len(proof) > _MAX_PROOF_HASHES or not all(
            isinstance(h, str) and _B64.match(h) for h in proof):
        raise BundleError(f"{where}.proof must be a list of base64 SHA-256 hashes")


def check_disclosure_shape(disclosure: object, where: str = "") -> None:
    """One line disclosure has exactly ``line``, ``salt``, ``record`` and ``proof``.

    Their values are checked against the token's ``partsRoot`` by
    `ledger.token.verify_disclosure` (which names a malformed one).
    """
    if not isinstance(disclosure, Mapping):
        raise BundleError(f"{_lead(where)}a disclosure is an object")
    if set(disclosure) != _DISCLOSURE_KEYS:
        raise BundleError(f"{_lead(where)}a disclosure has exactly the fields "
                          f"{sorted(_DISCLOSURE_KEYS)}; got {sorted(disclosure)}")


def decode_proof(proof: Sequence[str]) -> list[bytes]:
    """The hashes of an inclusion proof; `EncodingError` unless each is canonical base64.

    The shape check admits 43 characters and ``=``; the 43rd character has two bits that
    32 bytes do not use, and only the spelling with them zero is accepted, so that one
    proof has one text (a changed character is never the same proof).
    """
    out = []
    for text in proof:
        raw = base64.b64decode(text, validate=True)
        if base64.b64encode(raw).decode("ascii") != text:
            raise EncodingError("proof hashes must use the canonical base64 spelling")
        out.append(raw)
    return out


@dataclass(frozen=True, slots=True)
class LoggedStatement:
    """A log entry as a bundle carries it: position, statement, inclusion proof.

    `statement` is the JSON object the log committed to (`ledger.statements`; read it
    with `parse_statement`), `proof` its RFC 9162 s.2.1.3 inclusion path under the
    bundle's checkpoint, as the base64 texts of the JSON (`hashes` decodes them).
    """

    index: int
    statement: Mapping[str, Any]
    proof: tuple[str, ...]

    @classmethod
    def from_dict(cls, data: object, where: str = "entry") -> LoggedStatement:
        """Read ``{"index", "statement", "proof"}`` (`BundleError` naming the field)."""
        _check_entry(data, where)
        return cls._of(cast(Mapping[str, Any], data))

    @classmethod
    def _of(cls, entry: Mapping[str, Any]) -> LoggedStatement:
        return cls(entry["index"], entry["statement"], tuple(entry["proof"]))

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as `Ledger.bundle` writes it."""
        return {"index": self.index, "statement": self.statement, "proof": list(self.proof)}

    def hashes(self) -> list[bytes]:
        """The proof's hashes as bytes (`EncodingError` for a non-canonical spelling)."""
        return decode_proof(self.proof)


@dataclass(frozen=True, slots=True)
class Bundle:
    """A shipment's verification bundle whose shape has been checked (see the module).

    `disclosures` and `suppliers` are None when the bundle does not carry the field (a
    bundle `Ledger.bundle` writes never carries an empty list, but one that does is well
    formed and keeps it). Authenticity is `ledger.verify.verify`'s business, which also
    takes a `Bundle`.
    """

    token: Mapping[str, Any]
    checkpoint: str
    token_entry: LoggedStatement
    key_entry: LoggedStatement
    status_entry: LoggedStatement
    disclosures: tuple[Mapping[str, Any], ...] | None = None
    suppliers: tuple[Bundle, ...] | None = None

    @classmethod
    def from_dict(cls, data: object) -> Bundle:
        """Read a bundle, nested supplier bundles included (`BundleError` names the field,
        e.g. ``suppliers[0].log.token.index``).
        """
        return cls._read(data, "", 0)

    @classmethod
    def _read(cls, data: object, where: str, depth: int) -> Bundle:
        check_bundle_shape(data, where)
        data = cast(Mapping[str, Any], data)
        log = data["log"]
        disclosures = None
        if "disclosures" in data:
            listed = data["disclosures"]
            for n, disclosure in enumerate(listed):
                check_disclosure_shape(disclosure, at(at(where, "disclosures"), n))
            disclosures = tuple(listed)
        suppliers = None
        if "suppliers" in data:
            nested = data["suppliers"]
            if nested and depth >= MAX_SUPPLIER_DEPTH:
                raise BundleError(f"{at(where, 'suppliers')}: supplier bundles nested more "
                                  f"than {MAX_SUPPLIER_DEPTH} levels deep")
            suppliers = tuple(cls._read(child, at(at(where, "suppliers"), n), depth + 1)
                              for n, child in enumerate(nested))
        return cls(data["token"], log["checkpoint"], LoggedStatement._of(log["token"]),
                   LoggedStatement._of(log["key"]), LoggedStatement._of(log["status"]),
                   disclosures, suppliers)

    @property
    def entries(self) -> dict[str, LoggedStatement]:
        """The three log entries by their JSON name: ``token``, ``key``, ``status``."""
        return {"token": self.token_entry, "key": self.key_entry,
                "status": self.status_entry}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, exactly as `Ledger.bundle` writes it (key order included)."""
        out: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "token": self.token,
            "log": {"checkpoint": self.checkpoint, "token": self.token_entry.to_dict(),
                    "key": self.key_entry.to_dict(), "status": self.status_entry.to_dict()},
        }
        if self.disclosures is not None:
            out["disclosures"] = list(self.disclosures)
        if self.suppliers is not None:
            out["suppliers"] = [s.to_dict() for s in self.suppliers]
        return out
